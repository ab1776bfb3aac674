"""Item counts Avro bytes may claim (serde.formats._avro_bounds): arrays whose items take
zero bytes are checked before the codec builds them; nothing else is walked."""
import io
import json
import re
import subprocess
import sys
import textwrap

import fastavro
import pytest

import serde
from serde._ocf import MAGIC, OcfRecords, _bytes, _long
from serde.formats import get_format
from serde.formats._avro_bounds import MAX_ITEMS, checker, encodes_empty

avro = get_format("avro")

CHILDREN = {"type": "record", "name": "Tree", "fields": [{"name": "children", "type": {"type": "array", "items": "null"}}]}
HOSTILE_DATUM = _long(2**31) + b"\x00"  # children: a block claiming 2^31 nulls, then the end


def _schema(node):
    return avro.parse_schema(json.dumps(node))


def _encode(node, value):
    buffer = io.BytesIO()
    fastavro.schemaless_writer(buffer, fastavro.parse_schema(node), value)
    return buffer.getvalue()


EMPTY_ITEMS = [
    "null",
    {"type": "record", "name": "Empty", "fields": []},
    {"type": "record", "name": "Nulls", "fields": [{"name": "a", "type": "null"}, {"name": "b", "type": "null"}]},
    {"type": "fixed", "name": "Nothing", "size": 0},
    {"type": "record", "name": "Outer", "fields": [{"name": "in", "type": {"type": "record", "name": "In", "fields": []}}]},
]


@pytest.mark.parametrize("items,each", list(zip(EMPTY_ITEMS, ["", "", " of 3 values each", "", " of 2 values each"])),
                         ids=["null", "empty-record", "record-of-nulls", "fixed-0", "nested-empty"])
def test_arrays_of_zero_byte_items_claiming_too_many_are_refused(items, each):
    schema = {"type": "record", "name": "R", "fields": [{"name": "children", "type": {"type": "array", "items": items}}]}
    decode = avro.decoder(_schema(schema))
    with pytest.raises(serde.DecodeError) as raised:
        decode(HOSTILE_DATUM)
    assert str(raised.value) == f"$.children: array block claims 2147483648 items{each}, more than the limit of 1000000 (max_items)"
    assert raised.value.path == "$.children"
    # honest values still decode, and as fastavro decodes them
    honest = _encode(schema, {"children": [fastavro.schemaless_reader(io.BytesIO(b""), fastavro.parse_schema(items))] * 3}
                     if items != "null" else {"children": [None] * 3})
    assert decode(honest) == fastavro.schemaless_reader(io.BytesIO(honest), fastavro.parse_schema(schema))
    assert len(decode(honest)["children"]) == 3


def test_items_that_decode_to_records_count_with_their_values():
    """A record of twenty null fields builds a dict of twenty entries per item: the
    limit is on values built, so it bounds memory whatever the item's shape."""
    fields = [{"name": f"f{i}", "type": "null"} for i in range(20)]
    schema = {"type": "array", "items": {"type": "record", "name": "E", "fields": fields}}
    decode = avro.decoder(_schema(schema))
    fits = 1_000_000 // 21
    assert len(decode(_long(fits) + b"\x00")) == fits
    with pytest.raises(serde.DecodeError, match=f"claims {fits + 1} items of 21 values each"):
        decode(_long(fits + 1) + b"\x00")


@pytest.mark.parametrize("reference", [False, True])
def test_both_codecs_are_guarded(reference):
    decode = avro.decoder(_schema(CHILDREN), reference_codec=reference)
    with pytest.raises(serde.DecodeError, match="more than the limit of 1000000 \\(max_items\\)"):
        decode(HOSTILE_DATUM)


def test_with_a_reader_schema_the_writers_bytes_are_checked():
    reader = {"type": "record", "name": "Tree", "fields": [
        {"name": "children", "type": {"type": "array", "items": "null"}},
        {"name": "extra", "type": "int", "default": 1}]}
    decode = avro.decoder(_schema(CHILDREN), _schema(reader))
    with pytest.raises(serde.DecodeError, match="^\\$.children: array block claims"):
        decode(HOSTILE_DATUM)
    assert decode(_long(2) + b"\x00") == {"children": [None, None], "extra": 1}


