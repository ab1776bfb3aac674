"""`serde compat check` through click's CliRunner: every mode and output format."""
from __future__ import annotations

import json
import shutil
import subprocess
import xml.etree.ElementTree as ET

import pytest
from click.testing import CliRunner

from cli import compat as compat_cli

V1 = {"type": "record", "name": "Order", "namespace": "shop", "fields": [{"name": "id", "type": "string"}]}
V2_OK = {**V1, "fields": V1["fields"] + [{"name": "qty", "type": "int", "default": 1}]}
V2_BAD = {**V1, "fields": V1["fields"] + [{"name": "qty", "type": "int"}]}


def write(path, value):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(value if isinstance(value, str) else json.dumps(value))
    return path


def run(*args):
    result = CliRunner().invoke(compat_cli.compat, ["check", *map(str, args)])
    return result.exit_code, result.output


# --- single check ------------------------------------------------------------------------

def test_single_compatible_exits_0(tmp_path):
    code, out = run("--type", "avro", "--level", "BACKWARD", write(tmp_path / "new.avsc", V2_OK),
                    write(tmp_path / "v1.avsc", V1))
    assert code == 0
    assert out.startswith("COMPATIBLE")


def test_single_incompatible_exits_1_with_rule_and_location(tmp_path):
    code, out = run(write(tmp_path / "new.avsc", V2_BAD), write(tmp_path / "v1.avsc", V1))
    assert code == 1
    assert "READER_FIELD_MISSING_DEFAULT_VALUE /fields/1" in out
    assert "field 'qty' has no default value" in out


def test_single_transitive_checks_every_previous_file(tmp_path):
    v2 = write(tmp_path / "v2.avsc", V2_OK)
    new = write(tmp_path / "new.avsc", V2_BAD)
    v1 = write(tmp_path / "v1.avsc", V1)
    assert run("--level", "BACKWARD", new, v1, v2)[0] == 0
    code, out = run("--level", "BACKWARD_TRANSITIVE", new, v1, v2)
    assert code == 1 and "(old version 1)" in out


def test_invalid_schema_exits_2_with_parser_location(tmp_path):
    code, out = run("--type", "json", write(tmp_path / "new.json", '{"type": \n "string",,}'),
                    write(tmp_path / "old.json", "{}"))
    assert code == 2
    assert "INVALID" in out and "line 2" in out


def test_usage_errors_exit_2(tmp_path):
    new = write(tmp_path / "new.txt", "{}")
    code, out = run(new, write(tmp_path / "old.txt", "{}"))
    assert code == 2 and "--type" in out
    code, out = run(tmp_path)  # directory without --against
    assert code == 2 and "--against" in out


def test_reference_option_resolves_protobuf_imports(tmp_path):
    main = 'syntax = "proto3"; package shop; import "money.proto"; message Order { Money total = 1; }'
    old = write(tmp_path / "old" / "order.proto", main)
    new = write(tmp_path / "new" / "order.proto", main)
    write(tmp_path / "old" / "money.proto", 'syntax = "proto3"; package shop; message Money { int64 cents = 1; }')
    money_v2 = write(tmp_path / "money_v2.proto", 'syntax = "proto3"; package shop; message Money { string cents = 1; }')
    code, out = run("--type", "protobuf", "--reference", f"money.proto={money_v2}", new, old)
    assert code == 1
    assert "FIELD_SCALAR_KIND_CHANGED #/Money/1" in out


def test_json_format(tmp_path):
    code, out = run("--format", "json", write(tmp_path / "new.avsc", V2_BAD), write(tmp_path / "v1.avsc", V1))
    payload = json.loads(out)
    assert code == 1 and payload["compatible"] is False
    [subject] = payload["subjects"]
    assert subject["status"] == "incompatible"
    assert subject["violations"][0]["rule_id"] == "READER_FIELD_MISSING_DEFAULT_VALUE"
    assert subject["violations"][0]["old_version"] == 1


def test_junit_format(tmp_path):
    code, out = run("--format", "junit", write(tmp_path / "new.avsc", V2_BAD), write(tmp_path / "v1.avsc", V1))
    suite = ET.fromstring(out).find("testsuite")
    assert code == 1
    assert suite.get("failures") == "1"
    assert "READER_FIELD_MISSING_DEFAULT_VALUE" in suite.find("testcase/failure").text


