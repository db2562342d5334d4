"""Fuzzing specs and expressions through the CLI (issue 14): exit 0 or 2, never a traceback.

Valid specs are broken by generated mutations (a key deleted, a value replaced by a wrong type,
an absurd number or a hostile string, an unknown key added) and run through ``kltools derive``
in-process. Every answer must be exit 0 (the mutation happened to be valid) or exit 2 with one
line on stderr naming the problem; never exit 4, never a traceback, and each case within a CPU
budget. The limits are lowered on the command line (``--limit``) so that the valid mutations
stay cheap to derive. Options are fuzzed in the tests of the run commands.
"""

from __future__ import annotations

import copy
import tempfile
from pathlib import Path
from typing import Any

import tomli_w
from click.testing import CliRunner
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from kltools.cli import main
from tests.spec.hostile import BREAKOUTS, HUGE, PAYLOADS, cpu_budget

CASE_BUDGET = 30.0  # CPU seconds: a hang guard, a case takes ~0.05 s
LOW_LIMITS = ["--limit", "work=3000", "--limit", "parameters=300", "--limit", "width=64",
              "--limit", "samples=50", "--limit", "degree=60", "--limit", "expr_depth=40"]

BASES: list[dict[str, Any]] = [
    {"network": {"layers": [2, 3, 1], "activation": "relu", "bias": False},
     "loss": {"kind": "square", "l2": "0"},
     "data": {"x": [["2", "1"], ["0", "2"]], "y": ["1", "-1"]},
     "init": {"theta": ["0.3", "-0.05", "0.4", "0.2", "-0.6", "0.5", "0.8", "-0.3", "0.25"]}},
    {"network": {"kind": "graph", "inputs": ["x1", "x2"],
                 "nodes": [{"name": "h", "activation": "relu"}, {"name": "y"}],
                 "edges": [["x1", "h"], ["x2", "h"], ["h", "y"], ["x1", "y"]],
                 "outputs": ["y"]},
     "data": {"x": [["1", "0"], ["0", "1"]], "y": ["1", "0.5"]}},
    {"network": {"kind": "mean-field", "particles": 3, "activation": "tanh"},
     "loss": {"kind": "square", "l2": "0.01"},
     "data": {"x": [["1"], ["2"]], "y": ["1", "0"]}, "init": {"seed": 7, "scale": "0.5"}},
    {"network": {"kind": "diagonal", "depth": 3},
     "data": {"x": [["1", "2"], ["2", "1"]], "y": ["1", "0"]}},
    {"network": {"layers": [1, 2, 1],
                 "activation": {"pieces": ["-z/4", "z + z**2"], "breakpoints": ["0"]}},
     "data": {"x": [["1"], ["-1"]], "y": ["1", "0.2"]}},
    {"network": {"layers": [2, 1]}, "loss": {"kind": "logistic"},
     "data": {"x": [["1", "2"], ["-1", "-1"]], "y": ["1", "-1"]}},
    {"objective": {"expr": "(relu(a)*b - 1)**2/2 + (a - 2)**2/8", "vars": ["a", "b"]},
     "init": {"theta": ["-0.5", "1"]}, "name": "toy"},
]

ABSURD = ["1e99999999", "1e999999", "9" * 5000, "-1e-99999999", "nan", "inf", "-inf", "1/0",
          "0x10", "", " ", "1/2/3", "leaky_relu(1e99999999)", "piecewise(z; | 0)", "relu",
          "z**1001", "mean-field", "graph", "exponential", "ｘ", "\x00", "1" * 300,
          *PAYLOADS[:8], *BREAKOUTS[:5], *HUGE[:6]]

