"""The softmax cross-entropy flow of a linear model against its closed form (the experiment of
Robin–Scaman–Lelarge, arXiv 2301.08117, sec. on the softmax model).

X has orthogonal rows, so the rows of W (features × classes) decouple, and W₀ ∝ −W* keeps the
two wrong logits of each sample equal. Sample i's logit gap x = z_j − z_{y_i} then obeys
x' = −(‖x_i‖²/n)(p_j − p_y + 1) = −κ_i eˣ/(1 + 2eˣ) with κ_i = 3‖x_i‖²/n, whence
2x − e^{−x} = 2x₀ − e^{−x₀} − κ_i t exactly, and L = (1/n) Σ_i log(1 + 2e^{x_i}).
"""

from __future__ import annotations

import mpmath
import pytest
import sympy as sp

from kltools.integrate.flow import integrate
from kltools.integrate.trajectory import Outcome
from kltools.numbers import agreement_digits
from kltools.spec import problem_from_dict

W_STAR = sp.Matrix([[2, -1, -1], [-1, 2, -1], [-5, -5, 10], [0, 0, 0]])
LABELS = [0, 1, 2]


def _experiment(row_scale: str, w_scale: int) -> tuple[object, list[sp.Rational]]:
    x = [[row_scale, "0", "0", "0"], ["0", row_scale, "0", "0"], ["0", "0", "1", "0"]]
    p = problem_from_dict({"network": {"layers": [4, 3], "activation": "linear"},
                           "loss": {"kind": "cross-entropy"}, "data": {"x": x, "y": LABELS}})
    w0 = -w_scale * W_STAR / sp.sqrt(sum(v**2 for v in W_STAR))
    # Parameter W1_c_f is the weight from feature f to class c: W transposed, row-major.
    theta0 = [sp.Rational(sp.N(w0[f, c], 80)) for c in range(3) for f in range(4)]
    return p, theta0


def _solve(c: mpmath.mpf) -> mpmath.mpf:
    """The root of g(x) = 2x − e^{−x} − c by Newton's method. g is increasing and concave, so
    every Newton step lands left of the root and the iterates then increase to it."""
    x = c / 2 if c > 0 else -mpmath.log(1 - c)
    for _ in range(200):
        step = (2 * x - mpmath.exp(-x) - c) / (2 + mpmath.exp(-x))
        x -= step
        if abs(step) <= mpmath.eps * (1 + abs(x)):
            return x
    raise AssertionError("Newton did not converge")  # pragma: no cover


def _closed_form_loss(p: object, theta0: list[sp.Rational], t: int, dps: int) -> mpmath.mpf:
    n = p.data.n
    w = {name: v for name, v in zip(p.parameters, theta0, strict=True)}
    total = mpmath.mpf(0)
    with mpmath.workdps(dps):
        for xi, (y,) in zip(p.data.x, p.data.y, strict=True):
            y = int(y)
            j = (y + 1) % 3  # either wrong class: their logits are equal
            gap = sum(xf * (w[f"W1_{j + 1}_{f + 1}"] - w[f"W1_{y + 1}_{f + 1}"])
                      for f, xf in enumerate(xi))
            kappa = 3 * sum(v**2 for v in xi) / n
            x0 = mpmath.mpf(gap.p) / gap.q
            c = 2 * x0 - mpmath.exp(-x0) - mpmath.mpf(kappa.p) / kappa.q * t
            x = _solve(c)
            total += mpmath.log(1 + 2 * mpmath.exp(x))
        return total / n


@pytest.mark.parametrize(("row_scale", "w_scale"), [("1", 10**5), ("1", 10)])
def test_rsl_loss_matches_the_closed_form_to_25_digits(row_scale: str, w_scale: int) -> None:
    """w_scale 1e5: all gaps stay large (x ≈ x₀ − κt/2); w_scale 10: the gaps cross 0 and run to
    −log(κt), where the e^{−x} term carries the answer."""
    p, theta0 = _experiment(row_scale, w_scale)
    traj = integrate(p, theta0, 10**4, dps=30)
    assert traj.outcome is Outcome.OK
    exact = _closed_form_loss(p, theta0, 10**4, 60)
    assert agreement_digits(traj.loss, exact) >= 25
    # Negative control: the same closed form with κ off by one part in 10^20 is told apart.
    assert agreement_digits(traj.loss, exact * (1 + mpmath.mpf(10) ** -20)) < 22


def test_the_paper_scale_experiment_is_reported_stiff() -> None:
    """Rows of norm 1e6: the mode that separates the two wrong logits relaxes at rate ~1e11
    while they dominate (t < 0.05), and rounding excites it: an explicit Taylor method needs
    steps ~1e-10 there. The run must say so (outcome stiff, with the time reached) quickly."""
    p, theta0 = _experiment("1e6", 10**5)
    traj = integrate(p, theta0, 10**4, dps=30)
    assert traj.outcome is Outcome.STIFF
    assert 0 < traj.info["stiff"]["t"] < 0.05
