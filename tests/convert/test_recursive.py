"""Converting values of recursive types (issue 12, item 5): Apache Avro's interop.avsc
(Node with children: array<Node>), a linked list through an optional field, a tree
through a map. Every trip comes back equal; what cannot be done fails as a SerdeError."""
from __future__ import annotations

import decimal
import io
import json
from pathlib import Path

import fastavro
import pytest
from click.testing import CliRunner

import serde
from cli.main import cli
from serde import _model as m
from serde.gateway import _transcode
from serde.formats import get_format
from serde.translate import derive

ROOT = Path(__file__).resolve().parents[2]
INTEROP_FILE = ROOT / "schemas" / "avro" / "interop.avsc"
INTEROP = INTEROP_FILE.read_text()
LONG_LIST = (ROOT / "schemas" / "avro" / "long-list.avsc").read_text()
TREE = (ROOT / "schemas" / "avro" / "tree.avsc").read_text()
# proto3 has no always-null field and no union holding an array: Protobuf trips take
# interop.avsc without those two fields (the recursive Node stays)
INTEROP_FOR_PROTOBUF = json.dumps(dict(json.loads(INTEROP), fields=[
    f for f in json.loads(INTEROP)["fields"] if f["name"] not in ("nullField", "unionField")]))
LANGUAGE = {"avro": "avro", "json": "json", "protobuf": "protobuf", "csv": "avro"}


def node(depth: int, label: str = "root") -> dict:
    """A Node with two children per level, ``depth`` levels below it."""
    return {"label": label, "children": [node(depth - 1, f"{label}.{i}") for i in range(2)] if depth else []}


def interop_record(i: int, union: object, depth: int) -> dict:
    return {"intField": -i, "longField": 2**40 + i, "stringField": f"s{i} \"quoted\", ünïcode", "boolField": i % 2 == 0,
            "floatField": 1.5 * i, "doubleField": 0.1 * i, "bytesField": bytes(range(i)), "nullField": None,
            "arrayField": [1.0, -2.5], "mapField": {"a": {"label": "x"}, "b": {"label": ""}}, "unionField": union,
            "enumField": "ABC"[i % 3], "fixedField": bytes(range(16, 32)), "recordField": node(depth, f"n{i}"),
            "timeMillisField": 1, "timeMicrosField": 2, "timestampMillisField": 3, "timestampMicrosField": 4,
            "localTimestampMillisField": 5, "localTimestampMicrosField": 6}


INTEROP_RECORDS = [interop_record(1, True, 0), interop_record(2, 2.5, 1), interop_record(3, [b"ab", b""], 4)]


def chain(n: int) -> dict | None:
    out = None
    for i in reversed(range(n)):
        out = {"value": i * 1000 - 7, "next": out}
    return out


LISTS = [chain(1), chain(2), chain(30)]
TREES = [
    {"label": "leaf", "weight": decimal.Decimal("0.00"), "children": {}},
    {"label": "root", "weight": decimal.Decimal("1.50"), "children": {
        "left": {"label": "l", "weight": decimal.Decimal("-2.25"), "children": {}},
        "right": {"label": "r", "weight": decimal.Decimal("3.00"), "children": {
            "deep": {"label": "d", "weight": decimal.Decimal("9999999.99"), "children": {}}}}}},
]


def avro_file(schema: str, records: list) -> bytes:
    out = io.BytesIO()
    fastavro.writer(out, fastavro.parse_schema(json.loads(schema)), records)
    return out.getvalue()


def read_avro(data: bytes) -> list:
    return list(fastavro.reader(io.BytesIO(data)))


def convert(data: bytes, from_format: str, to_format: str, **options) -> bytes:
    out = io.BytesIO()
    serde.convert(io.BytesIO(data), out, from_format=from_format, to_format=to_format, **options)
    return out.getvalue()


def there_and_back(schema: str, records: list, via: str) -> list:
    """Avro file → ``via`` (schema derived) → Avro file with the original schema."""
    middle = convert(avro_file(schema, records), "avro", via)
    source_schema = None if via == "avro" else derive("avro", schema, LANGUAGE[via])
    root = json.loads(schema)
    message = f"{root['namespace']}.{root['name']}" if via == "protobuf" else None  # several messages: say which
    return read_avro(convert(middle, via, "avro", schema=source_schema, to_schema=schema, message=message))


# -- interop.avsc ---------------------------------------------------------------------------

@pytest.mark.parametrize("via", ["avro", "json", "csv"])
def test_interop_records_come_back_equal(via):
    assert there_and_back(INTEROP, INTEROP_RECORDS, via) == INTEROP_RECORDS


