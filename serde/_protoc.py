"""Compile ``.proto`` text to descriptors at run time with grpcio-tools' bundled protoc.

Both the compatibility checker and the Protobuf format need descriptors for schema *text*
(as a registry stores it), with imports resolved from a references mapping rather than
from files on disk. protoc is the reference parser, so its verdict on what is valid and its
``line:column`` messages are the ones users already know.

Imports of the files Confluent Schema Registry bundles (``google/type/*``,
``confluent/meta.proto``, ``confluent/type/decimal.proto``, the well-known types) resolve
without references, as in Confluent. Options Confluent ignores (a custom option whose
extension no file defines, such as an option on a ``oneof``) do not fail compilation:
protoc's ``Option "(x)" unknown`` errors drop that option and compile again. protoc's own
log lines (absl's ``WARNING: All log messages before absl::InitializeLog()``, parser
warnings) are not part of any error message.

This module imports nothing from serde except ``serde._errors`` and ``serde._proto_files``
so that any layer may use it.
"""
from __future__ import annotations

import functools
import hashlib
import os
import re
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass

from serde._errors import SchemaParseError
from serde._proto_files import bundled_sources, import_names

__all__ = ["CompiledProto", "compile_proto"]


@dataclass(frozen=True)
class CompiledProto:
    """The result of compiling one ``.proto`` text.

    ``file`` is the main file's ``FileDescriptorProto``; ``files`` holds every file protoc
    loaded (imports, then the main file, i.e. dependency order), ``name`` the main file's name.
    """

    name: str
    file: object  # google.protobuf.descriptor_pb2.FileDescriptorProto
    files: tuple  # tuple[FileDescriptorProto, ...]

    def by_name(self) -> dict[str, object]:
        """Every compiled file keyed by its import name (``"google/protobuf/any.proto"``)."""
        return {f.name: f for f in self.files}


def compile_proto(
    text: str,
    references: Mapping[str, str] | None = None,
    name: str = "schema.proto",
    *,
    ignore_unknown_options: bool = True,
) -> CompiledProto:
    """Compile ``text`` (imports resolved from ``references``: import name → text; the files
    Confluent bundles need no reference).

    An option protoc does not know (no imported file defines the extension) is dropped, as
    Confluent does, unless ``ignore_unknown_options`` is false. Raises ``SchemaParseError``
    carrying protoc's message, which names ``file:line:column``. Results are cached by the
    content of the text and references, so repeated checks of the same schema (transitive
    levels, CI runs over a directory) compile it once.
    """
    refs = tuple(sorted((references or {}).items()))
    if name in dict(refs):
        raise SchemaParseError(f"reference name {name!r} clashes with the main file's name")
    key = hashlib.sha256(repr((name, text, refs, ignore_unknown_options)).encode()).hexdigest()
    return _compile_cached(key, name, text, refs, ignore_unknown_options)


# protoc reports an unknown option at its name: `schema.proto:5:12: Option "(x.y)" unknown.`
_UNKNOWN_OPTION = re.compile(r'^(?P<file>[^:\n]+):(?P<line>\d+):(?P<col>\d+): Option "[^"]+" unknown\.')
_MAX_OPTION_PASSES = 64


@functools.lru_cache(maxsize=256)
def _compile_cached(key: str, name: str, text: str, refs: tuple, ignore_unknown_options: bool = False) -> CompiledProto:
    files = dict(refs)
    files[name] = text
    for _ in range(_MAX_OPTION_PASSES):
        try:
            return _compile_once(name, files)
        except _ProtocFailed as failed:
            unknown = [m for m in map(_UNKNOWN_OPTION.match, failed.lines) if m] if ignore_unknown_options else []
            if not unknown or len(unknown) != len(failed.lines):
                raise SchemaParseError(failed.message) from None
            for path in {m["file"] for m in unknown}:
                if path not in files:
                    raise SchemaParseError(failed.message) from None
                positions = [(int(m["line"]), int(m["col"])) for m in unknown if m["file"] == path]
                stripped = strip_options(files[path], positions)
                if stripped == files[path]:
                    raise SchemaParseError(failed.message) from None
                files[path] = stripped
    raise SchemaParseError(f"{name}: too many unknown options")


class _ProtocFailed(Exception):
    def __init__(self, lines: list[str], message: str) -> None:
        super().__init__(message)
        self.lines = lines
        self.message = message


