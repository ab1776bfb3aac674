"""Protobuf as Confluent Schema Registry resolves it (issue 13, item 3), over both transports.

* the files Confluent bundles (``ProtobufSchema.KNOWN_DEPENDENCIES``: ``google/type/*``,
  ``confluent/meta.proto``, ``confluent/type/*.proto``, the well-known types) resolve
  without references;
* options Confluent ignores (a custom option on a ``oneof``, any unknown extension) do not
  fail registration;
* a base64 ``FileDescriptorProto`` (what confluent-kafka's ``ProtobufSerializer`` registers)
  is stored as ``.proto`` text, served in both forms (``format=serialized``), and is the same
  schema (the same id) as its text, so confluent-kafka and serde write the same bytes;
* ``normalize=true`` orders what Confluent's normaliser orders, so a reordered schema gets
  the same id;
* protoc's log lines never reach an error message.
"""
from __future__ import annotations

import base64

import pytest
from confluent_kafka.schema_registry import Schema, SchemaReference, SchemaRegistryClient
from confluent_kafka.schema_registry.error import SchemaRegistryError
from confluent_kafka.schema_registry.protobuf import ProtobufDeserializer, ProtobufSerializer
from confluent_kafka.serialization import MessageField, SerializationContext
from google.protobuf import descriptor_pb2

import serde
from serde._proto_files import CONFLUENT_BUNDLED
from serde._protoc import compile_proto
from tests.confluent.test_ckp_cases import CKP_PROTO_CONF, PROTO_CASES, PROTO_IDS, _author, pb  # noqa: F401

# a message of each bundled file, to use it (an unused import is only a protoc warning)
_BUNDLED_TYPES = {
    "google/type/calendar_period.proto": "google.type.CalendarPeriod",
    "google/type/color.proto": "google.type.Color",
    "google/type/date.proto": "google.type.Date",
    "google/type/datetime.proto": "google.type.DateTime",
    "google/type/dayofweek.proto": "google.type.DayOfWeek",
    "google/type/decimal.proto": "google.type.Decimal",
    "google/type/expr.proto": "google.type.Expr",
    "google/type/fraction.proto": "google.type.Fraction",
    "google/type/interval.proto": "google.type.Interval",
    "google/type/latlng.proto": "google.type.LatLng",
    "google/type/money.proto": "google.type.Money",
    "google/type/month.proto": "google.type.Month",
    "google/type/phone_number.proto": "google.type.PhoneNumber",
    "google/type/postal_address.proto": "google.type.PostalAddress",
    "google/type/quaternion.proto": "google.type.Quaternion",
    "google/type/timeofday.proto": "google.type.TimeOfDay",
    "confluent/meta.proto": "confluent.Meta",
    "confluent/type/decimal.proto": "confluent.type.Decimal",
    "confluent/type/variant.proto": "confluent.type.Variant",
    "google/protobuf/any.proto": "google.protobuf.Any",
    "google/protobuf/api.proto": "google.protobuf.Api",
    "google/protobuf/descriptor.proto": "google.protobuf.FileDescriptorProto",
    "google/protobuf/duration.proto": "google.protobuf.Duration",
    "google/protobuf/empty.proto": "google.protobuf.Empty",
    "google/protobuf/field_mask.proto": "google.protobuf.FieldMask",
    "google/protobuf/source_context.proto": "google.protobuf.SourceContext",
    "google/protobuf/struct.proto": "google.protobuf.Struct",
    "google/protobuf/timestamp.proto": "google.protobuf.Timestamp",
    "google/protobuf/type.proto": "google.protobuf.Type",
    "google/protobuf/wrappers.proto": "google.protobuf.Int64Value",
}

ORDER = '''syntax = "proto3";
package shop;

import "google/type/date.proto";
import "google/type/money.proto";
import "confluent/meta.proto";
import "confluent/type/decimal.proto";

message Order {
  string id = 1 [(confluent.field_meta) = { doc: "order id", tags: ["PII"] }];
  google.type.Date day = 2;
  google.type.Money total = 3;
  confluent.type.Decimal tax = 4 [(confluent.field_meta).params = { key: "precision" value: "8" }];
}
'''


def ctx(topic: str = "orders") -> SerializationContext:
    return SerializationContext(topic, MessageField.VALUE)


