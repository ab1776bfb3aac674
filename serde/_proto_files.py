"""Find the files a ``.proto`` file imports, the way protoc's include roots would.

An ``import "common/money.proto";`` in ``schemas/protobuf/order.proto`` is looked up
relative to the importing file's own directory, then each of its parent directories (up to
``root`` when one is given, else the filesystem root), then each ``include`` directory
(``-I/--proto-path``) in order. The first match wins. ``google/protobuf/*`` imports are
skipped: protoc ships them. Imports of imported files are followed the same way (from
*their* directory), and the result lists dependencies before the files that import them,
keyed by the import name as written: the ``references`` mapping that ``serde.translate``,
``serde.compat.check`` and the Protobuf format take.

This module imports nothing from serde except ``serde._errors`` so that any layer may use it.
"""
from __future__ import annotations

import posixpath
import re
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from serde._errors import SchemaParseError

__all__ = ["BUNDLED_PREFIX", "import_names", "load_proto_imports", "resolve_imports"]

BUNDLED_PREFIX = "google/protobuf/"

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
            if name in seen or name.startswith(BUNDLED_PREFIX):
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
    (dependencies first; ``google/protobuf/*`` left out, protoc bundles them).

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