@pytest.mark.parametrize("schema", [
    {"type": "array", "items": "int"},
    {"type": "map", "values": "null"},  # each entry has a key: a byte or more
    {"type": "array", "items": ["null", "int"]},  # a union's branch index is a byte
    {"type": "array", "items": {"type": "array", "items": "int"}},
    {"type": "array", "items": {"type": "fixed", "name": "One", "size": 1}},
    {"type": "record", "name": "Flat", "fields": [{"name": "inner", "type": {
        "type": "record", "name": "Inner", "fields": [{"name": "x", "type": "int"}]}}]},
    "null",
])
def test_schemas_without_such_arrays_are_not_walked(schema):
    assert checker(schema) is None
    parsed = _schema(schema)
    assert getattr(avro.decoder(parsed), "__name__", None) != "decode_bounded"  # the codec's own decoder (or the C reader), unwrapped


def test_the_example_schema_is_not_walked_and_the_recursive_ones_are():
    with open("schemas/avro/order.avsc") as f:
        assert checker(json.load(f)) is None
    for path in ("schemas/avro/interop.avsc", "schemas/avro/tree.avsc", "schemas/avro/long-list.avsc"):
        with open(path) as f:
            assert checker(json.load(f)) is not None, path  # for their depth


NODE = {"type": "record", "name": "Node", "fields": [
    {"name": "label", "type": "string"}, {"name": "children", "type": {"type": "array", "items": "Node"}}]}
LOOP = {"type": "record", "name": "Loop", "fields": [{"name": "next", "type": ["null", "Loop"]}]}


def _loop(depth: int) -> bytes:
    return b"\x02" * (depth - 1) + b"\x00"  # depth Loop records: union branch 1, ..., then null


def _tree(depth: int) -> bytes:
    """A Node whose only child has one child ... ``depth`` Nodes deep."""
    return (_bytes(b"n") + _long(1)) * (depth - 1) + _bytes(b"leaf") + b"\x00" + b"\x00" * (depth - 1)


@pytest.mark.parametrize(("schema", "datum", "levels"), [
    (LOOP, _loop, 1),   # a Loop record per level
    (NODE, _tree, 2),   # a Node and its children array per level
])
def test_recursive_values_nested_beyond_the_limit_are_refused(schema, datum, levels):
    """fastavro and cavro recurse in C per level: without the walk, 100,000 levels crash
    the process (a segfault, not an exception)."""
    from serde.formats._avro_bounds import MAX_VALUE_DEPTH

    decode = avro.decoder(_schema(schema))
    fits = MAX_VALUE_DEPTH // levels
    value = decode(datum(fits))
    for _ in range(fits - 1):  # the whole depth came back
        value = value["next"] if schema is LOOP else value["children"][0]
    for depth in (fits + 1, 100_000):
        with pytest.raises(serde.DecodeError, match=f"nested more than {MAX_VALUE_DEPTH} levels deep") as caught:
            decode(datum(depth))
        assert caught.value.path.startswith("$.next.next" if schema is LOOP else "$.children[0].children[0]")


def test_recursive_values_nested_beyond_the_limit_are_not_written():
    from serde.formats._avro_bounds import MAX_VALUE_DEPTH
    from serde.formats.avro import MAX_SCHEMA_DEPTH

    encode = avro.encoder(_schema(LOOP))
    value = None
    for _ in range(MAX_VALUE_DEPTH):
        value = {"next": value}
    assert avro.decoder(_schema(LOOP))(encode(value)) == value
    for _ in range(MAX_SCHEMA_DEPTH + 2):  # past the cycle's limit and the schema's own depth
        value = {"next": value}
    with pytest.raises(serde.RecordInvalid, match="nested more than"):
        encode(value)


@pytest.mark.parametrize(("schema", "datum", "path"), [
    # where in the value: record fields, array items, map keys, union branches, recursion
    ({"type": "record", "name": "O", "fields": [
        {"name": "id", "type": "long"},
        {"name": "items", "type": {"type": "array", "items": {"type": "record", "name": "I", "fields": [
            {"name": "sku", "type": "string"}, {"name": "flags", "type": {"type": "array", "items": "null"}}]}}}]},
     _long(7) + _long(2) + _bytes(b"a") + _long(1) + b"\x00" + b"\x00" + _bytes(b"b") + HOSTILE_DATUM + b"\x00",
     "$.items[1].flags"),
    ({"type": "map", "values": {"type": "array", "items": "null"}},
     _long(1) + _bytes(b"key") + HOSTILE_DATUM + b"\x00", "$.key"),
    ({"type": "record", "name": "U", "fields": [{"name": "u", "type": ["int", {"type": "array", "items": "null"}]}]},
     _long(1) + HOSTILE_DATUM, "$.u"),
    ({"type": "record", "name": "T", "fields": [
        {"name": "marks", "type": {"type": "array", "items": "null"}},
        {"name": "kids", "type": {"type": "array", "items": "T"}}]},
     _long(0) + _long(1) + _long(0) + _long(1) + HOSTILE_DATUM + b"\x00" + b"\x00", "$.kids[0].kids[0].marks"),
    ({"type": "array", "items": "null"}, HOSTILE_DATUM, "$"),
])
def test_the_error_names_the_field_path(schema, datum, path):
    with pytest.raises(serde.DecodeError) as raised:
        avro.decoder(_schema(schema))(datum)
    assert raised.value.path == path
    assert "array block claims 2147483648 items" in raised.value.reason


