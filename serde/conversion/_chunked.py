"""Chunked conversion of line-oriented text (CSV, NDJSON): the input is cut into
chunks of whole records, each chunk is converted by a tight loop, in this process or
in worker processes, and the results are written in input order.

Cutting CSV needs care only because a quoted field may hold a line break: a line end
is a record boundary exactly when the number of quote characters before it is even
(an escaped quote is two), and ``bytes.count`` finds that at C speed. Workers are
forked, so they inherit the parsed schemas and compiled codecs; at most two chunks
per worker are in flight, so memory stays flat however large the input.
"""
from __future__ import annotations

import csv
import io
import os
from collections import deque
from dataclasses import dataclass, field
from typing import Any, BinaryIO, Callable, Iterator

from .._errors import DecodeError, SerdeError

CHUNK_BYTES = 1 << 20


def utf8_problem(raw: bytes) -> str | None:
    """Why one line of input is not UTF-8 text (None when it is): the byte and its column."""
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        column = len(raw[: exc.start].decode("utf-8", "replace")) + 1
        return f"not UTF-8 text (byte 0x{raw[exc.start]:02x} at column {column})"
    return None


def decode_lines(chunk: bytes) -> tuple[str, dict[int, str]]:
    """A chunk decoded line by line: its text (bad bytes replaced by U+FFFD) and, for
    each line that is not UTF-8, its index in the chunk and the reason."""
    bad: dict[int, str] = {}
    parts = []
    for index, line in enumerate(chunk.split(b"\n")):
        problem = utf8_problem(line)
        if problem is not None:
            bad[index] = problem
        parts.append(line.decode("utf-8", "replace"))
    return "\n".join(parts), bad


@dataclass
class ChunkResult:
    payload: bytes  # the converted records, encoded (bare Avro datums for avro)
    written: int
    read: int
    rejected: list[tuple[SerdeError, bytes | None]] = field(default_factory=list)


@dataclass
class Job:
    """Everything a worker needs, built once in the parent before workers fork."""

    source: str  # "csv" | "json"
    make_writer: Callable[[BinaryIO], Any]  # a Writer(container=False) on a buffer
    coerce: Callable[[Any, str], Any] | None
    stop_at_first_error: bool
    csv_schema: Any = None
    csv_order: list[int | None] | None = None  # schema column -> header column (None: its default)
    csv_width: int | None = None  # columns in the header, when it differs from the schema's
    avro_lane: Callable[[Any], Any] | None = None
    to_physical: Callable[[Any], Any] | None = None
    json_decode: Callable[[bytes], Any] | None = None
    compress: Callable[[bytes], bytes] | None = None
    # with avro_lane: the bare datum encoder (a C function), so the common row costs no
    # Python frame between the row parser and the output buffer
    lane_encode: Callable[[Any], bytes] | None = None


def split_records(stream: BinaryIO, quotechar: bytes | None, first_line: int,
                  chunk_bytes: int | None = None) -> Iterator[tuple[bytes, int]]:
    """``(chunk, number of its first line)`` of whole records; ``quotechar`` None for NDJSON."""
    chunk_bytes = chunk_bytes or CHUNK_BYTES
    carry = b""
    line = first_line
    while True:
        block = stream.read(chunk_bytes)
        data = carry + block
        if not block:
            if data:
                yield data, line
            return
        cut = _last_boundary(data, quotechar)
        if cut <= 0:
            carry = data  # one record longer than a chunk: read on
            continue
        chunk, carry = data[:cut], data[cut:]
        yield chunk, line
        line += chunk.count(b"\n")


def _last_boundary(data: bytes, quotechar: bytes | None) -> int:
    end = len(data)
    while True:
        newline = data.rfind(b"\n", 0, end)
        if newline < 0:
            return -1
        if quotechar is None or data.count(quotechar, 0, newline) % 2 == 0:
            return newline + 1
        end = newline


