"""``serde schema from-model`` / ``to-model`` and ``serde compat check --model``: Python
models (dataclasses, pydantic v2) ↔ schemas. A thin adapter over :mod:`serde.models`."""
from __future__ import annotations

import importlib
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any, Callable

import click

from serde import ConfigError, SchemaParseError

_SCHEMA_TYPES = ("avro", "json", "protobuf")
_EXTENSIONS = {"avro": ".avsc", "json": ".json", "protobuf": ".proto"}
_BY_EXTENSION = {".avsc": "avro", ".avro": "avro", ".json": "json", ".proto": "protobuf"}


def load_model(spec: str) -> type:
    """``package.module:Class`` (the current directory is importable, as ``python -m``)."""
    module_name, _, attr = spec.partition(":")
    if not module_name or not attr:
        raise click.UsageError(f"name the model as package.module:Class, not {spec!r}")
    if os.getcwd() not in sys.path and "" not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise click.UsageError(f"cannot import {module_name}: {exc}") from exc
    obj: Any = module
    for part in attr.split("."):
        obj = getattr(obj, part, None)
        if obj is None:
            raise click.UsageError(f"{module_name} has no {attr}")
    from serde.models import is_model_class

    if not is_model_class(obj):
        raise click.UsageError(f"{spec} is not a dataclass or a pydantic model class")
    return obj  # type: ignore[no-any-return]


def _schema_of(model: type, to_type: str) -> str:
    from serde.models import schema

    try:
        return schema(model, to_type)
    except (SchemaParseError, ConfigError) as exc:
        raise click.UsageError(f"{model.__qualname__}: {exc}") from exc


@click.command("from-model")
@click.argument("model", metavar="MODULE:CLASS")
@click.option("--to", "to_type", type=click.Choice(_SCHEMA_TYPES), default="avro", show_default=True,
              help="Schema language to print.")
def from_model(model: str, to_type: str) -> None:
    """Print the schema of a dataclass or pydantic model class.

    \b
    serde schema from-model shop.events:Order --to avro
    serde schema from-model shop.events:Order --to protobuf > order.proto
    """
    click.echo(_schema_of(load_model(model), to_type).rstrip("\n"))


@click.command("to-model")
@click.argument("schema_file", metavar="SCHEMA_FILE", type=click.Path(allow_dash=True, dir_okay=False))
@click.option("--from", "from_type", type=click.Choice(_SCHEMA_TYPES),
              help="Language of SCHEMA_FILE (default: from its extension: .avsc, .json, .proto).")
@click.option("--style", type=click.Choice(("dataclass", "pydantic")), default="dataclass", show_default=True,
              help="Write dataclasses or pydantic models.")
@click.option("--message", help="Protobuf source: the message to write (default: the first one).")
@click.option("--output", "-o", type=click.Path(dir_okay=False, allow_dash=True), default="-",
              help="Write the module here (default: stdout).")
def to_model(schema_file: str, from_type: str | None, style: str, message: str | None, output: str) -> None:
    """Write Python source (dataclasses or pydantic models) for a schema; the classes give
    the same schema back (serde schema from-model).

    \b
    serde schema to-model order.avsc --style pydantic -o shop/order.py
    """
    from serde.models import to_source

    if schema_file == "-":
        text = sys.stdin.read()
    else:
        try:
            text = Path(schema_file).read_text(encoding="utf-8")
        except OSError as exc:
            raise click.UsageError(f"cannot read {schema_file}: {exc.strerror}") from exc
    kind = from_type or _BY_EXTENSION.get(Path(schema_file).suffix.lower())
    if kind is None:
        raise click.UsageError(f"cannot tell the schema language of {schema_file!r}: give --from")
    try:
        source = to_source(text, kind, style=style, message=message)
    except (SchemaParseError, ConfigError) as exc:
        raise click.UsageError(str(exc)) from exc
    if output == "-":
        click.echo(source, nl=False)
    else:
        Path(output).write_text(source, encoding="utf-8")


