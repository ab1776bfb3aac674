"""``serde console`` from the command line, and how unframed bytes are recognised."""
from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from serde.console._decode import MAX_SHOWN, plain, shown
from serde.registry.client import open_registry

ROOT = Path(__file__).resolve().parents[2]


def test_help_lists_the_options() -> None:
    from cli.main import cli

    result = CliRunner().invoke(cli, ["--help"])
    assert "console" in result.output
    result = CliRunner().invoke(cli, ["console", "--help"])
    assert result.exit_code == 0
    for flag in ("--config", "--host", "--port", "--read-only", "--users"):
        assert flag in result.output


def test_cli_bad_config_is_a_usage_error(tmp_path: Path) -> None:
    from cli.main import cli

    conf = tmp_path / "console.toml"
    conf.write_text("[[clusters]]\nname = 'x'\n")
    result = CliRunner().invoke(cli, ["console", "--config", str(conf)])
    assert result.exit_code == 2 and "needs bootstrap" in result.output


def test_serde_console_serves_until_sigterm(tmp_path: Path, registry_url: str) -> None:
    open_registry(registry_url).register("cli-value", "JSON", json.dumps({"type": "object"}))
    env = {**os.environ, "SERDE_REGISTRY": registry_url, "SERDE_BOOTSTRAP": "127.0.0.1:1",
           "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-m", "cli.main", "console", "--port", "0", "--read-only", "--quiet"],
                            cwd=tmp_path, env=env, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stderr.readline() if proc.stderr else ""
        found = re.search(r"serde console at (http://\S+) \(clusters: default; read-only\)", line)
        assert found, line
        page = httpx.get(f"{found.group(1)}/subjects", timeout=30)
        assert page.status_code == 200 and "cli-value" in page.text and "read-only" in page.text
    finally:
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=30)
        if proc.stderr:
            proc.stderr.close()
    assert code == 0
    assert not (tmp_path / ".serde").exists()  # the registry of $SERDE_REGISTRY, not an embedded one here


@pytest.mark.parametrize("data, kind", [
    (b'{"a": 1}', "json"),
    (b"[1, 2]", "json"),
    (b"42", "json"),
    (b"hello world", "text"),
    (b"a,b,c", "csv"),
    (b'x,"y, z",1', "csv"),
    (b"one,\ntwo,", "text"),
    (b"\x00\x01", "hex"),
    (b"\xff\xfe", "hex"),
    (b"{broken json", "text"),
    (b"", "text"),
])
def test_unframed_bytes_are_recognised(data: bytes, kind: str) -> None:
    assert plain(data).kind == kind


def test_shown_is_bounded() -> None:
    text = shown(plain(b"x" * (MAX_SHOWN + 100)))
    assert len(text) < MAX_SHOWN + 100 and text.endswith(f"(cut at {MAX_SHOWN} characters)")
    hexed = shown(plain(b"\x00" * MAX_SHOWN))
    assert hexed.endswith(f"({MAX_SHOWN} bytes)")


def test_nothing_in_serde_imports_the_console() -> None:
    """Imports point one way: cli -> serde.console -> serde's engines, never back."""
    code = ("import serde, serde.formats, serde.registry, serde.registry.server, serde.compat, serde.translate, "
            "serde.gateway.pipeline, serde.local, sys; print([m for m in sys.modules if m.startswith('serde.console')])")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
    importing = re.compile(r"^\s*(from\s+(serde|\.+)\.?console\b|import\s+serde\.console\b)", re.M)
    for path in (ROOT / "serde").rglob("*.py"):
        if "console" not in path.parts:
            assert not importing.search(path.read_text(encoding="utf-8")), path
