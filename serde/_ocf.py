"""Avro Object Container Files: the codecs, reading the header and blocks, writing.

A container file is a header (magic, metadata with the schema and codec, a 16-byte
sync marker) and blocks of ``count, size, data, sync``. Writing it here, from datums
encoded by whatever codec is fastest, keeps the schema declared in the header exactly
the one the user asked for, even when the datums were encoded with an equivalent
primitive-only schema (see ``serde._avro_lane``).

Reading the frame here too (fastavro decodes only the datums) means one table of
compression modules serves both directions, so a file serde writes can always be read
back; metadata may hold any bytes (only ``avro.schema`` and ``avro.codec`` must be text);
and every size the file claims is checked before memory is spent on it.
"""
from __future__ import annotations

import io
import os
import sys
import zlib
from typing import Any, BinaryIO, Callable, Iterator

from ._errors import ConfigError, DecodeError, FormatUnavailable, SchemaParseError, SerdeError
from ._wire import _zigzag, varint

MAGIC = b"Obj\x01"
BLOCK_BYTES = 64 * 1024
SYNC_SIZE = 16
# Java's DataFileWriter refuses a sync interval above 2^30, so no conforming block
# decompresses to more; a bigger one is a decompression bomb, not data
MAX_BLOCK_BYTES = 1 << 30
_READ_CHUNK = 1 << 20

# Every codec the Avro specification names, and where its module comes from. The
# modules are the ones fastavro uses, so serde's files and fastavro's agree both ways.
CODECS = ("null", "deflate", "snappy", "zstandard", "bzip2", "xz")
_INSTALL = {
    "snappy": "the snappy codec needs cramjam: pip install 'serde-kafka[snappy]' (or: pip install cramjam)",
    "zstandard": "the zstandard codec needs backports.zstd before Python 3.14: "
                 "pip install 'serde-kafka[zstandard]' (or: pip install backports.zstd)",
    "bzip2": "the bzip2 codec needs Python's bz2 module, which this Python was built without",
    "xz": "the xz codec needs Python's lzma module, which this Python was built without",
}


def _long(n: int) -> bytes:
    """An Avro long: zigzag, then a varint."""
    return varint(_zigzag(n))


def _bytes(b: bytes) -> bytes:
    return _long(len(b)) + b


def _codec_name(codec: str) -> str:
    if codec == "zstd":
        return "zstandard"
    if codec not in CODECS:
        raise ConfigError(f"unknown Avro codec {codec!r}; use one of {', '.join(CODECS)}")
    return codec


def _module(codec: str) -> Any:
    """The compression module for ``codec``; FormatUnavailable with the install line if absent."""
    try:
        if codec == "snappy":
            from cramjam import snappy

            return snappy
        if codec == "zstandard":
            if sys.version_info >= (3, 14):
                from compression import zstd  # type: ignore[import-not-found]
            else:
                from backports import zstd  # type: ignore[import-not-found,no-redef]
            return zstd
        if codec == "bzip2":
            import bz2

            return bz2
        if codec == "xz":
            import lzma

            return lzma
    except ImportError:
        raise FormatUnavailable(_INSTALL[codec]) from None
    return zlib


def _compressor(codec: str) -> Callable[[bytes], bytes]:
    codec = _codec_name(codec)
    if codec == "null":
        return lambda data: data
    module = _module(codec)
    if codec == "deflate":
        def deflate(data: bytes) -> bytes:
            compressor = zlib.compressobj(zlib.Z_DEFAULT_COMPRESSION, zlib.DEFLATED, -15)
            return compressor.compress(data) + compressor.flush()

        return deflate
    if codec == "snappy":
        # raw snappy, then the big-endian CRC32 of the uncompressed data (the spec's framing)
        return lambda data: bytes(module.compress_raw(data)) + (zlib.crc32(data) & 0xFFFFFFFF).to_bytes(4, "big")
    return module.compress  # type: ignore[no-any-return]  # zstandard: a zstd frame; bzip2; xz: the .xz format