# -- serde compat check --model ----------------------------------------------------------


def _previous_texts(against: str, subject: str | None, kind: str) -> list[str]:
    """Earlier schemas, oldest first: all versions of a registry subject, a file at a git
    ref (``git:REF:PATH``), or a schema file."""
    if against.startswith(("http://", "https://", "mock://")):
        if not subject:
            raise click.UsageError("--against a registry needs --subject")
        from serde.registry.client import open_registry

        registry = open_registry(against)
        client: Any = registry.client  # type: ignore[attr-defined]
        try:
            versions = client.get_versions(subject)
        except Exception as exc:  # noqa: BLE001 - the client's own errors: a new subject has none
            if "40401" in str(exc) or "not found" in str(exc).lower():
                return []
            raise ConfigError(f"cannot list the versions of subject {subject!r}: {exc}") from exc
        return [registry.version(subject, v).text for v in sorted(versions)]
    if against.startswith("git:"):
        ref, _, path = against[4:].partition(":")
        if not ref or not path:
            raise click.UsageError("--against git:REF:PATH names the schema file at a git ref")
        done = subprocess.run(["git", "show", f"{ref}:{path}"], capture_output=True, text=True)
        if done.returncode != 0:
            raise ConfigError(f"git show {ref}:{path}: {done.stderr.strip()}")
        return [done.stdout]
    path = Path(against)
    if not path.is_file():
        raise click.UsageError(f"--against {against}: not a file, a git:REF:PATH or a registry URL")
    return [path.read_text(encoding="utf-8")]


def add_model_option(command: click.Command) -> None:
    """Give ``serde compat check`` a ``--model MODULE:CLASS`` (and ``--subject``): the
    model's schema is the new one, checked against PREVIOUS files or ``--against`` (a
    registry subject's versions, ``git:REF:PATH``, or a file)."""
    command.params.append(click.Option(["--model"], metavar="MODULE:CLASS",
                                       help="Check this dataclass / pydantic model's schema (in --type, default avro) "
                                            "against PREVIOUS files or --against URL|git:REF:PATH|FILE."))
    command.params.append(click.Option(["--subject"], help="With --model and --against URL: the registry subject."))
    for param in command.params:
        if param.name == "new":
            param.required = False
    original: Callable[..., Any] = command.callback  # type: ignore[assignment]

    @click.pass_context
    def callback(ctx: click.Context, model: str | None = None, subject: str | None = None, new: Path | None = None,
                 previous: tuple[Path, ...] = (), **kwargs: Any) -> Any:
        if model is None:
            if new is None:
                raise click.UsageError("give NEW (a schema file or directory), or --model MODULE:CLASS")
            return ctx.invoke(original, new=new, previous=previous, **kwargs)
        kind = (kwargs.get("schema_type") or "avro").lower()
        against = kwargs.pop("against", None)
        files = ((new,) if new is not None else ()) + tuple(previous)
        text = _schema_of(load_model(model), kind)
        with tempfile.TemporaryDirectory(prefix="serde-model-") as tmp:
            stem = subject or model.partition(":")[2]
            new_path = Path(tmp) / f"{stem}{_EXTENSIONS[kind]}"
            new_path.write_text(text, encoding="utf-8")
            try:
                texts = _previous_texts(against, subject, kind) if against else []
            except (ConfigError, SchemaParseError) as exc:
                raise click.UsageError(str(exc)) from exc
            earlier = []
            for i, body in enumerate(texts, 1):
                p = Path(tmp) / f"previous-{i}{_EXTENSIONS[kind]}"
                p.write_text(body, encoding="utf-8")
                earlier.append(p)
            return ctx.invoke(original, new=new_path, previous=tuple(earlier) + files, against=None,
                              **{**kwargs, "schema_type": kind})

    command.callback = callback