def post(registry, path: str, body: dict, **params):
    return registry.http.post(path, json=body, params=params)


def serialized(registry, sid: int) -> descriptor_pb2.FileDescriptorProto:
    """GET /schemas/ids/{id}?format=serialized (raw: CKP's client caches by id, not format)."""
    served = registry.http.get(f"/schemas/ids/{sid}", params={"format": "serialized"}).json()["schema"]
    return descriptor_pb2.FileDescriptorProto.FromString(base64.b64decode(served))


# --------------------------------------------------------------------------- bundled files


def test_every_file_confluent_bundles_is_listed():
    assert set(_BUNDLED_TYPES) == CONFLUENT_BUNDLED


@pytest.mark.parametrize("name", sorted(_BUNDLED_TYPES))
def test_bundled_files_resolve_without_references(registry, name):
    type_name = _BUNDLED_TYPES[name]
    text = (f'syntax = "proto3";\npackage t;\nimport "{name}";\n'
            f"message M {{ .{type_name} value = 1; }}\n")
    sid = registry.client.register_schema("s", Schema(text, "PROTOBUF"))
    assert registry.client.get_schema(sid).schema_str == text
    assert registry.client.lookup_schema("s", Schema(text, "PROTOBUF")).schema_id == sid
    fdp = serialized(registry, sid)
    assert list(fdp.dependency) == [name]
    assert fdp.message_type[0].field[0].type_name == f".{type_name}"


def test_bundled_files_with_options_from_confluent_meta(registry):
    sid = registry.client.register_schema("orders-value", Schema(ORDER, "PROTOBUF"))
    assert registry.client.get_schema(sid).schema_str == ORDER
    # serde's format resolves them too: it writes with the registered schema
    ser = serde.serializer("protobuf", ORDER, registry.client)
    data = ser({"id": "o1", "day": {"year": 2024, "month": 2, "day": 29}, "total": {"currency_code": "EUR", "units": 3},
                "tax": {"value": b"\x01", "precision": 8, "scale": 2}}, ctx())
    assert data[1:5] == sid.to_bytes(4, "big")
    back = serde.deserializer("protobuf", registry.client)(data, ctx())
    assert back["day"] == {"year": 2024, "month": 2, "day": 29}
    assert back["total"]["currency_code"] == "EUR"


def test_a_bundled_file_given_as_a_reference_is_used(registry):
    """A reference named like a bundled file wins over the bundled one, as a file would."""
    money = 'syntax = "proto3";\npackage google.type;\nmessage Money { string amount = 1; }\n'
    registry.client.register_schema("money", Schema(money, "PROTOBUF"))
    text = 'syntax = "proto3";\nimport "google/type/money.proto";\nmessage M { google.type.Money m = 1; }\n'
    ref = SchemaReference("google/type/money.proto", "money", 1)
    sid = registry.client.register_schema("s", Schema(text, "PROTOBUF", [ref]))
    assert serialized(registry, sid).dependency == ["google/type/money.proto"]


# --------------------------------------------------------------------------- ignored options

IGNORED_OPTIONS = {
    "oneof": 'syntax = "proto3";\nimport "confluent/meta.proto";\nmessage M {\n  oneof kind {\n'
             '    option (confluent.oneof_meta).doc = "no such extension in Confluent\'s meta.proto";\n'
             "    string a = 1;\n    int32 b = 2;\n  }\n}\n",
    "field": 'syntax = "proto3";\nmessage M {\n  string a = 1 [(acme.pii) = true, deprecated = true, (acme.doc) = { text: "x;]" }];\n'
             "  int32 b = 2 [(acme.only) = 1];\n}\n",
    "file, message, enum, service": 'syntax = "proto3";\noption (acme.file) = "f";\noption java_package = "com.acme";\n'
             'message M {\n  option (acme.msg).nested = 3;\n  string a = 1;\n}\n'
             'enum E {\n  option (acme.enum) = 1;\n  E_UNSPECIFIED = 0 [(acme.value) = 2];\n}\n'
             'service S {\n  option (acme.svc) = 1;\n  rpc Get(M) returns (M) {\n    option (acme.rpc) = "r";\n  }\n}\n',
    "plain": 'syntax = "proto3";\noption not_an_option = 1;\nmessage M { string a = 1; }\n',
}