_scalars = st.one_of(
    st.booleans(),
    st.integers(-(2**63), 2**63 - 1),
    st.sampled_from([0, -1, 10**6, 10**9, 2**62]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.sampled_from(ABSURD),
)
_values = st.recursive(_scalars, lambda v: st.one_of(st.lists(v, max_size=4),
                                                      st.dictionaries(st.text(max_size=6), v,
                                                                      max_size=3)),
                       max_leaves=8)


def _paths(doc: Any, prefix: tuple = ()) -> list[tuple]:
    """Every place in the document (dict keys and list indices), outermost first."""
    out = [prefix] if prefix else []
    if isinstance(doc, dict):
        for k, v in doc.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            out += _paths(v, (*prefix, i))
    return out


def _parent(doc: Any, path: tuple) -> Any:
    for k in path[:-1]:
        doc = doc[k]
    return doc


@st.composite
def malformed_specs(draw: Any) -> dict[str, Any]:
    doc = copy.deepcopy(draw(st.sampled_from(BASES)))
    for _ in range(draw(st.integers(1, 3))):
        places = _paths(doc)
        if not places:
            break
        path = draw(st.sampled_from(places))
        parent = _parent(doc, path)
        how = draw(st.sampled_from(["replace", "replace", "replace", "delete", "add", "wrap"]))
        if how == "delete":
            del parent[path[-1]]
        elif how == "add" and isinstance(parent, dict):
            parent[draw(st.sampled_from(["kind", "extra", "layers", "x", "ｘ", "__class__"]))] = (
                draw(_values))
        elif how == "wrap":
            parent[path[-1]] = [parent[path[-1]]]
        else:
            parent[path[-1]] = draw(_values)
    return doc


def _refusal_or_success(result: Any) -> None:
    assert "Traceback" not in result.output, result.output
    assert result.exit_code in (0, 2), (result.exit_code, result.output)
    if result.exit_code == 2:
        lines = result.stderr.splitlines()
        assert len(lines) == 1 and lines[0].startswith("kltools: error: "), result.stderr
        assert result.stdout == ""


def test_malformed_specs_get_one_line_and_exit_2(tmp_path: Path) -> None:
    runner = CliRunner()
    seen = {0: 0, 2: 0}

    @settings(max_examples=200, derandomize=True, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(malformed_specs())
    def case(doc: dict[str, Any]) -> None:
        try:
            text = tomli_w.dumps(doc)
        except (TypeError, ValueError):
            assume(False)  # not expressible in TOML (e.g. a 5000-digit int): not a spec file
        path = tmp_path / "spec.toml"
        path.write_text(text, encoding="utf-8")
        with cpu_budget(CASE_BUDGET):
            result = runner.invoke(main, [*LOW_LIMITS, "derive", str(path), "--format", "json"])
        _refusal_or_success(result)
        seen[result.exit_code] += 1

    case()
    assert seen[0] + seen[2] == 200 and seen[2] >= 150, seen


def test_the_unbroken_bases_derive_under_the_lowered_limits(tmp_path: Path) -> None:
    # Control: the refusals above come from the mutations, not from the harness or the limits.
    for i, doc in enumerate(BASES):
        path = tmp_path / f"base{i}.toml"
        path.write_text(tomli_w.dumps(doc), encoding="utf-8")
        result = CliRunner().invoke(main, [*LOW_LIMITS, "derive", str(path), "--format", "json"])
        assert result.exit_code == 0, (doc, result.output)


@settings(max_examples=100, derandomize=True, deadline=None, database=None,
          suppress_health_check=list(HealthCheck))
@given(st.lists(st.sampled_from([*"xyab0123456789.+-*/()e, _^%@[]'\"#\\\n\tｘ", "**",
                                  "relu(", "exp(", "Max(", "1e999999", "lambda", " if ", "__"]),
                max_size=25).map("".join),
       st.sampled_from([["x"], ["x", "y"], ["a", "b"], ["x", "ｘ"]]))
def test_malformed_expressions_get_one_line_and_exit_2(text: str, names: list[str]) -> None:
    doc = {"objective": {"expr": text, "vars": names}}
    with tempfile.TemporaryDirectory() as where:
        path = Path(where) / "expr.toml"
        path.write_text(tomli_w.dumps(doc), encoding="utf-8")
        with cpu_budget(CASE_BUDGET):
            result = CliRunner().invoke(main, [*LOW_LIMITS, "derive", str(path)])
    _refusal_or_success(result)


@settings(max_examples=40, derandomize=True, deadline=None, database=None)
@given(st.binary(max_size=200))
def test_garbage_files_get_one_line_and_exit_2(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as where:
        path = Path(where) / "garbage.toml"
        path.write_bytes(data)
        with cpu_budget(CASE_BUDGET):
            result = CliRunner().invoke(main, ["derive", str(path)])
    _refusal_or_success(result)
    assert result.exit_code == 2