def _decompressor(codec: str, limit: int) -> Callable[[bytes], bytes]:
    """Decompress one block, refusing one that would grow beyond ``limit`` bytes."""
    module = _module(codec)

    def too_big() -> DecodeError:
        return DecodeError(f"a {codec} block decompresses to more than {limit} bytes")

    if codec == "null":
        return lambda data: data
    if codec == "deflate":
        def inflate(data: bytes) -> bytes:
            inflater = zlib.decompressobj(-15)
            out = inflater.decompress(data, limit + 1)
            if len(out) > limit or inflater.unconsumed_tail:
                raise too_big()
            return out

        return inflate
    if codec == "snappy":
        def unsnap(data: bytes) -> bytes:
            if len(data) < 4:
                raise DecodeError("a snappy block shorter than its 4-byte checksum")
            body, crc = data[:-4], int.from_bytes(data[-4:], "big")
            if module.decompress_raw_len(body) > limit:  # the length snappy's own header claims
                raise too_big()
            out = bytes(module.decompress_raw(body))
            if zlib.crc32(out) & 0xFFFFFFFF != crc:
                raise DecodeError("a snappy block whose CRC32 does not match its data")
            return out

        return unsnap
    decompressor = {"zstandard": "ZstdDecompressor", "bzip2": "BZ2Decompressor", "xz": "LZMADecompressor"}[codec]
    make = getattr(module, decompressor)

    def stream(data: bytes) -> bytes:
        # one decompressor per frame/stream: a block may hold several back to back
        out: list[bytes] = []
        total = 0
        while data:
            inflater = make()
            piece = inflater.decompress(data, limit + 1 - total)
            total += len(piece)
            out.append(piece)
            if total > limit:
                raise too_big()
            if not inflater.eof:
                raise DecodeError(f"a {codec} block that ends mid-stream")
            data = inflater.unused_data
        return b"".join(out)

    return stream


