"""``serde convert``: a thin adapter over :func:`serde.conversion._api.convert`."""
from __future__ import annotations

import sys
from pathlib import Path

import click

from serde.conversion._api import FILE_FORMATS, FRAMINGS, ConversionReport, convert as run_conversion
from serde._ocf import CODECS

from .options import read_schema, registry_option

EXIT_REJECTED = 100  # finished with rejected records (--on-error skip/dead-letter)
DEFAULT_SUBJECT = "serde-convert-value"  # framed messages without --topic or --subject

_EXTENSIONS = {".avro": "avro", ".csv": "csv", ".json": "json", ".ndjson": "json", ".jsonl": "json",
               ".pb": "protobuf", ".protobuf": "protobuf", ".bin": "binary"}


def _guess(path: str, given: str | None, which: str) -> str:
    if given:
        return given
    guessed = _EXTENSIONS.get(Path(path).suffix.lower()) if path != "-" else None
    if guessed is None:
        raise click.UsageError(f"cannot tell the {which} format of {path!r}: give --{which}")
    return guessed


@click.command()
@click.argument("input", metavar="INPUT", type=click.Path(allow_dash=True, dir_okay=False))
@click.argument("output", metavar="OUTPUT", type=click.Path(allow_dash=True, dir_okay=False))
@click.option("--from", "from_format", type=click.Choice(FILE_FORMATS), help="Input format (default: from the file extension).")
@click.option("--to", "to_format", type=click.Choice(FILE_FORMATS), help="Output format (default: from the file extension).")
@click.option("--schema", "schema_file", type=click.Path(dir_okay=False), help="Schema of the input records: .avsc, JSON Schema or .proto (CSV and JSON may go without; Avro files carry theirs).")
@click.option("--to-schema", "to_schema_file", type=click.Path(dir_okay=False), help="Target schema. Default: derived from the input schema, or inferred from the first 1000 records.")
@click.option("-I", "--proto-path", "proto_path", multiple=True, type=click.Path(file_okay=False),
              help="Where the imports of a .proto schema are looked for (beside it and in its parents first). Repeatable.")
@click.option("--type", "binary_type", metavar="TYPE", help="Binary input: the primitive type of its values (string, short, int, long, float, double, boolean, uuid, bytes), as produce --type.")
@click.option("--to-type", "to_binary_type", metavar="TYPE", help="Binary output: the primitive type of its values (string, short, int, long, float, double, boolean, uuid, bytes).")
@click.option("--message", help="Protobuf message of the input (needed when the .proto has several top-level messages).")
@click.option("--to-message", help="Protobuf message of the output.")
@click.option("--input-framing", type=click.Choice(FRAMINGS), default="none", show_default=True, help="Read Confluent-framed messages: base64 lines, or varint-delimited.")
@click.option("--output-framing", type=click.Choice(FRAMINGS), default="none", show_default=True, help=f"Write Confluent-framed messages, registering the target schema under <topic>-value (without --topic or --subject: {DEFAULT_SUBJECT}).")
@registry_option
@click.option("--topic", help=f"Topic whose subject (<topic>-value) framed messages use (default subject: {DEFAULT_SUBJECT}).")
@click.option("--subject", help="Register the target schema under this subject instead.")
@click.option("--codec", type=click.Choice([*CODECS, "zstd"]), default="null", show_default=True,
              help="Avro container codec (snappy needs serde-kafka[snappy], zstandard serde-kafka[zstandard]; zstd = zstandard).")
