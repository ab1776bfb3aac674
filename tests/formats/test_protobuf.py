"""Protobuf: dynamic messages from .proto text, Confluent message indexes, references and
byte-for-byte interop with confluent-kafka's ProtobufSerializer/ProtobufDeserializer (whose
message classes are generated here, by protoc, from the same .proto files)."""
from __future__ import annotations

import base64
import datetime as dt
import importlib
import os
import sys
import uuid
from pathlib import Path

import pytest

import serde
from serde._types import SchemaReference, SchemaSource
from serde.formats import get_format
from serde.formats.protobuf import ProtobufSchema, references_for, render_proto

from .conformance import AbstractFormatTests

ROOT = Path(__file__).resolve().parents[2] / "schemas" / "protobuf"
ORDER_TEXT = (ROOT / "order.proto").read_text()
IMPORTS = {name: (ROOT / name).read_text() for name in ("common/money.proto", "common/currency.proto")}
UTC = dt.timezone.utc

SIMPLE = """syntax = "proto3";
package serde.simple;

message Reading {
  enum Unit { UNIT_UNSPECIFIED = 0; CELSIUS = 1; KELVIN = 2; }
  string sensor = 1;
  double value = 2;
  Unit unit = 3;
  repeated int64 samples = 4;
  map<string, int32> tags = 5;
  optional bytes raw = 6;
}
"""


def reading(**overrides):
    record = {"sensor": "s-1", "value": 21.5, "unit": "CELSIUS", "samples": [1, 2**40], "tags": {"a": 1}, "raw": b"\x00\xff"}
    record.update(overrides)
    return record


class TestProtobufFormat(AbstractFormatTests):
    format_name = "protobuf"
    schema_text = SIMPLE
    records = [reading(), reading(samples=[], tags={}, raw=None), reading(unit="KELVIN", value=-1.0)]
    bad_record = reading(samples=[1, 2, "three"])
    bad_record_path = "$.samples[2]"
    bad_bytes = b"\x0a\x05ab"  # field 1 claims 5 bytes, 2 follow


# -- fixtures ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def pb(tmp_path_factory):
    """The example .proto files compiled by protoc into generated classes (confluent's side)."""
    import grpc_tools
    from grpc_tools import protoc

    out = tmp_path_factory.mktemp("generated")
    well_known = os.path.join(os.path.dirname(grpc_tools.__file__), "_proto")
    files = ["order.proto", "common/money.proto", "common/currency.proto"]
    code = protoc.main(["protoc", f"-I{ROOT}", f"-I{well_known}", f"--python_out={out}", *files])
    assert code == 0
    sys.path.insert(0, str(out))
    try:
        yield importlib.import_module("order_pb2"), importlib.import_module("common.money_pb2")
    finally:
        sys.path.remove(str(out))


@pytest.fixture
def client():
    from confluent_kafka.schema_registry import SchemaRegistryClient

    return SchemaRegistryClient.new_client({"url": f"mock://{uuid.uuid4().hex}"})


@pytest.fixture
def fmt():
    return get_format("protobuf")


def ctx(topic="orders"):
    from confluent_kafka.serialization import MessageField, SerializationContext

    return SerializationContext(topic, MessageField.VALUE)


def confluent_serializer(cls, client, **conf):
    from confluent_kafka.schema_registry.protobuf import ProtobufSerializer

    return ProtobufSerializer(cls, client, {"use.deprecated.format": False, **conf})


def confluent_deserializer(cls):
    from confluent_kafka.schema_registry.protobuf import ProtobufDeserializer

    return ProtobufDeserializer(cls, {"use.deprecated.format": False})


def order_dict(**overrides):
    record = {
        "id": 2**40 + 7,
        "customer_id": "c-42",
        "status": "PAID",
        "items": [
            {"sku": "A-1", "quantity": 2, "price": {"currency": "EUR", "units": 19, "nanos": 990_000_000}},
            {"sku": "B-2", "quantity": 1, "price": None},
        ],
        "attributes": {"channel": "web", "lang": "de"},
        "created_at": dt.datetime(2024, 5, 1, 12, 30, 15, 123456, tzinfo=UTC),
        "coupon": "",
        "card_token": None,
        "iban": "DE89370400440532013000",
        "signature": b"\x00\x01\xfe\xff",
        "total": 39.98,
        "notes": [{"author": "ops", "text": "fragile"}],
    }
    record.update(overrides)
    return record


