"""Every ordered pair of record formats, on one dataset: A → B → A comes back equal,
and so does the trip back to the original Avro. Binary (single values) has its own tests."""
import datetime as dt
import decimal
import io
import itertools
import json
import uuid

import pytest

import serde
from serde.translate import derive

ORDER = {
    "type": "record", "name": "Order", "namespace": "com.acme",
    "fields": [
        {"name": "id", "type": "long"},
        {"name": "uid", "type": {"type": "string", "logicalType": "uuid"}},
        {"name": "created", "type": {"type": "long", "logicalType": "timestamp-millis"}},
        {"name": "day", "type": {"type": "int", "logicalType": "date"}},
        {"name": "status", "type": {"type": "enum", "name": "Status", "symbols": ["NEW", "PAID", "SHIPPED"]}},
        {"name": "customer", "type": "string"},
        {"name": "total", "type": {"type": "bytes", "logicalType": "decimal", "precision": 12, "scale": 2}},
        {"name": "qty", "type": "int"},
        {"name": "weight", "type": "double"},
        {"name": "gift", "type": "boolean"},
        {"name": "address", "type": {"type": "record", "name": "Address", "fields": [
            {"name": "city", "type": "string"}, {"name": "zip", "type": ["null", "string"], "default": None}]}},
        {"name": "tags", "type": {"type": "array", "items": "string"}},
        {"name": "note", "type": ["null", "string"], "default": None},
    ],
}
UTC = dt.timezone.utc
RECORDS = [
    {"id": 1, "uid": uuid.UUID(int=1), "created": dt.datetime(2024, 1, 2, 3, 4, 5, 678000, tzinfo=UTC),
     "day": dt.date(2024, 1, 2), "status": "NEW", "customer": "Ada", "total": decimal.Decimal("12.50"), "qty": 3,
     "weight": 1.25, "gift": False, "address": {"city": "Oslo", "zip": "0150"}, "tags": ["a", "b"], "note": None},
    {"id": 2**53 + 1, "uid": uuid.UUID(int=2**127), "created": dt.datetime(1969, 12, 31, 23, 59, 59, tzinfo=UTC),
     "day": dt.date(1970, 1, 1), "status": "SHIPPED", "customer": "Zoë \"Z\" Ünïcødé, 東京\nsecond line",
     "total": decimal.Decimal("-9999999999.99"), "qty": -2**31, "weight": -0.0, "gift": True,
     "address": {"city": "São Paulo, BR", "zip": None}, "tags": [], "note": "comma, quote \" and 🎉"},
    {"id": -(2**63), "uid": uuid.UUID(int=0), "created": dt.datetime(2038, 1, 19, 3, 14, 8, tzinfo=UTC),
     "day": dt.date(9999, 12, 31), "status": "PAID", "customer": "", "total": decimal.Decimal("0.00"), "qty": 2**31 - 1,
     "weight": 1e300, "gift": False, "address": {"city": "", "zip": ""}, "tags": ["", "x,y"], "note": ""},
]
AVRO = json.dumps(ORDER)
RECORD_FORMATS = ["avro", "csv", "json", "protobuf"]


def schema_for(fmt: str) -> str | None:
    """The source schema to give `serde convert` for a file in ``fmt``."""
    if fmt in ("avro",):
        return None  # the container file carries it
    if fmt == "csv":
        return AVRO
    return derive("AVRO", AVRO, {"json": "JSON", "protobuf": "PROTOBUF"}[fmt])


def write_base(tmp_path):
    with open(tmp_path / "base.avro", "wb") as out:
        import fastavro

        fastavro.writer(out, fastavro.parse_schema(ORDER), RECORDS)
    return tmp_path / "base.avro"


def convert(src, dst, from_format, to_format, *, schema=None, to_schema=None):
    # derived .proto files hold the nested records as top-level messages too
    message = "com.acme.Order" if from_format == "protobuf" else None
    to_message = "com.acme.Order" if to_format == "protobuf" else None
    return serde.convert(src, dst, from_format=from_format, to_format=to_format, schema=schema, to_schema=to_schema,
                         message=message, to_message=to_message)