@click.option("--delimiter", default=",", show_default=True, help="CSV delimiter.")
@click.option("--null", "null_marker", default="", help="CSV text meaning null (default: the empty cell).")
@click.option("--on-error", type=click.Choice(["fail", "skip", "dead-letter"]), default="fail", show_default=True, help="What to do with a record that cannot be converted.")
@click.option("--dead-letter", "dead_letter", type=click.Path(dir_okay=False), help="With --on-error dead-letter: NDJSON file of rejected input (verbatim) with the reason.")
@click.option("--max-errors", type=click.IntRange(min=0), help="Stop after this many rejected records.")
@click.option("--print-schema", is_flag=True, help="Print the target schema to stderr.")
@click.option("-q", "--quiet", is_flag=True, help="No summary or progress on stderr.")
def convert(input: str, output: str, from_format: str | None, to_format: str | None, schema_file: str | None,
            to_schema_file: str | None, proto_path: tuple[str, ...], binary_type: str | None, to_binary_type: str | None,
            message: str | None, to_message: str | None, input_framing: str,
            output_framing: str, registry: str | None, topic: str | None, subject: str | None, codec: str,
            delimiter: str, null_marker: str, on_error: str, dead_letter: str | None, max_errors: int | None,
            print_schema: bool, quiet: bool) -> None:
    """Convert records between formats: INPUT and OUTPUT are files, or - for stdin/stdout.

    \b
    File encodings: csv = RFC 4180 with a header row; json = newline-delimited JSON;
    avro = Object Container File; protobuf = varint length-delimited messages;
    binary = each value preceded by a 4-byte big-endian length (-1 = null).

    Values are coerced into the target schema's types where the meaning is unambiguous
    (ISO-8601 or epoch-millisecond timestamps, enum names, decimals as text). Bad records
    stop the conversion (exit 1, naming the line or record, the field and the reason)
    unless --on-error says otherwise (then the run finishes and exits 100 if any record
    was rejected); a failed conversion leaves no partial output file.

    \b
    Example:
      serde convert schemas/examples/orders.ndjson orders.avro --to-schema schemas/avro/order.avsc
    """
    from_format = _guess(input, from_format, "from")
    to_format = _guess(output, to_format, "to")
    if on_error == "dead-letter" and not dead_letter:
        raise click.UsageError("--on-error dead-letter needs --dead-letter FILE")
    if dead_letter and on_error != "dead-letter":
        on_error = "dead-letter"
    schema: object = read_schema(schema_file, "schema", proto_path)
    to_schema: object = read_schema(to_schema_file, "target schema", proto_path)
    for flag, given, fmt, which, file_flag, file_given in (("--type", binary_type, from_format, "input", "--schema", schema),
                                                          ("--to-type", to_binary_type, to_format, "output", "--to-schema", to_schema)):
        if given is None:
            continue
        if fmt != "binary":
            raise click.UsageError(f"{flag} is for binary {which}; the {which} here is {fmt}")
        if file_given is not None:
            raise click.UsageError(f"give {flag} or {file_flag}, not both")
    schema = binary_type if binary_type is not None else schema
    to_schema = to_binary_type if to_binary_type is not None else to_schema
    show_progress = not quiet and sys.stderr.isatty()

    def progress(report: ConversionReport) -> None:
        click.echo(f"\r{report.summary()}", err=True, nl=False)

    report = run_conversion(
        input, output, from_format=from_format, to_format=to_format,
        schema=schema,  # type: ignore[arg-type]
        to_schema=to_schema,  # type: ignore[arg-type]
        message=message, to_message=to_message, input_framing=input_framing, output_framing=output_framing,
        registry=registry, topic=topic, subject=subject, codec=codec, on_error=on_error, dead_letter=dead_letter,
        max_errors=max_errors, progress=progress if show_progress else None, delimiter=delimiter, null_marker=null_marker,
    )
    if print_schema and report.target_schema:
        click.echo(report.target_schema, err=True)
    if not quiet:
        click.echo(("\r" if show_progress else "") + report.summary(), err=True)
        if output_framing != "none" and not topic and not subject:
            click.echo(f"registered the target schema under subject {DEFAULT_SUBJECT} "
                       "(--topic T registers under T-value, --subject S under S)", err=True)
        for line in report.errors[:5]:
            click.echo(f"  rejected: {line}", err=True)
    if report.rejected:
        # finished, but not everything went through: tell CI apart from a failed run (1)
        click.get_current_context().exit(EXIT_REJECTED)
