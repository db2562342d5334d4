"""Notebook display: the builders of kltools.display, and the _repr_html_ / _repr_latex_ / plot
methods of the result classes, which must show the key numbers (not Python reprs)."""

import base64
import math
import re
from fractions import Fraction
from pathlib import Path

import mpmath
import pytest

from kltools import conservation_laws, derive, load_problem, lojasiewicz_exponent
from kltools.checks.verdict import Status, Verdict
from kltools.display import (
    Math,
    derivation_latex,
    html_image,
    html_table,
    latex_table,
    plain,
    plural,
)
from kltools.integrate.flow import integrate

QUADRATIC = load_problem('[objective]\nexpr = "(x - 1)**2"\nvars = ["x"]\n'
                         '[init]\ntheta = ["2"]\n')


# -- builders ---------------------------------------------------------------------------------
def test_plain_reads_like_text_never_like_a_python_repr() -> None:
    assert plain({"holds": 3, "refuted": 0}) == "holds 3, refuted 0"
    assert plain([Fraction(1, 3), True, None]) == "1/3, yes, —"
    assert plain(Status.REFUTED) == "refuted"
    ctx = mpmath.mp.clone()
    ctx.dps = 20
    assert plain(ctx.mpf(1) / 3).startswith("0.33333333333333333333")
    assert "{" not in plain({"a": {"b": [1, 2]}}) and "[" not in plain({"a": [1, 2]})


@pytest.mark.parametrize(("n", "noun", "text"), [
    (1, "sample", "1 sample"), (0, "sample", "0 samples"), (2, "sample", "2 samples"),
    (1, "independent conservation law", "1 independent conservation law"),
    (3, "independent conservation law", "3 independent conservation laws"),
])
def test_plural(n: int, noun: str, text: str) -> None:
    assert plural(n, noun) == text


def test_html_cells_are_escaped() -> None:
    out = html_table([("<script>", "a & b")], header=("k", "v"))
    assert "<script>" not in out and "&lt;script&gt;" in out and "a &amp; b" in out
    assert out.count("<tr>") == 2


def test_latex_text_is_escaped_and_math_cells_are_kept() -> None:
    out = latex_table([("t_end & 50%", Math(r"\frac{3}{4}"))], caption="x^2")
    assert r"\text{t\_end \& 50\%}" in out and r"\frac{3}{4}" in out and r"x\^{}2" in out
    assert out.startswith("$$\\begin{array}{ll}") and out.endswith("\\end{array}$$")


def test_an_inline_image_is_a_png_data_uri() -> None:
    png = b"\x89PNG\r\n\x1a\nrest"
    out = html_image(png, 'a "plot"')
    data = re.search(r'base64,([^"]+)"', out).group(1)
    assert base64.b64decode(data) == png and 'alt="a &quot;plot&quot;"' in out


# -- result classes ---------------------------------------------------------------------------
def test_a_derivation_shows_its_equations() -> None:
    d = derive(load_problem('[objective]\nexpr = "(a*b - 3)**2/2"\nvars = ["a", "b"]\n'))
    out = d._repr_latex_()
    assert out.startswith("$$") and out.endswith("$$")
    # ∂L/∂a = b(ab − 3), ∂L/∂b = a(ab − 3), in the form reverse mode leaves them in.
    assert r"\frac{\partial L}{\partial a} &= \frac{b \left(2 a b - 6\right)}{2}" in out
    assert r"\frac{\partial L}{\partial b} &= \frac{a \left(2 a b - 6\right)}{2}" in out
    assert r"L &= \frac{\left(a b - 3\right)^{2}}{2}" in out
    assert "2 parameters, 0 kink switches" in out


def test_a_derivation_of_a_relu_net_shows_switches_and_says_what_is_left_out() -> None:
    d = derive(load_problem("examples/relu_two_layer.toml"))
    out = derivation_latex(d, max_rows=2)
    assert "9 parameters, 9 kink switches" in out
    assert out.count(r"\frac{\partial L}") == 2 and r"\chi" in out
    assert "(14 more rows not shown)" in out  # 7 gradients + 7 surfaces


