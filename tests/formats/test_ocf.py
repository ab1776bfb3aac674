"""Avro Object Container Files: every codec both ways, the header's corners, and
the frame's failure paths (serde._ocf)."""
import io
import json
import os
import sys
import zlib

import fastavro
import pytest
from click.testing import CliRunner

import serde
from cli.main import cli
from serde._ocf import CODECS, MAGIC, OcfReader, OcfRecords, OcfWriter, _bytes, _compressor, _long

SCHEMA = {
    "type": "record", "name": "Reading", "namespace": "t",
    "fields": [
        {"name": "id", "type": "long"},
        {"name": "label", "type": "string"},
        {"name": "tags", "type": {"type": "array", "items": "string"}},
        {"name": "extra", "type": ["null", "double"], "default": None},
    ],
}
RECORDS = [{"id": i, "label": f"r{i}" * (i % 7), "tags": ["a", "b"][: i % 3], "extra": None if i % 2 else i / 4}
           for i in range(300)]


def _datum(record):
    buffer = io.BytesIO()
    fastavro.schemaless_writer(buffer, fastavro.parse_schema(SCHEMA), record)
    return buffer.getvalue()


def _container(blocks, *, schema=SCHEMA, codec="null", meta=None, magic=MAGIC, sync=b"S" * 16):
    """A container file built by hand: ``blocks`` are (count, payload before compression)."""
    entries = {b"avro.schema": json.dumps(schema).encode() if not isinstance(schema, bytes) else schema,
               b"avro.codec": codec.encode()}
    entries.update(meta or {})
    out = bytearray(magic) + _long(len(entries))
    for key, value in entries.items():
        out += _bytes(key) + _bytes(value)
    out += _long(0) + sync
    compress = _compressor(codec) if codec in CODECS else (lambda data: data)
    for count, payload in blocks:
        data = compress(payload)
        out += _long(count) + _long(len(data)) + data + sync
    return bytes(out)


def _read(data, **options):
    return list(OcfRecords(io.BytesIO(data), **options))