def read_csv_header(stream: BinaryIO, quotechar: bytes) -> tuple[bytes, BinaryIO]:
    """The header record's bytes, and a stream positioned after it (the header may, in
    principle, hold quoted line breaks)."""
    buffered = b""
    while True:
        block = stream.read(64 * 1024)
        buffered += block
        start = 0
        while True:
            newline = buffered.find(b"\n", start)
            if newline < 0:
                break
            if buffered.count(quotechar, 0, newline) % 2 == 0:
                header, rest = buffered[: newline + 1], buffered[newline + 1:]
                return header, _Prepended(rest, stream)
            start = newline + 1
        if not block:
            return buffered, _Prepended(b"", stream)


class _Prepended(io.RawIOBase):
    def __init__(self, head: bytes, stream: BinaryIO) -> None:
        self._head = head
        self._stream = stream

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        if self._head:
            if size < 0:
                data, self._head = self._head + self._stream.read(), b""
                return data
            data, self._head = self._head[:size], self._head[size:]
            return data
        return self._stream.read(size)


# -- the per-chunk loops (run in workers) -------------------------------------------------

_JOB: Job | None = None


def _install(job: Job) -> None:
    global _JOB
    _JOB = job


def _run_chunk(chunk: bytes, first_line: int) -> ChunkResult:
    assert _JOB is not None
    return convert_chunk(_JOB, chunk, first_line)


def convert_chunk(job: Job, chunk: bytes, first_line: int) -> ChunkResult:
    buffer = io.BytesIO()
    writer = job.make_writer(buffer)
    result = ChunkResult(b"", 0, 0)
    try:
        if job.source == "csv":
            _csv_chunk(job, chunk, first_line, writer.write, result, buffer.write)
        else:
            _json_chunk(job, chunk, first_line, writer.write, result)
    finally:
        writer.close()
    payload = buffer.getvalue()
    result.payload = job.compress(payload) if job.compress is not None and payload else payload
    return result


def _reject(job: Job, result: ChunkResult, error: SerdeError, raw: bytes | None) -> bool:
    result.rejected.append((error, raw))
    return job.stop_at_first_error


def _csv_chunk(job: Job, chunk: bytes, first_line: int, write: Callable[[Any], None], result: ChunkResult,
               write_bytes: Callable[[bytes], Any]) -> None:
    schema = job.csv_schema
    bad: dict[int, str] = {}
    try:
        text = chunk.decode("utf-8")
    except UnicodeDecodeError:
        text, bad = decode_lines(chunk)  # the rows holding those lines are rejected, one by one
    # split on line feeds only: str.splitlines also breaks at U+2028, U+0085 and form
    # feeds, which the csv module keeps inside unquoted cells
    parts = text.split("\n")
    lines = [part + "\n" for part in parts[:-1]]
    if parts[-1]:
        lines.append(parts[-1])
    reader = csv.reader(lines, delimiter=schema.delimiter, quotechar=schema.quotechar, strict=True)
    width = len(schema.columns)
    order = job.csv_order
    lane = job.avro_lane if order is None else None
    lane_encode = job.lane_encode
    to_physical = job.to_physical
    coerce = job.coerce
    row_to_record = schema.row_to_record
    base = first_line - 1
    previous = 0
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            number = reader.line_num
            raw = "".join(lines[previous:number]).encode()
            error = DecodeError(f"malformed CSV: {exc}", location=f"line {base + number}")
            if bad:
                error, raw = _not_utf8(bad, chunk, previous, number, base) or (error, raw)
            previous = number
            result.read += 1
            if _reject(job, result, error, raw):
                return
            continue
        number = reader.line_num
        raw_text = lines[previous] if number - previous == 1 else "".join(lines[previous:number])
        if bad:
            found = _not_utf8(bad, chunk, previous, number, base)
            if found is not None:
                previous = number
                result.read += 1
                if _reject(job, result, *found):
                    return
                continue
        previous = number
        if not row:
            if width != 1:
                continue  # a blank line between rows carries nothing
            row = [""]  # one column: a blank line is an unquoted empty cell (null when the marker is "")
        result.read += 1
        if lane is not None and len(row) == width and (schema.quoted_null not in raw_text or schema.null_marker not in row):
            try:
                if lane_encode is not None:
                    write_bytes(lane_encode(lane(row)))
                else:
                    write(lane(row))
                result.written += 1
                continue
            except (ValueError, TypeError, ArithmeticError, SerdeError):
                pass  # the general way below converts it, or says what is wrong
        try:
            expected = width if order is None else (job.csv_width or len(order))
            if len(row) != expected:
                raise DecodeError(f"expected {expected} columns, got {len(row)}")
            if order is not None:
                from ..formats.csv import reordered

                in_order, quoted = reordered(schema, row, raw_text, order)
                record = row_to_record(in_order, None, quoted)
            else:
                record = row_to_record(row, raw_text)
            if to_physical is not None:
                record = to_physical(record)
            if coerce is not None:
                record = coerce(record, "$")
            write(record)
            result.written += 1
        except (SerdeError, RecursionError) as caught:
            exc = caught if isinstance(caught, SerdeError) else _too_deep()
            if _reject(job, result, exc.at(f"line {base + number}"), raw_text.rstrip("\r\n").encode()):
                return


