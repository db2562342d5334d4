"""``kltools check``: options routed by the registry, every example reported, reproduction."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from kltools.checks.command import properties_help, report_text
from kltools.checks.properties import PROPERTIES
from kltools.checks.verdict import Status, Verdict
from kltools.cli import main


def _spec(tmp_path: Path, expr: str, names: str, init: str) -> str:
    vars_ = ", ".join(f'"{v}"' for v in names.split(","))
    theta = ", ".join(f'"{v}"' for v in init.split(","))
    p = tmp_path / "spec.toml"
    p.write_text(f'[objective]\nexpr = "{expr}"\nvars = [{vars_}]\n[init]\ntheta = [{theta}]\n')
    return str(p)


def test_help_documents_every_registered_property() -> None:
    text = properties_help()
    for prop in PROPERTIES.values():
        assert f"{prop.name}: {prop.claim}" in text
    out = CliRunner().invoke(main, ["check", "--help"])
    assert out.exit_code == 0 and "linear-convergence" in out.output


def test_json_lists_each_example_and_refutation_exits_1(tmp_path: Path) -> None:
    spec = _spec(tmp_path, "x**4", "x", "0.5")
    out = CliRunner().invoke(main, ["check", spec, "--property", "lojasiewicz", "--exponent",
                                    "1/2", "--examples", "1", "--json"])
    assert out.exit_code == 1, out.output
    data = json.loads(out.stdout)
    assert data["verdict"] == "refuted"
    [rec] = data["records"]
    assert rec["verdict"] == "refuted" and rec["init"] == ["1/2"] and float(rec["horizon"]) > 0
    assert rec["evidence"]["limit"]["exponent"] == "3/4"


def test_an_option_of_another_property_is_a_usage_error(tmp_path: Path) -> None:
    spec = _spec(tmp_path, "x**2", "x", "1")
    out = CliRunner().invoke(main, ["check", spec, "--property", "energy", "--exponent", "1/2"])
    assert out.exit_code == 2
    assert "--exponent goes with --property lojasiewicz" in out.output
    assert "Traceback" not in out.output


def test_text_names_inconclusive_examples_with_the_integrate_command() -> None:
    rec = {"init": ["1/3", "2"], "verdict": "inconclusive", "reason": "tail too short",
           "horizon": "1e+06", "evidence": {}}
    v = Verdict("lojasiewicz", "claim", Status.INCONCLUSIVE, {}, examples=2,
                records=[{**rec, "verdict": "holds"}, rec])
    text = report_text(v, "my spec.toml", 40)
    assert "inconclusive examples (1)" in text
    assert "kltools integrate 'my spec.toml' --init 1/3,2 --t-end 1e+06 --dps 40" in text
