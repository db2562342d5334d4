"""The layer rule of ARCHITECTURE.md: data flows one way, enforced by import-linter, over every
module of the package (exhaustive) and over the proof scripts in ``proofs/``."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _lint(root: Path) -> subprocess.CompletedProcess[str]:
    exe = shutil.which("lint-imports") or str(Path(sys.executable).parent / "lint-imports")
    if not Path(exe).exists():
        pytest.fail("import-linter is a test dependency; install the test extras")
    return subprocess.run([exe, "--config", str(root / "pyproject.toml")], cwd=root,
                          capture_output=True, text=True, timeout=120,
                          env={"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin"})


def test_import_linter_contracts_hold() -> None:
    proc = _lint(ROOT)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "4 kept, 0 broken" in proc.stdout


def _copy(tmp_path: Path) -> Path:
    for name in ("kltools", "proofs"):
        shutil.copytree(ROOT / name, tmp_path / name,
                        ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


@pytest.mark.parametrize(("path", "text", "broken"), [
    # the spec layer importing the compiled layer: a backward import
    ("kltools/spec/_bad.py", "import kltools.compiled.program\n", "Data flows one way"),
    # a new top-level module placed in no layer: the contract is exhaustive
    ("kltools/unplaced.py", "import kltools.errors\n", "Data flows one way"),
    # a proof script reaching up into the CLI
    ("proofs/_bad.py", "import kltools.cli\n", "Proof scripts use the library"),
    # the library importing a proof script statically
    ("kltools/report/_bad.py", "import proofs.rates\n", "never imports a proof script"),
])
def test_a_broken_rule_would_be_caught(tmp_path: Path, path: str, text: str,
                                       broken: str) -> None:
    root = _copy(tmp_path)
    (root / path).write_text(text)
    proc = _lint(root)
    assert proc.returncode != 0
    out = " ".join(proc.stdout.split())
    assert "BROKEN" in out or "broken" in out
    if "unplaced" in path:
        assert "unplaced" in out  # named as the module no layer declares
    else:
        assert f"{broken}" in out and "BROKEN" in out.split(broken, 1)[1][:200]
