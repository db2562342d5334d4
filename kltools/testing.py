"""Assertion helpers for users' own test suites.

Each helper checks one property of :mod:`kltools.checks.properties` over ``examples`` random
initialisations (the spec's own init first) and raises ``AssertionError`` unless it holds; the
message shows the verdict, its evidence and, when refuted, the shrunk counter-example as a spec
TOML plus an init that ``kltools integrate`` reproduces.

>>> from kltools.spec import load_problem
>>> p = load_problem('[objective]\\nexpr = "x**2"\\nvars = ["x"]\\n[init]\\ntheta = ["1"]\\n')
>>> assert_no_blowup(p, examples=1).holds
True
"""

from __future__ import annotations

from typing import Any

from kltools.checks.runner import check
from kltools.checks.verdict import Status, Verdict
from kltools.spec.problem import Problem

__all__ = [
    "assert_conservation", "assert_directional_convergence", "assert_energy",
    "assert_linear_convergence", "assert_lojasiewicz", "assert_no_blowup", "assert_property",
    "assert_rayleigh_identity",
]


def assert_property(name: str, problem: Problem, *, examples: int = 10, seed: int = 0,
                    allow_inconclusive: bool = False, **options: Any) -> Verdict:
    """Assert that property ``name`` holds; return the verdict."""
    v = check(problem, name, examples=examples, seed=seed, **options)
    ok = v.status is Status.HOLDS or (allow_inconclusive and v.status is Status.INCONCLUSIVE)
    if not ok:
        raise AssertionError("\n" + v.explain())
    return v


def assert_energy(problem: Problem, **kw: Any) -> Verdict:
    """d/dt L = −s‖∇L‖² along the flow."""
    return assert_property("energy", problem, **kw)


def assert_no_blowup(problem: Problem, **kw: Any) -> Verdict:
    """No finite-time blow-up up to ``t_end``, and the energy bound on ‖θ(t) − θ(0)‖."""
    return assert_property("no-blowup", problem, **kw)


def assert_lojasiewicz(problem: Problem, exponent: object | None = None, **kw: Any) -> Verdict:
    """|L − L*|^a ≤ C‖∇L‖ along the tail (``exponent`` a; estimated when omitted)."""
    return assert_property("lojasiewicz", problem, exponent=exponent, **kw)


def assert_linear_convergence(problem: Problem, **kw: Any) -> Verdict:
    """log(L − L*) asymptotically linear, at least at the Rayleigh rate (square loss)."""
    return assert_property("linear-convergence", problem, **kw)


def assert_rayleigh_identity(problem: Problem, **kw: Any) -> Verdict:
    """L(t) = L(0) exp(−(2s/n)∫R) for the square loss."""
    return assert_property("rayleigh-identity", problem, **kw)


def assert_conservation(problem: Problem, **kw: Any) -> Verdict:
    """The balancedness laws are constant along the flow."""
    return assert_property("conservation", problem, **kw)


def assert_directional_convergence(problem: Problem, **kw: Any) -> Verdict:
    """Margins, direction and alignment converge (homogeneous nets, margin losses)."""
    return assert_property("directional-convergence", problem, **kw)
