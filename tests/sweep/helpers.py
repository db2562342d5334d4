"""What the sweep tests share: example specs, a CLI runner, a comparison of results files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result

from kltools.cli import main
from kltools.sweep import comparable, load_results

ROOT = Path(__file__).resolve().parents[2]
RELU = ROOT / "examples" / "relu_two_layer.toml"
# L = -x^4 + x^2/1000, seeded inits of scale 1/5: about half blow up before t = 10.
BLOWUP_SPEC = """\
[objective]
expr = "-x**4 + x**2/1000"
vars = ["x"]
[init]
seed = 0
scale = "0.2"
"""


def run_cli(*args: str, **kwargs: Any) -> Result:
    return CliRunner().invoke(main, list(args), **kwargs)


def same_results(a: Path, b: Path) -> None:
    ha, la = load_results(a)
    hb, lb = load_results(b)
    assert ha["spec_sha256"] == hb["spec_sha256"] and ha["options"] == hb["options"]
    assert [r["index"] for r in la] == [r["index"] for r in lb]
    assert [comparable(r) for r in la] == [comparable(r) for r in lb]