def order_message(pb):
    order_pb2, money_pb2 = pb
    from google.protobuf import timestamp_pb2

    return order_pb2.Order(
        id=2**40 + 7,
        customer_id="c-42",
        status=order_pb2.PAID,
        items=[
            order_pb2.Order.Item(sku="A-1", quantity=2, price=money_pb2.Money(currency="EUR", units=19, nanos=990_000_000)),
            order_pb2.Order.Item(sku="B-2", quantity=1),
        ],
        attributes={"channel": "web", "lang": "de"},
        created_at=timestamp_pb2.Timestamp(seconds=1714566615, nanos=123456000),
        coupon="",
        iban="DE89370400440532013000",
        signature=b"\x00\x01\xfe\xff",
        total=39.98,
        notes=[order_pb2.Order.Note(author="ops", text="fragile")],
    )


def register_imports(client, text=ORDER_TEXT, imports=IMPORTS):
    """What a user does before serializing with references: register each import under its
    path (dependencies first), then reference the direct imports."""
    from confluent_kafka.schema_registry import Schema
    from confluent_kafka.schema_registry import SchemaReference as CkReference

    versions = {}
    for ref in references_for(text, imports):
        refs = [CkReference(name, name, versions[name]) for name in ref.imports]
        client.register_schema(ref.subject, Schema(ref.text, "PROTOBUF", refs))
        versions[ref.name] = client.lookup_schema(ref.subject, Schema(ref.text, "PROTOBUF", refs)).version
    return versions


def order_schema(fmt, message=None):
    return fmt.parse_schema(SchemaSource(ORDER_TEXT, IMPORTS), message=message)


# -- message indexes -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("message", "indexes", "suffix"),
    [
        ("serde.example.Order", (0,), b"\x00"),
        ("Order.Item", (0, 0), b"\x04\x00\x00"),
        ("Order.Note", (0, 1), b"\x04\x00\x02"),
        ("Customer", (1,), b"\x02\x02"),
        ("Deep.D", (2, 3), b"\x04\x04\x06"),
        ("serde.example.Deep.D.E", (2, 3, 0), b"\x06\x04\x06\x00"),
    ],
)
def test_message_indexes_and_frame_suffix(fmt, pb, message, indexes, suffix):
    from confluent_kafka.schema_registry.common.protobuf import _create_index_array

    schema = order_schema(fmt, message)
    assert schema.message_indexes == indexes
    assert schema.frame_suffix == suffix
    assert schema.for_message_indexes(list(indexes)) is schema
    generated = pb[0].DESCRIPTOR.pool.FindMessageTypeByName(schema.record_name)
    assert tuple(_create_index_array(generated)) == indexes  # what confluent-kafka writes


def test_default_message_is_the_only_top_level_one(fmt):
    schema = fmt.parse_schema(SIMPLE)
    assert isinstance(schema, ProtobufSchema) and schema.record_name == "serde.simple.Reading"
    assert schema.text == SIMPLE  # text stays as given: it is what gets registered


def test_ambiguous_file_needs_message_and_lists_candidates(fmt):
    schema = order_schema(fmt)
    assert schema.descriptor is None
    with pytest.raises(serde.ConfigError, match="serde.example.Customer"):
        fmt.encoder(schema)
    with pytest.raises(serde.SchemaParseError, match=r"not in the schema.*serde\.example\.Deep\.D\.E"):
        order_schema(fmt, "Nope")


def test_unknown_message_index_is_a_decode_error(fmt):
    schema = order_schema(fmt, "Order")
    with pytest.raises(serde.DecodeError, match=r"unknown Protobuf message index \[3\]"):
        schema.for_message_indexes([3])
    with pytest.raises(serde.DecodeError, match=r"\[2, 9\]"):
        schema.for_message_indexes([2, 9])


# -- compilation, pools, rendering ---------------------------------------------------------


def test_schema_that_fails_to_compile_shows_protoc_line_numbers(fmt):
    broken = 'syntax = "proto3";\nmessage A {\n  int32 x = 1\n}\n'
    with pytest.raises(serde.SchemaParseError, match=r"schema\.proto:4:1: Expected \";\""):
        fmt.parse_schema(broken)
    with pytest.raises(serde.SchemaParseError, match=r'common/money\.proto.*not found|Import "common/money\.proto"'):
        fmt.parse_schema(ORDER_TEXT)  # imports without references


