"""The ``[data]`` distribution form: parsing, validation, and which pairs are exact."""

from __future__ import annotations

import pytest
import sympy as sp

from kltools.errors import SpecError
from kltools.spec import load_problem
from kltools.spec.distribution import Distribution, exact_method, input_symbols


def spec(data: str, net: str = 'layers = [1, 2, 1]\nactivation = "relu"', loss: str = "") -> str:
    return f"[network]\n{net}\n{loss}[data]\n{data}\n"


UNIFORM = 'distribution = "uniform"\ndim = 1\nteacher = "relu(x1)"'


def test_uniform_form_loads_with_exact_teacher() -> None:
    p = load_problem(spec(UNIFORM))
    d = p.data
    assert isinstance(d, Distribution)
    x1 = input_symbols(1)[0]
    assert (d.kind, d.dim, d.n) == ("uniform", 1, 1)
    assert d.teacher == sp.Max(x1, 0)
    assert "x ~ U[-1, 1], teacher relu(x1)" in p.describe()


def test_gaussian_form_with_rational_teacher_stays_exact() -> None:
    p = load_problem(spec('distribution = "gaussian"\ndim = 2\nteacher = "0.1*x1 + x2**2"',
                          'layers = [2, 2, 1]\nactivation = "z**2"'))
    x1, x2 = input_symbols(2)
    assert p.data.teacher == sp.Rational(1, 10) * x1 + x2**2  # type: ignore[union-attr]
    assert exact_method(p.network, p.data) == "moments"  # type: ignore[arg-type]


@pytest.mark.parametrize(("net", "data", "method"), [
    ('layers = [1, 2, 1]\nactivation = "z + z**2"', 'distribution = "uniform"\n'
     'teacher = "x1**3"', "moments"),
    ('layers = [1, 2, 1]\nactivation = "abs"\nbias = true', UNIFORM, "piecewise-1d"),
    ('layers = [3, 2, 1]\nactivation = "relu"', 'distribution = "gaussian"\ndim = 3\n'
     'teacher = "relu(x1 - x3) + x2 - 1"', "arc-cosine"),
])
def test_exact_method_names_the_closed_form(net: str, data: str, method: str) -> None:
    p = load_problem(spec(data, net))
    assert exact_method(p.network, p.data) == method  # type: ignore[arg-type]


@pytest.mark.parametrize(("net", "data", "loss", "path", "words"), [
    (None, 'distribution = "beta"\nteacher = "x1"', "", "data.distribution", "unknown"),
    (None, 'distribution = "uniform"\ndim = 0\nteacher = "x1"', "", "data.dim", "integer"),
    (None, 'distribution = "uniform"\ndim = true\nteacher = "x1"', "", "data.dim", "integer"),
    (None, 'distribution = "uniform"', "", "data.teacher", "missing teacher"),
    (None, 'distribution = "uniform"\nteacher = "x2"', "", "data.teacher", "x1 .. x1"),
    (None, 'distribution = "uniform"\nteacher = "__import__(1)"', "", "data.teacher",
     "only these functions"),
    (None, 'distribution = "uniform"\nteacher = "x1"\nx = [1]', "", "data.x", "exclude"),
    (None, 'distribution = "uniform"\ndim = 2\nteacher = "x1"', "", "data.dim", "input"),
    ('layers = [1, 2, 1]\nactivation = "tanh"', UNIFORM, "", "network.activation",
     "no closed form"),
    ('layers = [2, 2, 1]\nactivation = "relu"', 'distribution = "uniform"\ndim = 2\n'
     'teacher = "x1"', "", "data.dim", "no exact expectation"),
    ('layers = [2, 2, 1]\nactivation = "relu"\nbias = true', 'distribution = "gaussian"\n'
     'dim = 2\nteacher = "x1"', "", "data.dim", "bias-free ReLU"),
    ('layers = [1, 2, 1]\nactivation = "relu"\nbias = true', 'distribution = "gaussian"\n'
     'teacher = "x1"', "", "network.bias", "erf"),
    ('layers = [1, 2, 1]\nactivation = "z**2"', UNIFORM, "", "data.teacher", "polynomial"),
    ('layers = [1, 2, 2]\nactivation = "relu"', UNIFORM, "", "network.layers[2]", "one output"),
    (None, UNIFORM, '[loss]\nkind = "logistic"\n', "loss.kind", "square"),
])
def test_bad_distribution_specs_name_the_field(net: str | None, data: str, loss: str, path: str,
                                               words: str) -> None:
    text = spec(data, loss=loss) if net is None else spec(data, net, loss)
    with pytest.raises(SpecError) as info:
        load_problem(text)
    assert info.value.path == path
    assert words in info.value.message


def test_samples_form_is_unchanged() -> None:
    p = load_problem(spec('x = ["1", "2"]\ny = ["0", "1"]'))
    assert p.data.n == 2  # type: ignore[union-attr]
    with pytest.raises(SpecError) as info:
        load_problem(spec('x = ["1"]'))
    assert info.value.path == "data.y"


def test_cli_refuses_a_pair_without_closed_form_with_one_line_and_exit_2(tmp_path: object
                                                                         ) -> None:
    from pathlib import Path

    from click.testing import CliRunner

    from kltools.cli import main

    path = Path(str(tmp_path)) / "bad.toml"
    path.write_text(spec('distribution = "uniform"\ndim = 2\nteacher = "x1"',
                         'layers = [2, 2, 1]\nactivation = "relu"'))
    res = CliRunner().invoke(main, ["derive", str(path)])
    assert res.exit_code == 2
    assert "Traceback" not in res.output
    assert "data.dim: no exact expectation" in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1
