"""Every module imports on its own in a fresh interpreter, and serde never imports cli."""
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _modules(package: str) -> list[str]:
    names = [package]
    for info in pkgutil.walk_packages([str(ROOT / package)], prefix=f"{package}."):
        names.append(info.name)
    return sorted(names)


@pytest.mark.parametrize("module", _modules("serde") + _modules("cli"))
def test_module_imports_alone(module):
    code = f"import {module}, sys; bad = [m for m in sys.modules if m == 'cli' or m.startswith('cli.')]; print(bad)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert result.returncode == 0, result.stderr
    if module.startswith("serde"):
        assert result.stdout.strip() == "[]", f"{module} pulled in the CLI: {result.stdout}"


def test_formats_registry_and_compat_never_import_the_gateway():
    code = (
        "import serde, serde.formats, serde.registry.client, sys; "
        "print([m for m in sys.modules if m.startswith('serde.gateway')])"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
