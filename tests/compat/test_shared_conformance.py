"""Confluent's published compatibility verdicts (../shared/conformance, beside the
checkout in CI and development) must all agree with serde.compat.check."""
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
RUNNER = ROOT.parent / "shared" / "conformance" / "run"


@pytest.mark.skipif(not RUNNER.exists(), reason="the shared conformance vectors are not beside this checkout")
def test_every_confluent_verdict_agrees():
    result = subprocess.run([sys.executable, str(RUNNER), "--quiet"], capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    summary = re.search(r"(\d+) passed, (\d+) failed", result.stdout)
    assert summary, result.stdout
    assert int(summary.group(1)) >= 158 and summary.group(2) == "0", result.stdout
