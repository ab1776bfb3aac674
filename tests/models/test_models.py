"""Python models as schemas: type mapping, serializers (model → schema → registry →
bytes → model), byte equality with confluent-kafka, evolution, generated source."""
from __future__ import annotations

import dataclasses
import enum
import datetime as dt
import importlib.util
import json
import math
import sys
import uuid
from decimal import Decimal
from typing import Annotated, Any, Optional

import pydantic
import pytest
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroSerializer
from confluent_kafka.schema_registry.json_schema import JSONDeserializer
from confluent_kafka.serialization import MessageField, SerializationContext

import serde
from serde import _model as m
from serde.models import Precision, from_dict, model_type, schema, to_dict, to_source

from . import shapes
from .shapes import Color, EventV1, EventV2, Line, Order, POrder, sample_order, sample_porder

FORMATS = ["avro", "json", "protobuf"]


def ctx(topic: str) -> SerializationContext:
    return SerializationContext(topic, MessageField.VALUE)


def topic() -> str:
    return f"models-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def url(serde_registry_url):
    return serde_registry_url


# -- the type mapping ---------------------------------------------------------------------


def test_every_mapped_type():
    record = model_type(Order)
    assert record.name == "com.acme.Order"
    types = {f.name: f.type for f in record.fields}
    line = model_type(Line)
    assert line.name == "tests.models.shapes.Line" and line.doc == "One order line."
    assert types["id"] == m.Scalar(m.INT64)
    assert types["when"] == m.Scalar(m.TIMESTAMP_MICROS)
    assert types["day"] == m.Scalar(m.DATE)
    assert types["at"] == m.Scalar(m.TIME_MILLIS)
    assert types["ref"] == m.Scalar(m.UUID)
    assert types["color"] == m.Enum("tests.models.shapes.Color", ("RED", "GREEN"))
    assert types["size"] == m.Enum("tests.models.shapes.Size", ("SMALL", "LARGE"))
    assert types["status"] == m.Enum("com.acme.Status", ("NEW", "DONE"))  # a Literal: named after its field
    assert types["lines"] == m.Array(line)
    assert line.fields[1].type == m.Scalar(m.INT32) and line.fields[2].type == m.Decimal(10, 2)
    assert types["tags"] == m.Map(m.Scalar(m.INT64))
    assert types["ratio"] == m.Scalar(m.FLOAT32) and types["score"] == m.Scalar(m.FLOAT64)
    assert types["blob"] == m.Scalar(m.BYTES) and types["flag"] == m.Scalar(m.BOOLEAN)
    assert types["note"] == m.Optional(m.Scalar(m.STRING))
    assert types["choice"] == m.Union_((m.Scalar(m.INT64), m.Scalar(m.STRING)))
    assert types["parent"] == m.Optional(m.Ref("com.acme.Order"))
    assert types["created"] == m.Optional(m.Scalar(m.TIMESTAMP_MILLIS))
    assert types["amount"] == m.Optional(m.Decimal(8, 3))
    fields = {f.name: f for f in record.fields}
    assert fields["note"].has_default and fields["note"].default is None
    assert fields["choice"].default == 0
    assert fields["labels"].default == [] and fields["labels"].doc == "free-form labels"
    assert not fields["id"].has_default


def test_pydantic_fields_aliases_docs_and_constraints():
    record = model_type(POrder)
    assert record.doc == "An order, as a pydantic model."
    fields = {f.name: f for f in record.fields}
    assert "class" in fields and "klass" not in fields  # the alias is the schema's name
    assert fields["class"].default == "standard"
    assert fields["color"].default == "RED"
    line = json.loads(schema(POrder, "json"))["definitions"]["tests.models.shapes.PLine"]["properties"]
    assert line["sku"] == {"type": "string", "description": "stock unit", "minLength": 1, "maxLength": 10, "pattern": "^[a-z]+$"}
    assert line["qty"] == {"type": "integer", "minimum": 0, "maximum": 1000}
    assert line["price"]["x-precision"] == 10 and line["price"]["x-scale"] == 2
    root = json.loads(schema(POrder, "json"))["properties"]
    assert root["lines"]["maxItems"] == 5 and root["ratio"]["multipleOf"] == 0.5


