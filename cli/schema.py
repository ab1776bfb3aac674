"""``serde schema``: derive a schema in another language, or infer one from sample data.
A thin adapter over :mod:`serde.translate`."""
from __future__ import annotations

import contextlib
import csv
import dataclasses
import io
import itertools
import json
import sys
from pathlib import Path
from typing import Any, Iterator

import click

from serde import ConfigError, SchemaParseError
from serde import _model as m
from serde._proto_files import load_proto_imports, resolve_imports

from .main import Group
from .options import read_text, registry_option

_SCHEMA_TYPES = ("avro", "json", "protobuf")
_SCHEMA_EXTENSIONS = {".avsc": "avro", ".avro": "avro", ".json": "json", ".proto": "protobuf"}
_DATA_EXTENSIONS = {".csv": "csv", ".json": "json", ".ndjson": "json", ".jsonl": "json"}


@contextlib.contextmanager
def _as_usage_errors() -> Iterator[None]:
    """Invalid schemas and options are the user's to fix: exit code 2 with the reason."""
    try:
        yield
    except (SchemaParseError, ConfigError) as exc:
        raise click.UsageError(str(exc)) from exc


def _guess(path: str, given: str | None, table: dict[str, str], option: str) -> str:
    if given:
        return given
    guessed = table.get(Path(path).suffix.lower()) if path != "-" else None
    if guessed is None:
        raise click.UsageError(f"cannot tell the format of {path!r} from its name: give {option}")
    return guessed


def _read(path: str, what: str) -> str:
    if path == "-":
        return sys.stdin.read()
    text = read_text(path, what)
    assert text is not None
    return text


def _stdin_proto_imports(text: str, proto_path: tuple[Path, ...], refs: dict[str, str]) -> dict[str, str]:
    """Imports of a .proto read from stdin: from the --proto-path directories only."""

    def read(key: str) -> str | None:
        path = Path(key)
        if not path.is_file():
            return None
        try:
            return path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise click.UsageError(f"cannot read {key}: {exc}") from None

    def search_dirs(key: str) -> list[str]:
        dirs = [str(d) for d in proto_path]
        return dirs if key == "-" else [str(Path(key).parent), *dirs]

    return resolve_imports(text, "-", read, search_dirs, references=refs)


def _rename(model: m.Type, name: str | None) -> m.Type:
    if name is None:
        return model
    if not isinstance(model, (m.Record, m.Enum)):
        raise click.UsageError("--name renames a record, but this schema's top-level type is not one")
    return dataclasses.replace(model, name=name)


@click.group(cls=Group, context_settings={"help_option_names": ["-h", "--help"]})
def schema() -> None:
    """Translate schemas between Avro, JSON Schema and Protobuf, or infer one from data.

    The type mapping (docs/schema-translation.md) round-trips: a schema translated
    A -> B -> A describes the same records as the original.
    """


@schema.command()
@click.argument("schema_file", metavar="SCHEMA_FILE", type=click.Path(allow_dash=True, dir_okay=False))
@click.option("--from", "from_type", type=click.Choice(_SCHEMA_TYPES), help="Language of SCHEMA_FILE (default: from its extension: .avsc, .json, .proto).")
@click.option("--to", "to_type", type=click.Choice(_SCHEMA_TYPES), required=True, help="Language to derive.")
@click.option("--name", help="Full name for the top-level record in the derived schema (e.g. com.acme.Order).")
@click.option("--message", help="Protobuf source: the message to translate (default: the first one).")
@click.option(
    "--reference",
    "references",
    multiple=True,
    metavar="NAME=FILE",
    help="A schema SCHEMA_FILE references, by the name it uses (Avro type name, JSON $ref, Protobuf import path). Repeatable.",
)
@click.option(
    "--proto-path",
    "-I",
    "proto_path",
    multiple=True,
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    metavar="DIR",
    help="Protobuf source: another directory to look up imports in, after the file's own directory and its parents. Repeatable.",
)
def derive(
    schema_file: str,
    from_type: str | None,
    to_type: str,
    name: str | None,
    message: str | None,
    references: tuple[str, ...],
    proto_path: tuple[Path, ...],
) -> None:
    """Print SCHEMA_FILE translated into another schema language.

    \b
    Examples:
      serde schema derive --to protobuf order.avsc
      serde schema derive --from json --to avro --name com.acme.Order order.schema.json
      serde schema derive --to avro -I third_party/protos schemas/protobuf/order.proto

    A .proto file's imports are read from files: its own directory, then its parents,
    then each --proto-path (google/protobuf/* come with protoc); --reference overrides.
    """
    from serde.translate import from_model, to_model

    source_type = _guess(schema_file, from_type, _SCHEMA_EXTENSIONS, "--from")
    refs: dict[str, str] = {}
    for item in references:
        ref_name, sep, ref_path = item.partition("=")
        if not sep or not ref_name or not ref_path:
            raise click.BadParameter(f"expected NAME=FILE, got {item!r}", param_hint="--reference")
        refs[ref_name] = _read(ref_path, "reference")
    text = _read(schema_file, "schema")
    if message and source_type != "protobuf":
        raise click.UsageError("--message only applies to a Protobuf source")
    with _as_usage_errors():
        if source_type == "protobuf" and schema_file != "-":
            refs = {**load_proto_imports(Path(schema_file), proto_path, references=refs), **refs}
        elif source_type == "protobuf" and proto_path:
            refs = {**_stdin_proto_imports(text, proto_path, refs), **refs}
        options = {"message": message} if message else {}
        model = _rename(to_model(source_type, text, refs, **options), name)
        click.echo(from_model(model, to_type).rstrip("\n"))