def test_github_format(tmp_path):
    new = write(tmp_path / "new.avsc", V2_BAD)
    code, out = run("--format", "github", new, write(tmp_path / "v1.avsc", V1))
    first = out.splitlines()[0]
    assert code == 1
    assert first.startswith(f"::error file={new},line=1,col=")
    assert ",title=Incompatible schema new::READER_FIELD_MISSING_DEFAULT_VALUE" in first


def test_rules_lists_ids_and_purposes():
    result = CliRunner().invoke(compat_cli.compat, ["rules", "--type", "json"])
    assert result.exit_code == 0
    line = next(l for l in result.output.splitlines() if l.startswith("OPTIONAL_PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL"))
    assert "breaking (LENIENT: compatible)" in line and "Checks that" in line


# --- directory mode ----------------------------------------------------------------------

def git(cwd, *args):
    subprocess.run(["git", "-C", str(cwd), *args], check=True, capture_output=True,
                   env={"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t",
                        "GIT_COMMITTER_EMAIL": "t@t", "HOME": str(cwd), "PATH": "/usr/bin:/bin"})


@pytest.mark.skipif(shutil.which("git") is None, reason="needs the git CLI")
def test_directory_against_git_ref(tmp_path):
    repo = tmp_path / "repo"
    schemas = repo / "schemas"
    write(schemas / "orders-value.avsc", V1)
    write(schemas / "common.proto", 'syntax = "proto3"; package shop; message Money { int64 cents = 1; }')
    write(schemas / "payments-value.proto",
          'syntax = "proto3"; package shop; import "common.proto"; message Payment { Money amount = 1; }')
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "v1")
    # second commit: a breaking Avro change, a breaking change in an imported proto file,
    # and a brand-new subject
    write(schemas / "orders-value.avsc", V2_BAD)
    write(schemas / "common.proto", 'syntax = "proto3"; package shop; message Money { string cents = 1; }')
    write(schemas / "users-value.json", {"type": "object"})
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "v2")

    code, out = run(schemas, "--against", "git:HEAD~1", "--format", "json")
    assert code == 1
    by_subject = {s["subject"]: s for s in json.loads(out)["subjects"]}
    assert by_subject["orders-value"]["status"] == "incompatible"
    assert by_subject["payments-value"]["status"] == "incompatible"
    assert any("FIELD_SCALAR_KIND_CHANGED #/Money/1" in m for m in by_subject["payments-value"]["messages"])
    assert by_subject["users-value"]["status"] == "new"
    assert by_subject["common"]["status"] == "incompatible"

    # in text form, the new subject says that it passes
    assert "users-value" in out
    code, out = run(schemas, "--against", "git:HEAD~1", "--type", "json")
    assert code == 0
    assert out.splitlines()[:2] == ["NEW          users-value (JSON, BACKWARD)",
                                    "    no earlier version: a new subject passes"]

    # against the same commit everything is compatible
    code, out = run(schemas, "--against", "git:HEAD")
    assert code == 0
    assert out.splitlines()[-1] == "4 subject(s): 4 compatible"


def test_bad_git_ref_is_a_usage_error(tmp_path):
    if shutil.which("git") is None:
        pytest.skip("needs the git CLI")
    git(tmp_path, "init", "-q")
    write(tmp_path / "a.avsc", V1)
    code, out = run(tmp_path, "--against", "git:no-such-ref")
    assert code == 2 and "no-such-ref" in out


def test_directory_against_folder_with_config_and_numbered_versions(tmp_path):
    current, baseline = tmp_path / "current", tmp_path / "baseline"
    write(current / "order.avsc", V2_BAD)
    write(current / "serde-compat.json", {"level": "BACKWARD_TRANSITIVE",
                                          "subjects": {"orders-value": {"file": "order.avsc"}}})
    write(baseline / "orders-value" / "1.avsc", V1)
    write(baseline / "orders-value" / "2.avsc", V2_OK)
    code, out = run(current, "--against", baseline)
    assert code == 1
    assert "orders-value (AVRO, BACKWARD_TRANSITIVE, against version(s) 1, 2)" in out
    assert "(old version 1)" in out
    # --level overrides the config file: the latest version alone is fine
    code, out = run(current, "--against", baseline, "--level", "BACKWARD")
    assert code == 0