def _compile_once(name: str, files: Mapping[str, str]) -> CompiledProto:
    try:
        from google.protobuf import descriptor_pb2
        from grpc_tools import protoc
    except ImportError as exc:  # one translation point for the missing dependency
        raise SchemaParseError(
            "compiling .proto text needs grpcio-tools and protobuf: pip install grpcio-tools"
        ) from exc

    import grpc_tools

    well_known = os.path.join(os.path.dirname(grpc_tools.__file__), "_proto")
    wanted = [n for body in files.values() for n in import_names(body) if n not in files]
    bundled_texts, bundled_descriptors = bundled_sources(wanted)
    with tempfile.TemporaryDirectory(prefix="serde-protoc-") as tmp:
        src = os.path.join(tmp, "src")
        for path, body in (*files.items(), *bundled_texts.items()):
            target = os.path.join(src, path)
            if os.path.commonpath([src, os.path.abspath(target)]) != src:
                raise SchemaParseError(f"reference name {path!r} escapes the source tree")
            os.makedirs(os.path.dirname(target), exist_ok=True)
            with open(target, "w", encoding="utf-8") as fh:
                fh.write(body)
        out = os.path.join(tmp, "out.desc")
        err_path = os.path.join(tmp, "stderr")
        args = [
            "protoc",
            f"-I{src}",
            f"-I{well_known}",
            "--include_imports",
            f"--descriptor_set_out={out}",
            name,
        ]
        if bundled_descriptors:
            bundled = os.path.join(tmp, "bundled.desc")
            with open(bundled, "wb") as fh:
                fh.write(descriptor_pb2.FileDescriptorSet(
                    file=[descriptor_pb2.FileDescriptorProto.FromString(b) for b in bundled_descriptors]
                ).SerializeToString())
            args.insert(3, f"--descriptor_set_in={bundled}")
        code, message = _run_protoc(protoc.main, args, err_path, cwd=src)
        if code != 0:
            lines = _error_lines(message, src)
            raise _ProtocFailed(lines, "; ".join(lines) or f"protoc failed with exit code {code}")
        fds = descriptor_pb2.FileDescriptorSet()
        with open(out, "rb") as fh:
            fds.ParseFromString(fh.read())
    files = tuple(fds.file)
    main = next(f for f in files if f.name == name)
    return CompiledProto(name=name, file=main, files=files)


def _run_protoc(main, args: list[str], err_path: str, cwd: str) -> tuple[int, str]:
    """Run protoc in-process, capturing the diagnostics it writes to file descriptor 2."""
    saved_fd = os.dup(2)
    saved_cwd = os.getcwd()
    with open(err_path, "w+b") as err:
        os.dup2(err.fileno(), 2)
        try:
            os.chdir(cwd)  # protoc prints paths relative to -I roots; cwd keeps them short
            code = main(args)
        finally:
            os.chdir(saved_cwd)
            os.dup2(saved_fd, 2)
            os.close(saved_fd)
        err.seek(0)
        message = err.read().decode("utf-8", "replace")
    return code, message


# protoc's logging, never part of an error: absl's first-use notice, then absl log lines
# (`W0000 00:00:1796567087.214919    7488 parser.cc:659] No edition or syntax specified...`)
# and the older `[libprotobuf WARNING google/protobuf/compiler/parser.cc:650] ...` form.
_LOG_LINE = re.compile(
    r"^(?:WARNING: All log messages before absl::InitializeLog\(\)"
    r"|[IWEF]\d{4} \d+:\d+:\d+\.\d+\s+\d+ \S+:\d+\]"
    r"|\[libprotobuf (?:INFO|WARNING|ERROR)\b"
    r"|[^:\s]+:\d+:\d+: warning: )"  # e.g. an unused import: it did not fail the compile
)


def _error_lines(message: str, src: str) -> list[str]:
    lines = [ln.replace(src + os.sep, "").strip() for ln in message.splitlines()]
    return [ln for ln in lines if ln and not _LOG_LINE.match(ln)]


# --------------------------------------------------------------------------- unknown options

_TOKEN = re.compile(
    r'"(?:[^"\\\n]|\\.)*"|\'(?:[^\'\\\n]|\\.)*\'|//[^\n]*|/\*.*?\*/|[A-Za-z_][A-Za-z0-9_]*|\S',
    re.DOTALL,
)


def strip_options(text: str, positions: "list[tuple[int, int]]") -> str:
    """``text`` without the options whose names start at the 1-based ``(line, column)``
    ``positions`` (as protoc reports them): an ``option x = ...;`` statement goes whole; an
    entry of a ``[...]`` list goes with its comma, and the brackets when it was the only one.
    Removed characters become spaces (newlines stay), so other positions do not move."""
    offsets = []
    starts = [0]
    for line in text.splitlines(keepends=True):
        starts.append(starts[-1] + len(line))
    for line, col in positions:
        if 1 <= line < len(starts):
            offsets.append(starts[line - 1] + col - 1)
    tokens = [(m.start(), m.end(), m.group()) for m in _TOKEN.finditer(text)]
    tokens = [t for t in tokens if not t[2].startswith(("//", "/*"))]
    chars = list(text)

    def blank(start: int, end: int) -> None:
        for i in range(start, end):
            if chars[i] != "\n":
                chars[i] = " "

    for offset in sorted(set(offsets), reverse=True):
        index = next((i for i, t in enumerate(tokens) if t[0] == offset), None)
        if index is None:
            continue
        if index > 0 and tokens[index - 1][2] == "option":  # a statement: up to its ';'
            end = _scan(tokens, index, stops=(";",))
            if end is not None:
                blank(tokens[index - 1][0], tokens[end][1])
            continue
        end = _scan(tokens, index, stops=(",", "]"))  # an entry of a [...] list
        if end is None:
            continue
        before = tokens[index - 1][2] if index > 0 else ""
        if tokens[end][2] == ",":
            blank(tokens[index][0], tokens[end][1])
        elif before == ",":
            blank(tokens[index - 1][0], tokens[end - 1][1])
        elif before == "[":
            blank(tokens[index - 1][0], tokens[end][1])
        else:
            continue
    return "".join(chars)


def _scan(tokens: list, index: int, stops: tuple[str, ...]) -> int | None:
    """The index of the first token in ``stops`` at nesting depth 0 from ``index`` on."""
    depth = 0
    for i in range(index, len(tokens)):
        tok = tokens[i][2]
        if tok in ("{", "(", "[", "<"):
            depth += 1
        elif tok in ("}", ")", "]", ">"):
            if depth == 0 and tok in stops:
                return i
            depth -= 1
        elif depth == 0 and tok in stops:
            return i
    return None
