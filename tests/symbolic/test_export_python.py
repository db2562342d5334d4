"""``derive --format python``: a self-contained module, safe to import, that matches kltools.

The module is imported in a subprocess (it must run with the standard library and mpmath only)
or loaded from a file in ``tmp_path``; its numbers are compared with kltools' exact derivation.
"""

from __future__ import annotations

import importlib.util
import io
import subprocess
import sys
import tokenize
from pathlib import Path
from types import ModuleType

import pytest
import sympy as sp

from kltools.numbers import agreement_digits
from kltools.spec import load_problem
from kltools.symbolic.derivation import derive
from kltools.symbolic.export import export
from kltools.symbolic.kinks import KinkConvention

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"


def load_module(source: str, path: Path) -> ModuleType:
    path.write_text(source, encoding="utf-8")
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def exact_values(d, theta, chi) -> tuple[object, list[object]]:
    """kltools' loss and gradient at θ on the pattern χ, exact, then to 60 digits."""
    env = {**dict(zip(d.parameters, theta, strict=True)), **d.on_pattern(chi)}
    loss = sp.N(d.loss_expr.xreplace(env), 60)
    grad = [sp.N(g.xreplace(env), 60) for g in d.gradient_exprs]
    return loss, grad


# -- issue 19, item 1: the injection reproducer ----------------------------------------------------

INJECTION = (
    '[objective]\n'
    'expr = "(x**2 # \\"\\"\\"; import pathlib; pathlib.Path(MARK).write_text(\'ran\'); '
    '\\"\\"\\"\\n)"\n'
    'vars = ["x"]\n'
)


def test_an_expression_cannot_inject_code_into_the_generated_module(tmp_path: Path) -> None:
    marker = tmp_path / "ran.txt"
    spec = INJECTION.replace("MARK", f"'{marker.as_posix()}'")
    problem = load_problem(spec)
    assert problem.objective is not None and "import pathlib" in problem.objective.text
    source = export(derive(problem), "python")
    module_path = tmp_path / "generated.py"
    module_path.write_text(source, encoding="utf-8")
    run = subprocess.run(
        [sys.executable, "-c",
         "import importlib.util, sys; s = importlib.util.spec_from_file_location('g', sys.argv[1]);"
         " m = importlib.util.module_from_spec(s); s.loader.exec_module(m);"
         " print(m.loss_and_gradient(['3'])[0]); print(m.DESCRIPTION)", str(module_path)],
        capture_output=True, text=True, timeout=120)
    assert not marker.exists()  # importing the module ran nothing of the spec's
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    assert lines[0] == "9.0"
    # The user's text is kept, as data: the description round-trips exactly.
    assert "\n".join(lines[1:]) == problem.describe()


def test_user_text_appears_only_inside_string_literals() -> None:
    problem = load_problem(INJECTION.replace("MARK", "'x'"))
    source = export(derive(problem), "python")
    tokens = list(tokenize.generate_tokens(io.StringIO(source).readline))
    assert not [t for t in tokens if t.type == tokenize.COMMENT]
    code = " ".join(t.string for t in tokens if t.type != tokenize.STRING)
    assert "pathlib" not in code and "import os" not in code
    assert any("pathlib" in t.string for t in tokens if t.type == tokenize.STRING)


def test_user_names_never_become_python_names(tmp_path: Path) -> None:
    # Names that would shadow the generated module's own names if pasted as identifiers.
    spec = ('[objective]\nexpr = "(loss - 1)**2 + (gradient*ctx - 2)**2 + Fraction**2"\n'
            'vars = ["loss", "gradient", "ctx", "Fraction"]\n')
    d = derive(load_problem(spec))
    module = load_module(export(d, "python"), tmp_path / "names.py")
    assert module.PARAMETERS == ("loss", "gradient", "ctx", "Fraction")
    theta = ["2", "3", "1/2", "-1"]
    loss, grad = module.loss_and_gradient(theta)
    exact_loss, exact_grad = exact_values(d, [sp.Rational(t) for t in theta], ())
    assert agreement_digits([loss, *grad], [exact_loss, *exact_grad]) >= 25


# -- issue 16: switches from θ, kink convention, 25 digits ----------------------------------------

@pytest.mark.parametrize("name", ["relu_two_layer", "leaky_relu_bias", "piecewise_poly",
                                  "mean_field_l2", "linear_classifier_logistic",
                                  "objective_relu", "skip_connection"])
def test_the_module_matches_kltools_to_25_digits(name: str, tmp_path: Path) -> None:
    problem = load_problem(EXAMPLES / f"{name}.toml")
    d = derive(problem)
    module = load_module(export(d, "python"), tmp_path / f"{name}.py")
    theta = problem.initial_point()
    chi = d.pattern(theta)
    assert module.switches([str(t) for t in theta]) == chi
    loss, grad = module.loss_and_gradient([str(t) for t in theta], dps=30)
    exact_loss, exact_grad = exact_values(d, theta, chi)
    assert agreement_digits(loss, exact_loss) >= 25
    assert agreement_digits(grad, exact_grad) >= 25
    assert problem.parameters == module.PARAMETERS
    assert problem.flow_scale == module.FLOW_SCALE