def test_descriptors_live_in_serdes_own_pool(fmt, pb):
    from google.protobuf import descriptor_pool

    schema = order_schema(fmt, "Order")
    generated = pb[0].Order
    assert schema.message_class is not generated
    assert schema.descriptor.file.pool is not descriptor_pool.Default()
    # a second version of the same message in the same process does not clash
    v2 = fmt.parse_schema(SchemaSource(ORDER_TEXT.replace("double total = 11;", "double total = 11;\n  string v2 = 13;"), IMPORTS), message="Order")
    assert "v2" in v2.descriptor.fields_by_name and "v2" not in schema.descriptor.fields_by_name
    # and compiling is cached per text + references
    assert order_schema(fmt, "Order") is schema


def test_generated_class_is_registered_as_proto_text(fmt, pb):
    schema = fmt.parse_schema(pb[0].Order)
    assert schema.record_name == "serde.example.Order"
    assert schema.text.startswith('syntax = "proto3";') and "message Order {" in schema.text
    again = fmt.parse_schema(SchemaSource(schema.text, IMPORTS), message="Order")
    assert again.descriptor.fields_by_name.keys() == schema.descriptor.fields_by_name.keys()
    instance = fmt.parse_schema(order_message(pb))
    assert instance.record_name == "serde.example.Order"


def test_base64_file_descriptor_is_accepted(fmt, pb):
    encoded = base64.b64encode(pb[0].DESCRIPTOR.serialized_pb).decode()
    refs = {
        "common/money.proto": base64.b64encode(pb[1].DESCRIPTOR.serialized_pb).decode(),
        "common/currency.proto": IMPORTS["common/currency.proto"],  # mixed text and descriptors
    }
    currency = importlib.import_module("common.currency_pb2")
    all_descriptors = {**refs, "common/currency.proto": base64.b64encode(currency.DESCRIPTOR.serialized_pb).decode()}
    for references in (refs, all_descriptors):
        schema = fmt.parse_schema(SchemaSource(encoded, references), message="Order")
        assert schema.record_name == "serde.example.Order"
        assert "message Order {" in schema.text  # rendered back to text for registration
        assert fmt.decode(schema, fmt.encode(schema, order_dict())) == order_dict()


def test_render_proto_round_trips_through_protoc(pb):
    from google.protobuf import descriptor_pb2

    from serde._protoc import compile_proto

    for module in (pb[0], pb[1], importlib.import_module("google.protobuf.descriptor_pb2")):
        original = descriptor_pb2.FileDescriptorProto.FromString(module.DESCRIPTOR.serialized_pb)
        references = {name: text for name, text in IMPORTS.items() if name != original.name}
        compiled = compile_proto(render_proto(original), references, name=original.name).file
        for fdp in (original, compiled):
            fdp.ClearField("source_code_info")
            _clear_json_names(fdp.message_type)
        assert compiled == original, module.__name__


def _clear_json_names(messages):
    for message in messages:
        for field in message.field:
            field.ClearField("json_name")
        _clear_json_names(message.nested_type)


def test_references_for_lists_imports_dependencies_first(pb):
    refs = references_for(ORDER_TEXT, IMPORTS)
    assert [(r.name, r.subject, r.imports) for r in refs] == [
        ("common/currency.proto", "common/currency.proto", ()),
        ("common/money.proto", "common/money.proto", ("common/currency.proto",)),
    ]
    assert refs[1].text == IMPORTS["common/money.proto"]
    from_class = references_for(pb[0].Order)
    assert [r.name for r in from_class] == ["common/currency.proto", "common/money.proto"]
    assert "message Money" in from_class[1].text


# -- dict conversion -----------------------------------------------------------------------


def test_dict_shape_is_stable(fmt):
    schema = order_schema(fmt, "Order")
    decoded = fmt.decode(schema, fmt.encode(schema, {"id": 1}))
    assert decoded == {
        "id": 1, "customer_id": "", "status": "STATUS_UNSPECIFIED", "items": [], "attributes": {},
        "created_at": None, "coupon": None, "card_token": None, "iban": None, "signature": b"",
        "total": 0.0, "notes": [],
    }
    assert list(decoded) == [f.name for f in schema.descriptor.fields]