def _ndjson(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


@pytest.mark.parametrize("codec", CODECS)
def test_serde_writes_every_codec_and_reads_it_back(tmp_path, codec):
    source = tmp_path / "in.ndjson"
    source.write_text("".join(json.dumps(r) + "\n" for r in RECORDS))
    target = tmp_path / "out.avro"
    serde.convert(source, target, from_format="json", to_format="avro", to_schema=json.dumps(SCHEMA), codec=codec)
    with open(target, "rb") as f:
        reader = fastavro.reader(f)
        assert reader.codec == codec
        assert list(reader) == RECORDS  # fastavro, the reference, reads serde's file
    back = tmp_path / "back.ndjson"
    serde.convert(target, back, from_format="avro", to_format="json")
    assert _ndjson(back) == RECORDS


@pytest.mark.parametrize("codec", CODECS)
def test_serde_reads_fastavro_files_of_every_codec(codec):
    buffer = io.BytesIO()
    fastavro.writer(buffer, fastavro.parse_schema(SCHEMA), RECORDS, codec=codec, sync_interval=500)
    assert _read(buffer.getvalue()) == RECORDS


@pytest.mark.parametrize("codec", CODECS)
def test_blocks_of_several_frames_are_read_whole(codec):
    # Java's streaming compressors may end a block with more than one frame/stream
    payload = b"".join(_datum(r) for r in RECORDS[:40])
    half = len(payload) // 2
    if codec in ("zstandard", "bzip2", "xz"):
        compress = _compressor(codec)
        data = compress(payload[:half]) + compress(payload[half:])
        raw = _container([], codec=codec) + _long(40) + _long(len(data)) + data + b"S" * 16
    else:
        raw = _container([(40, payload)], codec=codec)
    assert _read(raw) == RECORDS[:40]


def test_zstd_is_another_name_for_zstandard(tmp_path):
    out = io.BytesIO()
    writer = OcfWriter(out, json.dumps(SCHEMA), "zstd")
    writer.write(_datum(RECORDS[1]))
    writer.close()
    assert fastavro.reader(io.BytesIO(out.getvalue())).codec == "zstandard"
    assert _read(out.getvalue()) == [RECORDS[1]]


def test_unknown_codec_for_writing_is_a_config_error():
    with pytest.raises(serde.ConfigError, match="unknown Avro codec 'lz4'; use one of null, deflate, snappy, zstandard, bzip2, xz"):
        OcfWriter(io.BytesIO(), json.dumps(SCHEMA), "lz4")


@pytest.mark.parametrize(("codec", "module", "hint"), [
    ("snappy", "cramjam", "pip install 'serde-kafka[snappy]' (or: pip install cramjam)"),
    ("zstandard", "compression.zstd" if sys.version_info >= (3, 14) else "backports.zstd",
     "pip install 'serde-kafka[zstandard]'" if sys.version_info < (3, 14) else "compression.zstd"),
    ("bzip2", "bz2", "Python's bz2 module"),
    ("xz", "lzma", "Python's lzma module"),
])
def test_a_missing_codec_module_names_the_install_line(monkeypatch, tmp_path, codec, module, hint):
    data = _container([(1, _datum(RECORDS[0]))], codec=codec)
    monkeypatch.setitem(sys.modules, module, None)  # import now raises ImportError
    parent, _, name = module.rpartition(".")
    if parent:  # `from backports import zstd` would find the attribute first
        monkeypatch.delattr(sys.modules[parent], name, raising=False)
    with pytest.raises(serde.FormatUnavailable) as raised:
        _read(data)
    assert hint in str(raised.value) and codec in str(raised.value)
    with pytest.raises(serde.FormatUnavailable, match=codec):
        OcfWriter(io.BytesIO(), json.dumps(SCHEMA), codec)
    source = tmp_path / "in.ndjson"
    source.write_text(json.dumps(RECORDS[0]) + "\n")
    with pytest.raises(serde.FormatUnavailable, match=codec):
        serde.convert(source, tmp_path / "o.avro", from_format="json", to_format="avro", to_schema=json.dumps(SCHEMA),
                      codec=codec)
    assert not (tmp_path / "o.avro").exists()


def test_metadata_with_binary_values_is_read(tmp_path):
    meta = {b"acme.fingerprint": b"\xff\xfe\x00\x80", b"\xc3\x28bad-key": b"v"}
    data = _container([(2, _datum(RECORDS[0]) + _datum(RECORDS[1]))], meta=meta)
    frame = OcfReader(io.BytesIO(data))
    assert frame.metadata["acme.fingerprint"] == b"\xff\xfe\x00\x80"
    assert frame.metadata["\\xc3(bad-key"] == b"v"
    source = tmp_path / "in.avro"
    source.write_bytes(data)
    serde.convert(source, tmp_path / "o.ndjson", from_format="avro", to_format="json")
    assert _ndjson(tmp_path / "o.ndjson") == RECORDS[:2]


def test_metadata_in_a_negative_count_block_is_read():
    # a map block may give its count negated, followed by its size in bytes
    entries = _bytes(b"avro.schema") + _bytes(json.dumps(SCHEMA).encode())
    data = MAGIC + _long(-1) + _long(len(entries)) + entries + _long(0) + b"S" * 16
    data += _long(1) + _long(len(_datum(RECORDS[3]))) + _datum(RECORDS[3]) + b"S" * 16
    assert _read(data) == [RECORDS[3]]


@pytest.mark.parametrize("magic", [b"Obj\x00", b"Obj\x02"])
def test_other_container_versions_are_named(tmp_path, magic):
    source = tmp_path / "old.avro"
    source.write_bytes(_container([(1, _datum(RECORDS[0]))], magic=magic))
    with pytest.raises(serde.DecodeError, match=f"unsupported Avro container version {magic[3]} "):
        serde.convert(source, tmp_path / "o.ndjson", from_format="avro", to_format="json")


@pytest.mark.parametrize(("data", "message"), [
    (b"", "not an Avro object container file \\(it starts with empty input"),
    (b"PAR1xxxx", "not an Avro object container file \\(it starts with b'PAR1'"),
    (MAGIC + _long(1) + _bytes(b"avro.schema"), "truncated Avro container file in metadata 'avro.schema'"),
    (MAGIC + _long(2**60) + _bytes(b"k") + _bytes(b"v"), "truncated Avro container file in a metadata key"),
    (MAGIC + _long(1) + _bytes(b"k") + _long(2**50), "metadata 'k' needs 1125899906842624 bytes, 0 are left"),
    (MAGIC + _long(1) + _bytes(b"k") + _long(-3), "metadata 'k' has a negative length"),
    (MAGIC + b"\xff" * 11, "a varint longer than 10 bytes"),
    (MAGIC + _long(0) + b"S" * 16, "has no avro.schema entry"),
    (MAGIC + _long(1) + _bytes(b"avro.schema") + _bytes(b"\"str\xffing\"") + _long(0) + b"S" * 16,
     "avro.schema is not UTF-8 text"),
    (MAGIC + _long(1) + _bytes(b"avro.schema") + _bytes(b"{nope") + _long(0) + b"S" * 16,
     "avro.schema\\) is not a valid Avro schema"),
    (MAGIC + _long(1) + _bytes(b"avro.schema") + _bytes(b'{"type": "record"}') + _long(0) + b"S" * 16,
     "avro.schema\\) is not a valid Avro schema"),
    (MAGIC + _long(1) + _bytes(b"avro.schema") + _bytes(b'"int"') + _long(0) + b"S" * 7,
     "the header's sync marker needs 16 bytes, 7 are left"),
])
def test_bad_headers_are_decode_errors(data, message):
    with pytest.raises(serde.DecodeError, match=message):
        _read(data)


def test_a_codec_outside_the_specification_is_named():
    with pytest.raises(serde.DecodeError, match="unsupported Avro container codec 'lz4' \\(the Avro specification names null, deflate, snappy, zstandard, bzip2, xz\\)"):
        _read(_container([], codec="lz4"))


def _good(n=3):
    return b"".join(_datum(r) for r in RECORDS[:n])


@pytest.mark.parametrize(("tail", "message"), [
    (_long(3) + _long(len(_good())) + _good() + b"X" * 16, "record 4: corrupt Avro container file: block 2 does not end with the header's sync marker"),
    (_long(3) + _long(len(_good())) + _good()[:-2], "record 4: truncated Avro container file: block 2 needs 42 bytes, 40 are left"),
    (_long(3) + _long(2**62), "record 4: corrupt Avro container file: block 2 claims 4611686018427387904 bytes, more than the limit of 1073741824"),
    (_long(-3), "record 4: corrupt Avro container file: block 2 claims -3 records"),
    (_long(3) + _long(-1), "record 4: corrupt Avro container file: block 2 claims -1 bytes$"),
    (_long(3), "record 4: truncated Avro container file in block 2"),
    (_long(4) + _long(len(_good())) + _good() + b"S" * 16, "record 7: corrupt Avro container data: EOFError"),
])
def test_bad_blocks_are_decode_errors_naming_the_record(tail, message):
    data = _container([(3, _good())]) + tail
    records = OcfRecords(io.BytesIO(data))
    got = []
    with pytest.raises(serde.DecodeError, match=message):
        for record in records:
            got.append(record)
    assert got[:3] == RECORDS[:3]  # the good block before it was read


def test_a_snappy_block_with_a_wrong_checksum_is_refused():
    data = bytearray(_container([(3, _good())], codec="snappy"))
    data[-17] ^= 0xFF  # the last byte of the CRC32, before the sync marker
    with pytest.raises(serde.DecodeError, match="record 1: a snappy block whose CRC32 does not match its data"):
        _read(bytes(data))
    short = _container([], codec="snappy") + _long(1) + _long(2) + b"ab" + b"S" * 16
    with pytest.raises(serde.DecodeError, match="shorter than its 4-byte checksum"):
        _read(short)


@pytest.mark.parametrize("codec", ["deflate", "snappy", "zstandard", "bzip2", "xz"])
def test_a_block_that_decompresses_beyond_the_limit_is_refused(codec):
    data = _container([(1, b"\x00" * 5000)], codec=codec)
    with pytest.raises(serde.DecodeError, match=f"a {codec} block decompresses to more than 4096 bytes"):
        _read(data, max_block_bytes=4096)
    assert len(_read(_container([(2, _good(2))], codec=codec), max_block_bytes=4096)) == 2


@pytest.mark.parametrize("codec", ["zstandard", "bzip2", "xz"])
def test_a_block_cut_mid_stream_is_refused(codec):
    data = _compressor(codec)(_good(50))[:-8]
    raw = _container([], codec=codec) + _long(50) + _long(len(data)) + data + b"S" * 16
    with pytest.raises(serde.DecodeError, match=f"a {codec} block that ends mid-stream"):
        _read(raw)


def test_a_reader_schema_that_cannot_read_the_writers_is_a_schema_error(tmp_path):
    source = tmp_path / "in.avro"
    source.write_bytes(_container([(1, _datum(RECORDS[0]))]))
    other = {"type": "record", "name": "Reading", "namespace": "t", "fields": [{"name": "id", "type": "string"}]}
    with pytest.raises(serde.SchemaParseError, match="record 1: the given --schema cannot read this file's writer schema"):
        serde.convert(source, tmp_path / "o.ndjson", from_format="avro", to_format="json", schema=json.dumps(other))


def test_a_reader_schema_resolves_the_records():
    fewer = {"type": "record", "name": "Reading", "namespace": "t", "fields": [{"name": "id", "type": "long"}]}
    assert _read(_container([(2, _good(2))]), reader_schema=fewer) == [{"id": 0}, {"id": 1}]


def test_an_empty_file_with_a_header_has_no_records():
    assert _read(_container([])) == []


@pytest.mark.parametrize("codec", [*CODECS, "zstd"])
def test_cli_codec_accepts_every_codec(tmp_path, codec):
    source = tmp_path / "in.ndjson"
    source.write_text("".join(json.dumps(r) + "\n" for r in RECORDS[:20]))
    schema = tmp_path / "s.avsc"
    schema.write_text(json.dumps(SCHEMA))
    target = tmp_path / "o.avro"
    result = CliRunner().invoke(cli, ["convert", str(source), str(target), "--to-schema", str(schema), "--codec", codec, "-q"])
    assert result.exit_code == 0, result.output
    with open(target, "rb") as f:
        assert list(fastavro.reader(f)) == RECORDS[:20]


def test_cli_codec_refuses_others(tmp_path):
    source = tmp_path / "in.ndjson"
    source.write_text("{}\n")
    result = CliRunner().invoke(cli, ["convert", str(source), str(tmp_path / "o.avro"), "--codec", "lz4"])
    assert result.exit_code == 2
    assert "'lz4' is not one of 'null', 'deflate', 'snappy', 'zstandard', 'bzip2', 'xz', 'zstd'" in result.output


def test_the_snappy_framing_is_the_specifications():
    # raw snappy, then the big-endian CRC32 of the uncompressed bytes
    payload = _good(5)
    framed = _compressor("snappy")(payload)
    assert framed[-4:] == (zlib.crc32(payload) & 0xFFFFFFFF).to_bytes(4, "big")
    import cramjam

    assert bytes(cramjam.snappy.decompress_raw(framed[:-4])) == payload


def test_chunked_conversion_writes_every_codec(tmp_path):
    # the chunked engine (big CSV/NDJSON inputs) compresses its blocks with the same table
    source = tmp_path / "in.ndjson"
    source.write_text("".join(json.dumps(r) + "\n" for r in RECORDS))
    for codec in ("bzip2", "xz"):
        target = tmp_path / f"{codec}.avro"
        serde.convert(source, target, from_format="json", to_format="avro", to_schema=json.dumps(SCHEMA),
                      codec=codec, workers=2)
        assert _read(target.read_bytes()) == RECORDS
    assert os.path.getsize(tmp_path / "xz.avro") > 0