def test_a_wrong_pattern_gives_another_gradient(tmp_path: Path) -> None:
    d = derive(load_problem(EXAMPLES / "relu_two_layer.toml"))
    module = load_module(export(d, "python"), tmp_path / "relu.py")
    theta = [str(t) for t in d.problem.initial_point()]
    chi = module.switches(theta)
    assert 0 in chi and 1 in chi
    flipped = tuple(1 - c for c in chi)
    assert module.loss_and_gradient(theta, flipped)[1] != module.loss_and_gradient(theta)[1]


KINKED = '[objective]\nexpr = "relu(x - 1/3)**2 + 3*relu(y)*x + abs(x - y)"\nvars = ["x", "y"]\n'


def test_a_point_exactly_on_a_kink_follows_the_convention(tmp_path: Path) -> None:
    d = derive(load_problem(KINKED))
    module = load_module(export(d, "python"), tmp_path / "kinked.py")
    theta = ["1/3", "2"]  # x - 1/3 = 0 exactly, but not in binary at 30 digits
    with pytest.raises(ValueError, match="lies on a kink"):
        module.switches(theta)
    exact = [sp.Rational(1, 3), sp.Integer(2)]
    for conv in ("right", "left"):
        chi = module.switches(theta, convention=conv)
        assert chi == d.pattern(exact, KinkConvention(conv))
        loss, grad = module.loss_and_gradient(theta, convention=conv)
        exact_loss, exact_grad = exact_values(d, exact, chi)
        assert agreement_digits([loss, *grad], [exact_loss, *exact_grad]) >= 25
    assert module.switches(theta, convention="right") != module.switches(theta,
                                                                         convention="left")


def test_a_point_within_rounding_of_a_kink_is_decided_exactly(tmp_path: Path) -> None:
    d = derive(load_problem(KINKED))
    module = load_module(export(d, "python"), tmp_path / "near.py")
    for offset in ("1/10**40", "-1/10**40"):
        x = sp.Rational(1, 3) + sp.sympify(offset)
        theta = [f"{x.p}/{x.q}", "2"]
        assert module.switches(theta) == d.pattern([x, sp.Integer(2)])


def test_a_transcendental_surface_near_zero_is_decided_at_higher_precision(
        tmp_path: Path) -> None:
    d = derive(load_problem('[objective]\nexpr = "relu(tanh(x) - 1/2)*x"\nvars = ["x"]\n'))
    module = load_module(export(d, "python"), tmp_path / "tanh.py")
    root = sp.atanh(sp.Rational(1, 2))
    for sign in (1, -1):
        # atanh(1/2) ± 1e-36: the surface is ~1e-36, below the rounding threshold at 30 digits.
        x = sp.Rational(str(sp.N(root, 60))) + sign * sp.Rational(1, 10**36)
        chi = module.switches([f"{x.p}/{x.q}"])
        assert chi == d.pattern([x]) == ((1,) if sign > 0 else (0,))


def test_bad_calls_are_value_errors(tmp_path: Path) -> None:
    d = derive(load_problem(EXAMPLES / "objective_relu.toml"))
    module = load_module(export(d, "python"), tmp_path / "bad.py")
    with pytest.raises(ValueError, match="expected 2 parameter values"):
        module.loss_and_gradient(["1"])
    with pytest.raises(ValueError, match="convention"):
        module.switches(["1", "2"], convention="filippov")
    with pytest.raises(ValueError, match="chi must be 1 values"):
        module.loss_and_gradient(["1", "2"], (0, 1))
    with pytest.raises(ValueError, match="dps"):
        module.loss_and_gradient(["1", "2"], dps=0)


def test_the_module_needs_only_the_standard_library_and_mpmath(tmp_path: Path) -> None:
    source = export(derive(load_problem(EXAMPLES / "mean_field_l2.toml")), "python")
    (tmp_path / "mf.py").write_text(source, encoding="utf-8")
    # -S -I: no site-packages but mpmath's directory, no user paths: a bare interpreter; and
    # mpmath without its optional gmpy2 backend.
    import mpmath

    mp_dir = str(Path(mpmath.__file__).resolve().parents[1])
    code = (f"import sys; sys.path[:0] = [{str(tmp_path)!r}, {mp_dir!r}]; import mf; "
            "mf.loss_and_gradient(['1'] * len(mf.PARAMETERS)); "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in "
            "('sympy', 'numpy', 'kltools', 'gmpy2')))")
    run = subprocess.run([sys.executable, "-S", "-I", "-c", code], capture_output=True,
                         text=True, timeout=120, env={"MPMATH_NOGMPY": "1"})
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "[]"
