"""Writing Avro Object Container Files from already-encoded datums.

A container file is a header (magic, metadata with the schema and codec, a 16-byte
sync marker) and blocks of ``count, size, data, sync``. Writing it here, from datums
encoded by whatever codec is fastest, keeps the schema declared in the header exactly
the one the user asked for, even when the datums were encoded with an equivalent
primitive-only schema (see ``serde._avro_lane``).
"""
from __future__ import annotations

import os
import zlib
from typing import BinaryIO, Callable

from ._errors import ConfigError
from ._wire import _zigzag, varint

MAGIC = b"Obj\x01"
BLOCK_BYTES = 64 * 1024


def _long(n: int) -> bytes:
    """An Avro long: zigzag, then a varint."""
    return varint(_zigzag(n))


def _bytes(b: bytes) -> bytes:
    return _long(len(b)) + b


def _compressor(codec: str) -> Callable[[bytes], bytes]:
    if codec == "null":
        return lambda data: data
    if codec == "deflate":
        def deflate(data: bytes) -> bytes:
            compressor = zlib.compressobj(zlib.Z_DEFAULT_COMPRESSION, zlib.DEFLATED, -15)
            return compressor.compress(data) + compressor.flush()

        return deflate
    if codec == "snappy":
        try:
            import snappy  # type: ignore[import-not-found]
        except ImportError:
            raise ConfigError("the snappy codec needs python-snappy: pip install python-snappy") from None
        return lambda data: snappy.compress(data) + (zlib.crc32(data) & 0xFFFFFFFF).to_bytes(4, "big")
    if codec == "zstandard":
        try:
            import zstandard  # type: ignore[import-not-found]
        except ImportError:
            raise ConfigError("the zstandard codec needs zstandard: pip install zstandard") from None
        compressor = zstandard.ZstdCompressor()
        return compressor.compress
    raise ConfigError(f"unknown Avro codec {codec!r}; use null, deflate, snappy or zstandard")


class OcfWriter:
    """Appends datums to a container file; ``close`` writes the last block."""

    def __init__(self, stream: BinaryIO, schema_json: str, codec: str = "null", block_bytes: int = BLOCK_BYTES) -> None:
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
