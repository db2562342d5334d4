"""Proof scripts found by name or by file: the user's own file runs like a built-in proof.

The template ``examples/my_proof.py`` is the recipe "how to add a proof" (kltools.proving's
docstring and the developer notes point to it): copied into a fresh directory it runs with one
proved claim and one refuted control, and the same file with a wrong expectation fails.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from kltools.cli import main
from kltools.errors import SpecError
from kltools.proving import ProofScript, check_script, load, load_file, load_proof

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "examples" / "my_proof.py"


def _prove(*args: str) -> object:
    return CliRunner().invoke(main, ["prove", *args, "--workers", "1"])


def test_a_users_proof_file_runs_with_its_verdicts(tmp_path: Path) -> None:
    mine = tmp_path / "my_proof.py"
    mine.write_text(TEMPLATE.read_text(encoding="utf-8"), encoding="utf-8")
    out = tmp_path / "report"
    res = _prove(str(mine), "--out", str(out), "--json")
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    [proof] = data["proofs"]
    assert proof["name"] == "my-euler"
    assert [(r["verdict"], r["control"]) for r in proof["results"]] == [
        ("proved", False), ("refuted", True)]
    assert proof["results"][1]["evidence"]["value"] == "-3"
    assert "## Euler's identity for a homogeneous polynomial" in (
        out / "report.md").read_text(encoding="utf-8")


def test_a_users_proof_with_a_wrong_expectation_exits_1(tmp_path: Path) -> None:
    # The same proof claiming Euler's identity with the wrong degree: refuted, not proved.
    wrong = TEMPLATE.read_text(encoding="utf-8").replace(
        'euler_defect(x**2 * y**2, 4)', 'euler_defect(x**2 * y**2, 3)')
    (tmp_path / "wrong.py").write_text(wrong, encoding="utf-8")
    res = _prove(str(tmp_path / "wrong.py"), "--out", str(tmp_path / "r"))
    assert res.exit_code == 1
    assert "✗ refuted" in res.stdout and "expected proved" in res.stdout


@pytest.mark.parametrize(("text", "message"), [
    ("x = 1\n", "defines no PROOF and no run"),
    ("from kltools.proving import Proof\nPROOF = Proof('p', 't', 's', (), ())\n",
     "defines no run"),
    ("PROOF = 3\ndef run(config):\n    return []\n", "PROOF is a int"),
    ("def run(:\n", "line 1"),
    ("import no_such_module_anywhere\n", "ModuleNotFoundError"),
])
def test_a_file_that_is_not_a_proof_is_one_line_and_exit_2(tmp_path: Path, text: str,
                                                           message: str) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text(text, encoding="utf-8")
    res = _prove(str(bad), "--out", str(tmp_path / "r"))
    assert res.exit_code == 2
    assert res.stderr.count("\n") == 1 and message in res.stderr and str(bad) in res.stderr
    assert "Traceback" not in res.output
    assert not (tmp_path / "r").exists()


def test_a_missing_file_is_exit_2(tmp_path: Path) -> None:
    res = _prove(str(tmp_path / "nowhere.py"))
    assert res.exit_code == 2 and "does not exist" in res.stderr


def test_built_in_and_file_scripts_satisfy_the_protocol() -> None:
    assert isinstance(load_proof("rates"), ProofScript)
    assert isinstance(load(str(TEMPLATE)), ProofScript)
    assert load_file(TEMPLATE) is load_file(str(TEMPLATE))  # one module per file
    with pytest.raises(SpecError, match="defines no run"):
        check_script(type("M", (), {"PROOF": load_proof("rates").PROOF}), "m")
    with pytest.raises(SpecError, match=r"unknown proof 'nope'.*rates"):
        load("nope")
