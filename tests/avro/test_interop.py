"""Container files against Java: Apache Avro's avro-tools writes one file per codec with the
recursive interop schema (Avro's share/test/schemas/interop.avsc) and serde reads the same
records fastavro reads; serde's own files, per codec, are read back equal by avro-tools."""
import io
import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import fastavro
import pytest

import serde
from serde._ocf import OcfRecords, OcfWriter
from serde.formats import get_format

from .tools import CODECS, missing_tools, resolve_jar, run

pytestmark = [pytest.mark.skipif(missing_tools() is not None, reason=missing_tools() or ""), pytest.mark.slow]

HERE = Path(__file__).resolve().parent
INTEROP = json.loads((HERE.parents[1] / "schemas" / "avro" / "interop.avsc").read_text())
# the same records without the recursive field, through serde.convert too (for two codecs:
# each avro-tools run costs a JVM start)
FLAT_CODECS = ("null", "zstandard")
FLAT = dict(INTEROP, name="Flat", fields=[f for f in INTEROP["fields"] if f["name"] != "recordField"])


def _node(depth, label):
    return {"label": label, "children": [_node(depth - 1, f"{label}.{i}") for i in range(depth)] if depth else []}


def _record(i):
    union = [True, i + 0.25, [bytes([i, 255 - i]), b""]][i % 3]
    return {
        "intField": -(2**31) if i == 0 else i * 1_000_003 % 2**31, "longField": 2**63 - 1 - i, "stringField": f"s{i} é ✓",
        "boolField": i % 2 == 0, "floatField": i * 0.5, "doubleField": -i / 8, "bytesField": bytes(range(i, i + 5)),
        "nullField": None, "arrayField": [float(j) for j in range(i % 4)],
        "mapField": {f"k{j}": {"label": f"v{j}"} for j in range(i % 3)}, "unionField": union,
        "enumField": "ABC"[i % 3], "fixedField": bytes([i]) * 16, "recordField": _node(i % 4, f"n{i}"),
        "timeMillisField": i, "timeMicrosField": i * 1000, "timestampMillisField": 1_700_000_000_000 + i,
        "timestampMicrosField": 1_700_000_000_000_000 + i, "localTimestampMillisField": i,
        "localTimestampMicrosField": -i,
    }


RECORDS = [_record(i) for i in range(24)]
FLAT_RECORDS = [{k: v for k, v in r.items() if k != "recordField"} for r in RECORDS]


def _avro_json(schema, records):
    """The records in Avro's JSON encoding (what avro-tools reads and prints), as parsed
    JSON. Written out here: fastavro's json_writer recurses forever on recursive schemas."""
    named = {}

    def encode(node, value, namespace=None):
        if isinstance(node, str):
            if node in named:
                return encode(named[node], value)
            full = f"{namespace}.{node}" if namespace and "." not in node else node
            if full in named:
                return encode(named[full], value)
            return value.decode("latin-1") if node == "bytes" else value
        if isinstance(node, list):  # a union: {"branch name": value}, or null
            for branch in node:
                kind = branch if isinstance(branch, str) else branch["type"]
                if value is None and kind == "null":
                    return None
                fits = {"boolean": bool, "double": float, "array": list}.get(kind)
                if fits is not None and isinstance(value, fits):
                    return {kind: encode(branch, value, namespace)}
            raise AssertionError(f"no branch of {node} for {value!r}")
        kind = node["type"]
        if kind in ("record", "enum", "fixed"):
            space = node.get("namespace", namespace)
            full = node["name"] if "." in node["name"] or not space else f"{space}.{node['name']}"
            named.setdefault(full, node)
            named.setdefault(node["name"], node)
            if kind == "record":
                inner = full.rpartition(".")[0] or None
                return {f["name"]: encode(f["type"], value[f["name"]], inner) for f in node["fields"]}
            return value.decode("latin-1") if kind == "fixed" else value
        if kind == "array":
            return [encode(node["items"], item, namespace) for item in value]
        if kind == "map":
            return {key: encode(node["values"], item, namespace) for key, item in value.items()}
        return encode(kind, value, namespace)

    return [encode(schema, record) for record in records]


def _read_fastavro(path):
    with open(path, "rb") as f:
        reader = fastavro.reader(f)
        return reader.codec, list(reader)


@pytest.fixture(scope="module")
def jar():
    return resolve_jar()