@pytest.mark.parametrize("reference", [False, True])
def test_negated_block_counts_are_checked_and_read(reference):
    # a block may give its count negated, followed by its byte size (valid Avro); cavro
    # reads such a count as nearly 2^64 and, for zero-byte items, fills memory until the
    # process is killed: the checked decoder hands those datums to fastavro
    decode = avro.decoder(_schema(CHILDREN), reference_codec=reference)
    with pytest.raises(serde.DecodeError, match="array block claims 2147483648 items"):
        decode(_long(-(2**31)) + _long(0) + b"\x00")
    assert decode(_long(-2) + _long(0) + b"\x00") == {"children": [None, None]}
    both = {"type": "record", "name": "Both", "fields": [
        {"name": "xs", "type": {"type": "array", "items": "int"}}, *CHILDREN["fields"]]}
    data = _long(-2) + _long(2) + b"\x02\x04" + b"\x00" + _long(-1) + _long(0) + b"\x00"
    assert avro.decoder(_schema(both), reference_codec=reference)(data) == {"xs": [1, 2], "children": [None]}


def test_many_blocks_are_capped_per_value():
    blocks = (_long(600_000)) * 2 + b"\x00"
    with pytest.raises(serde.DecodeError) as raised:
        avro.decoder(_schema(CHILDREN))(blocks)
    assert str(raised.value) == "$.children: arrays in one value claim 1200000 items, counting what each holds, more than the limit of 1000000 (max_items)"


def test_max_items_is_a_decoder_option():
    decode = avro.decoder(_schema(CHILDREN), max_items=3)
    assert decode(_long(3) + b"\x00") == {"children": [None] * 3}
    with pytest.raises(serde.DecodeError, match="array block claims 4 items, more than the limit of 3 \\(max_items\\)"):
        decode(_long(4) + b"\x00")
    with pytest.raises(serde.DecodeError, match="arrays in one value claim 4 items, counting what each holds, more than the limit of 3"):
        decode(_long(2) + _long(2) + b"\x00")
    with pytest.raises(serde.ConfigError, match="max_items must be 0 or more"):
        avro.decoder(_schema(CHILDREN), max_items=-1)
    assert MAX_ITEMS == 1_000_000


@pytest.mark.parametrize(("schema", "datum", "reason"), [
    (CHILDREN, b"", "truncated data"),
    (CHILDREN, _long(2), "truncated data"),
    (CHILDREN, b"\xff" * 11, "a varint longer than 10 bytes"),
    ({"type": "record", "name": "S", "fields": [{"name": "s", "type": "string"}, *CHILDREN["fields"]]},
     _long(-4), "a negative length \\(-4\\)"),
    ({"type": "record", "name": "S", "fields": [{"name": "s", "type": "string"}, *CHILDREN["fields"]]},
     _long(40) + b"abc", "truncated data"),
    ({"type": "record", "name": "S", "fields": [{"name": "u", "type": ["null", "int"]}, *CHILDREN["fields"]]},
     _long(5) + b"\x00", "union branch 5 of 2"),
    ({"type": "record", "name": "S", "fields": [{"name": "xs", "type": {"type": "array", "items": "int"}},
                                                  *CHILDREN["fields"]]},
     _long(2**40) + b"\x00", "a block of 1099511627776 items in 1 bytes"),
    ({"type": "record", "name": "S", "fields": [{"name": "m", "type": {"type": "map", "values": "int"}},
                                                  *CHILDREN["fields"]]},
     _long(1) + _long(-1), "a negative length \\(-1\\)"),
])
def test_bytes_the_walk_cannot_follow_are_decode_errors(schema, datum, reason):
    with pytest.raises(serde.DecodeError, match=f"invalid Avro data for schema \\w+: {reason}"):
        avro.decoder(_schema(schema))(datum)