def test_a_large_derivation_is_summarised_without_expanding_it() -> None:
    d = derive(load_problem('[network]\nlayers = [3, 10, 10, 1]\nactivation = "tanh"\n'
                            '[data]\nx = [["1", "2", "3"], ["-1", "0", "1"], ["2", "2", "1"], '
                            '["0", "1", "0"], ["1", "1", "1"], ["2", "0", "1"]]\n'
                            'y = ["1", "0", "2", "1", "0", "1"]\n'))
    assert len(d.blocks) > 400
    out = d._repr_latex_()
    assert "140 parameters, 0 kink switches" in out and "too large to print" in out
    assert "loss_expr" not in d.__dict__  # the cached full expression was never built


def test_a_trajectory_shows_outcome_time_loss_digits_events_and_a_plot() -> None:
    # x' = −2(x − 1), x(0) = 2: L(t) = e^{−4t}, so L(1) = e^{−4} = 0.0183156388887341802937...
    traj = integrate(QUADRATIC, t_end=1, dps=30, verify=True)
    ctx = mpmath.mp.clone()
    ctx.dps = 50
    exact = ctx.nstr(ctx.exp(-4), 30)  # the loss is shown to its 30 verified digits
    html = traj._repr_html_()
    latex = traj._repr_latex_()
    for out in (html, latex):
        assert exact in out, out
        assert "ok: Reached the end of the time span." in out
        assert "1.00000000000000" in out  # t
        assert "verified against a run at higher precision" in out
        assert "events" in out and "none" in out
    assert "<img src=\"data:image/png;base64," in html
    assert "mpf(" not in html and "mpfr(" not in html