def test_directory_with_an_invalid_schema_exits_2(tmp_path):
    current, baseline = tmp_path / "current", tmp_path / "baseline"
    write(current / "orders-value.avsc", '{"type": "record", "name": "R", "fields": [{"name": "a", "type": "nope"}]}')
    write(baseline / "orders-value.avsc", V1)
    code, out = run(current, "--against", baseline, "--format", "junit")
    assert code == 2
    assert ET.fromstring(out).find("testsuite").get("errors") == "1"


def test_json_ref_between_files_in_the_directory(tmp_path):
    current, baseline = tmp_path / "current", tmp_path / "baseline"
    for root, item in ((baseline, {"type": "string"}), (current, {"type": "integer"})):
        write(root / "defs.json", {"definitions": {"item": item}})
        write(root / "cart-value.json", {"type": "object", "properties": {"item": {"$ref": "defs.json#/definitions/item"}}})
    code, out = run(current, "--against", baseline)
    assert code == 1
    assert "TYPE_CHANGED #/properties/item" in out


def test_avro_named_type_from_another_file(tmp_path):
    current, baseline = tmp_path / "current", tmp_path / "baseline"
    money = {"type": "record", "name": "Money", "namespace": "shop", "fields": [{"name": "cents", "type": "long"}]}
    order = {"type": "record", "name": "Order", "namespace": "shop", "fields": [{"name": "total", "type": "Money"}]}
    write(baseline / "money.avsc", money)
    write(baseline / "orders-value.avsc", order)
    write(current / "money.avsc", {**money, "fields": [{"name": "cents", "type": "int"}]})
    write(current / "orders-value.avsc", order)
    code, out = run(current, "--against", baseline, "--format", "json")
    subjects = {s["subject"]: s for s in json.loads(out)["subjects"]}
    assert code == 1
    assert subjects["orders-value"]["violations"][0]["new_path"] == "/fields/0/type/fields/0/type"


def test_directory_against_registry_uses_all_versions_and_the_subject_level(tmp_path, monkeypatch):
    from confluent_kafka.schema_registry import Schema, SchemaRegistryClient

    client = SchemaRegistryClient.new_client({"url": "mock://compat-test"})
    client.register_schema("orders-value", Schema(json.dumps(V1), "AVRO"))
    client.register_schema("orders-value", Schema(json.dumps(V2_OK), "AVRO"))
    # the mock client has no config endpoint; a subject configured BACKWARD_TRANSITIVE:
    monkeypatch.setattr(type(client), "get_compatibility",
                        lambda self, subject=None: "BACKWARD_TRANSITIVE" if subject == "orders-value" else None,
                        raising=False)
    monkeypatch.setattr(compat_cli, "registry_client", lambda url: client)
    current = tmp_path / "schemas"
    write(current / "orders-value.avsc", V2_BAD)
    write(current / "events-value.avsc", V1)  # not in the registry: a new subject

    code, out = run(current, "--against", "http://registry:8081", "--format", "json")
    subjects = {s["subject"]: s for s in json.loads(out)["subjects"]}
    assert code == 1
    assert subjects["orders-value"]["level"] == "BACKWARD_TRANSITIVE"
    assert subjects["orders-value"]["versions_checked"] == [1, 2]
    assert [v["old_version"] for v in subjects["orders-value"]["violations"]] == [1]
    assert subjects["events-value"]["status"] == "new"
    assert subjects["events-value"]["note"] == "no earlier version: a new subject passes"


def test_registry_schema_type_mismatch_is_incompatible(tmp_path, monkeypatch):
    from confluent_kafka.schema_registry import Schema, SchemaRegistryClient

    client = SchemaRegistryClient.new_client({"url": "mock://compat-type"})
    client.register_schema("orders-value", Schema('{"type": "object"}', "JSON"))
    monkeypatch.setattr(compat_cli, "registry_client", lambda url: client)
    write(tmp_path / "orders-value.avsc", V1)
    code, out = run(tmp_path, "--against", "https://registry")
    assert code == 1
    assert "different schema type: JSON → AVRO" in out