def test_types_int64_bytes_enums_timestamps(fmt):
    schema = order_schema(fmt, "Order")
    decoded = fmt.decode(schema, fmt.encode(schema, order_dict()))
    assert decoded == order_dict()
    assert type(decoded["id"]) is int and type(decoded["signature"]) is bytes
    assert decoded["status"] == "PAID" and decoded["items"][0]["price"]["currency"] == "EUR"
    assert decoded["created_at"].tzinfo is not None
    # enums by number, timestamps as dicts, naive datetimes as UTC
    assert fmt.decode(schema, fmt.encode(schema, order_dict(status=3)))["status"] == "SHIPPED"
    as_dict = order_dict(created_at={"seconds": 1714566615, "nanos": 123456000})
    assert fmt.encode(schema, as_dict) == fmt.encode(schema, order_dict())
    naive = order_dict(created_at=dt.datetime(2024, 5, 1, 12, 30, 15, 123456))
    assert fmt.encode(schema, naive) == fmt.encode(schema, order_dict())
    raw = fmt.decoder(schema, well_known_types=False)(fmt.encode(schema, order_dict()))
    assert raw["created_at"] == {"seconds": 1714566615, "nanos": 123456000}


def test_oneof_optional_and_presence(fmt):
    schema = order_schema(fmt, "Order")
    decode = fmt.decoder(schema)
    paid_by_card = decode(fmt.encode(schema, order_dict(iban=None, card_token="tok")))
    assert paid_by_card["card_token"] == "tok" and paid_by_card["iban"] is None
    assert decode(fmt.encode(schema, order_dict(coupon=None)))["coupon"] is None
    assert decode(fmt.encode(schema, order_dict(coupon="")))["coupon"] == ""  # set, though empty
    with pytest.raises(serde.RecordInvalid, match="only one field of oneof 'payment'") as info:
        fmt.encode(schema, order_dict(card_token="tok"))
    assert info.value.path == "$.iban"  # the second member set, in dict order


def test_maps_enums_repeated_in_another_message(fmt):
    schema = order_schema(fmt, "Customer")
    record = {
        "id": "c", "name": "Ada", "balances": {"eur": {"currency": "EUR", "units": -5, "nanos": 0}},
        "history": ["PLACED", "PAID", 99], "age": 0,
    }
    decoded = fmt.decode(schema, fmt.encode(schema, record))
    assert decoded == record  # 99: an open enum keeps numbers it does not name


def test_message_instances_are_accepted(fmt, pb):
    schema = order_schema(fmt, "Order")
    generated = order_message(pb)
    assert fmt.encode(schema, generated) == generated.SerializeToString()
    assert fmt.encode(schema, generated) == fmt.encode(schema, order_dict())
    with pytest.raises(serde.RecordInvalid, match="expected a serde.example.Order message"):
        fmt.encode(schema, pb[1].Money())
    message = fmt.decoder(schema, as_message=True)(generated.SerializeToString())
    assert type(message) is schema.message_class and message.id == 2**40 + 7
    assert fmt.to_dict(schema, generated) == order_dict()


@pytest.mark.parametrize(
    ("record", "path", "reason"),
    [
        (order_dict(items=[{}, {}, {"price": {"units": "12.5"}}]), "$.items[2].price.units", "expected an integer (int64)"),
        (order_dict(items=[{"sku": 5}]), "$.items[0].sku", "expected a string"),
        (order_dict(status="LOST"), "$.status", "is not a value of enum serde.example.Status"),
        (order_dict(attributes={"a": 1}), "$.attributes['a']", "expected a string"),
        (order_dict(notes={"author": "x"}), "$.notes", "expected a list"),
        (order_dict(extra=1), "$.extra", "has no field 'extra'"),
        (order_dict(id=2**64), "$.id", "out of range for int64"),
        (order_dict(signature="not bytes"), "$.signature", "expected bytes"),
        (order_dict(created_at="yesterday"), "$.created_at", "expected a dict for message google.protobuf.Timestamp"),
    ],
)
def test_dict_that_does_not_fit_names_the_field(fmt, record, path, reason):
    schema = order_schema(fmt, "Order")
    with pytest.raises(serde.RecordInvalid) as info:
        fmt.encode(schema, record)
    assert info.value.path == path
    assert reason in str(info.value)


