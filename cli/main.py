"""The ``serde`` command: assembles the subcommands and maps errors to exit codes.

Exit codes: 0 success; 1 a failed run (a bad record under the fail policy, an
incompatible schema, a registry or broker error); 2 usage errors and invalid schemas;
100 a conversion that finished but rejected records (--on-error skip/dead-letter).
Errors are mapped here; commands only choose 100.
"""
from __future__ import annotations

import importlib
import sys
from typing import Any

import click

import serde

# name -> "module:attribute" (a module of this package, which is cli/ in the repository and
# serde_cli once installed); imported only when the command runs, so `serde --help` stays
# fast and one command's heavy imports never slow another.
_COMMANDS = {
    "compat": "compat:compat",
    "console": "console:console",
    "convert": "convert:convert",
    "consume": "kafka:consume",
    "formats": "main:formats",
    "gateway": "gateway:gateway",
    "local": "local:local",
    "produce": "kafka:produce",
    "registry": "registry:registry",
    "schema": "schema:schema",
    "topics": "topics:topics",
}


class Group(click.Group):
    """A command group whose --help lists each command with its whole first sentence,
    wrapped, never cut off with "..."."""

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """Each command with its whole first sentence, wrapped, never cut off with "..."."""
        rows = []
        for name in self.list_commands(ctx):
            command = self.get_command(ctx, name)
            if command is not None and not command.hidden:
                rows.append((name, command.get_short_help_str(limit=10_000)))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)



class _LazyGroup(Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(name for name in _COMMANDS if self._load(name) is not None)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        return self._load(name)

    @staticmethod
    def _load(name: str) -> click.Command | None:
        target = _COMMANDS.get(name)
        if target is None:
            return None
        module_name, _, attr = target.partition(":")
        module_name = f"{__package__}.{module_name.removeprefix('cli.')}"
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name == module_name:  # a command this build does not ship
                return None
            raise
        return getattr(module, attr, None)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (serde.ConfigError, serde.SchemaParseError) as exc:
            raise click.UsageError(self._as_flags(str(exc), ctx)) from exc
        except serde.SerdeError as exc:
            click.echo(f"error: {self._as_flags(str(exc), ctx)}", err=True)
            ctx.exit(1)

    def _as_flags(self, text: str, ctx: click.Context) -> str:
        command = self._load(ctx.invoked_subcommand) if ctx.invoked_subcommand else None
        return as_flags(text, command)


def as_flags(text: str, command: click.Command | None) -> str:
    """Library errors name Python parameters (``allow_insecure_public``, ``to_message=``);
    on the command line they are the options of the command that ran (and its subcommands)."""
    import re

    for name, flag in _option_flags(command).items():
        text = re.sub(rf"(?<![\w-]){re.escape(name)}=(?![=\w'\"])", flag, text)  # "choose one with name="
        text = re.sub(rf"(?<![\w-]){re.escape(name)}=", f"{flag} ", text)  # "name=value"
        if "_" in name:
            text = re.sub(rf"(?<![\w-]){re.escape(name)}(?![\w=])", flag, text)
    return text


def _option_flags(command: click.Command | None) -> dict[str, str]:
    """Python parameter name -> its long option, for a command and its subcommands."""
    flags: dict[str, str] = {}
    if command is None:
        return flags
    for param in command.params:
        long = [opt for opt in param.opts if opt.startswith("--")]
        if isinstance(param, click.Option) and long and param.name:
            flags.setdefault(param.name, long[0])
    for sub in getattr(command, "commands", {}).values():
        for name, flag in _option_flags(sub).items():
            flags.setdefault(name, flag)
    return flags


@click.group(cls=_LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(serde.__version__, prog_name="serde")
def cli() -> None:
    """Schema-aware serializers, format conversion, topic gateways and schema
    compatibility checks for Apache Kafka.

    Schemas live in a Confluent-compatible Schema Registry: pass --registry URL (or set
    SERDE_REGISTRY) to use Confluent, Karapace, Apicurio or Redpanda; without one, serde
    uses its embedded registry in .serde/registry.db.
    """


@click.command()
def formats() -> None:
    """List the data formats this installation can read and write."""
    from serde.formats import get_format

    for name in serde.available_formats():
        try:
            fmt = get_format(name)
            status = f"schema type {fmt.schema_type}" if fmt.schema_type else "no registry schema"
        except serde.FormatUnavailable as exc:
            status = f"unavailable: {exc}"
        click.echo(f"{name:10} {status}")


def main() -> None:  # pragma: no cover - the console script calls cli() directly
    sys.exit(cli())


if __name__ == "__main__":  # python -m serde_cli.main (python -m cli.main in the repository)
    main()
