"""Directory mode of `serde compat check`: Protobuf imports across folders, -I/--proto-path,
undecodable files, clashing subjects, nested serde-compat.json configs, and the repo's own
schemas/ as the README's CI examples check them."""
from __future__ import annotations

import json
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from serde._errors import SchemaParseError
from serde._proto_files import load_proto_imports
from tests.compat.test_cli import V1, V2_BAD, V2_OK, git, run, write

REPO = Path(__file__).resolve().parents[2]

CURRENCY = 'syntax = "proto3";\npackage serde.common;\nenum Currency { CURRENCY_UNSPECIFIED = 0; EUR = 1; }\n'
MONEY = ('syntax = "proto3";\npackage serde.common;\nimport "common/currency.proto";\n'
         "message Money { Currency currency = 1; int64 units = 2; }\n")
ORDER = ('syntax = "proto3";\npackage shop;\nimport "google/protobuf/timestamp.proto";\n'
         'import "common/money.proto";\n'
         "message Order { serde.common.Money total = 1; google.protobuf.Timestamp at = 2; }\n")


def proto_tree(root: Path, money: str = MONEY) -> Path:
    write(root / "protobuf" / "order.proto", ORDER)
    write(root / "protobuf" / "common" / "money.proto", money)
    write(root / "protobuf" / "common" / "currency.proto", CURRENCY)
    return root


# --- serde._proto_files ------------------------------------------------------------------

def test_load_proto_imports_from_parents_dependencies_first(tmp_path):
    proto_tree(tmp_path)
    refs = load_proto_imports(tmp_path / "protobuf" / "order.proto")
    assert list(refs) == ["common/currency.proto", "common/money.proto"]  # google/* is bundled
    assert refs["common/money.proto"] == MONEY


def test_load_proto_imports_missing_names_import_and_dirs(tmp_path):
    write(tmp_path / "a" / "order.proto", ORDER)
    with pytest.raises(SchemaParseError) as info:
        load_proto_imports(tmp_path / "a" / "order.proto", root=tmp_path)
    message = str(info.value)
    assert 'import "common/money.proto" not found' in message
    assert str(tmp_path / "a") in message and str(tmp_path) in message


def test_load_proto_imports_include_dirs_and_references(tmp_path):
    write(tmp_path / "src" / "order.proto", ORDER)
    proto_tree(tmp_path / "vendor")
    refs = load_proto_imports(tmp_path / "src" / "order.proto", [tmp_path / "vendor" / "protobuf"],
                              root=tmp_path / "src")
    assert refs["common/money.proto"] == MONEY
    other = MONEY.replace("int64 units", "string units")
    refs = load_proto_imports(tmp_path / "src" / "order.proto", [tmp_path / "vendor" / "protobuf"],
                              references={"common/money.proto": other})
    assert refs["common/money.proto"] == other and "common/currency.proto" in refs


def test_load_proto_imports_undecodable_import_names_the_file(tmp_path):
    proto_tree(tmp_path)
    (tmp_path / "protobuf" / "common" / "currency.proto").write_bytes(b"enum \xff {}")
    with pytest.raises(SchemaParseError, match=r"currency\.proto: not UTF-8 text"):
        load_proto_imports(tmp_path / "protobuf" / "order.proto")


# --- A: imports across folders, -I -------------------------------------------------------

def test_directory_resolves_imports_from_parent_dirs(tmp_path):
    current, baseline = proto_tree(tmp_path / "current"), proto_tree(tmp_path / "baseline")
    code, out = run(current, "--against", baseline)
    assert code == 0, out
    assert out.splitlines()[-1] == "3 subject(s): 3 compatible"
    # a breaking change two imports away reaches the importing subject
    write(current / "protobuf" / "common" / "money.proto", MONEY.replace("int64 units", "string units"))
    code, out = run(current, "--against", baseline, "--format", "json")
    subjects = {s["subject"]: s for s in json.loads(out)["subjects"]}
    assert code == 1
    assert subjects["order"]["status"] == "incompatible"


def test_proto_path_option(tmp_path):
    for side in ("current", "baseline"):
        write(tmp_path / side / "order.proto", ORDER)
    proto_tree(tmp_path / "vendor")
    code, out = run(tmp_path / "current", "--against", tmp_path / "baseline")
    assert code == 2
    assert 'import "common/money.proto" not found' in out
    code, out = run(tmp_path / "current", "--against", tmp_path / "baseline",
                    "-I", tmp_path / "vendor" / "protobuf")
    assert code == 0, out
    code, out = run("--proto-path", tmp_path / "vendor" / "protobuf",
                    tmp_path / "current" / "order.proto", tmp_path / "baseline" / "order.proto")
    assert code == 0, out


def test_single_mode_finds_imports_next_to_and_above_the_file(tmp_path):
    proto_tree(tmp_path / "new")
    proto_tree(tmp_path / "old", money=MONEY.replace("int64 units", "string units"))
    code, out = run(tmp_path / "new" / "protobuf" / "order.proto", tmp_path / "old" / "protobuf" / "order.proto")
    assert code == 1
    assert "FIELD_SCALAR_KIND_CHANGED" in out


@pytest.mark.skipif(shutil.which("git") is None, reason="needs the git CLI")
def test_git_baseline_resolves_imports_and_annotations_name_repo_paths(tmp_path, monkeypatch):
    repo = tmp_path / "repo"
    proto_tree(repo / "schemas")
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "v1")
    write(repo / "schemas" / "protobuf" / "common" / "money.proto", MONEY.replace("int64 units", "string units"))
    monkeypatch.chdir(repo)
    code, out = run("schemas", "--against", "git:HEAD", "--format", "github")
    assert code == 1
    import re

    assert re.search(r"::error file=schemas/protobuf/order\.proto,line=\d+,(col=\d+,)?title=Incompatible schema order::", out)