def test_malformed_bytes(fmt):
    schema = order_schema(fmt, "Order")
    good = fmt.encode(schema, order_dict())
    for bad in (good[:-3], b"\xff\xff\xff", b"\x0a\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff"):
        with pytest.raises(serde.DecodeError, match="invalid Protobuf data for message serde.example.Order"):
            fmt.decode(schema, bad)


# -- interop with confluent-kafka, both directions -----------------------------------------


@pytest.mark.parametrize(
    ("path", "message", "build", "expected"),
    [
        ("Order", "serde.example.Order", lambda pb: order_message(pb), order_dict()),
        ("Customer", "serde.example.Customer",
         lambda pb: pb[0].Customer(id="c", name="Ada", balances={"x": pb[1].Money(currency="USD", units=3)},
                                   history=[pb[0].PLACED], age=7),
         {"id": "c", "name": "Ada", "balances": {"x": {"currency": "USD", "units": 3, "nanos": 0}},
          "history": ["PLACED"], "age": 7}),
        ("Order.Note", "serde.example.Order.Note", lambda pb: pb[0].Order.Note(author="a", text="b"),
         {"author": "a", "text": "b"}),
        ("Deep.D", "serde.example.Deep.D",
         lambda pb: pb[0].Deep.D(e=pb[0].Deep.D.E(depth=3, label="deep"), delta=-2**50, mask=2**64 - 1),
         {"e": {"depth": 3, "label": "deep"}, "delta": -2**50, "mask": 2**64 - 1}),
        ("Deep.D.E", "serde.example.Deep.D.E", lambda pb: pb[0].Deep.D.E(depth=4), {"depth": 4, "label": ""}),
    ],
)
def test_interop_both_directions(pb, client, path, message, build, expected):
    generated = build(pb)
    cls = type(generated)
    topic = f"t-{uuid.uuid4().hex[:8]}"
    # confluent -> serde: confluent registers base64 descriptors (and its imports as
    # references, under their import paths); serde reads them and the message indexes.
    theirs = confluent_serializer(cls, client)(generated, ctx(topic))
    schema_id = int.from_bytes(theirs[1:5], "big")
    value = serde.deserializer("protobuf", registry=client)(theirs, ctx(topic))
    assert value == expected
    as_message = serde.deserializer("protobuf", registry=client, as_message=True)(theirs, ctx(topic))
    assert as_message.DESCRIPTOR.full_name == message
    assert as_message.SerializeToString(deterministic=True) == generated.SerializeToString(deterministic=True)
    # same schema id, same message: identical bytes (Protobuf leaves the order of map
    # entries to the implementation, so a message with a map is compared parsed back)
    ours = serde.serializer("protobuf", registry=client, use_schema_id=schema_id, auto_register=False, message=message)
    has_map = any(f.message_type is not None and f.message_type.GetOptions().map_entry
                  for f in generated.DESCRIPTOR.fields)
    header = len(theirs) - len(generated.SerializeToString())  # magic, id, message indexes
    for data in (ours(expected, ctx(topic)), ours(generated, ctx(topic))):
        assert data[:header] == theirs[:header]
        if has_map:
            assert cls.FromString(data[header:]) == generated
        else:
            assert data == theirs
    # serde -> confluent: serde registers .proto text with references registered first
    versions = register_imports(client)
    refs = [SchemaReference("common/money.proto", "common/money.proto", versions["common/money.proto"])]
    writer = serde.serializer("protobuf", ORDER_TEXT, client, references=refs, message=message)
    data = writer(expected, ctx(f"{topic}-text"))
    registered = client.get_latest_version(f"{topic}-text-value").schema
    assert registered.schema_type == "PROTOBUF" and registered.schema_str == ORDER_TEXT
    assert [r.name for r in registered.references] == ["common/money.proto"]
    assert data[5:] == theirs[5:]  # same indexes and payload under serde's own schema id
    read_back = confluent_deserializer(cls)(data, ctx(f"{topic}-text"))
    assert read_back == generated
    assert serde.deserializer("protobuf", registry=client)(data, ctx(f"{topic}-text")) == expected


