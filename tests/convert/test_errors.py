"""Bad input: every failure names the record, the field and the reason; nothing is lost
silently; a failed run leaves no partial output."""
import json

import pytest

import serde

SCHEMA = json.dumps({"type": "record", "name": "Row", "fields": [
    {"name": "id", "type": "long"}, {"name": "when", "type": {"type": "long", "logicalType": "timestamp-millis"}},
    {"name": "kind", "type": {"type": "enum", "name": "Kind", "symbols": ["A", "B"]}}]})
GOOD = '{"id": 1, "when": "2024-01-01T00:00:00Z", "kind": "A"}\n'
BAD_ID = '{"id": "one", "when": 0, "kind": "A"}\n'
BAD_KIND = '{"id": 3, "when": 0, "kind": "C"}\n'


def ndjson(tmp_path, *lines):
    path = tmp_path / "in.ndjson"
    path.write_text("".join(lines), encoding="utf-8")
    return path


def test_first_bad_record_stops_with_line_path_and_reason(tmp_path):
    source = ndjson(tmp_path, GOOD, BAD_ID, GOOD)
    out = tmp_path / "out.avro"
    with pytest.raises(serde.RecordInvalid) as info:
        serde.convert(source, out, from_format="json", to_format="avro", to_schema=SCHEMA)
    assert info.value.location == "line 2"
    assert info.value.path == "$.id"
    assert "'one'" in str(info.value) and "integer" in str(info.value)
    assert not out.exists(), "a failed conversion must not leave a partial file"
    assert not list(tmp_path.glob(".serde-*")), "nor its temporary file"


def test_invalid_json_line_is_named(tmp_path):
    source = ndjson(tmp_path, GOOD, '{"id": 2,\n')
    with pytest.raises(serde.DecodeError, match="line 2: invalid JSON"):
        serde.convert(source, tmp_path / "o.avro", from_format="json", to_format="avro", to_schema=SCHEMA)


def test_skip_counts_and_keeps_going(tmp_path):
    source = ndjson(tmp_path, GOOD, BAD_ID, BAD_KIND, GOOD)
    out = tmp_path / "out.ndjson"
    report = serde.convert(source, out, from_format="json", to_format="json", to_schema=SCHEMA.replace("Row", "Row"),
                           on_error="skip") if False else serde.convert(
        source, tmp_path / "out.avro", from_format="json", to_format="avro", to_schema=SCHEMA, on_error="skip")
    assert (report.read, report.written, report.rejected) == (4, 2, 2)
    assert report.errors[0].startswith("line 2: $.id")
    assert report.errors[1].startswith("line 3: $.kind") and "A, B" in report.errors[1]
    assert "4 read, 2 written, 2 rejected" == report.summary()


def test_dead_letter_file_keeps_rejected_input_verbatim(tmp_path):
    source = ndjson(tmp_path, GOOD, BAD_ID, GOOD)
    dead = tmp_path / "dead.ndjson"
    report = serde.convert(source, tmp_path / "out.avro", from_format="json", to_format="avro", to_schema=SCHEMA,
                           on_error="dead-letter", dead_letter=dead)
    assert report.rejected == 1
    [entry] = [json.loads(line) for line in dead.read_text().splitlines()]
    assert entry["input"] == BAD_ID.rstrip("\n")
    assert entry["location"] == "line 2" and entry["path"] == "$.id" and entry["error"] == "RecordInvalid"


def test_dead_letter_needs_a_file(tmp_path):
    with pytest.raises(serde.ConfigError, match="dead_letter"):
        serde.convert(ndjson(tmp_path, GOOD), tmp_path / "o.avro", from_format="json", to_format="avro",
                      to_schema=SCHEMA, on_error="dead-letter")


def test_max_errors_caps_rejections(tmp_path):
    source = ndjson(tmp_path, BAD_ID, BAD_ID, BAD_ID, GOOD)
    with pytest.raises(serde.SerdeError, match="more than 1 rejected"):
        serde.convert(source, tmp_path / "o.avro", from_format="json", to_format="avro", to_schema=SCHEMA,
                      on_error="skip", max_errors=1)


