"""The C Avro reader (serde/formats/_avro_native.c) against serde's Python path: on
generated schemas, valid payloads and damaged ones, it returns exactly the value the
Python path returns (same types, same digits) or leaves the payload to it, which then
reads or refuses it as before."""
from __future__ import annotations

import io
import json
import random
import shutil
import sysconfig
import uuid
from pathlib import Path
from typing import Any

import fastavro
import pytest

from serde.formats import _avro_fast

from .test_avro_writer import AVRO, Gen, named_types

needs_reader = pytest.mark.skipif(_avro_fast._avro_native is None, reason="serde.formats._avro_native was not built")


def test_the_reader_is_built_where_there_is_a_c_compiler() -> None:
    headers = Path(sysconfig.get_paths()["include"], "Python.h").is_file()
    if (shutil.which("cc") or shutil.which("gcc")) and headers:
        assert _avro_fast._avro_native is not None, "a C compiler and Python's headers are here, but serde.formats._avro_native did not build"
    else:
        pytest.skip("no C compiler or no Python headers here: serde reads Avro on its Python path")


def typed(value: Any) -> Any:
    """The value with every type spelled out (1 == 1.0 == True and NaN != NaN otherwise)."""
    if isinstance(value, dict):
        return ("dict", [(typed(k), typed(v)) for k, v in value.items()])
    if isinstance(value, list):
        return ("list", [typed(v) for v in value])
    return (type(value).__name__, repr(value), getattr(value, "tzinfo", None), getattr(value, "is_safe", None))


def outcome(call: Any) -> Any:
    try:
        return ("ok", typed(call()))
    except Exception as exc:  # noqa: BLE001 - compared, not handled
        return ("error", type(exc).__name__, str(exc))


def damaged(r: random.Random, data: bytes) -> bytes:
    kind = r.choice(["truncate", "flip", "append", "insert", "zero"])
    if not data or kind == "append":
        return data + bytes(r.getrandbits(8) for _ in range(r.randint(1, 3)))
    at = r.randrange(len(data))
    if kind == "truncate":
        return data[:at]
    if kind == "flip":
        return data[:at] + bytes([data[at] ^ (1 << r.randrange(8))]) + data[at + 1:]
    if kind == "insert":
        return data[:at] + bytes([r.choice([0x01, 0x7f, 0x80, 0xff, 0x03])]) + data[at:]
    return data[:at] + b"\x00" + data[at + 1:]


@needs_reader
@pytest.mark.parametrize("seed", range(12))
def test_generated_payloads_read_as_the_python_path_reads_them(seed: int) -> None:
    gen = Gen(1000 + seed)
    handled = passed = 0
    for _ in range(40):
        schema = {"type": "record", "name": gen.name("Top"), "fields": [
            {"name": f"f{i}", "type": gen.schema(1)} for i in range(gen.r.randint(1, 6))]}
        parsed = AVRO.parse_schema(json.dumps(schema))
        program = _avro_fast.program(parsed.expanded)
        python_path = AVRO.decoder(parsed)
        python_path = getattr(python_path, "fallback", python_path)
        left: list[bytes] = []

        def fallback(data: bytes, _left: list = left, _path: Any = python_path) -> Any:
            _left.append(data)
            return _path(data)

        c_reader = _avro_fast._avro_native.Reader(program, fallback, uuid.UUID, uuid.SafeUUID.unknown)
        reference = fastavro.parse_schema(schema)
        named = named_types(schema)
        payloads: list[bytes] = []
        while len(payloads) < 30:
            record = gen.value(schema, named)
            buffer = io.BytesIO()
            try:
                fastavro.schemaless_writer(buffer, reference, record)
            except Exception:  # noqa: BLE001, S112 - a generated record that does not fit: another one
                continue
            payloads.append(buffer.getvalue())
        payloads += [damaged(gen.r, p) for p in payloads[:20]]
        for data in payloads:
            before = len(left)
            mine, theirs = outcome(lambda: c_reader(data)), outcome(lambda: python_path(data))
            assert mine == theirs, (schema, data)
            if len(left) == before:
                handled += 1
            else:
                passed += 1
    # the comparison means something only if both sides were taken often (damaged
    # payloads and time-of-day types go to the Python path; about a third is read in C)
    assert handled > 400 and passed > 400, (handled, passed)


@needs_reader
def test_the_decoder_is_the_c_reader_and_refuses_as_before() -> None:
    schema = AVRO.parse_schema(json.dumps({"type": "record", "name": "R", "fields": [
        {"name": "id", "type": "long"}, {"name": "tags", "type": {"type": "array", "items": "string"}},
        {"name": "price", "type": {"type": "bytes", "logicalType": "decimal", "precision": 5, "scale": 2}}]}))
    decode = AVRO.decoder(schema)
    assert type(decode).__name__ == "Reader"
    data = AVRO.encoder(schema)({"id": 7, "tags": ["a", "b"], "price": __import__("decimal").Decimal("-1.05")})
    assert typed(decode(data)) == typed(decode.fallback(data))
    import serde

    for bad in (data[:-1], data[:3], b"\x0e\x7f", b"\x0e\x03"):  # truncated; a count beyond the payload; a negative count
        with pytest.raises(serde.DecodeError) as mine:
            decode(bad)
        with pytest.raises(serde.DecodeError) as theirs:
            decode.fallback(bad)
        assert str(mine.value) == str(theirs.value)


@needs_reader
def test_zero_byte_items_cannot_make_the_reader_build_without_bound() -> None:
    # an array of nulls claims 2^40 items in 7 bytes: the reader leaves it to the Python
    # path, whose check refuses it (max_items) before any list is built
    import serde

    schema = AVRO.parse_schema(json.dumps({"type": "array", "items": "null"}))
    decode = AVRO.decoder(schema)
    count = 2**40
    zigzag = count << 1
    varint = bytearray()
    while zigzag >= 0x80:
        varint.append((zigzag & 0x7F) | 0x80)
        zigzag >>= 7
    varint.append(zigzag)
    with pytest.raises(serde.DecodeError, match="max_items"):
        decode(bytes(varint) + b"\x00")
    # nulls within the payload's own length are read in C as usual
    assert AVRO.decoder(schema)(b"\x06\x00") == [None, None, None]