@pytest.fixture(scope="module")
def java_files(jar, tmp_path_factory):
    """codec -> (interop file, flat file), both written by avro-tools fromjson."""
    folder = tmp_path_factory.mktemp("java")
    inputs = {}
    for name, schema, records in (("interop", INTEROP, RECORDS), ("flat", FLAT, FLAT_RECORDS)):
        (folder / f"{name}.avsc").write_text(json.dumps(schema))
        (folder / f"{name}.json").write_text("".join(json.dumps(r) + "\n" for r in _avro_json(schema, records)))
        inputs[name] = (folder / f"{name}.avsc", folder / f"{name}.json")

    def write(job):
        codec, name = job
        schema, data = inputs[name]
        path = folder / f"{name}-{codec}.avro"
        level = ["--level", "6"] if codec == "xz" else []  # avro-tools' default level, -1, is no xz preset
        path.write_bytes(run(jar, "fromjson", "--codec", codec, *level, "--schema-file", str(schema), str(data)))
        return path

    jobs = [(codec, "interop") for codec in CODECS] + [(codec, "flat") for codec in FLAT_CODECS]
    with ThreadPoolExecutor(2) as pool:
        paths = dict(zip(jobs, pool.map(write, jobs)))
    return {codec: (paths[codec, "interop"], paths.get((codec, "flat"))) for codec in CODECS}


@pytest.mark.parametrize("codec", CODECS)
def test_serde_reads_what_java_writes(java_files, tmp_path, codec):
    interop, flat = java_files[codec]
    written_codec, reference = _read_fastavro(interop)
    assert written_codec == codec  # avro-tools really used the codec
    with open(interop, "rb") as f:
        assert list(OcfRecords(f)) == reference == RECORDS
    # through the conversion: the same JSON as from fastavro's own null-codec file
    ours = tmp_path / "fastavro.avro"
    with open(ours, "wb") as f:
        fastavro.writer(f, fastavro.parse_schema(INTEROP), RECORDS)
    for source, name in ((interop, "java"), (ours, "fastavro")):
        serde.convert(source, tmp_path / f"{name}.ndjson", from_format="avro", to_format="json")
    assert (tmp_path / "java.ndjson").read_text() == (tmp_path / "fastavro.ndjson").read_text()
    assert len((tmp_path / "java.ndjson").read_text().splitlines()) == len(RECORDS)
    if flat is None:
        return
    # a schema without recursion, through serde.convert as well
    serde.convert(flat, tmp_path / "flat.ndjson", from_format="avro", to_format="json")
    assert _read_fastavro(flat)[1] == FLAT_RECORDS
    lines = [json.loads(line) for line in (tmp_path / "flat.ndjson").read_text().splitlines()]
    assert [line["stringField"] for line in lines] == [r["stringField"] for r in FLAT_RECORDS]
    assert lines[3]["bytesField"] == "AwQFBgc="  # serde's JSON writes bytes as base64


@pytest.fixture(scope="module")
def serde_files(tmp_path_factory):
    """codec -> a container file serde wrote (its own blocks and codecs), interop records;
    and codec -> one serde.convert wrote from NDJSON with the flat schema."""
    folder = tmp_path_factory.mktemp("serde")
    avro = get_format("avro")
    encode = avro.encoder(avro.parse_schema(json.dumps(INTEROP)))
    # NDJSON as serde writes it (bytes in base64), converted back to Avro below
    source = folder / "flat.avro"
    with open(source, "wb") as f:
        fastavro.writer(f, fastavro.parse_schema(FLAT), FLAT_RECORDS)
    ndjson = folder / "flat.ndjson"
    serde.convert(source, ndjson, from_format="avro", to_format="json")
    flat_schema = json.dumps(FLAT)
    files = {}
    for codec in CODECS:
        path = folder / f"interop-{codec}.avro"
        with open(path, "wb") as f:
            writer = OcfWriter(f, json.dumps(INTEROP), codec, block_bytes=600)  # several blocks
            for record in RECORDS:
                writer.write(encode(record))
            writer.close()
        converted = None
        if codec in FLAT_CODECS:
            converted = folder / f"flat-{codec}.avro"
            serde.convert(ndjson, converted, from_format="json", to_format="avro", to_schema=flat_schema, codec=codec)
        files[codec] = (path, converted)
    return files


@pytest.mark.parametrize("codec", CODECS)
def test_java_reads_what_serde_writes(jar, serde_files, codec):
    interop, flat = serde_files[codec]
    assert _read_fastavro(interop) == (codec, RECORDS)
    paths = [p for p in (interop, flat) if p is not None]
    with ThreadPoolExecutor(2) as pool:
        printed = list(pool.map(lambda path: run(jar, "tojson", str(path)), paths))
    assert [json.loads(line) for line in printed[0].decode().splitlines()] == _avro_json(INTEROP, RECORDS)
    if flat is not None:
        assert [json.loads(line) for line in printed[1].decode().splitlines()] == _avro_json(FLAT, FLAT_RECORDS)


def test_avro_tools_refuses_a_corrupt_serde_file_as_serde_does(jar, serde_files, tmp_path):
    # the agreement holds for bad files too: a wrong sync marker is an error to both
    data = bytearray(serde_files["deflate"][0].read_bytes())
    data[-1] ^= 0xFF
    bad = tmp_path / "bad.avro"
    bad.write_bytes(bytes(data))
    with pytest.raises(Exception, match="sync|Invalid sync"):
        run(jar, "tojson", str(bad))
    with pytest.raises(serde.DecodeError, match="does not end with the header's sync marker"), open(bad, "rb") as f:
        list(OcfRecords(f))
