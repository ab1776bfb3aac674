"""Find the files a ``.proto`` file imports, the way protoc's include roots would.

An ``import "common/money.proto";`` in ``schemas/protobuf/order.proto`` is looked up
relative to the importing file's own directory, then each of its parent directories (up to
``root`` when one is given, else the filesystem root), then each ``include`` directory
(``-I/--proto-path``) in order. The first match wins. The files Confluent Schema Registry
bundles (:data:`CONFLUENT_BUNDLED`: the well-known types, ``google/type/*``,
``confluent/meta.proto``...) are skipped: protoc ships the well-known types, and
:func:`bundled_sources` supplies the others. Imports of imported files are followed the same way (from
*their* directory), and the result lists dependencies before the files that import them,
keyed by the import name as written: the ``references`` mapping that ``serde.translate``,
``serde.compat.check`` and the Protobuf format take.

This module imports nothing from serde except ``serde._errors`` so that any layer may use it.
"""
from __future__ import annotations

import importlib
import importlib.util
import os
import posixpath
import re
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from serde._errors import SchemaParseError

__all__ = [
    "BUNDLED_PREFIX",
    "CONFLUENT_BUNDLED",
    "bundled_sources",
    "import_names",
    "is_bundled",
    "load_confluent_options",
    "load_proto_imports",
    "resolve_imports",
]

BUNDLED_PREFIX = "google/protobuf/"

# What Confluent Schema Registry resolves without references: ProtobufSchema.java's
# KNOWN_DEPENDENCIES (confluentinc/schema-registry, protobuf-provider). protoc ships the
# google/protobuf ones; bundled_sources() finds the others in installed packages.
_GOOGLE_TYPES = (
    "calendar_period", "color", "date", "datetime", "dayofweek", "decimal", "expr", "fraction",
    "interval", "latlng", "money", "month", "phone_number", "postal_address", "quaternion", "timeofday",
)
_WELL_KNOWN = (
    "any", "api", "descriptor", "duration", "empty", "field_mask", "source_context", "struct",
    "timestamp", "type", "wrappers",
)
# confluent-kafka ships these as generated modules (no .proto text): import name -> module
_CONFLUENT_MODULES = {
    "confluent/meta.proto": "confluent_kafka.schema_registry.confluent.meta_pb2",
    "confluent/type/decimal.proto": "confluent_kafka.schema_registry.confluent.type.decimal_pb2",
    "confluent/type/variant.proto": "confluent_kafka.schema_registry.confluent.type.variant_pb2",
}
CONFLUENT_BUNDLED = frozenset(
    [f"google/type/{n}.proto" for n in _GOOGLE_TYPES]
    + [f"google/protobuf/{n}.proto" for n in _WELL_KNOWN]
    + list(_CONFLUENT_MODULES)
)


def is_bundled(name: str) -> bool:
    """Whether an import needs no file or reference: protoc's own ``google/protobuf/*``, or a
    file Confluent Schema Registry bundles (``google/type/date.proto``, ``confluent/meta.proto``)."""
    return name.startswith(BUNDLED_PREFIX) or name in CONFLUENT_BUNDLED


def bundled_sources(names: "Sequence[str]") -> tuple[dict[str, str], list[bytes]]:
    """Sources for the bundled, non-``google/protobuf`` files among ``names`` and their own
    imports: ``(import name -> .proto text, [serialized FileDescriptorProto, ...])``.

    ``google/type/*`` is the ``.proto`` text googleapis-common-protos installs (the
    descriptor of its generated module when the text is missing); ``confluent/*`` the
    descriptor of confluent-kafka's generated module, which ships no text. A file no
    installed package has is left out, so protoc reports the import as not found.
    """
    texts: dict[str, str] = {}
    descriptors: list[bytes] = []
    pending = [n for n in names if is_bundled(n) and not n.startswith(BUNDLED_PREFIX)]
    seen: set[str] = set()
    while pending:
        name = pending.pop()
        if name in seen:
            continue
        seen.add(name)
        if name.startswith("google/type/"):
            text = _package_proto_text(name)
            if text is not None:
                texts[name] = text
                pending.extend(n for n in import_names(text) if is_bundled(n) and not n.startswith(BUNDLED_PREFIX))
                continue
            module_name = name[: -len(".proto")].replace("/", ".") + "_pb2"
        else:
            module_name = _CONFLUENT_MODULES[name]
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            continue
        file = getattr(module, "DESCRIPTOR", None)
        if file is None or file.name != name:
            continue
        descriptors.append(file.serialized_pb)
        pending.extend(d.name for d in file.dependencies if not d.name.startswith(BUNDLED_PREFIX))
    return texts, descriptors


def load_confluent_options() -> None:
    """Import confluent-kafka's generated ``confluent/*`` modules, so that the options they
    define (``(confluent.field_meta)``...) are known to the default pool, and a
    ``FileDescriptorProto`` parsed afterwards keeps them as options, not unknown fields."""
    for module_name in _CONFLUENT_MODULES.values():
        try:
            importlib.import_module(module_name)
        except ImportError:
            pass