@pytest.mark.parametrize("text", IGNORED_OPTIONS.values(), ids=IGNORED_OPTIONS)
def test_options_confluent_ignores_do_not_fail_registration(registry, text):
    sid = registry.client.register_schema("s", Schema(text, "PROTOBUF"))
    assert registry.client.get_schema(sid).schema_str == text  # kept as written
    assert registry.client.lookup_schema("s", Schema(text, "PROTOBUF")).schema_id == sid
    assert serialized(registry, sid).message_type[0].name == "M"
    # and serde's format reads and writes with it
    assert serde.serializer("protobuf", text, registry.client, message="M")({"a": "x"}, ctx("t"))[5:] == b"\x00\n\x01x"


def test_a_known_option_with_a_wrong_value_still_fails(registry):
    text = 'syntax = "proto3";\nmessage M { string a = 1 [deprecated = 3]; }\n'
    body = post(registry, "/subjects/s/versions", {"schema": text, "schemaType": "PROTOBUF"}).json()
    assert body["error_code"] == 42201
    assert "deprecated" in body["message"]


def test_unknown_options_are_kept_out_only_when_asked():
    text = IGNORED_OPTIONS["field"]
    assert compile_proto(text).file.message_type[0].field[0].options.deprecated
    with pytest.raises(serde.SchemaParseError, match=r'schema.proto:3:17: Option "\(acme.pii\)" unknown'):
        compile_proto(text, ignore_unknown_options=False)


# --------------------------------------------------------------------------- base64 descriptors


def _descriptor_b64(text: str) -> str:
    fdp = descriptor_pb2.FileDescriptorProto()
    fdp.CopyFrom(compile_proto(text, name="shop/order.proto").file)
    fdp.ClearField("source_code_info")
    return base64.b64encode(fdp.SerializeToString()).decode()


def test_a_base64_descriptor_is_stored_as_proto_text_and_served_in_both_forms(registry):
    encoded = _descriptor_b64(ORDER)
    sid = registry.client.register_schema("orders-value", Schema(encoded, "PROTOBUF"))
    stored = registry.client.get_schema(sid).schema_str
    assert "message Order {" in stored and "(confluent.field_meta)" in stored  # text, options kept
    assert registry.client.get_latest_version("orders-value").schema.schema_str == stored
    for path in (f"/schemas/ids/{sid}", "/subjects/orders-value/versions/1", "/subjects/orders-value/versions/latest"):
        served = registry.http.get(path, params={"format": "serialized"}).json()["schema"]
        fdp = descriptor_pb2.FileDescriptorProto.FromString(base64.b64decode(served))
        assert [m.name for m in fdp.message_type] == ["Order"], path
        assert list(fdp.dependency) == ["google/type/date.proto", "google/type/money.proto",
                                        "confluent/meta.proto", "confluent/type/decimal.proto"]
    assert registry.http.get(f"/schemas/ids/{sid}/schema", params={"format": "serialized"}).text == served
    assert registry.http.get(f"/schemas/ids/{sid}/schema").text == stored
    # the text it encodes is the same schema: the same id, no new version
    assert registry.client.register_schema("orders-value", Schema(ORDER, "PROTOBUF")) == sid
    assert registry.client.lookup_schema("orders-value", Schema(encoded, "PROTOBUF")).version == 1
    assert registry.client.get_versions("orders-value") == [1]


def test_a_later_version_after_a_base64_descriptor(registry):
    """Registering after a descriptor used to fail: 'previous version 1 cannot be parsed'."""
    registry.client.register_schema("orders-value", Schema(_descriptor_b64(ORDER), "PROTOBUF"))
    v2 = ORDER.replace("}\n", "  string note = 5;\n}\n")
    sid = registry.client.register_schema("orders-value", Schema(v2, "PROTOBUF"))
    assert registry.client.get_versions("orders-value") == [1, 2]
    assert registry.client.get_schema(sid).schema_str == v2
    v3 = _descriptor_b64(v2.replace("string note = 5", "int64 note = 5"))
    resp = post(registry, "/subjects/orders-value/versions", {"schema": v3, "schemaType": "PROTOBUF"})
    assert resp.status_code == 409, resp.text  # checked, not unparseable
    check = post(registry, "/compatibility/subjects/orders-value/versions/latest",
                 {"schema": v3, "schemaType": "PROTOBUF"}, verbose="true").json()
    assert check["is_compatible"] is False