def _read_data(path: str) -> str:
    """A data file's text; a byte that is not UTF-8 is reported with its line."""
    from serde.conversion._chunked import utf8_problem

    if path == "-":
        data = sys.stdin.buffer.read()
    else:
        try:
            data = Path(path).read_bytes()
        except OSError as exc:
            raise click.BadParameter(f"cannot read data file {path}: {exc.strerror}") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        number = data.count(b"\n", 0, exc.start) + 1
        problem = utf8_problem(data.split(b"\n")[number - 1]) or "not UTF-8 text"
        raise click.UsageError(f"{path}: line {number}: {problem}") from None


def _csv_rows(text: str, delimiter: str) -> Iterator[dict[str, Any]]:
    from serde.formats.csv import nest_columns

    reader = csv.DictReader(io.StringIO(text.removeprefix("\ufeff"), newline=""), delimiter=delimiter, strict=True)
    if not reader.fieldnames:
        raise click.UsageError("the CSV data has no header row")
    if len(set(reader.fieldnames)) != len(reader.fieldnames):
        raise click.UsageError(f"the CSV header repeats a column name: {reader.fieldnames}")
    # nested records written by `serde convert` come back as parent.child columns
    nest = nest_columns(reader.fieldnames)
    try:
        for row in reader:
            if None in row:
                raise click.UsageError(f"line {reader.line_num}: more values than header columns")
            yield nest(row)
    except csv.Error as exc:
        raise click.UsageError(f"line {reader.line_num}: invalid CSV: {exc}") from None


def _json_rows(text: str) -> Iterator[dict[str, Any]]:
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as exc:
            raise click.UsageError(f"line {number}: invalid JSON: {exc.msg}") from None
        if not isinstance(value, dict):
            raise click.UsageError(f"line {number}: expected a JSON object per line, got {type(value).__name__}")
        yield value