# --- B: undecodable files ----------------------------------------------------------------

def test_non_utf8_file_is_a_usage_error_naming_it(tmp_path):
    bad = tmp_path / "nonutf8.avsc"
    bad.write_bytes(b'{"type": "record", "name": "\xff", "fields": []}')
    good = write(tmp_path / "v1.avsc", V1)
    for args in ((bad, good), (good, bad)):
        code, out = run("--type", "avro", *args)
        assert code == 2
        assert f"{bad}: not UTF-8 text (byte 0xff" in out
        assert "Traceback" not in out


def test_non_utf8_file_in_a_directory_is_invalid(tmp_path):
    current, baseline = tmp_path / "current", tmp_path / "baseline"
    (current).mkdir()
    (current / "orders-value.avsc").write_bytes(b'{"type": "record", "name": "\xff", "fields": []}')
    write(current / "users-value.avsc", V1)
    write(baseline / "orders-value.avsc", V1)
    code, out = run(current, "--against", baseline)
    assert code == 2
    assert "orders-value.avsc: not UTF-8 text" in out
    assert "NEW          users-value" in out  # the other subjects are still checked


# --- C: clashing subjects, nested configs ------------------------------------------------

def test_clashing_subjects_are_a_usage_error_listing_the_files(tmp_path):
    current, baseline = tmp_path / "current", tmp_path / "baseline"
    for root in (current, baseline):
        write(root / "avro" / "order.avsc", V1)
        write(root / "protobuf" / "order.proto", 'syntax = "proto3"; message Order { string id = 1; }')
    code, out = run(current, "--against", baseline)
    assert code == 2
    assert "subject 'order': avro/order.avsc, protobuf/order.proto" in out
    assert run(current, "--against", baseline, "--type", "avro")[0] == 0  # no clash left
    write(current / "serde-compat.json", {"subjects": {"orders-value": "avro/order.avsc",
                                                       "orders-proto-value": "protobuf/order.proto"}})
    code, out = run(current, "--against", baseline)
    assert code == 0, out
    assert "orders-value (AVRO" in out and "orders-proto-value (PROTOBUF" in out


def test_config_mapping_onto_a_file_name_subject_clashes(tmp_path):
    write(tmp_path / "a.avsc", V1)
    write(tmp_path / "sub" / "b.avsc", V1)
    write(tmp_path / "sub" / "serde-compat.json", {"subjects": {"a": "b.avsc"}})
    code, out = run(tmp_path, "--against", tmp_path)
    assert code == 2 and "subject 'a': sub/b.avsc, a.avsc" in out


def test_nested_config_applies_when_checking_the_parent(tmp_path):
    current, baseline = tmp_path / "current", tmp_path / "baseline"
    write(current / "serde-compat.json", {"level": "FORWARD"})
    write(current / "team" / "serde-compat.json",
          {"level": "BACKWARD_TRANSITIVE", "subjects": {"orders-value": {"file": "order.avsc", "level": "FULL"}}})
    write(current / "team" / "order.avsc", V2_OK)
    write(current / "team" / "extra.avsc", V1)
    write(current / "other" / "users-value.avsc", V1)
    for rel in ("team/order.avsc", "team/extra.avsc", "other/users-value.avsc"):
        write(baseline / rel, V1)
    code, out = run(current, "--against", baseline, "--format", "json")
    assert code == 0, out
    subjects = {s["subject"]: s for s in json.loads(out)["subjects"]}
    assert set(subjects) == {"orders-value", "extra", "users-value"}
    assert subjects["orders-value"]["level"] == "FULL"
    assert subjects["orders-value"]["file"].endswith("current/team/order.avsc")
    assert subjects["extra"]["level"] == "BACKWARD_TRANSITIVE"  # unlisted: its config's level
    assert subjects["users-value"]["level"] == "FORWARD"  # the parent config's level
    # checking the subfolder itself gives the same subject for the listed file
    code, out = run(current / "team", "--against", baseline / "team")
    assert code == 0 and "orders-value (AVRO, FULL" in out
    write(current / "team" / "order.avsc", V2_BAD)
    assert run(current, "--against", baseline)[0] == 1


# --- D: this repository's schemas/ as the README's CI examples check them -----------------

def test_repo_schemas_check_against_themselves():
    schemas = REPO / "schemas"
    for fmt in ("text", "github", "junit"):
        code, out = run(schemas, "--against", schemas, "--format", fmt)
        assert code == 0, out
    assert ET.fromstring(out).find("testsuite").get("errors") == "0"


@pytest.mark.skipif(shutil.which("git") is None, reason="needs the git CLI")
@pytest.mark.parametrize("fmt", ["text", "github", "junit"])
def test_repo_schemas_against_git_head_as_in_the_readme(fmt, monkeypatch):
    if subprocess.run(["git", "-C", str(REPO), "rev-parse", "HEAD"], capture_output=True).returncode:
        pytest.skip("not a git checkout")
    changed = subprocess.run(["git", "-C", str(REPO), "status", "--porcelain", "--", "schemas"],
                             capture_output=True, text=True).stdout
    if changed.strip():
        pytest.skip("schemas/ has uncommitted changes")
    monkeypatch.chdir(REPO)
    code, out = run("schemas/", "--against", "git:HEAD", "--format", fmt)
    assert code == 0, out
