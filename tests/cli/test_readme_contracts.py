"""The README's "Data contracts" section runs as written: its shell block (rules test,
then register into the embedded registry) and its Python block (encrypt, decrypt, a
refused record), in a scratch directory with the repository's schemas."""
from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _section() -> str:
    readme = (ROOT / "README.md").read_text()
    start = readme.index("## Data contracts: rules, encryption, migrations\n")
    return readme[start:readme.index("\n## ", start + 1)]


def test_readme_data_contracts_section_runs(tmp_path):
    (shell,) = re.findall(r"```sh\n(.*?)```", _section(), re.S)
    (python,) = re.findall(r"```python\n(.*?)```", _section(), re.S)
    (tmp_path / "schemas").symlink_to(ROOT / "schemas")
    (tmp_path / ".venv").symlink_to(Path(sys.executable).parent.parent)
    env = {k: v for k, v in os.environ.items() if not k.startswith("SERDE_") and k != "LOCAL_SECRET"}
    test, register = [shlex.split(line) for line in shell.strip().splitlines()]
    tried = subprocess.run(test, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert tried.returncode == 1, tried.stderr  # the minor in the sample file is refused
    assert "maskPII (CEL_FIELD TRANSFORM, WRITE) changed: $.ssn" in tried.stdout
    assert "adult (CEL CONDITION, WRITE) failed: people on this topic are adults" in tried.stdout
    registered = subprocess.run(register, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert registered.returncode == 0, registered.stderr
    assert '"subject": "people-value"' in registered.stdout
    ran = subprocess.run([sys.executable, "-c", python], cwd=tmp_path, env=env, capture_output=True, text=True,
                         timeout=120)
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.startswith("adult ") and "people on this topic are adults" in ran.stdout