class OcfReader:
    """Reads a container file's header, then yields its blocks decompressed.

    ``metadata`` maps each key to its raw bytes; ``schema_text`` and ``codec`` are the
    two entries the specification defines. Errors are DecodeErrors (a codec module that
    is missing: FormatUnavailable), raised from the constructor for the header.
    """

    def __init__(self, stream: BinaryIO, *, max_block_bytes: int = MAX_BLOCK_BYTES) -> None:
        self._stream = stream
        self._limit = max_block_bytes
        magic = self._read(4, "the header")
        if magic != MAGIC:
            if len(magic) == 4 and magic[:3] == b"Obj":
                raise DecodeError(f"unsupported Avro container version {magic[3]} (serde reads version 1, "
                                  "the container format of Avro 1.3 and later)")
            shown = repr(magic) if magic else "empty input"
            raise DecodeError(f"not an Avro object container file (it starts with {shown}, not {MAGIC!r})")
        self.metadata: dict[str, bytes] = {}
        while True:
            count = self._long("the header's metadata")
            if count == 0:
                break
            if count < 0:
                count = -count
                self._long("the header's metadata")
            for _ in range(count):
                key = self._read_sized("a metadata key").decode("utf-8", "backslashreplace")
                self.metadata[key] = self._read_sized(f"metadata {key!r}")
        self.sync = self._read(SYNC_SIZE, "the header's sync marker")
        try:
            self.schema_text = self.metadata["avro.schema"].decode("utf-8")
        except KeyError:
            raise DecodeError("Avro container header has no avro.schema entry") from None
        except UnicodeDecodeError as exc:
            raise DecodeError(f"Avro container header's avro.schema is not UTF-8 text: {exc}") from None
        codec = self.metadata.get("avro.codec", b"null").decode("utf-8", "backslashreplace") or "null"
        if codec not in CODECS:
            raise DecodeError(f"unsupported Avro container codec {codec!r} (the Avro specification names "
                              f"{', '.join(CODECS)})")
        self.codec = codec
        self._decompress = _decompressor(codec, max_block_bytes)
        self.offset = self._position()

    def _position(self) -> int | None:
        try:
            return self._stream.tell()
        except (OSError, ValueError, AttributeError):
            return None

    def _read(self, size: int, what: str) -> bytes:
        # in pieces: a size the file merely claims must not allocate before the bytes exist
        if size <= _READ_CHUNK:
            data = self._stream.read(size)
        else:
            parts = []
            left = size
            while left:
                part = self._stream.read(min(left, _READ_CHUNK))
                if not part:
                    break
                parts.append(part)
                left -= len(part)
            data = b"".join(parts)
        if len(data) != size and what != "the header":
            raise DecodeError(f"truncated Avro container file: {what} needs {size} bytes, {len(data)} are left")
        return data

    def _long(self, what: str, first: bytes | None = None) -> int:
        n = shift = 0
        b = first if first is not None else self._stream.read(1)
        while True:
            if not b:
                raise DecodeError(f"truncated Avro container file in {what}")
            n |= (b[0] & 0x7F) << shift
            if not b[0] & 0x80:
                return (n >> 1) ^ -(n & 1)
            shift += 7
            if shift > 63:
                raise DecodeError(f"corrupt Avro container file: a varint longer than 10 bytes in {what}")
            b = self._stream.read(1)

    def _read_sized(self, what: str) -> bytes:
        size = self._long(what)
        if size < 0:
            raise DecodeError(f"corrupt Avro container file: {what} has a negative length")
        return self._read(size, what)

    def blocks(self) -> Iterator[tuple[int, bytes]]:
        """``(record count, decompressed data)`` for each block; ``offset`` is where the
        current block starts (None on unseekable streams)."""
        number = 0
        while True:
            self.offset = self._position()
            number += 1
            what = f"block {number}"
            first = self._stream.read(1)
            if not first:
                return  # the file ends between blocks
            count = self._long(what, first)
            if count < 0:
                raise DecodeError(f"corrupt Avro container file: {what} claims {count} records")
            size = self._long(what)
            if size < 0:
                raise DecodeError(f"corrupt Avro container file: {what} claims {size} bytes")
            if size > self._limit:
                raise DecodeError(f"corrupt Avro container file: {what} claims {size} bytes, more than the "
                                  f"limit of {self._limit}")
            data = self._read(size, what)
            if self._read(SYNC_SIZE, f"{what}'s sync marker") != self.sync:
                raise DecodeError(f"corrupt Avro container file: {what} does not end with the header's sync marker")
            yield count, self._decompress(data)
class OcfWriter:
    """Appends datums to a container file; ``close`` writes the last block."""

    def __init__(self, stream: BinaryIO, schema_json: str, codec: str = "null", block_bytes: int = BLOCK_BYTES) -> None:
        codec = _codec_name(codec)
        self._compress = _compressor(codec)
        self._stream = stream
        self._sync = os.urandom(16)
        self._block_bytes = block_bytes
        self._pending: list[bytes] = []
        self._size = 0
        metadata = {"avro.schema": schema_json.encode("utf-8"), "avro.codec": codec.encode("ascii")}
        header = bytearray(MAGIC)
        header += _long(len(metadata))
        for key, value in metadata.items():
            header += _bytes(key.encode("utf-8")) + _bytes(value)
        header += _long(0) + self._sync
        stream.write(bytes(header))

    def write(self, datum: bytes) -> None:
        self._pending.append(datum)
        self._size += len(datum)
        if self._size >= self._block_bytes:
            self.flush()

    def write_block(self, datums: list[bytes]) -> None:
        """Append several datums as (at least) one block of their own."""
        self.flush()
        self._pending = datums
        self._size = sum(map(len, datums))
        self.flush()

    def write_encoded_block(self, count: int, payload: bytes) -> None:
        """Append a block whose datums were joined and compressed elsewhere."""
        self.flush()
        if count:
            self._stream.write(_long(count) + _long(len(payload)) + payload + self._sync)

    def flush(self) -> None:
        if not self._pending:
            return
        data = self._compress(b"".join(self._pending))
        self._stream.write(_long(len(self._pending)) + _long(len(data)) + data + self._sync)
        self._pending = []
        self._size = 0

    def close(self) -> None:
        self.flush()