def test_csv_errors_name_line_and_column(tmp_path):
    source = tmp_path / "in.csv"
    source.write_text('id,when,kind\n1,2024-01-01T00:00:00Z,A\n2,not-a-time,B\n"3",0,A,extra\n', encoding="utf-8")
    report = serde.convert(source, tmp_path / "o.avro", from_format="csv", to_format="avro", schema=SCHEMA, on_error="skip")
    assert report.written == 1
    assert report.errors[0].startswith("line 3: $.when: cannot use 'not-a-time' as a timestamp")
    assert report.errors[1] == "line 4: expected 3 columns, got 4"


def test_csv_header_must_match_schema(tmp_path):
    source = tmp_path / "in.csv"
    source.write_text("id,kind\n1,A\n", encoding="utf-8")
    with pytest.raises(serde.DecodeError, match="lacks the schema.s columns when"):
        serde.convert(source, tmp_path / "o.avro", from_format="csv", to_format="avro", schema=SCHEMA)


def test_csv_columns_in_any_order(tmp_path):
    source = tmp_path / "in.csv"
    source.write_text("kind,id,when\nB,5,0\n", encoding="utf-8")
    out = tmp_path / "o.ndjson"
    serde.convert(source, out, from_format="csv", to_format="json", schema=SCHEMA)
    assert json.loads(out.read_text()) == {"id": 5, "when": "1970-01-01T00:00:00Z", "kind": "B"}


def test_malformed_csv_quote_is_named(tmp_path):
    source = tmp_path / "in.csv"
    source.write_text('id,when,kind\n1,0,"A\n', encoding="utf-8")
    with pytest.raises(serde.DecodeError, match="line"):
        serde.convert(source, tmp_path / "o.avro", from_format="csv", to_format="avro", schema=SCHEMA)


def test_not_an_avro_file(tmp_path):
    source = tmp_path / "in.avro"
    source.write_bytes(b"definitely not avro")
    with pytest.raises(serde.DecodeError, match="not an Avro object container file"):
        serde.convert(source, tmp_path / "o.ndjson", from_format="avro", to_format="json")


def test_unreadable_input_is_a_config_error(tmp_path):
    with pytest.raises(serde.ConfigError, match="cannot read"):
        serde.convert(tmp_path / "missing.ndjson", tmp_path / "o.avro", from_format="json", to_format="avro",
                      to_schema=SCHEMA)


@pytest.mark.parametrize("option, value, message", [
    ("from_format", "xml", "unknown from_format"),
    ("on_error", "ignore", "unknown on_error"),
    ("input_framing", "hex", "unknown input_framing"),
])
def test_bad_options_are_config_errors(tmp_path, option, value, message):
    kwargs = {"from_format": "json", "to_format": "avro", "to_schema": SCHEMA, option: value}
    with pytest.raises(serde.ConfigError, match=message):
        serde.convert(ndjson(tmp_path, GOOD), tmp_path / "o.avro", **kwargs)


def test_schemaless_ndjson_is_coerced_into_a_typed_target(tmp_path):
    source = ndjson(tmp_path, '{"id": "7", "when": 1704067200000, "kind": "B"}\n')
    out = tmp_path / "o.avro"
    serde.convert(source, out, from_format="json", to_format="avro", to_schema=SCHEMA)
    import datetime as dt

    import fastavro

    with open(out, "rb") as stream:
        assert list(fastavro.reader(stream)) == [
            {"id": 7, "when": dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc), "kind": "B"}]


def test_untyped_source_gets_an_inferred_schema(tmp_path):
    source = ndjson(tmp_path, '{"n": 1, "s": "x", "at": "2024-01-01T00:00:00Z"}\n', '{"n": 2, "s": null, "at": "2024-01-02T00:00:00Z"}\n')
    report = serde.convert(source, tmp_path / "o.avro", from_format="json", to_format="avro")
    schema = json.loads(report.target_schema)
    fields = {f["name"]: f["type"] for f in schema["fields"]}
    assert fields["n"] == "long"
    assert "null" in fields["s"]
    assert report.written == 2