def test_serializer_writes_a_message_as_before_on_every_later_call(pb, client):
    """The serializer's shortcut for a message class it has written (its bytes, its frame)
    keeps the checks of the first call: another message type, a key and a dict each go the
    long way and are written (or refused) as then."""
    from confluent_kafka.serialization import MessageField, SerializationContext

    generated = order_message(pb)
    writer = serde.serializer("protobuf", ORDER_TEXT, client, references=[SchemaReference(
        "common/money.proto", "common/money.proto", register_imports(client)["common/money.proto"])], message="Order")
    first = writer(generated, ctx("fast"))
    assert first[6:] == generated.SerializeToString() and first[:1] == b"\x00" and first[5:6] == b"\x00"
    assert writer(generated, ctx("fast")) == first  # now from the shortcut
    assert writer(order_dict(), ctx("fast")) == first
    from confluent_kafka.serialization import SerializationError

    with pytest.raises(serde.RecordInvalid, match="expected a serde.example.Order message") as info:
        writer(pb[1].Money(currency="EUR", units=1), ctx("fast"))
    assert isinstance(info.value, SerializationError)  # as confluent-kafka's serializers raise
    key = writer(generated, SerializationContext("fast", MessageField.KEY))
    assert key[6:] == first[6:] and key[1:5] != first[1:5]  # the key subject: its own id
    assert client.get_latest_version("fast-key").schema_id == int.from_bytes(key[1:5], "big")
    assert writer(None, ctx("fast")) is None  # a tombstone stays null
    from types import SimpleNamespace

    assert writer(generated, SimpleNamespace(topic="fast")) == first  # a context without a field: the value

def test_index_shortcut_and_full_form_both_read(pb, client):
    generated = order_message(pb)
    theirs = confluent_serializer(pb[0].Order, client)(generated, ctx())
    assert theirs[5:6] == b"\x00"
    full_form = theirs[:5] + b"\x02\x00" + theirs[6:]
    read = serde.deserializer("protobuf", registry=client)
    assert read(full_form, ctx()) == read(theirs, ctx()) == order_dict()


def test_deserializer_errors(pb, client):
    theirs = confluent_serializer(pb[0].Order, client)(order_message(pb), ctx())
    read = serde.deserializer("protobuf", registry=client)
    with pytest.raises(serde.DecodeError, match="unknown Protobuf message index"):
        read(theirs[:5] + b"\x02\x0a" + theirs[6:], ctx())  # [5]
    with pytest.raises(serde.FramingError):
        read(theirs[:5] + b"\x02", ctx())  # index array cut short
    with pytest.raises(serde.FramingError, match="magic byte"):
        read(b"\x07" + theirs[1:], ctx())
    with pytest.raises(serde.DecodeError, match="schema id"):
        read(theirs[:-4], ctx())  # payload cut short


def test_imports_and_well_known_types_from_generated_class(pb, client):
    """A generated class as the schema: registered as text, the imports registered first
    as references; confluent's deserializer reads the result."""
    from confluent_kafka.schema_registry import Schema
    from confluent_kafka.schema_registry import SchemaReference as CkReference

    refs = references_for(pb[0].Order)
    versions = {}
    for ref in refs:
        schema = Schema(ref.text, "PROTOBUF", [CkReference(n, n, versions[n]) for n in ref.imports])
        versions[ref.name] = client.register_schema_full_response(ref.subject, schema).version
    writer = serde.serializer(
        "protobuf", pb[0].Order, client,
        references=[SchemaReference("common/money.proto", "common/money.proto", versions["common/money.proto"])],
    )
    data = writer(order_dict(), ctx("classes"))
    text = client.get_latest_version("classes-value").schema.schema_str
    assert 'import "google/protobuf/timestamp.proto";' in text and 'import "common/money.proto";' in text
    assert confluent_deserializer(pb[0].Order)(data, ctx("classes")) == order_message(pb)
    assert serde.deserializer("protobuf", registry=client)(data, ctx("classes")) == order_dict()
    assert writer.serialize_many([order_dict(), None], ctx("classes")) == [data, None]
    with pytest.raises(serde.RecordInvalid) as info:
        writer.serialize_many([order_dict(), order_dict(total="x")], ctx("classes"))
    assert info.value.location == "record 1" and info.value.path == "$.total"


def test_record_name_strategy_uses_the_message_full_name(client):
    writer = serde.serializer("protobuf", SIMPLE, client, subject_name_strategy="record")
    writer(reading(), ctx())
    assert client.get_latest_version("serde.simple.Reading").schema.schema_str == SIMPLE