@schema.command()
@click.argument("data_file", metavar="DATA_FILE", type=click.Path(allow_dash=True, dir_okay=False))
@click.option("--format", "data_format", type=click.Choice(("csv", "json")), help="csv (with a header row) or json (one object per line). Default: from the extension.")
@click.option("--name", default="Record", show_default=True, help="Full name of the record (e.g. com.acme.Order).")
@click.option("--to", "to_type", type=click.Choice(_SCHEMA_TYPES), default="avro", show_default=True, help="Schema language to print.")
@click.option("--limit", type=click.IntRange(min=1), default=1000, show_default=True, help="Read at most this many records.")
@click.option("--null-marker", "null_markers", multiple=True, help="CSV text that means null (repeatable; default: the empty string).")
@click.option("--delimiter", default=",", show_default=True, help="CSV field delimiter.")
@click.option("--decimals/--floats", default=False, show_default=True, help="Read CSV numbers with a fraction as decimals (precision and scale from the data) rather than doubles.")
def infer(
    data_file: str,
    data_format: str | None,
    name: str,
    to_type: str,
    limit: int,
    null_markers: tuple[str, ...],
    delimiter: str,
    decimals: bool,
) -> None:
    """Propose a schema for the records in DATA_FILE (CSV or NDJSON).

    CSV values are text: each column gets the narrowest type every value fits: boolean,
    long, double (or decimal), timestamp (ISO-8601), date, time, uuid, else string.
    A column with empty values (or a --null-marker) is optional. JSON keeps its own
    types; objects become nested records. Review the result before registering it.

    \b
    Examples:
      serde schema infer orders.csv --name com.acme.Order
      serde schema infer events.ndjson --to json
    """
    from serde.translate import from_model
    from serde.translate import infer as infer_model

    fmt = _guess(data_file, data_format, _DATA_EXTENSIONS, "--format")
    if len(delimiter) != 1:
        raise click.BadParameter("must be one character", param_hint="--delimiter")
    text = _read_data(data_file)
    rows = _csv_rows(text, delimiter) if fmt == "csv" else _json_rows(text)
    sample = list(itertools.islice(rows, limit))
    if not sample:
        raise click.UsageError(f"{data_file}: no records to infer a schema from")
    with _as_usage_errors():
        options: dict[str, Any] = {"decimals": decimals}
        if fmt == "csv":
            options.update(text=True, null_markers=null_markers or ("",))
        else:
            options["text"] = False
        model = infer_model(sample, name=name, **options)
        click.echo(from_model(model, to_type).rstrip("\n"))


from . import models as _models  # noqa: E402 - serde schema from-model / to-model (cli/models.py)
schema.add_command(_models.from_model), schema.add_command(_models.to_model)


# -- data contracts --------------------------------------------------------------------
def _json_file(path: str | None, what: str) -> dict[str, Any] | None:
    """A JSON object from a file (metadata, rule sets), or None."""
    if path is None:
        return None
    text = _read(path, what)
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise click.BadParameter(f"{what} {path} is not JSON: {exc}") from None
    if not isinstance(value, dict):
        raise click.BadParameter(f"{what} {path} must hold a JSON object, not {type(value).__name__}")
    return value


def _rule_conf(items: tuple[str, ...]) -> dict[str, str]:
    conf: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"expected KEY=VALUE, got {item.partition('=')[0]!r}=...", param_hint="--rule-conf")
        conf[key] = value
    return conf


@schema.command()
@click.argument("schema_file", metavar="SCHEMA_FILE", type=click.Path(allow_dash=True, dir_okay=False))
@click.option("--subject", required=True, help="Subject to register under (e.g. orders-value).")
@click.option("--type", "schema_type", type=click.Choice(_SCHEMA_TYPES), help="Language of SCHEMA_FILE (default: from its extension).")
@click.option("--rules", "rules_file", type=click.Path(allow_dash=False, dir_okay=False),
              help="A JSON file holding the schema's ruleSet (domainRules, migrationRules, encodingRules).")
@click.option("--metadata", "metadata_file", type=click.Path(allow_dash=False, dir_okay=False),
              help="A JSON file holding the schema's metadata (tags, properties, sensitive).")
@click.option("--normalize", is_flag=True, help="Ask the registry to normalize the schema first.")
@registry_option
def register(schema_file: str, subject: str, schema_type: str | None, rules_file: str | None,
             metadata_file: str | None, normalize: bool, registry: str | None) -> None:
    """Register SCHEMA_FILE under a subject, with its data contract (rules, metadata).

    \b
    Examples:
      serde schema register --subject people-value person.avsc --rules person-rules.json
      serde schema register --subject orders-value order.proto --metadata owner.json

    Prints the schema id and version. The registry merges the subject's default and
    override rule sets and metadata, and carries the previous version's over when
    none is given, as Confluent's does.
    """
    from serde.registry.client import open_registry

    kind = _guess(schema_file, schema_type, _SCHEMA_EXTENSIONS, "--type")
    text = _read(schema_file, "schema")
    rule_set = _json_file(rules_file, "rule set")
    metadata = _json_file(metadata_file, "metadata")
    reg = open_registry(registry)
    schema_kind = {"avro": "AVRO", "json": "JSON", "protobuf": "PROTOBUF"}[kind]
    schema_id = reg.register(subject, schema_kind, text, (), normalize, metadata=metadata, rule_set=rule_set)
    found = reg.lookup(subject, schema_kind, text, (), normalize, metadata=metadata, rule_set=rule_set)
    click.echo(json.dumps({"subject": subject, "id": schema_id, "version": found.version}))


