"""serde's serializers against confluent-kafka's, on one shared registry: the same
bytes (Avro), the same header and value (JSON), and each reads what the other wrote."""
import datetime as dt
import decimal
import itertools
import json
import uuid

import pytest
from confluent_kafka.schema_registry import Schema, SchemaReference, SchemaRegistryClient
from confluent_kafka.schema_registry import header_schema_id_serializer
from confluent_kafka.schema_registry.avro import AvroDeserializer, AvroSerializer
from confluent_kafka.schema_registry.json_schema import JSONDeserializer, JSONSerializer
from confluent_kafka.serialization import MessageField, SerializationContext

import serde

_counter = itertools.count()

ORDER = json.dumps({
    "type": "record", "name": "Order", "namespace": "com.acme",
    "fields": [
        {"name": "id", "type": "long"},
        {"name": "created", "type": {"type": "long", "logicalType": "timestamp-millis"}},
        {"name": "day", "type": {"type": "int", "logicalType": "date"}},
        {"name": "uid", "type": {"type": "string", "logicalType": "uuid"}},
        {"name": "total", "type": {"type": "bytes", "logicalType": "decimal", "precision": 9, "scale": 2}},
        {"name": "status", "type": {"type": "enum", "name": "Status", "symbols": ["NEW", "PAID"]}},
        {"name": "tags", "type": {"type": "array", "items": "string"}},
        {"name": "note", "type": ["null", "string"], "default": None},
    ],
})
RECORD = {
    "id": 42, "created": dt.datetime(2024, 1, 2, 3, 4, 5, 6000, tzinfo=dt.timezone.utc), "day": dt.date(2024, 1, 2),
    "uid": uuid.UUID(int=7), "total": decimal.Decimal("10.50"), "status": "NEW", "tags": ["a", "b"], "note": "hi",
}
PERSON = json.dumps({
    "title": "Person", "type": "object",
    "properties": {"name": {"type": "string"}, "age": {"type": "integer"}}, "required": ["name"],
})

VALUE = SerializationContext("orders", MessageField.VALUE)
KEY = SerializationContext("orders", MessageField.KEY)


@pytest.fixture(params=["mock", "embedded"])
def client(request, tmp_path):
    """confluent-kafka's in-memory registry and serde's embedded one: both must work."""
    if request.param == "mock":
        return SchemaRegistryClient.new_client({"url": f"mock://serializers-{next(_counter)}"})
    from serde.registry import EmbeddedRegistry

    registry = EmbeddedRegistry(tmp_path / "registry.db")
    request.addfinalizer(registry.close)
    return registry.client


@pytest.fixture
def embedded(tmp_path):
    from serde.registry import EmbeddedRegistry

    with EmbeddedRegistry(tmp_path / "registry.db") as registry:
        yield registry.client


# -- Avro interop ---------------------------------------------------------------------

def test_avro_bytes_equal_confluent(client):
    ours = serde.serializer("avro", ORDER, registry=client)(RECORD, VALUE)
    theirs = AvroSerializer(client, ORDER)(RECORD, VALUE)
    assert ours == theirs
    assert ours[:5] == b"\x00\x00\x00\x00\x01"