def read_back(path, fmt, tmp_path):
    """Records of ``path`` as Avro values, read with the original Avro schema."""
    final = tmp_path / f"final-{fmt}-{path.name}.avro"
    convert(path, final, fmt, "avro", schema=schema_for(fmt), to_schema=AVRO)
    import fastavro

    with open(final, "rb") as stream:
        return list(fastavro.reader(stream))


@pytest.mark.parametrize("a, b", [p for p in itertools.permutations(RECORD_FORMATS, 2)])
def test_pair_round_trip(tmp_path, a, b):
    base = write_base(tmp_path)
    file_a = tmp_path / f"data.{a}"
    convert(base, file_a, "avro", a, to_schema=schema_for(a))
    file_b = tmp_path / f"data.{b}"
    report = convert(file_a, file_b, a, b, schema=schema_for(a))
    assert (report.read, report.written, report.rejected) == (len(RECORDS), len(RECORDS), 0)
    back_a = tmp_path / f"back.{a}"
    convert(file_b, back_a, b, a, schema=schema_for(b) if b != "avro" else None, to_schema=schema_for(a))
    assert read_back(back_a, a, tmp_path) == RECORDS
    assert read_back(file_b, b, tmp_path) == RECORDS


def test_same_format_copy_is_lossless(tmp_path):
    base = write_base(tmp_path)
    for fmt in RECORD_FORMATS:
        file_a = tmp_path / f"copy.{fmt}"
        convert(base, file_a, "avro", fmt, to_schema=schema_for(fmt))
        again = tmp_path / f"copy2.{fmt}"
        convert(file_a, again, fmt, fmt, schema=schema_for(fmt), to_schema=schema_for(fmt))
        assert read_back(again, fmt, tmp_path) == RECORDS


def test_streams_work_like_files(tmp_path):
    base = write_base(tmp_path)
    out = io.BytesIO()
    with open(base, "rb") as stream:
        report = serde.convert(stream, out, from_format="avro", to_format="json")
    lines = out.getvalue().decode().splitlines()
    assert report.written == len(lines) == len(RECORDS)
    assert json.loads(lines[0])["created"] == "2024-01-02T03:04:05.678000Z"


UNION = json.dumps({"type": "record", "name": "U", "namespace": "com.acme", "fields": [
    {"name": "id", "type": "long"},
    {"name": "payload", "type": ["string", "long", {"type": "record", "name": "Box", "fields": [{"name": "n", "type": "int"}]}]},
    {"name": "maybe", "type": ["null", "string", "double"], "default": None}]})
UNION_RECORDS = [
    {"id": 1, "payload": "x", "maybe": None},
    {"id": 2, "payload": 5, "maybe": "5"},
    {"id": 3, "payload": "5", "maybe": 2.5},
    {"id": 4, "payload": {"n": 9}, "maybe": ""},
]


@pytest.mark.parametrize("via", ["csv", "json", "protobuf"])
def test_unions_keep_their_branch_through_every_format(tmp_path, via):
    import fastavro

    base = tmp_path / "u.avro"
    with open(base, "wb") as out:
        fastavro.writer(out, fastavro.parse_schema(json.loads(UNION)), UNION_RECORDS)
    middle = tmp_path / f"u.{via}"
    options = {"to_message": "com.acme.U"} if via == "protobuf" else {}
    report = serde.convert(base, middle, from_format="avro", to_format=via, **options)
    back = tmp_path / "back.avro"
    source_schema = UNION if via == "csv" else report.target_schema
    serde.convert(middle, back, from_format=via, to_format="avro", schema=source_schema, to_schema=UNION,
                  message="com.acme.U" if via == "protobuf" else None)
    with open(back, "rb") as stream:
        assert list(fastavro.reader(stream)) == UNION_RECORDS
