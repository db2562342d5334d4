"""Helpers shared by the proof scripts: models, seeded initialisations, numbers, fits, verdicts.

Nothing here decides a verdict on its own; each helper states the arithmetic it does.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from kltools.spec import load_problem
from kltools.spec.problem import Problem

__all__ = [
    "agree_digits", "as_float", "check_status", "identities_status", "load", "loglog_fit",
    "mp", "num", "random_inits", "rule_of_three",
]


def load(toml: str) -> Problem:
    """The problem of a spec given as TOML text."""
    return load_problem(toml)


def mp(dps: int) -> Any:
    """A private mpmath context at ``dps`` digits (no global precision is touched)."""
    from kltools.compiled.pointwise import mp_context

    return mp_context(dps)


def num(v: Any, digits: int = 12) -> str:
    """``v`` (mpmath, gmpy2, SymPy, float) as a decimal string with ``digits`` significant
    digits."""
    import gmpy2
    import mpmath

    if isinstance(v, gmpy2.mpfr):
        v = mp(max(digits, int(v.precision / 3.32) + 2)).mpf(str(v))
    if isinstance(v, mpmath.mpf) or hasattr(v, "_mpf_"):
        return mpmath.nstr(v, digits, strip_zeros=False, min_fixed=-4, max_fixed=8)
    if isinstance(v, float | int):
        return f"{v:.{digits}g}"
    try:
        import sympy as sp

        if isinstance(v, sp.Basic):
            return str(sp.N(v, digits))
    except ImportError:  # pragma: no cover
        pass
    return str(v)


def as_float(v: Any) -> float:
    """A float of any kltools number (through its decimal string: exact for mpf/mpfr)."""
    return float(v) if isinstance(v, float | int) else float(str(v))


def agree_digits(a: Any, b: Any, dps: int = 60) -> float:
    """Significant decimal digits on which ``a`` and ``b`` agree: −log10(|a − b|/|b|)."""
    ctx = mp(dps)
    x, y = ctx.mpf(str(a)), ctx.mpf(str(b))
    if x == y:
        return float(dps)
    scale = abs(y) if y != 0 else ctx.mpf(1)
    return max(0.0, float(-ctx.log10(abs(x - y) / scale)))


def random_inits(n: int, k: int, seed: int, scale: float = 1.0, digits: int = 6
                 ) -> list[list[str]]:
    """``k`` initial points in ℝⁿ: scale·N(0, I) from ``numpy.random.default_rng(seed)``, each
    coordinate rounded to ``digits`` significant digits and written as an exact decimal string
    (the same points on every machine)."""
    rng = np.random.default_rng(seed)
    return [[f"{scale * g:.{digits}g}" for g in rng.standard_normal(n)] for _ in range(k)]


def rule_of_three(k: int) -> float:
    """95% upper confidence bound on a probability after 0 events in ``k`` independent trials:
    the exact bound 1 − 0.05^(1/k) (≈ 3/k, the "rule of three")."""
    return 1.0 - 0.05 ** (1.0 / k)


def loglog_fit(x: Sequence[float], y: Sequence[float]) -> tuple[float, float, float]:
    """Least-squares line through (log x, log y): (slope, intercept, max |residual|)."""
    lx = np.log(np.asarray(x, dtype=float))
    ly = np.log(np.asarray(y, dtype=float))
    slope, icpt = np.polyfit(lx, ly, 1)
    res = float(np.max(np.abs(ly - (slope * lx + icpt))))
    return float(slope), float(icpt), res


def check_status(verdict: Any) -> str:
    """A :class:`~kltools.checks.verdict.Verdict` as a proof verdict: a property that holds on
    a high-precision flow is *verified* (numerical), refuted stays refuted."""
    return {"holds": "verified", "refuted": "refuted"}.get(verdict.status.value, "inconclusive")


def identities_status(ids: Sequence[Any]) -> str:
    """Symbolic identities as one verdict: ``proved`` if all are, ``refuted`` if one is (with a
    witness), else ``inconclusive``."""
    statuses = {i.status for i in ids}
    if "refuted" in statuses:
        return "refuted"
    return "proved" if statuses == {"proved"} else "inconclusive"


def log10(v: Any) -> float:
    """log10|v| as a float (−inf at 0), computed from the decimal string (no float underflow)."""
    ctx = mp(30)
    x = abs(ctx.mpf(str(v)))
    return float(ctx.log10(x)) if x > 0 else -math.inf
