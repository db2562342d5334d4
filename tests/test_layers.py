"""The layer rule of ARCHITECTURE.md: data flows one way, enforced by import-linter."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_import_linter_layers_contract_holds() -> None:
    exe = shutil.which("lint-imports") or str(Path(sys.executable).parent / "lint-imports")
    if not Path(exe).exists():
        pytest.fail("import-linter is a test dependency; install the test extras")
    proc = subprocess.run([exe, "--config", str(ROOT / "pyproject.toml")], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert " kept, 0 broken" in proc.stdout


def test_a_backward_import_would_be_caught(tmp_path: Path) -> None:
    # Negative control: the same contract on a copy of the package where the spec layer imports
    # the compiled layer must be reported broken.
    exe = shutil.which("lint-imports") or str(Path(sys.executable).parent / "lint-imports")
    pkg = tmp_path / "kltools"
    shutil.copytree(ROOT / "kltools", pkg, ignore=shutil.ignore_patterns("__pycache__"))
    bad = pkg / "spec" / "_bad.py"
    bad.write_text("import kltools.compiled.program\n")
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    proc = subprocess.run([exe, "--config", str(tmp_path / "pyproject.toml")], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120,
                          env={"PYTHONPATH": str(tmp_path), "PATH": "/usr/bin:/bin"})
    assert proc.returncode != 0
    assert "broken" in proc.stdout