def test_pydantic_extra_forbid_closes_the_json_schema():
    class Closed(pydantic.BaseModel):
        model_config = pydantic.ConfigDict(extra="forbid")
        id: int

    assert json.loads(schema(Closed, "json"))["additionalProperties"] is False
    assert "additionalProperties" not in json.loads(schema(POrder, "json"))


def test_unmappable_types_name_the_field():
    @dataclasses.dataclass
    class NoPrecision:
        price: Decimal

    with pytest.raises(serde.SchemaParseError, match=r"\$\.price: a Decimal needs its precision"):
        schema(NoPrecision, "avro")

    @dataclasses.dataclass
    class IntKeys:
        counts: dict[int, int]

    with pytest.raises(serde.SchemaParseError, match=r"\$\.counts: map keys must be str"):
        schema(IntKeys, "avro")


# -- model → schema → registry → bytes → model ----------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("make", [sample_order, sample_porder], ids=["dataclass", "pydantic"])
def test_round_trip_through_the_registry(url, fmt, make):
    value = make()
    cls = type(value)
    t = topic()
    data = serde.serializer(fmt, model=cls, registry=url)(value, ctx(t))
    client = SchemaRegistryClient({"url": url})
    try:
        registered = client.get_latest_version(f"{t}-value")
    finally:
        client._rest_client.session.close()
    assert registered.schema.schema_type == serde.get_format(fmt).schema_type
    back = serde.deserializer(fmt, url, model=cls)(data, ctx(t))
    assert type(back) is cls
    assert back == value


@pytest.mark.parametrize("fmt", FORMATS)
def test_dicts_are_accepted_too(url, fmt):
    value = sample_order()
    t = topic()
    ser = serde.serializer(fmt, model=Order, registry=url)
    as_dict = to_dict(value, fmt)
    assert isinstance(as_dict, dict) and isinstance(as_dict["lines"][0], dict)
    assert ser(as_dict, ctx(t)) == ser(value, ctx(t))
    assert from_dict(Order, serde.deserializer(fmt, url)(ser(value, ctx(t)), ctx(t)), fmt) == value


@pytest.mark.parametrize("fmt", FORMATS)
def test_same_bytes_as_serdes_dict_path(url, fmt):
    value = sample_order()
    t = topic()
    text = schema(Order, fmt)
    options = {"message": "com.acme.Order"} if fmt == "protobuf" else {}
    by_dict = serde.serializer(fmt, text, url, **options)(to_dict(value, fmt), ctx(t))
    assert serde.serializer(fmt, model=Order, registry=url)(value, ctx(t)) == by_dict


def test_avro_bytes_equal_confluent_kafkas(url):
    value = sample_order()
    t = topic()
    client = SchemaRegistryClient({"url": url})
    try:
        theirs = AvroSerializer(client, schema(Order, "avro"))(to_dict(value, "avro"), ctx(t))
    finally:
        client._rest_client.session.close()
    ours = serde.serializer("avro", model=Order, registry=url)(value, ctx(t))
    assert ours == theirs


def test_json_reads_in_confluent_kafka_as_the_equivalent_dict(url):
    value = sample_porder()
    t = topic()
    data = serde.serializer("json", model=POrder, registry=url)(value, ctx(t))
    theirs = JSONDeserializer(schema(POrder, "json"))(data, ctx(t))
    assert theirs == json.loads(value.model_dump_json(by_alias=True))


def test_a_bad_instance_is_a_record_error(url):
    ser = serde.serializer("avro", model=Order, registry=url)
    with pytest.raises(serde.EncodeError):
        ser(Line("a", 1, Decimal("1.00")), ctx(topic()))