def test_values_of_every_kind_walk_like_the_codec_reads_them():
    schema = {"type": "record", "name": "All", "fields": [
        {"name": "b", "type": "boolean"}, {"name": "i", "type": "int"}, {"name": "l", "type": "long"},
        {"name": "f", "type": "float"}, {"name": "d", "type": "double"}, {"name": "by", "type": "bytes"},
        {"name": "s", "type": "string"}, {"name": "e", "type": {"type": "enum", "name": "E", "symbols": ["A", "B"]}},
        {"name": "fx", "type": {"type": "fixed", "name": "F", "size": 3}},
        {"name": "m", "type": {"type": "map", "values": {"type": "array", "items": "null"}}},
        {"name": "u", "type": ["null", "string", {"type": "array", "items": "E"}]},
        {"name": "ts", "type": {"type": "long", "logicalType": "timestamp-millis"}},
        {"name": "n", "type": {"type": "array", "items": "null"}},
    ]}
    value = {"b": True, "i": -5, "l": 2**40, "f": 1.5, "d": 2.25, "by": b"\x00\x01", "s": "h\u00e9", "e": "B",
             "fx": b"abc", "m": {"x": [None, None], "y": []}, "u": ["A", "B"], "ts": 1_700_000_000_000, "n": [None] * 5}
    data = _encode(schema, value)
    check = checker(schema)
    assert check is not None and check.walk(data) == len(data)
    assert avro.decoder(_schema(schema))(data) == fastavro.schemaless_reader(io.BytesIO(data), fastavro.parse_schema(schema))


def test_names_resolve_through_namespaces():
    schema = {"type": "record", "name": "A", "namespace": "x.y", "fields": [
        {"name": "e", "type": {"type": "record", "name": "Empty", "fields": []}},
        {"name": "more", "type": {"type": "array", "items": "Empty"}},
        {"name": "again", "type": {"type": "array", "items": "x.y.Empty"}}]}
    with pytest.raises(serde.DecodeError, match="^\\$.more: array block claims"):
        avro.decoder(_schema(schema))(HOSTILE_DATUM)
    assert encodes_empty({"type": "record", "name": "E", "fields": [{"name": "n", "type": "null"}]})
    assert not encodes_empty(schema)


# -- memory stays bounded: the hostile inputs in a subprocess with little address space --------

_BOUNDED = textwrap.dedent("""
    import resource, sys
    resource.setrlimit(resource.RLIMIT_AS, (1536 * 2**20, 1536 * 2**20))
    import serde
    try:
        {body}
    except serde.SerdeError as exc:
        print(type(exc).__name__, str(exc))
    except MemoryError:
        print("MemoryError")
    print("maxrss_mb", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024)
""")


def _run_bounded(body, tmp_path):
    script = tmp_path / "bounded.py"
    script.write_text(_BOUNDED.replace("{body}", textwrap.indent(textwrap.dedent(body), "    ").strip()))
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    *lines, rss = done.stdout.strip().splitlines()
    assert int(rss.split()[1]) < 400, done.stdout  # megabytes: nothing near the 6 GB the list would take
    return "\n".join(lines)


def test_an_11_byte_frame_fails_cleanly_in_bounded_memory(tmp_path):
    body = f"""
        from confluent_kafka.schema_registry import SchemaRegistryClient
        from confluent_kafka.serialization import MessageField, SerializationContext
        client = SchemaRegistryClient.new_client({{"url": "mock://bounds"}})
        ctx = SerializationContext("t", MessageField.VALUE)
        serde.serializer("avro", {json.dumps(json.dumps(CHILDREN))}, registry=client)({{"children": []}}, ctx)
        schema_id = client.get_latest_version("t-value").schema_id
        frame = b"\\x00" + schema_id.to_bytes(4, "big") + {HOSTILE_DATUM!r}
        assert len(frame) == 11, len(frame)
        serde.deserializer("avro", registry=client)(frame, ctx)
    """
    out = _run_bounded(body, tmp_path)
    assert re.fullmatch("DecodeError schema id \\d+: \\$.children: array block claims 2147483648 items, more than "
                        "the limit of 1000000 \\(max_items\\)", out), out


def _hostile_container(schema, count, payload):
    sync = b"\x01" * 16
    header = MAGIC + _long(1) + _bytes(b"avro.schema") + _bytes(json.dumps(schema).encode()) + _long(0) + sync
    return header + _long(count) + _long(len(payload)) + payload + sync