def _not_utf8(bad: dict[int, str], chunk: bytes, start: int, stop: int,
              base: int) -> tuple[DecodeError, bytes] | None:
    """The error and raw bytes of a record (chunk lines start..stop) holding a line that is
    not UTF-8, else None."""
    first = next((i for i in range(start, stop) if i in bad), None)
    if first is None:
        return None
    raw = b"\n".join(chunk.split(b"\n")[start:stop]).rstrip(b"\r")
    return DecodeError(bad[first], location=f"line {base + first + 1}"), raw


def _json_chunk(job: Job, chunk: bytes, first_line: int, write: Callable[[Any], None], result: ChunkResult) -> None:
    import json

    from ..formats.jsonschema import json_loads

    decode = job.json_decode or json_loads
    coerce = job.coerce
    if first_line == 1 and chunk.startswith(b"\xef\xbb\xbf"):
        chunk = chunk[3:]  # a UTF-8 byte-order mark is not part of the first record
    for index, line in enumerate(chunk.split(b"\n")):
        if not line.strip():
            continue
        result.read += 1
        try:
            try:
                record = decode(line)
            except (json.JSONDecodeError, SerdeError) as exc:
                problem = utf8_problem(line)
                if problem is not None:
                    raise DecodeError(problem) from None
                if isinstance(exc, SerdeError):
                    raise
                raise DecodeError(f"invalid JSON: {exc}") from None
            if coerce is not None:
                record = coerce(record, "$")
            write(record)
            result.written += 1
        except (SerdeError, RecursionError) as caught:
            exc = caught if isinstance(caught, SerdeError) else _too_deep()
            if _reject(job, result, exc.at(f"line {first_line + index}"), line.rstrip(b"\r")):
                return


def _too_deep() -> SerdeError:
    from .._coerce import too_deep

    return too_deep()


# -- the parent ---------------------------------------------------------------------------

def run(job: Job, chunks: Iterator[tuple[bytes, int]], workers: int,
        emit: Callable[[ChunkResult], None]) -> None:
    """Convert every chunk and hand the results to ``emit`` in input order."""
    if workers <= 1:
        for chunk, first_line in chunks:
            emit(convert_chunk(job, chunk, first_line))
        return
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    # fork: the workers inherit the job (compiled parsers and codecs are not picklable)
    context = multiprocessing.get_context("fork")
    pending: deque[Any] = deque()
    with ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=_install, initargs=(job,)) as pool:
        try:
            for chunk, first_line in chunks:
                pending.append(pool.submit(_run_chunk, chunk, first_line))
                if len(pending) >= 2 * workers:
                    emit(pending.popleft().result())
            while pending:
                emit(pending.popleft().result())
        finally:
            for future in pending:
                future.cancel()


def default_workers(path: Any) -> int:
    """Worker processes worth starting for an input: one per core for files big enough
    that forking pays (8 MiB and up), else none (convert in this process)."""
    try:
        size = os.stat(path).st_size if isinstance(path, (str, os.PathLike)) and os.fspath(path) != "-" else 0
    except OSError:
        return 1
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return max(1, min(cores, 8)) if size >= 8 * CHUNK_BYTES else 1


def deflater(codec: str) -> Callable[[bytes], bytes] | None:
    if codec == "null":
        return None
    from .._ocf import _compressor

    return _compressor(codec)