# -- evolution ------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_model_with_an_added_optional_field_reads_old_data(url, fmt):
    t = topic()
    old = serde.serializer(fmt, model=EventV1, registry=url)(EventV1(7, "created"), ctx(t))
    assert serde.deserializer(fmt, url, model=EventV2)(old, ctx(t)) == EventV2(7, "created", None)
    # and the other way (in a topic of its own: for JSON Schema, Confluent's BACKWARD
    # refuses a property added to an open content model)
    t2 = topic()
    new = serde.serializer(fmt, model=EventV2, registry=url)(EventV2(8, "x", "web"), ctx(t2))
    assert serde.deserializer(fmt, url, model=EventV1)(new, ctx(t2)) == EventV1(8, "x")


# -- generated source -----------------------------------------------------------------------


def _import(path, name):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("style", ["dataclass", "pydantic"])
def test_generated_source_imports_and_round_trips(tmp_path, url, fmt, style):
    text = schema(Order, fmt)
    path = tmp_path / f"gen_{style}_{fmt}.py"
    path.write_text(to_source(text, fmt, style=style))
    name = f"serde_generated_{style}_{fmt}"
    try:
        module = _import(path, name)
        cls = module.Order
        assert schema(cls, fmt) == text  # model → schema → source → model → the same schema
        assert model_type(cls) == model_type(Order)
        # and the generated class carries data: bytes from the original model read into it
        t = topic()
        data = serde.serializer(fmt, model=Order, registry=url)(sample_order(), ctx(t))
        back = serde.deserializer(fmt, url, model=cls)(data, ctx(t))
        assert type(back) is cls and back.lines[0].price == Decimal("-0.01") and back.color.value == "RED"
        assert serde.serializer(fmt, model=cls, registry=url)(back, ctx(t)) == data
    finally:
        sys.modules.pop(name, None)


def test_generated_source_for_names_that_are_not_identifiers(tmp_path):
    avsc = json.dumps({"type": "record", "name": "T", "namespace": "x", "fields": [
        {"name": "class", "type": "string", "doc": "a keyword"},
        {"name": "n", "type": {"type": "bytes", "logicalType": "decimal", "precision": 4, "scale": 1}, "default": "\u0000"}]})
    for style in ("dataclass", "pydantic"):
        path = tmp_path / f"kw_{style}.py"
        path.write_text(to_source(avsc, "avro", style=style))
        module = _import(path, f"serde_generated_kw_{style}")
        try:
            assert json.loads(schema(module.T, "avro")) == json.loads(serde.translate.from_model(serde.translate.to_model("avro", avsc), "avro"))
        finally:
            sys.modules.pop(f"serde_generated_kw_{style}", None)


# -- fast paths keep the semantics ----------------------------------------------------------


def test_to_dict_and_from_dict_per_format():
    value = sample_order()
    avro = to_dict(value, "avro")
    assert avro["color"] == "RED" and avro["size"] == "SMALL" and avro["when"] == value.when
    proto = to_dict(value, "protobuf")
    assert proto["amount"] == "1.250" and proto["day"] == "2024-02-29" and proto["choice_int64"] == 5
    assert "choice" not in proto
    assert from_dict(Order, avro, "avro") == value
    with pytest.raises(serde.DecodeError, match="Order"):
        from_dict(Order, {**avro, "color": "BLUE"}, "avro")


def test_pydantic_instances_built_without_validation_behave():
    value = sample_porder()
    back = from_dict(POrder, to_dict(value, "avro"), "avro")
    assert back == value and back.model_fields_set == set(POrder.model_fields)
    assert back.model_dump(by_alias=True) == value.model_dump(by_alias=True)
    back.id = 9  # still a normal model
    assert back.id == 9


