"""Smoothed-kink flows and their independent references (shared by the step-control tests).

Each family is the analytic version of a ReLU-type flow from (1, −3/2): the kink-like term is
``~e^{-1/(2ε)}`` at t = 0, so Taylor coefficients at the start do not show its singularity at
distance ``~πε`` (in the argument ``~π``); it switches on near t = ln 2 and the flow then slides
along the smoothed kink (a stiff phase with rate ``~1/ε``).

* ``softplus``: L = (ε sp(w1/ε) − 2)²/2 + (ε sp((w1 + w2)/ε) + 1)²/2 (the family of the issue);
* ``sigmoid``:  L = (w1 − 2)²/2 + (w2 + 3/2)²/2 + 2 w2 σ((w1 + w2)/ε);
* ``tanh``:     L = (w1 − 2)²/2 + (w2 + 3/2)²/2 + w2 (1 + tanh((w1 + w2)/ε)).

References (independent of the step control under test):

* :func:`forced_reference`: the Taylor engine at higher precision with the step *forced* below
  ``ε/8`` on the window ``[ln 2 − 200ε, ln 2 + 200ε]`` where the argument crosses the kink (before
  it the kink term is below ``e^-100``, after it the argument stays O(1) and its singularities
  show in the coefficients); validated by a second run with half the forced step;
* :func:`radau_reference`: scipy's Radau (implicit, stiff) at rtol 1e-13 in double precision,
  a different method altogether (about 10 digits), to show the forced reference is not fooled
  in the same way.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import sympy as sp

from kltools.compiled.program import program_from_sympy
from kltools.integrate import taylor_solve
from kltools.numbers import to_fraction
from kltools.spec import load_problem
from kltools.spec.functions import sigmoid, softplus

X0 = ("1", "-1.5")
W1, W2 = sp.symbols("w1 w2", real=True)


def _inv(eps: Fraction) -> int:
    return int(1 / eps)


def expression(family: str, eps: Fraction) -> str:
    """The objective as spec text (ε = 1/N written exactly)."""
    e = f"(1/{_inv(eps)})"
    if family == "softplus":
        return f"({e}*softplus(w1/{e}) - 2)**2/2 + ({e}*softplus((w1 + w2)/{e}) + 1)**2/2"
    if family == "sigmoid":
        return f"(w1 - 2)**2/2 + (w2 + 3/2)**2/2 + 2*w2*sigmoid((w1 + w2)/{e})"
    if family == "tanh":
        return f"(w1 - 2)**2/2 + (w2 + 3/2)**2/2 + w2*(1 + tanh((w1 + w2)/{e}))"
    raise ValueError(family)


def problem(family: str, eps: Fraction) -> object:
    return load_problem(f'[objective]\nexpr = "{expression(family, eps)}"\n'
                        'vars = ["w1", "w2"]\n')


def _loss(family: str, eps: Fraction) -> sp.Expr:
    e = sp.Rational(eps.numerator, eps.denominator)
    u = (W1 + W2) / e
    if family == "softplus":
        return (e * softplus(W1 / e) - 2) ** 2 / 2 + (e * softplus(u) + 1) ** 2 / 2
    base = (W1 - 2) ** 2 / 2 + (W2 + sp.Rational(3, 2)) ** 2 / 2
    if family == "sigmoid":
        return base + 2 * W2 * sigmoid(u)
    return base + W2 * (1 + sp.tanh(u))


def forced_reference(family: str, eps: Fraction, t_end: int, dps: int, refine: int = 1
                     ) -> list[object]:
    """θ(t_end) by the engine with forced steps across the kink window (module docstring)."""
    loss = _loss(family, eps)
    prog = program_from_sympy([-sp.diff(loss, W1), -sp.diff(loss, W2)], [W1, W2])
    e = float(eps)
    lo = max(Fraction(math.log(2) - 200 * e), Fraction(0))
    hi = min(Fraction(math.log(2) + 200 * e), Fraction(t_end))
    x: list[object] = list(X0)
    t: object = Fraction(0)
    for end, forced in ((lo, None), (hi, eps / (8 * refine)), (Fraction(t_end), None)):
        if end <= to_fraction(t):
            continue
        sol = taylor_solve(prog, x, t, end, dps=dps, max_step=forced, max_steps=10**6)
        assert sol.outcome.value == "ok", sol.outcome
        x, t = sol.state, sol.t_final
    return x


def radau_reference(family: str, eps: Fraction, t_end: int) -> np.ndarray:
    """θ(t_end) by scipy's Radau at rtol 1e-13 (double precision)."""
    from scipy.integrate import solve_ivp
    from scipy.special import expit

    e = float(eps)

    def rhs(_t: float, w: np.ndarray) -> np.ndarray:
        w1, w2 = w
        u = (w1 + w2) / e
        if family == "softplus":
            a = e * np.logaddexp(0.0, w1 / e) - 2
            b = e * np.logaddexp(0.0, u) + 1
            g1 = a * expit(w1 / e) + b * expit(u)
            return -np.array([g1, b * expit(u)])
        if family == "sigmoid":
            sg = expit(u)
            c1 = 2 * w2 * sg * (1 - sg) / e
            c2 = 2 * sg + c1
        else:
            th = math.tanh(u)
            c1 = w2 * (1 - th * th) / e
            c2 = (1 + th) + c1
        g1, g2 = (w1 - 2) + c1, (w2 + 1.5) + c2
        return -np.array([g1, g2])

    sol = solve_ivp(rhs, (0.0, float(t_end)), [1.0, -1.5], method="Radau", rtol=1e-13,
                    atol=1e-15)
    return sol.y[:, -1]