def test_a_base64_reference(registry):
    money = 'syntax = "proto3";\npackage shop;\nmessage Money { int64 cents = 1; }\n'
    fdp = compile_proto(money, name="shop/money.proto").file
    registry.client.register_schema("shop/money.proto", Schema(base64.b64encode(fdp.SerializeToString()).decode(), "PROTOBUF"))
    text = 'syntax = "proto3";\npackage shop;\nimport "shop/money.proto";\nmessage Order { Money total = 1; }\n'
    ref = SchemaReference("shop/money.proto", "shop/money.proto", 1)
    sid = registry.client.register_schema("orders-value", Schema(text, "PROTOBUF", [ref]))
    assert serialized(registry, sid).message_type[0].field[0].type_name == ".shop.Money"


def test_not_a_descriptor_is_42201(registry):
    body = post(registry, "/subjects/s/versions", {"schema": "bm90IGEgZGVzY3JpcHRvcg==", "schemaType": "PROTOBUF"}).json()
    assert body["error_code"] == 42201


# --------------------------------------------------------------------------- confluent-kafka and serde


@pytest.mark.parametrize("case", PROTO_CASES, ids=PROTO_IDS)
def test_ckp_and_serde_get_the_same_id(registry, pb, case):  # noqa: F811
    """The strict xfails _PROTO_ID_DIFFERENCE of tests/confluent (on CKP's mock://, which does
    not canonicalise) pass against serde's registry: CKP registers the generated class's
    base64 FileDescriptorProto, serde its .proto text, and both get one id."""
    message = case.build(pb)
    cls = type(message)
    theirs = ProtobufSerializer(cls, registry.client, CKP_PROTO_CONF)(message, ctx())
    ours = serde.serializer("protobuf", cls, registry.client)(message, ctx())
    assert ours == theirs
    # the other way round, in a registry of its own subjects
    ours = serde.serializer("protobuf", cls, registry.client)(message, ctx("other"))
    theirs = ProtobufSerializer(cls, registry.client, CKP_PROTO_CONF)(message, ctx("other"))
    assert ours == theirs
    assert registry.client.get_versions("other-value") == [1]


def test_ckp_deserializer_reads_what_serde_registered(registry, pb):  # noqa: F811
    """CKP's deserializer asks for format=serialized: the .proto text serde registered comes
    back as a FileDescriptorProto. (A client of its own: CKP's cache is keyed by id, not by
    format, so the client that registered the text would hand the text back.)"""
    message = _author(pb)
    producer = SchemaRegistryClient({"url": registry.client._rest_client.base_urls[0]})
    producer._rest_client.session.close()
    producer._rest_client.session = registry.client._rest_client.session  # the same transport
    ours = serde.serializer("protobuf", type(message), producer)(message, ctx())
    assert ProtobufDeserializer(type(message), {"use.deprecated.format": False}, registry.client)(ours, ctx()) == message


# --------------------------------------------------------------------------- normalize

NORMALIZE_A = '''syntax = "proto3";
package shop;
import "google/protobuf/timestamp.proto";
import "confluent/meta.proto";
option java_package = "com.shop";
option java_multiple_files = true;
message Order {
  reserved 20, 10 to 12;
  reserved "old", "older";
  string id = 1 [json_name = "ID", deprecated = true, (confluent.field_meta).doc = "id"];
  oneof payment { string card = 5; string iban = 4; }
  google.protobuf.Timestamp at = 2;
  map<string, int32> counts = 3;
  enum State { option allow_alias = true; NEW = 0; OPEN = 1; STARTED = 1; }
}
'''
NORMALIZE_B = '''syntax = "proto3";
package shop;
import "confluent/meta.proto";
import "google/protobuf/timestamp.proto";
option java_multiple_files = true;
option java_package = "com.shop";
// the same schema, written in another order
message Order {
  reserved 10 to 12, 20;
  reserved "older", "old";
  google.protobuf.Timestamp at = 2;
  map<string, int32> counts = 3;
  oneof payment { string iban = 4; string card = 5; }
  string id = 1 [(confluent.field_meta).doc = "id", deprecated = true, json_name = "ID"];
  enum State { option allow_alias = true; NEW = 0; STARTED = 1; OPEN = 1; }
}
'''


