"""Options shared by several commands."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import click

registry_option = click.option(
    "--registry",
    "registry",
    envvar="SERDE_REGISTRY",
    default=None,
    metavar="URL|PATH",
    help="Schema registry: an http(s) URL (Confluent, Karapace, Apicurio, Redpanda) or the SQLite file of "
    "serde's embedded registry. Default: $SERDE_REGISTRY, else .serde/registry.db.",
)


def read_text(path: str | None, what: str) -> str | None:
    """The contents of a schema file, or None; a clear usage error when unreadable."""
    if path is None:
        return None
    try:
        return Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise click.BadParameter(f"cannot read {what} {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise click.BadParameter(f"{what} {path} is not UTF-8 text") from None


def compose(*decorators: Callable[[Any], Any]) -> Callable[[Any], Any]:
    def apply(fn: Any) -> Any:
        for decorator in reversed(decorators):
            fn = decorator(fn)
        return fn

    return apply


def read_schema(path: str | None, what: str, proto_path: tuple[str, ...] = ()) -> object:
    """A schema file's text; a .proto file comes with the texts of its imports, found
    beside it, in its parents or in the --proto-path folders."""
    text = read_text(path, what)
    if text is None or path is None or not path.endswith(".proto"):
        return text
    from serde import SchemaSource
    from serde._proto_files import load_proto_imports

    imports = load_proto_imports(Path(path), [Path(p) for p in proto_path])
    return SchemaSource(text, imports) if imports else text
