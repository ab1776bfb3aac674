"""Protobuf imports become schema references, registered under their import paths."""
import datetime as dt

import pytest
from confluent_kafka.serialization import MessageField, SerializationContext

import serde

MONEY = 'syntax = "proto3";\npackage shop;\nmessage Money { string currency = 1; int64 units = 2; }\n'
ADDRESS = ('syntax = "proto3";\npackage shop;\nimport "shop/money.proto";\n'
           'message Address { string city = 1; shop.Money delivery_fee = 2; }\n')
ORDER = ('syntax = "proto3";\npackage shop;\nimport "shop/address.proto";\nimport "shop/money.proto";\n'
         'import "google/protobuf/timestamp.proto";\n'
         'message Order { int64 id = 1; shop.Money total = 2; shop.Address ship_to = 3; google.protobuf.Timestamp at = 4; }\n')
CTX = SerializationContext("orders", MessageField.VALUE)
RECORD = {"id": 7, "total": {"currency": "EUR", "units": 12}, "ship_to": {"city": "Oslo", "delivery_fee": {"currency": "NOK", "units": 99}},
          "at": dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc)}


@pytest.fixture
def registry(tmp_path):
    from serde.registry import EmbeddedRegistry

    with EmbeddedRegistry(tmp_path / "r.db") as embedded:
        yield embedded.client


def test_imports_are_registered_dependencies_first_and_read_back(registry):
    ser = serde.serializer("protobuf", ORDER, registry=registry,
                           imports={"shop/money.proto": MONEY, "shop/address.proto": ADDRESS})
    data = ser(RECORD, CTX)
    assert sorted(registry.get_subjects()) == ["orders-value", "shop/address.proto", "shop/money.proto"]
    refs = registry.get_latest_version("orders-value").schema.references
    assert sorted((r.name, r.subject, r.version) for r in refs) == [
        ("shop/address.proto", "shop/address.proto", 1), ("shop/money.proto", "shop/money.proto", 1)]
    address_refs = registry.get_latest_version("shop/address.proto").schema.references
    assert [(r.name, r.version) for r in address_refs] == [("shop/money.proto", 1)]
    assert serde.deserializer("protobuf", registry=registry)(data, CTX) == RECORD


def test_well_known_imports_are_not_registered(registry):
    serde.serializer("protobuf", ORDER, registry=registry,
                     imports={"shop/money.proto": MONEY, "shop/address.proto": ADDRESS})(RECORD, CTX)
    assert not [s for s in registry.get_subjects() if s.startswith("google/")]


def test_a_missing_import_is_a_schema_error(registry):
    with pytest.raises(serde.SchemaParseError):
        serde.serializer("protobuf", ORDER, registry=registry, imports={"shop/money.proto": MONEY})


def test_with_auto_register_off_the_imports_must_exist(registry):
    ser = serde.serializer("protobuf", ORDER, registry=registry, auto_register=False,
                           imports={"shop/money.proto": MONEY, "shop/address.proto": ADDRESS})
    with pytest.raises(serde.RegistryError) as info:
        ser(RECORD, CTX)
    assert info.value.status == 404