def _package_proto_text(name: str) -> str | None:
    """The ``.proto`` file an installed package puts at ``name`` (``google/type/date.proto``
    from googleapis-common-protos), or None."""
    package, _, filename = name[: -len(".proto")].replace("/", ".").rpartition(".")
    try:
        spec = importlib.util.find_spec(package)
    except (ImportError, ValueError):
        return None
    for directory in (spec.submodule_search_locations or []) if spec is not None else []:
        path = os.path.join(directory, filename + ".proto")
        try:
            with open(path, encoding="utf-8") as fh:
                return fh.read()
        except OSError:
            continue
    return None

# an import statement starts a line or follows another statement's ';'
_IMPORT = re.compile(r'(?:^|;)\s*import\s+(?:public\s+|weak\s+)?"([^"]+)"\s*;', re.MULTILINE)
_LINE_COMMENT = re.compile(r"//[^\n]*")
_BLOCK_COMMENT = re.compile(r"/\*.*?\*/", re.DOTALL)


def import_names(text: str) -> list[str]:
    """The import names of a ``.proto`` text, in order (commented-out imports excluded)."""
    return _IMPORT.findall(_LINE_COMMENT.sub("", _BLOCK_COMMENT.sub("", text)))


def resolve_imports(
    text: str,
    importer: str,
    read: Callable[[str], "str | None"],
    search_dirs: Callable[[str], Sequence[str]],
    *,
    references: Mapping[str, str] | None = None,
    fallback: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The generic walk behind :func:`load_proto_imports`, over any storage.

    ``importer`` is the key of the file whose ``text`` is given; ``search_dirs(key)`` the
    directories (keys) to try for the imports of the file ``key``, in order; ``read(key)``
    a file's text or None when absent. ``references`` are used instead of searching (their
    own imports are followed from the importing file's directories); ``fallback`` is used
    only for an import found nowhere. Raises ``SchemaParseError`` for an import found
    nowhere, naming it, the importing file and the directories searched.
    """
    given = dict(references or {})
    spare = dict(fallback or {})
    out: dict[str, str] = {}
    seen: set[str] = set()

    def walk(body: str, key: str) -> None:
        for name in import_names(body):
            if name in seen or is_bundled(name):
                continue
            seen.add(name)
            if name in given:
                found, found_key = given[name], key
            else:
                found, found_key, tried = None, key, []
                for directory in search_dirs(key):
                    candidate = posixpath.normpath(posixpath.join(directory, name)) if directory else name
                    tried.append(directory or ".")
                    found = read(candidate)
                    if found is not None:
                        found_key = candidate
                        break
                if found is None:
                    if name not in spare:
                        raise SchemaParseError(
                            f'{key}: import "{name}" not found; searched {", ".join(tried) or "nothing"}'
                            " (add a directory with -I/--proto-path, or pass it as a reference)"
                        )
                    found = spare[name]
            walk(found, found_key)  # its own imports go first
            out[name] = found

    walk(text, importer)
    return out


def _read_file(key: str) -> str | None:
    path = Path(key)
    if not path.is_file():
        return None
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SchemaParseError(f"{key}: cannot read: {exc.strerror}") from exc
    except UnicodeDecodeError as exc:
        raise SchemaParseError(f"{key}: not UTF-8 text (byte {exc.object[exc.start]:#04x} at offset {exc.start})") from exc


def load_proto_imports(
    path: Path,
    include: Sequence[Path] = (),
    *,
    root: Path | None = None,
    references: Mapping[str, str] | None = None,
    fallback: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """Import name → text for every file the ``.proto`` file ``path`` imports, transitively
    (dependencies first; bundled files such as ``google/protobuf/*`` left out).

    Each import is looked up in the importing file's directory, then its parents (up to and
    including ``root`` if given, else up to the filesystem root), then the ``include``
    directories in order. ``references`` (import name → text) are used instead of files;
    ``fallback`` only for an import no directory has. Raises ``SchemaParseError`` naming a
    missing import and the directories searched, or a file that cannot be read.
    """
    path = Path(path)
    text = _read_file(str(path))
    if text is None:
        raise SchemaParseError(f"{path}: file not found")
    stop = Path(root).resolve() if root is not None else None
    extra = [str(Path(d)) for d in include]

    def search_dirs(key: str) -> list[str]:
        here = Path(key).resolve().parent
        dirs = [here]
        if stop is None or here == stop or stop in here.parents:
            for parent in here.parents:
                if stop is not None and stop not in (parent, *parent.parents):
                    break
                dirs.append(parent)
        return [str(d) for d in dirs] + extra

    return resolve_imports(text, str(path), _read_file, search_dirs,
                           references=references, fallback=fallback)
