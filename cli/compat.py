"""``serde compat``: schema compatibility checks for CI, a thin adapter over serde.compat.

Exit codes: 0 compatible (or new subjects), 1 incompatible, 2 usage error or invalid schema.
"""
from __future__ import annotations

from pathlib import Path

import click

from serde import ConfigError, SchemaParseError
from serde.compat import LEVELS, rules
from serde.compat import _sources
from serde.compat.report import PRINTERS, render

from .main import Group

__all__ = ["compat"]

EXIT_COMPATIBLE, EXIT_INCOMPATIBLE, EXIT_INVALID = 0, 1, 2


class InvalidSchema(click.ClickException):
    """An invalid schema or configuration: click prints it and exits with code 2."""

    exit_code = EXIT_INVALID


def registry_client(url: str) -> object:
    """Build the registry client for ``--against URL`` (tests replace this function)."""
    from confluent_kafka.schema_registry import SchemaRegistryClient

    return SchemaRegistryClient({"url": url})


def _parse_references(values: tuple[str, ...]) -> dict[str, str]:
    refs = {}
    for value in values:
        name, sep, path = value.partition("=")
        if not sep:
            raise click.BadParameter(f"{value!r}: expected NAME=PATH", param_hint="--reference")
        try:
            refs[name] = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise click.BadParameter(f"cannot read {path}: {exc.strerror}", param_hint="--reference")
        except UnicodeDecodeError:
            raise click.BadParameter(f"{path} is not UTF-8 text", param_hint="--reference") from None
    return refs


@click.group("compat", cls=Group)
def compat() -> None:
    """Check schema changes against earlier versions, with Confluent Schema Registry's rules."""


@compat.command("check")
@click.argument("new", type=click.Path(exists=True, path_type=Path))
@click.argument("previous", nargs=-1, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--type", "schema_type", type=click.Choice(["avro", "json", "protobuf"], case_sensitive=False),
              help="Schema type; default: from the file extension (.avsc, .json, .proto).")
@click.option("--level", type=click.Choice(LEVELS, case_sensitive=False),
              help="Compatibility level; default BACKWARD (directory mode: config file, then the registry's level).")
@click.option("--policy", type=click.Choice(["STRICT", "LENIENT"], case_sensitive=False), default="STRICT",
              show_default=True, help="JSON Schema policy (LENIENT accepts e.g. optional properties added to open models).")
@click.option("--against", metavar="git:REF|FOLDER|URL",
              help="Directory mode: earlier versions from a git ref, a folder, or a schema registry URL.")
@click.option("--reference", "references", multiple=True, metavar="NAME=PATH",
              help="Single mode: a referenced schema (import name = file); repeatable.")
@click.option("--proto-path", "-I", "proto_path", multiple=True,
              type=click.Path(exists=True, file_okay=False, path_type=Path), metavar="DIR",
              help="Protobuf: another directory to look up imports in, after the importing file's "
                   "directory and its parents (up to the checked directory); repeatable.")
@click.option("--format", "fmt", type=click.Choice(sorted(PRINTERS)), default="text", show_default=True,
              help="Output format.")
@click.pass_context
def check_command(ctx: click.Context, new: Path, previous: tuple[Path, ...], schema_type: str | None,
                  level: str | None, policy: str, against: str | None, references: tuple[str, ...],
                  proto_path: tuple[Path, ...], fmt: str) -> None:
    """Check NEW against PREVIOUS files (oldest first), or a directory NEW against --against.

    \b
    serde compat check --type avro --level FULL new.avsc v1.avsc v2.avsc
    serde compat check schemas/ --against git:main --format github
    serde compat check schemas/ --against https://registry:8081
    serde compat check schemas/ --against baseline-schemas/
    serde compat check -I third_party/protos schemas/ --against git:main

    In a directory, subjects come from file names, or from the serde-compat.json nearest
    above a file (it applies to its directory and below); two files with one subject are
    an error.
    """
    try:
        if new.is_dir():
            if previous:
                raise click.UsageError("a directory is checked with --against, not with PREVIOUS files")
            if not against:
                raise click.UsageError("checking a directory needs --against git:REF, a folder or a registry URL")
            baseline = _sources.baseline_for(against, new, registry_client=registry_client,
                                             proto_path=proto_path)
            reports = _sources.check_directory(new, baseline, level=level, policy=policy.upper(),
                                               schema_type=schema_type, proto_path=proto_path)
        else:
            if against:
                raise click.UsageError("--against checks a directory; give NEW as a directory")
            kind = schema_type or _sources.EXTENSIONS.get(new.suffix)
            if not kind:
                raise click.UsageError(f"cannot tell the schema type of {new.name}; pass --type")
            reports = [_sources.check_files(kind, new, previous, level=(level or "BACKWARD"),
                                            policy=policy.upper(),
                                            references=_parse_references(references),
                                            proto_path=proto_path)]
    except (ConfigError, SchemaParseError) as exc:
        raise InvalidSchema(str(exc)) from exc
    click.echo(render(reports, fmt), nl=False)
    if any(r.status == "invalid" for r in reports):
        ctx.exit(EXIT_INVALID)
    if any(r.status == "incompatible" for r in reports):
        ctx.exit(EXIT_INCOMPATIBLE)
    ctx.exit(EXIT_COMPATIBLE)


@compat.command("rules")
@click.option("--type", "schema_type", type=click.Choice(["avro", "json", "protobuf"], case_sensitive=False),
              help="Only the rules for this schema type (default: all).")
def rules_command(schema_type: str | None) -> None:
    """List the rules: ID, schema type, verdict (STRICT/LENIENT) and purpose."""
    for rule in rules(schema_type):
        verdict = "compatible" if rule.compatible else "breaking"
        if rule.lenient is not None and rule.lenient != rule.compatible:
            verdict += " (LENIENT: compatible)"
        if rule.replaced_by:
            verdict += f" (retired: {rule.replaced_by})"
        click.echo(f"{rule.id:<62} {rule.schema_type:<9} {verdict:<32} {rule.purpose}")


from .models import add_model_option  # noqa: E402 - serde compat check --model (cli/models.py)
add_model_option(check_command)