@pytest.mark.parametrize("form", ["dict", "ordered", "union"])
def test_avro_timestamps_before_1970_floor_as_confluent(client, form):
    # 1969-12-31T23:59:59.9995Z is -0.5 ms: confluent-kafka (fastavro) and Java write -1;
    # cavro's own timestamp-millis wrote 0, which serde used for records its logical pass
    # leaves (not plain dicts) and for schemas it has no pass for (a logical type in a union)
    import collections

    ts_type = {"type": "long", "logicalType": "timestamp-millis"}
    schema = json.dumps({"type": "record", "name": f"Ts{form}", "fields": [
        {"name": "at", "type": ts_type},
        {"name": "other", "type": ["null", "int", {"type": "bytes", "logicalType": "decimal", "precision": 4, "scale": 1}]
         if form == "union" else "int"}]})
    records = [{"at": dt.datetime(1969, 12, 31, 23, 59, 59, 999500, tzinfo=dt.timezone.utc), "other": 1},
               {"at": dt.datetime(1319, 4, 2, 4, 56, 2, 460948, tzinfo=dt.timezone.utc), "other": 2}]
    for record in records:
        value = collections.OrderedDict(record) if form == "ordered" else record
        ours = serde.serializer("avro", schema, registry=client)(value, VALUE)
        assert ours == AvroSerializer(client, schema)(dict(record), VALUE)
        assert serde.deserializer("avro", registry=client)(ours, VALUE)["at"] == record["at"].replace(
            microsecond=record["at"].microsecond // 1000 * 1000)


def test_confluent_reads_serde_avro_and_serde_reads_confluent(client):
    ours = serde.serializer("avro", ORDER, registry=client)(RECORD, VALUE)
    assert AvroDeserializer(client)(ours, VALUE) == RECORD
    theirs = AvroSerializer(client, ORDER)(dict(RECORD, id=43), VALUE)
    assert serde.deserializer("avro", registry=client)(theirs, VALUE) == dict(RECORD, id=43)


def test_avro_reader_schema_on_read(client):
    data = serde.serializer("avro", ORDER, registry=client)(RECORD, VALUE)
    reader = json.dumps({"type": "record", "name": "Order", "namespace": "com.acme",
                         "fields": [{"name": "id", "type": "long"}, {"name": "extra", "type": "int", "default": 5}]})
    assert serde.deserializer("avro", registry=client, reader_schema=reader)(data, VALUE) == {"id": 42, "extra": 5}


def test_deserializer_returns_writer_schema_and_id_on_request(client):
    data = serde.serializer("avro", ORDER, registry=client)(RECORD, VALUE)
    decoded = serde.deserializer("avro", registry=client, return_schema=True)(data, VALUE)
    assert decoded.value == RECORD
    assert decoded.schema.id == 1
    assert decoded.schema.schema_type == "AVRO"
    assert json.loads(decoded.schema.text)["name"] == "Order"
    again = serde.deserializer("avro", registry=client).decode_with_schema(data, VALUE)
    assert again == decoded


def test_tombstone_stays_null(client):
    assert serde.serializer("avro", ORDER, registry=client)(None, VALUE) is None
    assert serde.deserializer("avro", registry=client)(None, VALUE) is None


# -- JSON interop ---------------------------------------------------------------------

def test_json_header_equal_and_value_equal_once_parsed(client):
    record = {"name": "Ada", "age": 36}
    ours = serde.serializer("json", PERSON, registry=client)(record, VALUE)
    theirs = JSONSerializer(PERSON, client)(record, VALUE)
    assert ours[:5] == theirs[:5]
    assert json.loads(ours[5:]) == json.loads(theirs[5:])


def test_json_each_reads_the_other(client):
    record = {"name": "Ada", "age": 36}
    ours = serde.serializer("json", PERSON, registry=client)(record, VALUE)
    assert JSONDeserializer(PERSON, schema_registry_client=client)(ours, VALUE) == record
    theirs = JSONSerializer(PERSON, client)(record, VALUE)
    assert serde.deserializer("json", registry=client)(theirs, VALUE) == record


def test_json_invalid_record_names_field(client):
    ser = serde.serializer("json", PERSON, registry=client)
    with pytest.raises(serde.RecordInvalid) as info:
        ser({"name": "x", "age": "old"}, VALUE)
    assert info.value.path == "$.age"


def test_json_invalid_on_read_is_a_validation_error(client):
    bad = JSONSerializer(PERSON, client, conf={"validate": False})({"age": 3}, VALUE)
    with pytest.raises(serde.ValidationError, match="name"):
        serde.deserializer("json", registry=client)(bad, VALUE)
    assert serde.deserializer("json", registry=client, validate=False)(bad, VALUE) == {"age": 3}


# -- subject name strategies ----------------------------------------------------------

@pytest.mark.parametrize(
    "strategy, ctx, subject",
    [
        ("topic", VALUE, "orders-value"),
        ("topic", KEY, "orders-key"),
        ("record", VALUE, "com.acme.Order"),
        ("topic_record", VALUE, "orders-com.acme.Order"),
        ("TopicRecordNameStrategy", KEY, "orders-com.acme.Order"),
        (lambda topic, is_key, name: f"custom.{topic}.{is_key}", KEY, "custom.orders.True"),
    ],
)
def test_subject_name_strategies(client, strategy, ctx, subject):
    serde.serializer("avro", ORDER, registry=client, subject_name_strategy=strategy)(RECORD, ctx)
    assert client.get_subjects() == [subject]


def test_json_record_strategy_uses_title(client):
    serde.serializer("json", PERSON, registry=client, subject_name_strategy="record")({"name": "a"}, VALUE)
    assert client.get_subjects() == ["Person"]


def test_record_strategy_without_a_name_is_a_config_error(client):
    untitled = json.dumps({"type": "object"})
    with pytest.raises(serde.ConfigError, match="named schema"):
        serde.serializer("json", untitled, registry=client, subject_name_strategy="record")({}, VALUE)


def test_unknown_strategy_is_refused(client):
    with pytest.raises(serde.ConfigError, match="topic_record"):
        serde.serializer("avro", ORDER, registry=client, subject_name_strategy="nope")


# -- registration options -------------------------------------------------------------

def test_auto_register_off_looks_up_and_fails_when_absent(client):
    ser = serde.serializer("avro", ORDER, registry=client, auto_register=False)
    with pytest.raises(serde.RegistryError) as info:
        ser(RECORD, VALUE)
    assert info.value.status == 404
    schema_id = client.register_schema("orders-value", Schema(ORDER, "AVRO"))
    data = serde.serializer("avro", ORDER, registry=client, auto_register=False)(RECORD, VALUE)
    assert int.from_bytes(data[1:5], "big") == schema_id


def test_use_latest_version_writes_with_the_latest_schema(client):
    v1 = json.dumps({"type": "record", "name": "R", "fields": [{"name": "a", "type": "int"}]})
    v2 = json.dumps({"type": "record", "name": "R", "fields": [{"name": "a", "type": "int"},
                                                              {"name": "b", "type": "string", "default": "z"}]})
    client.register_schema("orders-value", Schema(v1, "AVRO"))
    latest = client.register_schema("orders-value", Schema(v2, "AVRO"))
    data = serde.serializer("avro", None, registry=client, use_latest_version=True)({"a": 1}, VALUE)
    assert int.from_bytes(data[1:5], "big") == latest
    assert serde.deserializer("avro", registry=client)(data, VALUE) == {"a": 1, "b": "z"}


def test_use_latest_with_auto_register_is_refused(client):
    with pytest.raises(serde.ConfigError, match="auto_register"):
        serde.serializer("avro", ORDER, registry=client, use_latest_version=True)


def test_use_schema_id_pins_the_id(client):
    pinned = client.register_schema("other", Schema(ORDER, "AVRO"))
    data = serde.serializer("avro", None, registry=client, use_schema_id=pinned)(RECORD, VALUE)
    assert data[:5] == b"\x00" + pinned.to_bytes(4, "big")
    assert client.get_subjects() == ["other"]


def test_missing_schema_is_a_config_error(client):
    with pytest.raises(serde.ConfigError, match="schema is needed"):
        serde.serializer("avro", None, registry=client)


def test_normalize_registers_with_normalize(embedded):
    client = embedded
    spaced = json.dumps(json.loads(ORDER), indent=4)
    a = serde.serializer("avro", ORDER, registry=client, normalize=True)(RECORD, VALUE)
    b = serde.serializer("avro", spaced, registry=client, normalize=True)(RECORD, VALUE)
    assert a[:5] == b[:5]


# -- references -----------------------------------------------------------------------

ADDRESS = json.dumps({"type": "record", "name": "Address", "namespace": "com.acme",
                      "fields": [{"name": "city", "type": "string"}]})
CUSTOMER = json.dumps({"type": "record", "name": "Customer", "namespace": "com.acme",
                       "fields": [{"name": "name", "type": "string"}, {"name": "home", "type": "com.acme.Address"}]})


def test_avro_references_interop(client):
    client.register_schema("address", Schema(ADDRESS, "AVRO"))
    refs = [serde.SchemaReference("com.acme.Address", "address", 1)]
    record = {"name": "Ada", "home": {"city": "London"}}
    ours = serde.serializer("avro", CUSTOMER, registry=client, references=refs)(record, VALUE)
    ck_schema = Schema(CUSTOMER, "AVRO", [SchemaReference("com.acme.Address", "address", 1)])
    theirs = AvroSerializer(client, ck_schema)(record, VALUE)
    assert ours == theirs
    assert serde.deserializer("avro", registry=client)(theirs, VALUE) == record
    assert AvroDeserializer(client)(ours, VALUE) == record


def test_reference_to_a_missing_subject_is_a_registry_error(client):
    refs = [{"name": "com.acme.Address", "subject": "nowhere", "version": 1}]
    with pytest.raises(serde.RegistryError) as info:
        serde.serializer("avro", CUSTOMER, registry=client, references=refs)
    assert info.value.status == 404
    assert "nowhere" in str(info.value)


# -- frames ---------------------------------------------------------------------------

@pytest.mark.parametrize(
    "data, message",
    [
        (b"", "empty"),
        (b"\x00\x00\x01", "truncated"),
        (b"\x01" + b"\x00" * 5, "truncated"),
        (b"\x07\x00\x00\x00\x01\x02", "unknown magic byte 0x07"),
    ],
)
def test_bad_frames_raise_framing_errors(client, data, message):
    with pytest.raises(serde.FramingError, match=message):
        serde.deserializer("avro", registry=client)(data, VALUE)


def test_unknown_schema_id_is_schema_not_found(client):
    with pytest.raises(serde.RegistryError) as info:
        serde.deserializer("avro", registry=client)(b"\x00\x00\x00\x03\xe7\x02", VALUE)
    assert info.value.status == 404
    assert "schema id 999" in str(info.value)


def test_payload_that_does_not_match_its_schema_is_a_decode_error(client):
    data = serde.serializer("avro", ORDER, registry=client)(RECORD, VALUE)
    with pytest.raises(serde.DecodeError, match="schema id 1"):
        serde.deserializer("avro", registry=client)(data[:8], VALUE)


def test_wrong_schema_type_for_the_deserializer(client):
    data = serde.serializer("json", PERSON, registry=client)({"name": "a"}, VALUE)
    with pytest.raises(serde.DecodeError, match="JSON schema"):
        serde.deserializer("avro", registry=client)(data, VALUE)


def test_schema_id_in_header_is_read(client):
    ser = AvroSerializer(client, ORDER, conf={"schema.id.serializer": header_schema_id_serializer})
    headers: list = []
    ctx = SerializationContext("orders", MessageField.VALUE, headers)
    payload = ser(RECORD, ctx)
    assert payload[0] != 0 or len(headers) == 1
    assert [name for name, _ in headers] == ["__value_schema_id"]
    assert serde.deserializer("avro", registry=client)(payload, ctx) == RECORD


# -- registry errors ------------------------------------------------------------------

def test_unreachable_registry_names_the_url_without_credentials():
    ser = serde.serializer("avro", ORDER, registry="http://user:secret@127.0.0.1:9/")
    with pytest.raises(serde.RegistryError) as info:
        ser(RECORD, VALUE)
    assert "127.0.0.1:9" in str(info.value)
    assert "secret" not in str(info.value)


def test_registry_of_the_wrong_kind_is_refused():
    with pytest.raises(serde.ConfigError, match="registry must be"):
        serde.serializer("avro", ORDER, registry=3.14)


def test_incompatible_registration_is_incompatible_schema_error(embedded):
    embedded.set_compatibility("orders-value", "BACKWARD")
    serde.serializer("avro", ORDER, registry=embedded)(RECORD, VALUE)
    changed = json.dumps({"type": "record", "name": "Order", "namespace": "com.acme",
                          "fields": [{"name": "id", "type": "string"}]})
    with pytest.raises(serde.IncompatibleSchemaError) as info:
        serde.serializer("avro", changed, registry=embedded)({"id": "x"}, VALUE)
    assert info.value.status == 409
    assert info.value.messages


def test_schema_text_with_surrounding_whitespace_gets_confluents_id(client):
    ours = serde.serializer("avro", "\n" + ORDER + "\n", registry=client)(RECORD, VALUE)
    theirs = AvroSerializer(client, ORDER + "\n")(RECORD, VALUE)
    assert ours == theirs


def test_guid_frames_in_value_and_header_are_read(embedded):
    import uuid as _uuid

    from serde import _wire

    data = serde.serializer("avro", ORDER, registry=embedded)(RECORD, VALUE)
    registered = embedded.register_schema_full_response("orders-value", Schema(ORDER, "AVRO"))
    guid = _uuid.UUID(registered.guid)
    payload = data[5:]
    de = serde.deserializer("avro", registry=embedded, return_schema=True)
    in_value = de(_wire.guid_prefix(guid) + payload, VALUE)
    assert in_value.value == RECORD and in_value.schema.id == guid
    ctx = SerializationContext("orders", MessageField.VALUE, [("__value_schema_id", _wire.guid_prefix(guid))])
    assert de(payload, ctx).value == RECORD


def test_deserialize_many_matches_single_calls_and_names_the_position(client):
    ser = serde.serializer("avro", ORDER, registry=client)
    datas = ser.serialize_many([RECORD, None, dict(RECORD, id=2)], VALUE)
    de = serde.deserializer("avro", registry=client)
    assert de.deserialize_many(datas, VALUE) == [de(d, VALUE) for d in datas] == [RECORD, None, dict(RECORD, id=2)]
    with pytest.raises(serde.DecodeError) as info:
        de.deserialize_many([datas[0], datas[2][:7]], VALUE)
    assert info.value.location == "record 1"


@pytest.mark.parametrize("registry, message", [
    ("localhost:8081", "looks like host:port"),
    ("ftp://registry.example/", "only http"),
])
def test_registry_strings_that_are_not_urls_or_paths_are_refused(registry, message, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(serde.ConfigError, match=message):
        serde.serializer("avro", ORDER, registry=registry)
    assert list(tmp_path.iterdir()) == []


def test_a_file_that_is_not_a_registry_database_is_a_registry_error(tmp_path):
    bogus = tmp_path / "not-a-db"
    bogus.write_text("hello, I am not SQLite " * 100)
    with pytest.raises(serde.RegistryError, match="cannot open the registry database"):
        serde.serializer("avro", ORDER, registry=str(bogus))


def test_unknown_options_and_non_boolean_flags_are_refused(client):
    with pytest.raises(serde.ConfigError, match="unknown option.*bogus"):
        serde.serializer("avro", ORDER, registry=client, bogus=1)
    with pytest.raises(serde.ConfigError, match="unknown option.*bogus"):
        serde.deserializer("avro", registry=client, bogus=1)
    with pytest.raises(serde.ConfigError, match="auto_register must be True or False"):
        serde.serializer("avro", ORDER, registry=client, auto_register="no")
    with pytest.raises(serde.ConfigError, match="use_schema_id"):
        serde.serializer("avro", None, registry=client, use_schema_id="1")


def test_schema_given_as_python_data(client):
    ours = serde.serializer("avro", json.loads(ORDER), registry=client)(RECORD, VALUE)
    assert ours == AvroSerializer(client, ORDER)(RECORD, VALUE)


def test_deserializer_given_text_says_it_wants_bytes(client):
    with pytest.raises(serde.DecodeError, match="takes bytes"):
        serde.deserializer("avro", registry=client)("abc", VALUE)


def test_json_schema_text_is_registered_as_confluent_registers_it(client):
    ours = serde.serializer("json", PERSON + "\n", registry=client)({"name": "a"}, VALUE)
    theirs = JSONSerializer(PERSON + "\n", client)({"name": "a"}, VALUE)
    assert ours[:5] == theirs[:5]
