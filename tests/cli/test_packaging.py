"""The command line installs under serde's own name, never as a top-level ``cli``."""
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    out = tmp_path_factory.mktemp("wheel")
    result = subprocess.run([sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps", "--no-build-isolation",
                             "-q", "-w", str(out)], capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    (wheel,) = out.glob("serde_kafka-*.whl")
    return zipfile.ZipFile(wheel)


def test_wheel_has_no_top_level_cli(wheel):
    wheel_names = wheel.namelist()
    top = {name.split("/")[0] for name in wheel_names}
    assert "cli" not in top
    assert {"serde", "serde_cli"} <= top
    assert "serde_cli/main.py" in wheel_names and "serde_cli/convert.py" in wheel_names


def test_wheel_ships_every_serde_package(wheel):
    wheel_names = wheel.namelist()
    packages = {str(p.parent.relative_to(ROOT)) for p in (ROOT / "serde").rglob("__init__.py")}
    assert {p for p in packages if f"{p}/__init__.py" not in wheel_names} == set()


def test_console_script_points_into_serde_cli(wheel):
    entry_points = next(n for n in wheel.namelist() if n.endswith(".dist-info/entry_points.txt"))
    assert "serde = serde_cli.main:cli" in wheel.read(entry_points).decode()


def test_installed_serde_command_runs():
    serde = Path(sys.executable).parent / "serde"
    result = subprocess.run([str(serde), "--help"], capture_output=True, text=True, timeout=60, cwd="/")
    assert result.returncode == 0, result.stderr
    assert "convert" in result.stdout