def test_a_tiny_container_file_fails_cleanly_in_bounded_memory(tmp_path):
    data = _hostile_container(CHILDREN, 1, HOSTILE_DATUM)
    assert len(data) < 178
    (tmp_path / "hostile.avro").write_bytes(data)
    body = """
        serde.convert("hostile.avro", "out.ndjson", from_format="avro", to_format="json")
    """
    out = _run_bounded(body, tmp_path)
    assert out == ("DecodeError record 1: $.children: array block claims 2147483648 items, more than the limit of "
                   "1000000 (max_items)")
    assert not (tmp_path / "out.ndjson").exists()


def test_the_container_error_names_the_record_in_its_block():
    good = _long(1) + b"\x00"
    data = _hostile_container(CHILDREN, 3, good + good + HOSTILE_DATUM)
    with pytest.raises(serde.DecodeError) as raised:
        list(OcfRecords(io.BytesIO(data)))
    assert str(raised.value).startswith("record 3: $.children: array block claims 2147483648 items")
    assert list(OcfRecords(io.BytesIO(_hostile_container(CHILDREN, 2, good + good)))) == [{"children": [None]}] * 2
    with pytest.raises(serde.DecodeError, match="record 1: \\$.children: array block claims 3 items, more than the limit of 2"):
        list(OcfRecords(io.BytesIO(_hostile_container(CHILDREN, 1, _long(3) + b"\x00")), max_items=2))


def test_a_block_of_values_that_take_no_bytes_cannot_claim_endless_records(tmp_path):
    # the schema's values are empty: only the block count says how many (a hang, not memory)
    data = _hostile_container({"type": "record", "name": "E", "fields": []}, 2**40, b"")
    with pytest.raises(serde.DecodeError) as raised:
        list(OcfRecords(io.BytesIO(data)))
    assert str(raised.value) == ("record 1: blocks claim 1099511627776 records of a schema whose values take no "
                                 "bytes, more than the limit of 1000000 (max_items)")
    assert list(OcfRecords(io.BytesIO(_hostile_container("null", 3, b"")))) == [None] * 3


@pytest.mark.parametrize("schema,datum,value", [
    ({"type": "array", "items": "long"}, b"\x03\x04\x02\x04\x00", [1, 2]),
    ({"type": "map", "values": "int"}, b"\x01\x06\x02a\x02\x00", {"a": 1}),
    ({"type": "record", "name": "R", "fields": [  # with a logical type: cavro's decode and the Python pass
        {"name": "d", "type": {"type": "int", "logicalType": "date"}},
        {"name": "xs", "type": {"type": "array", "items": "long"}}]},
     b"\x02\x03\x04\x02\x04\x00", {"d": __import__("datetime").date(1970, 1, 2), "xs": [1, 2]}),
])
def test_negated_block_counts_are_read_as_the_specification_says(schema, datum, value):
    """A block may be written as -count then its byte size (Java's BlockingBinaryEncoder);
    fastavro reads that, cavro does not, so what cavro refuses goes to fastavro."""
    decode = avro.decoder(_schema(schema))
    assert decode(datum) == value == fastavro.schemaless_reader(io.BytesIO(datum), fastavro.parse_schema(schema))
    with pytest.raises(serde.DecodeError, match="truncated"):
        decode(datum[:-2])


def test_many_blocks_of_values_that_take_no_bytes_are_capped_for_the_file():
    """Per block, each under the limit; together, a 150-byte file would ask for 1.2 million
    records (and a 60 KB one for ten billion): the cap is on the file."""
    empty = {"type": "record", "name": "E", "fields": []}
    one = _hostile_container(empty, 400_000, b"")
    sync = b"\x01" * 16
    block = _long(400_000) + _long(0) + sync
    data = one + block + block
    records = OcfRecords(io.BytesIO(data))
    with pytest.raises(serde.DecodeError) as raised:
        for _ in records:
            pass
    assert str(raised.value) == ("record 800001: blocks claim 1200000 records of a schema whose values take no bytes, "
                                 "more than the limit of 1000000 (max_items)")
    assert sum(1 for _ in OcfRecords(io.BytesIO(one + block))) == 800_000


def test_max_items_is_a_deserializer_option_too():
    from confluent_kafka.serialization import MessageField, SerializationContext

    ctx = SerializationContext("bounded", MessageField.VALUE)
    registry = "mock://max-items-option"
    data = serde.serializer("avro", json.dumps(CHILDREN), registry)({"children": [None] * 5}, ctx)
    assert serde.deserializer("avro", registry, max_items=5)(data, ctx) == {"children": [None] * 5}
    with pytest.raises(serde.DecodeError, match="claims 5 items, more than the limit of 4 \\(max_items\\)"):
        serde.deserializer("avro", registry, max_items=4)(data, ctx)