def test_framed_round_trip_through_the_embedded_registry(tmp_path):
    registry = tmp_path / "registry.db"
    framed = tmp_path / "framed.b64"
    serde.convert(ndjson(tmp_path, GOOD, GOOD), framed, from_format="json", to_format="avro", to_schema=SCHEMA,
                  output_framing="base64", registry=str(registry), topic="rows")
    lines = framed.read_bytes().splitlines()
    import base64

    assert all(base64.b64decode(line)[:5] == b"\x00\x00\x00\x00\x01" for line in lines)
    out = tmp_path / "back.ndjson"
    serde.convert(framed, out, from_format="avro", to_format="json", input_framing="base64", registry=str(registry))
    assert [json.loads(x)["id"] for x in out.read_text().splitlines()] == [1, 1]
    from serde.registry import EmbeddedRegistry

    with EmbeddedRegistry(registry) as embedded:
        assert embedded.client.get_subjects() == ["rows-value"]


def test_framed_input_with_an_unknown_schema_id_is_named(tmp_path):
    import base64

    source = tmp_path / "in.b64"
    source.write_bytes(base64.b64encode(b"\x00\x00\x00\x00\x09\x02") + b"\n")
    with pytest.raises(serde.RegistryError, match="line 1"):
        serde.convert(source, tmp_path / "o.ndjson", from_format="avro", to_format="json", input_framing="base64",
                      registry=str(tmp_path / "r.db"))


def test_progress_is_reported_with_records_and_bytes(tmp_path, monkeypatch):
    import serde.conversion._api as convert_module

    monkeypatch.setattr(convert_module, "PROGRESS_SECONDS", 0.0)
    source = ndjson(tmp_path, *([GOOD] * 3000))
    seen = []
    report = serde.convert(source, tmp_path / "o.avro", from_format="json", to_format="avro", to_schema=SCHEMA,
                           progress=lambda r: seen.append((r.read, r.bytes_read)))
    assert report.read == 3000 and report.bytes_read == source.stat().st_size
    assert seen, "no progress was reported"
    assert all(read > 0 for read, _ in seen)
    assert "records/s" not in report.summary() or "MiB/s" in report.summary()


def test_avro_reader_schema_that_cannot_read_the_file_is_named(tmp_path):
    out = tmp_path / "rows.avro"
    serde.convert(ndjson(tmp_path, GOOD), out, from_format="json", to_format="avro", to_schema=SCHEMA)
    other = json.dumps({"type": "record", "name": "Row", "fields": [{"name": "zzz", "type": "string"}]})
    with pytest.raises(serde.SchemaParseError, match="cannot read this file's writer schema.*zzz"):
        serde.convert(out, tmp_path / "o.ndjson", from_format="avro", to_format="json", schema=other)


@pytest.mark.parametrize("option, value", [("max_errors", "3"), ("max_errors", -1), ("workers", 0), ("workers", True)])
def test_count_options_must_be_counts(tmp_path, option, value):
    with pytest.raises(serde.ConfigError, match=option):
        serde.convert(ndjson(tmp_path, GOOD), tmp_path / "o.avro", from_format="json", to_format="avro",
                      to_schema=SCHEMA, **{option: value})


def test_serdes_own_flattened_csv_infers_back_to_nested_records(tmp_path):
    source = tmp_path / "in.csv"
    source.write_text("id,ship.city,ship.zip\n1,Oslo,0150\n2,Bergen,\n")
    report = serde.convert(source, tmp_path / "o.avro", from_format="csv", to_format="avro")
    fields = {f["name"]: f["type"] for f in json.loads(report.target_schema)["fields"]}
    assert fields["id"] == "long"
    assert fields["ship"]["type"] == "record"
    assert [f["name"] for f in fields["ship"]["fields"]] == ["city", "zip"]
