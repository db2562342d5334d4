"""Resource limits of specs (issue 14): refused before allocation, with the limit and the fix.

Every oversized case here hung or exhausted memory before the limits existed (widths
[2, 1e9, 1] reached 4.8 GB before being killed); they are refused now from sizes alone, so each
test runs in milliseconds. The limits can be raised by environment variable, by
``limits.override`` and by ``kltools --limit``.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from kltools.cli import main
from kltools.errors import SpecError
from kltools.spec import limits, load_problem


def mlp(layers: str, n: int = 2, *, width: int = 2, extra: str = "") -> str:
    xs = ", ".join("[" + ", ".join(f'"{(i + j) % 5}"' for j in range(width)) + "]"
                   for i in range(n))
    ys = ", ".join(f'"{i % 3}"' for i in range(n))
    return f"[network]\nlayers = {layers}\n{extra}\n[data]\nx = [{xs}]\ny = [{ys}]\n"


def refused(spec: str, limit: str, path: str) -> SpecError:
    with pytest.raises(SpecError) as err:
        load_problem(spec)
    e = err.value
    assert e.path == path, e
    assert f"limit {limit} = {limits.get(limit)}" in e.message, e.message
    assert f"KLTOOLS_MAX_{limit.upper()}=" in e.message
    assert f"kltools --limit {limit}=" in e.message
    return e


@pytest.mark.parametrize("layers, limit, path", [
    ("[1000, 1000, 1]", "parameters", "network.layers"),
    ("[2, 1000000, 1]", "width", "network.layers[1]"),
    ("[2, 1000000000, 1]", "width", "network.layers[1]"),
    ("[2, 200, 200, 1]", "parameters", "network.layers"),
    ("[" + ", ".join(["2"] * 101) + ", 1]", "layers", "network.layers"),
])
def test_oversized_mlps_are_refused(layers: str, limit: str, path: str) -> None:
    refused(mlp(layers, width=2 if not layers.startswith("[1000,") else 1000), limit, path)


def test_the_message_names_what_was_asked() -> None:
    e = refused(mlp("[1000, 1000, 1]", width=1000), "parameters", "network.layers")
    assert "1001000 parameters" in e.message and "KLTOOLS_MAX_PARAMETERS=1001000" in e.message


def test_too_many_particles_are_refused() -> None:
    spec = '[network]\nkind = "mean-field"\nparticles = 10000000\n[data]\nx = [["1"]]\ny = ["1"]\n'
    refused(spec, "width", "network.particles")


def test_a_too_deep_diagonal_network_is_refused() -> None:
    spec = '[network]\nkind = "diagonal"\ndepth = 1000000\n[data]\nx = [["1", "2"]]\ny = ["1"]\n'
    refused(spec, "layers", "network.depth")


@pytest.mark.parametrize("n, layers", [(20_000, "[2, 3, 1]"), (200_000, "[2, 1]")])
def test_too_many_samples_are_refused_before_conversion(n: int, layers: str) -> None:
    # 20 000-sample ReLU data, 200 000-sample linear data (the TOML itself is read, that is all).
    refused(mlp(layers, n) + '\n', "samples", "data.x")


def test_a_derivation_too_big_for_the_machine_is_refused() -> None:
    # 2001 samples through [2, 100, 1]: 2001 × (300 weights + 101 units) terms.
    e = refused(mlp("[2, 100, 1]", 2001), "work", "data.x")
    assert "802401 terms" in e.message


@pytest.mark.parametrize("value", ["1e99999999", "1e999999", "-1e-99999999", "7" * 5000])
def test_huge_numbers_in_data_are_refused(value: str) -> None:
    spec = f'[network]\nlayers = [1, 1]\n[data]\nx = [["{value}"]]\ny = ["1"]\n'
    refused(spec, "number_bits", "data.x[0][0]")


def test_huge_numbers_in_init_are_refused() -> None:
    spec = ('[objective]\nexpr = "x**2"\nvars = ["x"]\n[init]\ntheta = ["1e99999999"]\n')
    refused(spec, "number_bits", "init.theta[0]")


def test_a_huge_toml_integer_is_a_spec_error() -> None:
    with pytest.raises(SpecError, match="not usable TOML"):
        load_problem('[objective]\nexpr = "x**2"\nvars = ["x"]\n[init]\ntheta = ['
                     + "9" * 5000 + "]\n")


def test_too_many_init_values_are_refused_before_conversion() -> None:
    theta = ", ".join(['"1"'] * 30_000)
    refused(f'[objective]\nexpr = "x**2"\nvars = ["x"]\n[init]\ntheta = [{theta}]\n',
            "parameters", "init.theta")


def test_a_spec_file_over_the_size_limit_is_not_read(tmp_path: Path) -> None:
    path = tmp_path / "big.toml"
    path.write_text(mlp("[2, 1]", 50), encoding="utf-8")
    with limits.override(spec_bytes=100), pytest.raises(SpecError, match="limit spec_bytes"):
        load_problem(path)
    assert load_problem(path).data.n == 50  # type: ignore[union-attr]


def test_limits_are_raised_by_environment_and_override(monkeypatch: pytest.MonkeyPatch) -> None:
    spec = mlp("[2, 5000, 1]")
    refused(spec, "width", "network.layers[1]")
    monkeypatch.setenv("KLTOOLS_MAX_WIDTH", "5000")
    assert load_problem(spec).n_parameters == 15_000
    monkeypatch.delenv("KLTOOLS_MAX_WIDTH")
    with limits.override(width=5000):
        assert load_problem(spec).n_parameters == 15_000
    refused(spec, "width", "network.layers[1]")


def test_bad_limit_settings_are_spec_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KLTOOLS_MAX_WIDTH", "lots")
    with pytest.raises(SpecError, match="KLTOOLS_MAX_WIDTH must be a positive integer"):
        limits.get("width")
    with pytest.raises(SpecError, match="NAME=VALUE"):
        limits.parse_assignment("widht=3")
    with pytest.raises(SpecError, match="positive integer"):
        limits.parse_assignment("width=-3")
    assert limits.parse_assignment("expr-depth=300") == ("expr_depth", 300)
    with pytest.raises(SpecError, match="unknown limit"), limits.override(nope=3):
        pass


def test_the_cli_option_sets_a_limit_for_one_run(tmp_path: Path) -> None:
    path = tmp_path / "small.toml"
    path.write_text(mlp("[2, 3, 1]"), encoding="utf-8")
    runner = CliRunner()
    lowered = runner.invoke(main, ["--limit", "width=2", "derive", str(path)])
    assert lowered.exit_code == 2
    assert "limit width = 2" in lowered.output and len(lowered.output.splitlines()) == 1
    assert runner.invoke(main, ["derive", str(path)]).exit_code == 0  # the next run: default
    bad = runner.invoke(main, ["--limit", "width", "derive", str(path)])
    assert bad.exit_code == 2 and "NAME=VALUE" in bad.output


def test_every_limit_is_documented_with_its_default() -> None:
    page = (Path(__file__).resolve().parents[2] / "docs" / "limits.md").read_text("utf-8")
    rows = {m.group(1): int(m.group(2))
            for m in re.finditer(r"^\| `(\w+)` \| (\d+) \|", page, re.MULTILINE)}
    assert rows == {name: lim.default for name, lim in limits.LIMITS.items()}
    doc = limits.__doc__ or ""
    for name, lim in limits.LIMITS.items():
        assert re.search(rf"``{name}``\s+{lim.default}\s", doc), name


def test_too_many_activation_pieces_or_activations_are_refused() -> None:
    pieces = ", ".join(['"z"'] * 101)
    bps = ", ".join(f'"{i}"' for i in range(100))
    spec = mlp("[1, 2, 1]", width=1,
               extra=f"activation = {{ pieces = [{pieces}], breakpoints = [{bps}] }}")
    refused(spec, "pieces", "network.activation.pieces")
    acts = ", ".join(['"relu"'] * 1000)
    refused(mlp("[2, 3, 1]", extra=f"activation = [{acts}]"), "layers", "network.activation")


def test_exported_limits_reach_child_processes_and_are_restored(
        monkeypatch: pytest.MonkeyPatch) -> None:
    import os
    import subprocess
    import sys

    monkeypatch.setenv("KLTOOLS_MAX_SAMPLES", "123")
    monkeypatch.delenv("KLTOOLS_MAX_WIDTH", raising=False)
    code = ("from kltools.spec import limits; "
            "print(limits.get('width'), limits.get('samples'))")
    env_path = {"PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    with limits.exported(width=7, samples=9):
        assert limits.get("width") == 7
        child = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                               env={**os.environ, **env_path}, timeout=120)
        assert child.stdout.split() == ["7", "9"], child.stderr
    assert os.environ["KLTOOLS_MAX_SAMPLES"] == "123" and "KLTOOLS_MAX_WIDTH" not in os.environ
    assert limits.get("width") == limits.LIMITS["width"].default


def test_the_first_edge_closing_a_cycle_is_reported() -> None:
    from kltools.spec import graph_network

    n = 400  # a chain listed backwards: the acyclicity check is one pass, not one per edge
    nodes = [{"name": f"h{i}"} for i in range(n)]
    edges = [[f"h{i}", f"h{i + 1}"] for i in reversed(range(n - 1))] + [["x", "h0"]]
    assert len(graph_network(nodes, edges, inputs=["x"], outputs=[f"h{n - 1}"]).parameters) == n
    bad = [*edges[:10], ["h390", "h385"], *edges[10:], ["h5", "h2"]]
    # edges[k] is h(398-k) -> h(399-k) for k < 10; the inserted h390 -> h385 is edges[10]; the
    # cycle h385 -> ... -> h390 -> h385 is closed by h385 -> h386, listed at index 14.
    with pytest.raises(SpecError, match="h385 -> h386 closes the cycle h386 -> h387 -> h388 "
                                        "-> h389 -> h390 -> h385 -> h386") as err:
        graph_network(nodes, bad, inputs=["x"], outputs=[f"h{n - 1}"])
    assert err.value.path == "network.edges[14]"
