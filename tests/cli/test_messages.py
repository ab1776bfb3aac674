"""Hints and errors name options that exist, as flags; one registry variable everywhere."""
import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli.main import as_flags, cli

ROOT = Path(__file__).resolve().parents[2]
TWO_MESSAGES = 'syntax = "proto3";\nmessage A { int64 a = 1; }\nmessage B { string b = 1; }\n'


def run(*args, input=None, env=None):
    return CliRunner().invoke(cli, list(map(str, args)), input=input, env=env, catch_exceptions=False)


def test_proto_target_with_several_messages_hints_to_message(tmp_path):
    proto = tmp_path / "two.proto"
    proto.write_text(TWO_MESSAGES)
    result = run("convert", "-", tmp_path / "o.pb", "--from", "json", "--to-schema", proto, input='{"a": 1}\n')
    assert result.exit_code == 2
    assert "choose one with --to-message (candidates: A, B)" in result.stderr
    assert "message=" not in result.stderr
    ok = run("convert", "-", tmp_path / "o.pb", "--from", "json", "--to-schema", proto, "--to-message", "A",
             input='{"a": 1}\n')
    assert ok.exit_code == 0, ok.stderr
    source = run("convert", tmp_path / "o.pb", "-", "--schema", proto, "--to", "json")
    assert source.exit_code == 2 and "choose one with --message (candidates: A, B)" in source.stderr


def test_binary_output_takes_the_primitive_type_directly(tmp_path):
    missing = run("convert", "-", tmp_path / "o.bin", "--from", "json", input='{"v": 7}\n')
    assert missing.exit_code == 2 and "binary output needs --to-type" in missing.stderr
    result = run("convert", "-", tmp_path / "o.bin", "--from", "json", "--to-type", "long", input='{"v": 7}\n')
    assert result.exit_code == 0, result.stderr
    assert (tmp_path / "o.bin").read_bytes() == b"\x00\x00\x00\x08" + (7).to_bytes(8, "big")
    unread = run("convert", tmp_path / "o.bin", "-", "--to", "json")
    assert unread.exit_code == 2 and "reading binary needs --type" in unread.stderr
    back = run("convert", tmp_path / "o.bin", "-", "--type", "long", "--to", "json", "-q")
    assert back.exit_code == 0 and json.loads(back.stdout) == {"value": 7}
    wrong = run("convert", "-", "-", "--from", "json", "--to", "avro", "--to-type", "long", input="{}\n")
    assert wrong.exit_code == 2 and "--to-type is for binary output" in wrong.stderr


def test_every_hint_names_an_option_that_exists(tmp_path):
    """Options named in error text of convert exist on convert."""
    import re

    from cli.convert import convert

    flags = {opt for p in convert.params for opt in p.opts}
    text = (ROOT / "serde" / "conversion" / "_api.py").read_text() + (ROOT / "cli" / "convert.py").read_text()
    named = set(re.findall(r"(?<![\w-])(--[a-z][a-z-]+)", text))
    named.discard("--to-")  # "--to-{type|schema}" built in an f-string
    assert named <= flags, named - flags


def test_library_parameter_names_become_flags():
    from cli.registry import registry

    text = "give a users file, or allow_insecure_public to accept the risk; choose one with to_message= (x)"
    from cli.convert import convert

    assert as_flags(text, registry) .startswith("give a users file, or --allow-insecure-public to accept")
    assert "choose one with --to-message (x)" in as_flags(text, convert)
    assert as_flags("on_error='dead-letter' needs a dead_letter file", convert) == \
        "--on-error 'dead-letter' needs a --dead-letter file"


def test_registry_serve_refusal_names_the_flag(tmp_path):
    result = run("registry", "serve", "--host", "0.0.0.0", "--port", "0", "--db", tmp_path / "r.db")
    assert result.exit_code == 2
    assert "--allow-insecure-public" in result.stderr and "allow_insecure_public" not in result.stderr