def test_the_trajectory_plot_returns_its_axes(tmp_path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    traj = integrate(QUADRATIC, t_end=1, dps=20)
    ax = Figure().subplots()
    assert traj.plot(ax) is ax
    assert [line.get_label() for line in ax.get_lines()] == ["L", "‖∇L‖"]
    assert ax.get_yscale() == "log"
    ys = ax.get_lines()[0].get_ydata()
    assert math.isclose(ys[-1], math.exp(-4), rel_tol=1e-12)
    new = traj.plot()
    assert new is not ax and new.get_xlabel() == "t"


def test_a_refuted_verdict_shows_its_status_evidence_and_counter_example() -> None:
    v = Verdict("codim2", "no two kink surfaces are crossed at the same instant",
                Status.REFUTED, {"events": 4, "simultaneous": 3,
                                 "examples": {"holds": 0, "refuted": 1, "inconclusive": 0}},
                {"spec": "[objective]\nexpr = \"relu(x)\"\n", "init": ["1/2"],
                 "detail": "surfaces s1, s2 crossed together at t = 0.25"})
    html = v._repr_html_()
    assert "refuted</span>" in html and "(1 example)" in html
    assert "<td style=\"text-align:left\">3</td>" in html  # simultaneous
    assert "holds 0, refuted 1, inconclusive 0" in html
    assert "surfaces s1, s2 crossed together at t = 0.25" in html and "init = 1/2" in html
    assert "<pre>[objective]" in html
    assert "{'" not in html
    latex = v._repr_latex_()
    assert r"\text{refuted}" in latex and r"\text{simultaneous} & \text{3}" in latex


def test_an_exponent_result_shows_the_exponent_and_the_method_that_proves_it() -> None:
    r = lojasiewicz_exponent("x**4 + y**6", None, variables="x,y")
    assert r"\frac{5}{6}" in r._repr_latex_()
    html = r._repr_html_()
    assert "5/6" in html and "quasi-homogeneous" in html and "certified" in html
    assert "89/90" in html  # the D'Acunto–Kurdyka bound for degree 6 in 2 variables


def test_the_laws_show_the_count_and_each_law() -> None:
    chain = load_problem('[network]\nlayers = [1, 1, 1, 1]\nactivation = "linear"\n'
                         '[data]\nx = [["1"], ["2"]]\ny = ["2", "4"]\n')
    laws = conservation_laws(chain)
    html = laws._repr_html_()
    assert "2 independent conservation laws" in html
    assert "W1_1_1**2 - W3_1_1**2" in html and "proved" in html
    latex = laws._repr_latex_()
    assert r"h_{1}(\theta) &= W_{1 1 1}^{2} - W_{3 1 1}^{2}" in latex


# -- terminal text ----------------------------------------------------------------------------
def test_a_verdict_explained_in_the_terminal_has_no_python_reprs() -> None:
    v = Verdict("no-blowup", "claim", Status.REFUTED,
                {"examples": {"holds": 0, "refuted": 1, "inconclusive": 0}, "laws": ["a", "b"]},
                {"spec": "[objective]\nexpr = \"-x**4\"\n", "init": ["1/2", "3"],
                 "detail": "blow-up at t* = 0.5"}, examples=1)
    text = v.explain()
    assert "no-blowup: refuted (1 example)" in text
    assert "examples: holds 0, refuted 1, inconclusive 0" in text and "laws: a, b" in text
    assert "--init 1/2,3" in text and "init = 1/2,3" in text
    assert "{" not in text.replace('"-x**4"', "") and "[" not in text.split("[objective]")[0]


def test_sliding_reads_as_reaching_the_end() -> None:
    from kltools.integrate.trajectory import Outcome

    assert Outcome.SLIDING.message.startswith("Reached the end of the time span")
    assert Outcome.OK.message.startswith("Reached the end of the time span")
    assert not Outcome.MAX_STEPS.message.startswith("Reached")


def test_counts_are_pluralised() -> None:
    one = load_problem('[network]\nlayers = [1, 1, 1]\nactivation = "relu"\n'
                       '[data]\nx = [["1"]]\ny = ["2"]\n[init]\ntheta = ["1", "1"]\n')
    assert one.describe().endswith("; 1 sample")
    assert "1 independent conservation law (D - dim)" in conservation_laws(one).to_text()
    assert "2 parameters, 1 kink surface, " in derive(one).summary()


def test_exponent_at_end_prints_a_table_not_a_dict(tmp_path) -> None:
    from click.testing import CliRunner

    from kltools.cli import main

    spec = '[objective]\nexpr = "x**2 + (y - 1)**2"\nvars = ["x", "y"]\n' \
           '[init]\ntheta = ["1", "2"]\n'
    (tmp_path / "m.toml").write_text(spec, encoding="utf-8")
    res = CliRunner().invoke(main, ["exponent", str(tmp_path / "m.toml"), "--at-end",
                                    "--t-end", "20"])
    assert res.exit_code == 0, res.output
    assert "{" not in res.output and "'" not in res.output.replace("D'Acunto", "")
    lines = dict(line.strip().split("  ", 1) for line in res.output.strip().splitlines())
    assert lines["exponent"].strip() == "1/2 (exact, morse (certified non-degenerate limit))"
    assert lines["limit θ*"].strip() == "0.0, 1.000000000000000"
    assert lines["certified"].strip().startswith("yes")
    assert "2 positive, 0 negative, 0 zero" in lines["class"]


def test_reprs_are_short_summaries() -> None:
    traj = integrate(QUADRATIC, t_end=1, dps=30)
    r = repr(traj)
    assert r.startswith("Trajectory(outcome=ok, t=1.0, loss=0.018315639") and "mpf" not in r
    assert len(r) < 200
    d = derive(QUADRATIC)
    assert repr(d) == ("Derivation(objective (x - 1)**2: 1 parameter, 0 kink surfaces, "
                       f"{len(d.blocks)} CSE blocks)")


@pytest.mark.slow  # the symbolic proofs of every identity take ~10 s
def test_identity_witnesses_print_as_assignments() -> None:
    from click.testing import CliRunner

    from kltools.cli import main

    spec = Path(__file__).resolve().parents[1] / "examples" / "leaky_relu_bias.toml"
    res = CliRunner().invoke(main, ["derive", str(spec), "--identities"])
    assert res.exit_code == 0, res.output
    # Biases break Euler's identity: a rational witness, printed as an assignment.
    assert "refuted  euler[s1,y1]" in res.output and "(witness b2_1 = 3/4)" in res.output
    assert "{'" not in res.output