def test_use_latest_version_reads_confluents_base64_schema(pb, client):
    theirs = confluent_serializer(pb[0].Deep.D, client)(pb[0].Deep.D(delta=-1, mask=5), ctx("latest"))
    writer = serde.serializer("protobuf", registry=client, use_latest_version=True, auto_register=False, message="Deep.D")
    assert writer({"delta": -1, "mask": 5}, ctx("latest")) == theirs
    assert writer.serialize_many([{"delta": -1, "mask": 5, "e": None}], ctx("latest")) == [theirs]


def test_header_framed_ids_read_indexes_from_the_header(pb, client):
    theirs = confluent_serializer(pb[0].Deep.D, client)(pb[0].Deep.D(delta=3), ctx())
    header, payload = theirs[:8], theirs[8:]
    assert header[5:] == b"\x04\x04\x06"
    from confluent_kafka.serialization import MessageField, SerializationContext

    with_header = SerializationContext("orders", MessageField.VALUE, [("__value_schema_id", header)])
    assert serde.deserializer("protobuf", registry=client)(payload, with_header) == {"e": None, "delta": 3, "mask": 0}


def test_recursive_messages(fmt):
    schema = fmt.parse_schema(
        'syntax = "proto3";\nmessage Node {\n  string name = 1;\n  repeated Node children = 2;\n  map<string, Node> by_key = 3;\n  Node parent = 4;\n}\n'
    )
    tree = {"name": "root", "children": [{"name": "a", "children": [{"name": "a1"}]}], "by_key": {"b": {"name": "b"}}}
    decoded = fmt.decode(schema, fmt.encode(schema, tree))
    assert decoded["children"][0]["children"][0] == {"name": "a1", "children": [], "by_key": {}, "parent": None}
    assert decoded["by_key"]["b"]["name"] == "b" and decoded["parent"] is None
    with pytest.raises(serde.RecordInvalid) as info:
        fmt.encode(schema, {"children": [{"children": [{"name": 1}]}]})
    assert info.value.path == "$.children[0].children[0].name"


WELL_KNOWN = """syntax = "proto3";
import "google/protobuf/duration.proto";
import "google/protobuf/struct.proto";
import "google/protobuf/timestamp.proto";
import "google/protobuf/wrappers.proto";
message Event {
  google.protobuf.Duration took = 1;
  google.protobuf.Struct payload = 2;
  google.protobuf.Value anything = 3;
  google.protobuf.ListValue tags = 4;
  google.protobuf.Int64Value retries = 5;
  google.protobuf.StringValue note = 6;
  repeated google.protobuf.Timestamp seen = 7;
  map<string, google.protobuf.Timestamp> by_region = 8;
}
"""


def test_well_known_types_as_python_values(fmt):
    schema = fmt.parse_schema(WELL_KNOWN)
    at = dt.datetime(2024, 1, 2, 3, 4, 5, 6, tzinfo=UTC)
    record = {
        "took": dt.timedelta(seconds=-1, microseconds=250),
        "payload": {"a": 1.0, "b": [True, None, "x"], "c": {"d": "e"}},
        "anything": "text",
        "tags": ["x", 2.0],
        "retries": 2**40,
        "note": "",
        "seen": [at, at],
        "by_region": {"eu": at},
    }
    data = fmt.encode(schema, record)
    assert fmt.decode(schema, data) == record
    raw = fmt.decoder(schema, well_known_types=False)(data)
    assert raw["retries"] == {"value": 2**40} and raw["by_region"]["eu"] == {"seconds": 1704164645, "nanos": 6000}
    # a Struct is a map: its entries' order on the wire follows the dict, so compare values
    assert fmt.decode(schema, fmt.encoder(schema, well_known_types=False)(raw)) == record
    assert fmt.decode(schema, fmt.encode(schema, {}))["retries"] is None  # unset wrapper: None, not 0


def test_well_known_value_that_does_not_fit(fmt):
    schema = fmt.parse_schema(WELL_KNOWN)
    with pytest.raises(serde.RecordInvalid) as info:
        fmt.encode(schema, {"payload": {"a": object()}})
    assert info.value.path == "$.payload" and "google.protobuf.Struct" in str(info.value)
    with pytest.raises(serde.RecordInvalid) as info:
        fmt.encode(schema, {"seen": [dt.datetime(2024, 1, 1, tzinfo=UTC), "soon"]})
    assert info.value.path == "$.seen[1]"