@pytest.mark.parametrize("env,expected,note", [
    ({"SERDE_REGISTRY": "{tmp}/a.db"}, "{tmp}/a.db", False),
    ({"SERDE_REGISTRY": "http://localhost:8081"}, None, False),
    ({"SERDE_REGISTRY_DB": "{tmp}/old.db"}, "{tmp}/old.db", True),
    ({"SERDE_REGISTRY": "{tmp}/new.db", "SERDE_REGISTRY_DB": "{tmp}/old.db"}, "{tmp}/new.db", False),
])
def test_serve_reads_serde_registry_like_every_other_command(tmp_path, monkeypatch, env, expected, note):
    from cli import registry as registry_cli

    for name in ("SERDE_REGISTRY", "SERDE_REGISTRY_DB"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value.format(tmp=tmp_path))
    notes: list[str] = []
    found = registry_cli._db_from_environment(notes)
    assert found == (expected.format(tmp=tmp_path) if expected else None)
    assert bool(notes) is note
    if note:
        assert "SERDE_REGISTRY_DB is deprecated; set SERDE_REGISTRY" in notes[0]
    help_text = " ".join(run("registry", "serve", "--help").output.split())
    assert "$SERDE_REGISTRY when it is a path" in help_text


def test_serve_and_convert_share_the_registry_file(tmp_path, monkeypatch):
    """SERDE_REGISTRY=<file>: convert registers there, and serve would serve that file."""
    from cli import registry as registry_cli

    db = tmp_path / "shared.db"
    monkeypatch.setenv("SERDE_REGISTRY", str(db))
    result = run("convert", ROOT / "schemas" / "examples" / "orders.ndjson", "-", "--to", "avro",
                 "--to-schema", ROOT / "schemas" / "avro" / "order.avsc", "--output-framing", "base64",
                 "--topic", "orders", "-q")
    assert result.exit_code == 0, result.stderr
    assert db.exists()
    assert registry_cli._db_from_environment([]) == str(db)


def test_output_framing_without_topic_says_which_subject(tmp_path):
    result = run("convert", ROOT / "schemas" / "examples" / "orders.ndjson", tmp_path / "o.b64", "--to", "avro",
                 "--to-schema", ROOT / "schemas" / "avro" / "order.avsc", "--output-framing", "base64",
                 "--registry", tmp_path / "r.db")
    assert result.exit_code == 0, result.stderr
    assert "registered the target schema under subject serde-convert-value" in result.stderr
    with_topic = run("convert", ROOT / "schemas" / "examples" / "orders.ndjson", tmp_path / "o2.b64", "--to", "avro",
                     "--to-schema", ROOT / "schemas" / "avro" / "order.avsc", "--output-framing", "base64",
                     "--topic", "orders", "--registry", tmp_path / "r.db")
    assert "registered the target schema under subject" not in with_topic.stderr
    help_text = " ".join(run("convert", "--help").output.split())
    assert "without --topic or --subject: serde-convert-value" in help_text


@pytest.mark.parametrize("args", [(), ("compat",), ("schema",)])
def test_help_lists_whole_command_descriptions(args):
    result = run(*args, "--help")
    assert result.exit_code == 0
    import re

    commands = result.output.split("Commands:")[1]
    assert re.search(r"\w\.\.\.", commands) is None, commands  # a word cut off with "..."


def test_help_and_messages_read_as_english(tmp_path):
    consume = " ".join(run("consume", "--help").output.split())
    assert "topic, partition, offset, timestamp" in consume and "of fset" not in consume
    from serde.conversion._api import _a

    assert (_a("avro"), _a("csv"), _a("json"), _a("protobuf")) == ("an", "a", "a", "a")
    binary = run("convert", "-", tmp_path / "o.bin", "--from", "json", input="{}\n")
    assert "a avro" not in binary.stderr and "an binary" not in binary.stderr