def test_precision_marker_on_optional():
    @dataclasses.dataclass
    class P:
        v: Annotated[Optional[Decimal], Precision(5, 2)] = None

    assert model_type(P).fields[0].type == m.Optional(m.Decimal(5, 2))


@dataclasses.dataclass(frozen=True)
class FrozenPoint:
    x: int
    label: str = "origin"


@dataclasses.dataclass
class PlainBox:
    corner: FrozenPoint
    tags: list[str]


def test_frozen_and_plain_dataclasses_are_built_alike():
    """Plain dataclasses get their __dict__ assigned; a frozen one's guarded __setattr__
    is gone around, as its own __init__ does: both come back equal and still frozen."""
    from serde.models._api import _converters

    to_dict, from_dict = _converters(PlainBox, "avro")
    box = PlainBox(FrozenPoint(3, "p"), ["a"])
    back = from_dict(to_dict(box))
    assert back == box and type(back.corner) is FrozenPoint
    with pytest.raises(dataclasses.FrozenInstanceError):
        back.corner.x = 4  # type: ignore[misc]
    back.tags = []  # the plain one stays writable


class Shade(enum.Enum):
    LIGHT = "LIGHT"
    DARK = "DARK"


@dataclasses.dataclass
class Paint:
    name: str
    shade: Shade
    finish: Optional[Shade] = None


def test_a_protobuf_enum_left_unset_is_a_clear_error_or_none():
    """proto3 reads an unset enum as its synthetic zero (SHADE_UNSPECIFIED), which the
    model's enum lacks: a required field says so, an Optional one reads None."""
    from confluent_kafka.serialization import MessageField, SerializationContext

    registry = f"mock://paint-{uuid.uuid4().hex}"
    ctx = SerializationContext("paint", MessageField.VALUE)
    ser = serde.serializer("protobuf", model=Paint, registry=registry)
    de = serde.deserializer("protobuf", registry, model=Paint)
    frame = ser(Paint("a", Shade.DARK), ctx)
    assert de(frame, ctx) == Paint("a", Shade.DARK, None)
    unset = frame[:6] + b"\x0a\x01b"  # only the name: shade and finish unset
    with pytest.raises(serde.DecodeError, match="cannot build a Paint .*'SHADE_UNSPECIFIED' is not a member of Shade .*make the field Optional"):
        de(unset, ctx)


class Level(enum.IntEnum):
    LOW = 1
    HIGH = 2


class Lang(str, enum.Enum):
    EN = "en-US"
    DE = "de-DE"


@dataclasses.dataclass
class Settings:
    name: str
    level: Level = Level.HIGH
    lang: Lang = Lang.EN
    ratio: float = math.inf
    tags: tuple[str, ...] = ()
    seen: set[int] = dataclasses.field(default_factory=set)
    frozen: Optional[frozenset[str]] = None


@pytest.mark.parametrize("fmt", ["avro", "json", "protobuf"])
def test_enum_member_and_non_finite_defaults_and_tuple_and_set_fields(fmt):
    """Defaults that are IntEnum / str-Enum members or infinities were written into the
    generated source as their repr (a SyntaxError, a NameError); tuples and sets came
    back as lists."""
    from confluent_kafka.serialization import MessageField, SerializationContext

    registry = f"mock://settings-{uuid.uuid4().hex}"
    ctx = SerializationContext(f"settings-{fmt}", MessageField.VALUE)
    value = Settings("s", Level.LOW, Lang.DE, 0.5, ("a", "b"), {3, 1}, frozenset({"x"}))
    back = serde.deserializer(fmt, registry, model=Settings)(serde.serializer(fmt, model=Settings, registry=registry)(value, ctx), ctx)
    assert back == value and type(back.tags) is tuple and type(back.seen) is set and type(back.frozen) is frozenset
    if fmt == "json":  # a missing property takes the model's default
        assert serde.models.from_dict(Settings, {"name": "n"}, fmt) == Settings("n")
