"""Compile ``.proto`` text to descriptors at run time with grpcio-tools' bundled protoc.

Both the compatibility checker and the Protobuf format need descriptors for schema *text*
(as a registry stores it), with imports resolved from a references mapping rather than
from files on disk. protoc is the reference parser, so its verdict on what is valid and its
``line:column`` messages are the ones users already know.

This module imports nothing from serde except ``serde._errors`` so that any layer may use it.
"""
from __future__ import annotations

import functools
import hashlib
import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass

from serde._errors import SchemaParseError

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
    text: str, references: Mapping[str, str] | None = None, name: str = "schema.proto"
) -> CompiledProto:
    """Compile ``text`` (imports resolved from ``references``: import name → text).

    Raises ``SchemaParseError`` carrying protoc's message, which names ``file:line:column``.
    Results are cached by the content of the text and references, so repeated checks of the
    same schema (transitive levels, CI runs over a directory) compile it once.
    """
    refs = tuple(sorted((references or {}).items()))
    if name in dict(refs):
        raise SchemaParseError(f"reference name {name!r} clashes with the main file's name")
    key = hashlib.sha256(repr((name, text, refs)).encode()).hexdigest()
    return _compile_cached(key, name, text, refs)


@functools.lru_cache(maxsize=256)
def _compile_cached(key: str, name: str, text: str, refs: tuple) -> CompiledProto:
    try:
        from google.protobuf import descriptor_pb2
        from grpc_tools import protoc
    except ImportError as exc:  # one translation point for the missing dependency
        raise SchemaParseError(
            "compiling .proto text needs grpcio-tools and protobuf: pip install grpcio-tools"
        ) from exc

    import grpc_tools

    well_known = os.path.join(os.path.dirname(grpc_tools.__file__), "_proto")
    with tempfile.TemporaryDirectory(prefix="serde-protoc-") as tmp:
        src = os.path.join(tmp, "src")
        for path, body in ((name, text), *refs):
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
        code, message = _run_protoc(protoc.main, args, err_path, cwd=src)
        if code != 0:
            raise SchemaParseError(_clean(message, src) or f"protoc failed with exit code {code}")
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


def _clean(message: str, src: str) -> str:
    lines = [ln.replace(src + os.sep, "") for ln in message.strip().splitlines() if ln.strip()]
    return "; ".join(lines)