def test_normalize_gives_a_reordered_schema_the_same_id(registry):
    c = registry.client
    sid = c.register_schema("s", Schema(NORMALIZE_A, "PROTOBUF"), normalize_schemas=True)
    assert c.register_schema("s", Schema(NORMALIZE_B, "PROTOBUF"), normalize_schemas=True) == sid
    assert c.lookup_schema("s", Schema(NORMALIZE_B, "PROTOBUF"), normalize_schemas=True).schema_id == sid
    assert c.get_versions("s") == [1]
    # without normalize the field order is part of the schema, as in Confluent
    assert c.register_schema("t", Schema(NORMALIZE_B, "PROTOBUF")) != sid


def test_option_order_whitespace_and_comments_never_make_a_new_id(registry):
    c = registry.client
    a = 'syntax = "proto3";\nmessage M { string a = 1 [deprecated = true, json_name = "A"]; }\n'
    b = '// M\nsyntax="proto3";\nmessage M {\n  string a = 1 [json_name = "A", deprecated = true];  /* a */\n}\n'
    assert c.register_schema("s", Schema(a, "PROTOBUF")) == c.register_schema("s", Schema(b, "PROTOBUF"))
    assert c.get_versions("s") == [1]


def test_normalize_config_applies_to_protobuf(registry):
    registry.http.put("/config/s", json={"normalize": True})
    c = registry.client
    sid = c.register_schema("s", Schema(NORMALIZE_A, "PROTOBUF"))
    assert c.register_schema("s", Schema(NORMALIZE_B, "PROTOBUF")) == sid


# --------------------------------------------------------------------------- protoc's log lines


@pytest.mark.parametrize(("text", "error"), [
    # no syntax: protoc logs a parser.cc warning before the error
    ('message M { strin x = 1; }\n', 'schema.proto:1:13: Expected "required", "optional", or "repeated".'),
    # an unused import: protoc warns about it
    ('syntax = "proto3";\nimport "google/protobuf/timestamp.proto";\nmessage M { strin x = 1; }\n',
     'schema.proto:3:13: "strin" is not defined.'),
])
def test_protoc_log_lines_never_reach_an_error(registry, text, error):
    for _ in range(2):  # absl's "before InitializeLog" notice comes with the first log line of a process
        body = post(registry, "/subjects/s/versions", {"schema": text, "schemaType": "PROTOBUF"}).json()
        assert body["error_code"] == 42201
        message = body["message"]
        assert message == f"Invalid schema: {error}"
        for noise in ("absl", "WARNING", "parser.cc", "No edition or syntax", "warning:"):
            assert noise not in message, message
    with pytest.raises(SchemaRegistryError) as info:
        registry.client.register_schema("s", Schema(text, "PROTOBUF"))
    assert "parser.cc" not in str(info.value)


# --------------------------------------------------------------------------- older databases


def test_an_older_database_is_brought_to_the_descriptor_fingerprints(tmp_path):
    """A database from before (base64 kept as given, ids decided on whitespace-joined text)
    is converted when opened: the row becomes .proto text and the same schema finds its id."""
    import sqlite3

    from serde.registry import EmbeddedRegistry

    path = tmp_path / "registry.db"
    encoded = _descriptor_b64(ORDER)
    with EmbeddedRegistry(path) as reg:
        sid = reg.client.register_schema("orders-value", Schema(encoded, "PROTOBUF"))
    with sqlite3.connect(path) as conn:  # as the older store wrote it
        conn.execute("UPDATE schemas SET schema = ?, hash = 'old', norm_hash = 'old' WHERE id = ?", (encoded, sid))
        conn.execute("UPDATE meta SET value = '2' WHERE key = 'canonical_version'")
    with EmbeddedRegistry(path) as reg:
        assert "message Order {" in reg.client.get_schema(sid).schema_str
        assert reg.client.register_schema("orders-value", Schema(ORDER, "PROTOBUF")) == sid
        assert reg.client.get_versions("orders-value") == [1]


def test_files_on_disk_need_no_copy_of_the_bundled_files(tmp_path):
    """serde's -I/--proto-path walk skips them too: they are not looked for, nor registered."""
    from serde._proto_files import load_proto_imports
    from serde.formats.protobuf import references_for

    (tmp_path / "order.proto").write_text(ORDER)
    assert load_proto_imports(tmp_path / "order.proto") == {}
    assert [r.name for r in references_for(ORDER)] == []