def test_interop_via_protobuf_comes_back_equal():
    records = [{k: v for k, v in r.items() if k not in ("nullField", "unionField")} for r in INTEROP_RECORDS]
    assert there_and_back(INTEROP_FOR_PROTOBUF, records, "protobuf") == records


def test_interop_to_avro_keeps_the_recursive_schema():
    out = convert(avro_file(INTEROP, INTEROP_RECORDS), "avro", "avro")
    reader = fastavro.reader(io.BytesIO(out))
    node_schema = reader.writer_schema["fields"][13]["type"]
    assert node_schema["name"] == "org.apache.avro.Node"
    assert node_schema["fields"][1]["type"] == {"type": "array", "items": "org.apache.avro.Node"}
    assert list(reader) == INTEROP_RECORDS


def test_interop_to_ndjson_nests_the_children():
    lines = convert(avro_file(INTEROP, INTEROP_RECORDS), "avro", "json").splitlines()
    third = json.loads(lines[2])
    assert third["recordField"]["children"][1]["children"][0]["children"][1]["children"][0] == {
        "label": "n3.1.0.1.0", "children": []}
    assert third["unionField"] == ["YWI=", ""]


def test_interop_to_protobuf_says_what_proto3_cannot_hold():
    with pytest.raises(serde.SchemaParseError, match=r"\$\.nullField: Protobuf has no type for 'null'"):
        convert(avro_file(INTEROP, INTEROP_RECORDS), "avro", "protobuf")


# -- a linked list through an optional field ---------------------------------------------------

@pytest.mark.parametrize("via", ["avro", "json", "protobuf", "csv"])
def test_linked_lists_come_back_equal(via):
    assert there_and_back(LONG_LIST, LISTS, via) == LISTS


def test_csv_carries_the_recursive_field_as_json_text():
    text = convert(avro_file(LONG_LIST, LISTS[:2]), "avro", "csv").decode()
    assert text.splitlines() == ["value,next", "-7,", '-7,"{""value"":993,""next"":null}"']


def test_json_to_avro_names_the_deep_field_that_does_not_fit():
    records = [{"value": 1, "next": {"value": 2, "next": {"value": "three", "next": None}}}]
    data = b"".join(json.dumps(r).encode() + b"\n" for r in records)
    with pytest.raises(serde.RecordInvalid) as caught:
        convert(data, "json", "avro", to_schema=LONG_LIST)
    assert str(caught.value) == "line 1: $.next.next.value: cannot use 'three' as a 64-bit integer"


def test_the_avro_encoder_names_the_deep_field_that_does_not_fit():
    avro = get_format("avro")
    encode = avro.encoder(avro.parse_schema(LONG_LIST))
    with pytest.raises(serde.RecordInvalid) as caught:
        encode({"value": 1, "next": {"value": 2, "next": {"value": "three", "next": None}}})
    assert (caught.value.path, caught.value.reason) == ("$.next.next.value", "expected an Avro long (an integer), got 'three'")


# -- a tree through a map ----------------------------------------------------------------------

@pytest.mark.parametrize("via", ["avro", "json", "protobuf", "csv"])
def test_trees_come_back_equal(via):
    assert there_and_back(TREE, TREES, via) == TREES


def test_protobuf_oneofs_fold_at_every_depth_of_a_recursive_message():
    proto = ('syntax = "proto3";\npackage t;\n'
             "message Node { string label = 1; repeated Node children = 2; Node parent = 3;\n"
             "  oneof pick { Node left = 5; string none = 6; } }\n")
    leaf = {"label": "leaf", "children": [], "parent": None, "pick": None}
    records = [{"label": "a", "parent": None, "pick": "x", "children": [
        {"label": "b", "parent": dict(leaf, pick="up"), "children": [dict(leaf, pick=dict(leaf, label="in"))],
         "pick": {"label": "c", "children": [], "parent": None, "pick": "deep"}}]}]
    schema = derive("protobuf", proto, "json")
    ndjson = b"".join(json.dumps(r).encode() + b"\n" for r in records)
    binary = convert(ndjson, "json", "protobuf", schema=schema, to_schema=proto)
    back = convert(binary, "protobuf", "json", schema=proto, to_schema=schema)
    assert [json.loads(line) for line in back.splitlines()] == records


# -- depth: an error per record, never a crash ----------------------------------------------

def _zigzag(n: int) -> bytes:
    from serde._wire import varint

    return varint((n << 1) ^ (n >> 63))