@schema.group(cls=Group)
def rules() -> None:
    """Data-contract rules: try a rule set on sample records before registering it."""


@rules.command("test")
@click.argument("schema_file", metavar="SCHEMA_FILE", type=click.Path(allow_dash=False, dir_okay=False))
@click.option("--rules", "rules_file", required=True, type=click.Path(dir_okay=False),
              help="A JSON file holding the ruleSet to try.")
@click.option("--records", "records_file", required=True, type=click.Path(allow_dash=True, dir_okay=False),
              help="Sample records: a JSON array, or one JSON object per line ('-': stdin).")
@click.option("--type", "schema_type", type=click.Choice(_SCHEMA_TYPES), help="Language of SCHEMA_FILE (default: from its extension).")
@click.option("--metadata", "metadata_file", type=click.Path(dir_okay=False), help="A JSON file holding the schema's metadata (tags...).")
@click.option("--mode", type=click.Choice(["write", "read"]), default="write", show_default=True,
              help="Run the rules a serializer runs (write) or a deserializer (read).")
@click.option("--rule-conf", "rule_conf", multiple=True, metavar="KEY=VALUE",
              help="A setting for the rule executors (e.g. secret=... for the local KMS). Repeatable.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object per record instead of text.")
@registry_option
def test(schema_file: str, rules_file: str, records_file: str, schema_type: str | None, metadata_file: str | None,
         mode: str, rule_conf: tuple[str, ...], as_json: bool, registry: str | None) -> None:
    """Run a rule set on sample records and print what each rule did to each one.

    \b
    Example:
      serde schema rules test person.avsc --rules person-rules.json --records people.ndjson

    Each rule of each record is passed, failed (with the reason), changed (with the
    field paths it changed), unchanged or skipped (with why). Exit code 1 when a rule
    refused a record. ENCRYPT rules keep their keys in --registry.
    """
    from serde.contracts._trial import try_rules

    kind = _guess(schema_file, schema_type, _SCHEMA_EXTENSIONS, "--type")
    text = _read(schema_file, "schema")
    rule_set = _json_file(rules_file, "rule set")
    assert rule_set is not None
    records = _sample_records(records_file)
    with _as_usage_errors():
        from serde import get_format
        from serde.gateway.pipeline import coercer

        # the samples as `serde produce` reads them: text into the schema's types
        prepare = coercer(get_format(kind).parse_schema(text))
        trials = try_rules({"avro": "AVRO", "json": "JSON", "protobuf": "PROTOBUF"}[kind], text, rule_set, records,
                           metadata=_json_file(metadata_file, "metadata"), operation=mode.upper(),
                           registry=registry if any(str(r.get("type", "")).upper().startswith("ENCRYPT")
                                                    for phase in rule_set.values() if isinstance(phase, list)
                                                    for r in phase if isinstance(r, dict)) else None,
                           rule_conf=_rule_conf(rule_conf), prepare=prepare)
    refused = 0
    for trial in trials:
        refused += trial.error is not None
        if as_json:
            click.echo(json.dumps({"record": trial.index + 1, "outcomes": trial.outcomes, "error": trial.error,
                                   "result": trial.result}, default=str))
            continue
        click.echo(f"record {trial.index + 1}: {'refused' if trial.error else 'ok'}")
        for outcome in trial.outcomes:
            detail = f": {outcome['detail']}" if outcome["detail"] else ""
            click.echo(f"  {outcome['rule']} ({outcome['type']} {outcome['kind']}, {outcome['mode']}) "
                       f"{outcome['outcome']}{detail}")
        if trial.error:
            click.echo(f"  -> {trial.error}")
    click.echo(f"{len(trials)} record(s), {refused} refused", err=True)
    if refused:
        sys.exit(1)


def _sample_records(path: str) -> list[Any]:
    text = _read(path, "records")
    stripped = text.lstrip()
    if stripped.startswith("["):
        try:
            value = json.loads(text)
        except ValueError as exc:
            raise click.BadParameter(f"records {path}: not JSON: {exc}") from None
        return list(value)
    out = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            out.append(json.loads(line))
        except ValueError as exc:
            raise click.BadParameter(f"records {path}, line {number}: not JSON: {exc}") from None
    return out
