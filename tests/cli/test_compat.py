"""`serde compat check` as CI runs it: annotations that land on lines, and baselines
(git refs, registry URLs) whose errors say which one and why."""
import json
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli.main import cli

OLD_AVSC = """{"type": "record", "name": "A",
 "fields": [
   {"name": "a", "type": "long"},
   {"name": "b", "type": "string"}
 ]}
"""
NEW_AVSC = OLD_AVSC.replace('"b", "type": "string"', '"b", "type": "int"')
OLD_PROTO = 'syntax = "proto3";\nmessage A {\n  int64 a = 1;\n}\n'
NEW_PROTO = OLD_PROTO.replace("int64 a", "string a")
OLD_JSON = json.dumps({"type": "object", "properties": {"a": {"type": "integer"}}, "additionalProperties": False}, indent=2)
NEW_JSON = OLD_JSON.replace('"integer"', '"string"')


def run(*args):
    return CliRunner().invoke(cli, ["compat", "check", *map(str, args)], catch_exceptions=False)


def git(repo, *args):
    subprocess.run(["git", "-C", str(repo), "-c", "user.email=t@example.com", "-c", "user.name=t", *args],
                   check=True, capture_output=True)


@pytest.fixture
def repo(tmp_path, monkeypatch):
    schemas = tmp_path / "schemas"
    schemas.mkdir()
    (schemas / "order.avsc").write_text(OLD_AVSC)
    (schemas / "o.proto").write_text(OLD_PROTO)
    (schemas / "thing.json").write_text(OLD_JSON)
    git(tmp_path, "init", "-q")
    git(tmp_path, "add", ".")
    git(tmp_path, "commit", "-qm", "v1")
    (schemas / "order.avsc").write_text(NEW_AVSC)
    (schemas / "o.proto").write_text(NEW_PROTO)
    (schemas / "thing.json").write_text(NEW_JSON)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_github_annotations_carry_line_and_column(repo):
    result = run("schemas", "--against", "git:HEAD", "--format", "github")
    assert result.exit_code == 1
    errors = [line for line in result.stdout.splitlines() if line.startswith("::error")]
    by_file = {line.split("file=")[1].split(",")[0]: line for line in errors}
    # the changed type of field b: line 4, where "int" starts
    assert by_file["schemas/order.avsc"].startswith("::error file=schemas/order.avsc,line=4,col=26,")
    # the changed field of message A: line 3, where its declaration starts
    assert by_file["schemas/o.proto"].startswith("::error file=schemas/o.proto,line=3,col=3,")
    # the property whose type changed: where its schema starts
    line, col = NEW_JSON.splitlines().index('    "a": {') + 1, 10
    assert by_file["schemas/thing.json"].startswith(f"::error file=schemas/thing.json,line={line},col={col},")


def test_github_notice_for_a_new_subject_has_a_line(repo):
    (repo / "schemas" / "fresh.avsc").write_text('{"type": "record", "name": "F", "fields": []}')
    result = run("schemas", "--against", "git:HEAD", "--format", "github")
    notice = next(line for line in result.stdout.splitlines() if line.startswith("::notice"))
    assert notice.startswith("::notice file=schemas/fresh.avsc,line=1,")


def test_bad_git_ref_says_which_ref_and_why(repo):
    result = run("schemas", "--against", "git:no-such-branch")
    assert result.exit_code == 2
    assert "--against git:no-such-branch: the repository at" in result.stderr
    assert "has no branch, tag or commit named 'no-such-branch'" in result.stderr
    assert "returned non-zero exit status" not in result.stderr and "Command '[" not in result.stderr


def test_git_ref_outside_a_repository(tmp_path, monkeypatch):
    (tmp_path / "schemas").mkdir()
    (tmp_path / "schemas" / "order.avsc").write_text(OLD_AVSC)
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    result = run("schemas", "--against", "git:main")
    assert result.exit_code == 2
    assert "--against git:main: cannot use git in" in result.stderr
    assert "not inside a git repository" in result.stderr


def test_registry_errors_name_the_url_without_credentials(repo):
    result = run("schemas", "--against", "http://alice:secret@127.0.0.1:9/")
    assert result.exit_code == 2
    assert "registry http://127.0.0.1:9/: cannot list the versions of subject" in result.stderr
    assert "connection refused" in result.stderr
    assert "secret" not in result.stderr


def test_compat_rules_type_has_help():
    result = CliRunner().invoke(cli, ["compat", "rules", "--help"])
    assert result.exit_code == 0
    text = " ".join(result.output.split())
    assert "--type [avro|json|protobuf] Only the rules for this schema type" in text