class OcfRecords:
    """The records of a container file: serde reads the frame (``OcfReader``), checks each
    block's item counts (``formats._avro_bounds``), and fastavro decodes the datums.

    ``reader_schema`` (Avro schema JSON) resolves the records into another schema.
    ``writer_schema`` is the header's schema as fastavro parsed it. Iterating raises
    DecodeError (``location`` names the record) or, where the reader schema cannot read
    the writer's, SchemaParseError.
    """

    def __init__(self, stream: BinaryIO, reader_schema: Any = None, *, max_items: int | None = None,
                 max_block_bytes: int = MAX_BLOCK_BYTES) -> None:
        import fastavro
        import orjson
        from fastavro.schema import SchemaParseException, UnknownType

        from .formats._avro_bounds import MAX_ITEMS, checker, encodes_empty

        self.frame = OcfReader(stream, max_block_bytes=max_block_bytes)
        try:
            raw = orjson.loads(self.frame.schema_text)
            self.writer_schema = fastavro.parse_schema(raw, _write_hint=False)
            # parsed with the hint too, so the per-datum reader does not parse it again
            self._writer = fastavro.parse_schema(raw)
            self._checker = checker(raw, max_items)
            self._empty = encodes_empty(raw)
        except (orjson.JSONDecodeError, SchemaParseException, UnknownType, ValueError, TypeError, KeyError,
                AttributeError, SerdeError) as exc:
            raise DecodeError(f"the Avro container's schema (avro.schema) is not a valid Avro schema: {exc}") from exc
        self._reader = fastavro.parse_schema(reader_schema) if reader_schema is not None else None
        self._max_items = MAX_ITEMS if max_items is None else max_items

    def __iter__(self) -> Iterator[Any]:
        from fastavro import schemaless_reader
        from fastavro.read import SchemaResolutionError

        writer, reader = self._writer, self._reader
        number = 0  # records read so far
        blocks = self.frame.blocks()
        while True:
            try:
                block = next(blocks, None)
            except DecodeError as exc:
                raise exc.at(f"record {number + 1}") from None
            if block is None:
                return
            count, data = block
            if self._empty and number + count > self._max_items:
                # values that take no bytes: only the counts say how many, so they are capped
                # for the whole file (a block at a time, a 60 KB file could ask for 10^10)
                raise DecodeError(f"blocks claim {number + count} records of a schema whose values take no bytes, "
                                  f"more than the limit of {self._max_items} (max_items)", location=f"record {number + 1}")
            if self._checker is not None:
                try:
                    self._checker.walk_block(count, data)
                except DecodeError as exc:
                    raise exc.at(f"record {number + 1 + exc.index}") from None  # type: ignore[attr-defined]
            buffer = io.BytesIO(data)
            for _ in range(count):
                number += 1
                try:
                    record = schemaless_reader(buffer, writer, reader)
                except SchemaResolutionError as exc:
                    reason = str(exc).split(":", 1)[0]
                    raise SchemaParseError(f"record {number}: the given --schema cannot read this file's writer "
                                           f"schema ({reason}); convert without --schema, or give a schema the "
                                           "writer's data resolves to") from exc
                except Exception as exc:  # noqa: BLE001 - a corrupt block ends the file: fatal
                    raise DecodeError(f"record {number}: corrupt Avro container data: {str(exc) or type(exc).__name__}") from exc
                yield record