def long_list_file(lengths: list[int]) -> bytes:
    """An Avro container of LongLists, encoded here: fastavro would recurse (slowly) per
    element to write a list deeper than Python's recursion limit."""
    def datum(n: int) -> bytes:
        return b"".join(_zigzag(i * 1000 - 7) + _zigzag(1 if i < n - 1 else 0) for i in range(n))

    def blob(data: bytes) -> bytes:
        return _zigzag(len(data)) + data

    sync = bytes(range(16))
    meta = _zigzag(2) + blob(b"avro.schema") + blob(LONG_LIST.encode()) + blob(b"avro.codec") + blob(b"null") + b"\0"
    body = b"".join(datum(n) for n in lengths)
    return b"Obj\x01" + meta + sync + _zigzag(len(lengths)) + blob(body) + sync


def test_avro_values_nested_beyond_the_limit_are_refused_before_decoding():
    """fastavro and cavro recurse in C per level: 100,000 levels crash the process, so
    the container's datums are walked first (serde.formats._avro_bounds)."""
    from serde.formats._avro_bounds import MAX_VALUE_DEPTH

    assert read_avro(long_list_file([3, 30])) == [chain(3), chain(30)]  # the hand encoding is right
    assert read_avro(long_list_file([MAX_VALUE_DEPTH - 1])) == [chain(MAX_VALUE_DEPTH - 1)]
    for depth in (MAX_VALUE_DEPTH + 1, 100_000):
        data = long_list_file([3, depth, 4])
        with pytest.raises(serde.DecodeError, match=f"record 2: .*nested more than {MAX_VALUE_DEPTH} levels deep"):
            convert(data, "avro", "protobuf")


def test_deep_ndjson_in_chunks_is_a_rejected_record():
    deep = {"value": 0, "next": None}
    for i in range(1, 900):
        deep = {"value": i, "next": deep}
    data = (json.dumps(chain(3)) + "\n" + json.dumps(deep) + "\n").encode()
    out, dead = io.BytesIO(), io.BytesIO()
    report = serde.convert(io.BytesIO(data), out, from_format="json", to_format="protobuf", to_schema=derive(
        "avro", LONG_LIST, "protobuf"), on_error="dead-letter", dead_letter=dead, workers=1)
    assert (report.read, report.written, report.rejected) == (2, 1, 1)
    entry = json.loads(dead.getvalue())
    assert (entry["location"], entry["path"]) == ("line 2", "$")
    assert entry["reason"].startswith("nested too deeply to convert")


# -- the C transcoders and the CSV → Avro lane decline, and the Python path converts -----------

def test_fast_lanes_decline_recursive_schemas():
    from serde._avro_lane import typed_to_physical

    avro = get_format("avro")
    for text in (INTEROP, LONG_LIST, TREE):
        assert _transcode.avro_json_program(avro.parse_schema(text)) is None
        csv_schema = get_format("csv").parse_schema(text, record_type="AVRO")
        assert _transcode.csv_avro_program(csv_schema, avro.parse_schema(text)) is None
        with pytest.raises(ValueError, match="recursive"):
            typed_to_physical(csv_schema.model)


def test_csv_columns_of_a_recursive_record():
    csv_schema = get_format("csv").parse_schema(INTEROP, record_type="AVRO")
    columns = {c.name: c for c in csv_schema.columns}
    # Node itself is flattened (it is not optional); its children are one JSON text cell
    assert columns["recordField.label"].json_text is False
    assert columns["recordField.children"].json_text is True
    assert columns["recordField.children"].type == m.Array(m.Ref("org.apache.avro.Node"))
    assert columns["nullField"].nullable


# -- the CLI -----------------------------------------------------------------------------------

def test_cli_converts_a_recursive_avro_file(tmp_path):
    source = tmp_path / "interop.avro"
    source.write_bytes(avro_file(INTEROP, INTEROP_RECORDS))
    ndjson = tmp_path / "interop.ndjson"
    runner = CliRunner()
    result = runner.invoke(cli, ["convert", str(source), str(ndjson)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "3 read, 3 written, 0 rejected" in result.stderr
    lines = [json.loads(line) for line in ndjson.read_text().splitlines()]
    assert lines[2]["recordField"]["children"][0]["children"][1]["label"] == "n3.0.1"
    back = tmp_path / "back.avro"
    result = runner.invoke(cli, ["convert", str(ndjson), str(back), "--to-schema", str(INTEROP_FILE)],
                           catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert read_avro(back.read_bytes()) == INTEROP_RECORDS
