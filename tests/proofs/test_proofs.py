"""The proof scripts in reduced mode (``kltools prove --all --quick``): every verdict is the
expected one, the JSON lists every claim with its evidence, the report and its plots exist.

The proofs run once per test session (a module fixture invoking the CLI in-process); the other
tests read that run. Runtime is the reduced mode's, about a minute on two cores.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import sympy as sp
from click.testing import CliRunner

from kltools.cli import main
from kltools.proving import VERDICTS, ClaimResult, Config, Proof, ProofRun
from kltools.proving.registry import PACKAGE, available, load_proof, proofs_package

ROOT = Path(__file__).resolve().parents[2]
# The figures issue 6 asks for, by the proof that draws them.
REQUIRED_PLOTS = {
    "rayleigh_overparam.png": "loss on a log scale against the predicted rate",
    "lojasiewicz_mean_field.png": "log-log Łojasiewicz plot with the fitted exponent",
    "svm_angle.png": "angle to the limit direction against log t",
    "relu_event_timeline.png": "event timeline of a ReLU flow",
    "relu_margins.png": "margin against time",
}


@pytest.fixture(scope="module")
def quick(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    out = tmp_path_factory.mktemp("report")
    res = CliRunner().invoke(main, ["prove", "--all", "--quick", "--json", "--out", str(out)])
    return {"result": res, "data": json.loads(res.stdout), "out": out}


def _proof(data: dict[str, Any], name: str) -> dict[str, Any]:
    return next(p for p in data["proofs"] if p["name"] == name)


def test_prove_all_quick_exits_0_with_every_verdict_as_expected(quick: dict[str, Any]) -> None:
    res, data = quick["result"], quick["data"]
    assert res.exit_code == 0, res.stderr[-3000:]
    assert data["as_expected"] and not data["unexpected"]
    assert data["claims"] == data["claims_as_expected"] >= 35
    assert [p["name"] for p in data["proofs"]] == available()


@pytest.mark.parametrize("name", available())
def test_each_proof_gets_its_expected_verdicts(quick: dict[str, Any], name: str) -> None:
    proof = _proof(quick["data"], name)
    assert proof["error"] is None
    results = proof["results"]
    assert any(r["control"] for r in results), "every proof has a negative control"
    assert any(not r["control"] for r in results)
    for r in results:
        assert r["verdict"] == r["expected"], (r["claim"], r["evidence"])
        if r["control"]:
            assert r["verdict"] == "refuted"
        else:
            assert r["verdict"] in ("proved", "verified")


def test_json_lists_every_claim_with_verdict_and_evidence(quick: dict[str, Any]) -> None:
    data = quick["data"]
    assert {"as_expected", "claims", "unexpected", "mode", "seed", "seconds", "versions",
            "proofs", "report"} <= set(data)
    assert data["mode"] == "quick"
    for proof in data["proofs"]:
        assert {"name", "title", "source", "hypotheses", "claims", "models", "results",
                "as_expected", "seconds"} <= set(proof)
        assert proof["hypotheses"] and proof["claims"] and proof["models"]
        for text in proof["models"].values():
            from kltools.spec import load_problem

            load_problem(text)  # every toy model is a valid spec
        for r in proof["results"]:
            assert {"claim", "expected", "verdict", "as_expected", "control", "summary",
                    "evidence", "plots", "model"} <= set(r)
            assert r["verdict"] in VERDICTS and r["expected"] in VERDICTS
            assert isinstance(r["evidence"], dict) and r["evidence"]
            assert "error" not in r["evidence"]
            assert r["summary"]
            assert r["model"] in proof["models"]


def test_report_md_and_plots(quick: dict[str, Any]) -> None:
    out, data = quick["out"], quick["data"]
    report = (out / "report.md").read_text(encoding="utf-8")
    assert report.startswith("# kltools proof report")
    assert "## Summary" in report and "| proof | claim | expected | verdict |" in report
    pngs = [png for p in data["proofs"] for r in p["results"] for png in r["plots"]]
    assert set(REQUIRED_PLOTS) <= set(pngs)
    for png in pngs:
        path = out / png
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert path.stat().st_size > 15_000, f"{png} looks empty"
        assert f"]({png})" in report
    for p in data["proofs"]:
        assert f"## {p['title']}" in report
        for r in p["results"]:
            text = " ".join(r["claim"].split())
            if r["control"] and text.startswith("control"):
                text = text[len("control"):]  # written "Control (...)" / "*control* (...)"
            assert text in report


def test_unknown_proof_and_missing_names_are_usage_errors(tmp_path: Path) -> None:
    res = CliRunner().invoke(main, ["prove", "no-such-proof", "--out", str(tmp_path)])
    assert res.exit_code == 2
    assert "unknown proof" in res.stderr and "energy-blowup" in res.stderr
    res = CliRunner().invoke(main, ["prove"])
    assert res.exit_code == 2 and "--all" in res.stderr
    assert not (tmp_path / "report.md").exists()


def test_list_names_every_proof() -> None:
    res = CliRunner().invoke(main, ["prove", "--list"])
    assert res.exit_code == 0
    assert [line.split()[0] for line in res.stdout.splitlines()] == available()
    assert max(len(line) for line in res.stdout.splitlines()) <= 100


@pytest.mark.parametrize(("verdict", "code"), [("refuted", 1), ("inconclusive", 3)])
def test_exit_code_when_a_verdict_is_not_the_expected_one(monkeypatch: pytest.MonkeyPatch,
                                                          tmp_path: Path, verdict: str,
                                                          code: int) -> None:
    import kltools.proving as proving

    def fake(scripts: list[Any], config: Config, **_: Any) -> list[ProofRun]:
        return [ProofRun(Proof("rates", "t", "s", ("h",), ("c",)),
                         [ClaimResult("a claim", "verified", verdict, {"x": 1}, "s")])]

    monkeypatch.setattr(proving, "run_proofs", fake)
    res = CliRunner().invoke(main, ["prove", "rates", "--out", str(tmp_path)])
    assert res.exit_code == code
    assert "✗ " + verdict in res.stdout and "expected verified" in res.stdout
    assert "0 of 1 verdicts as expected" in res.stdout


def test_proofs_load_as_one_package_from_the_source_tree() -> None:
    pkg = proofs_package()
    assert pkg.__name__ == PACKAGE
    assert [m.replace("_", "-") for m in pkg.ORDER] == available()
    for name in available():
        module = load_proof(name)
        assert module.PROOF.name == name and callable(module.run)
    # A wheel ships proofs/ as kltools/_proofs (the modules import their helpers relatively).
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert '"proofs" = "kltools/_proofs"' in pyproject


def test_hard_margin_svm_is_exact() -> None:
    svm = load_proof("directional").hard_margin_svm
    s = svm([["2", "0.5"], ["1", "1.5"], ["0.25", "1"], ["-1", "-0.5"], ["-0.5", "-2"]],
            [1, 1, 1, -1, -1])
    assert s.w == (sp.Rational(4, 7), sp.Rational(6, 7))
    assert s.support == (2, 3)
    assert [s.alpha[i] for i in s.support] == [sp.Rational(32, 49), sp.Rational(20, 49)]
    assert s.margin == 7 * sp.sqrt(13) / 26
    from kltools.errors import DerivationError

    with pytest.raises(DerivationError, match="not linearly separable"):
        svm([["1", "0"], ["1", "0"]], [1, -1])
