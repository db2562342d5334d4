"""The Łojasiewicz exponent at a critical point: exact where a theorem applies, else an interval.

Definition (Łojasiewicz). At a critical point p of an analytic f, θ(f, p) is the smallest α with
|f(x) − f(p)|^α ≤ C‖∇f(x)‖ on a neighbourhood of p (it is attained, and θ ∈ [1/2, 1) unless f is
constant near p).

``method="auto"`` tries the exact methods in this order and returns the first that *proves* its
hypotheses (each module states its theorem and proof):

1. ``morse`` — non-singular Hessian: 1/2;
2. ``univariate`` — one variable, order of vanishing m: 1 − 1/m;
3. ``morse-bott`` — clean critical manifold with non-degenerate normal Hessian: 1/2;
4. ``power`` — f − f(p) = u·G^k, G(p) = 0, u(p) ≠ 0: (k − 1 + θ(G))/k, θ(G) recursively;
5. ``quasi-homogeneous`` — weighted homogeneous, isolated, with a witness: 1 − w_min;
6. ``newton-polygon`` — two variables, non-degenerate, matching proved bounds;

and otherwise a numerical estimate (:mod:`kltools.analysis.estimate`) whose interval is clipped by
the proved bounds that are available (D'Acunto–Kurdyka; the quasi-homogeneous upper bound; the
Newton-polygon bounds). A method asked for by name that does not apply raises
:class:`MethodNotApplicableError` with the failed hypothesis: it never returns an unproved value.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import Any

import sympy as sp

from kltools.analysis.bounds import dacunto_kurdyka
from kltools.analysis.critical import CriticalPoint, certify_critical_point
from kltools.analysis.estimate import NumericEstimate, estimate_exponent
from kltools.analysis.germ import FunctionInput, Germ, make_germ
from kltools.analysis.methods import MethodOutcome
from kltools.analysis.methods.morse import morse
from kltools.analysis.methods.morse_bott import morse_bott
from kltools.analysis.methods.newton_polygon import newton_polygon
from kltools.analysis.methods.power import power_rule
from kltools.analysis.methods.quasi_homogeneous import quasi_homogeneous
from kltools.analysis.methods.univariate import univariate
from kltools.errors import DerivationError, SpecError
from kltools.spec.problem import Problem

__all__ = ["METHODS", "ExponentResult", "MethodNotApplicableError", "exponent_of_germ",
           "lojasiewicz_exponent"]

METHODS = ("auto", "morse", "univariate", "morse-bott", "power", "quasi-homogeneous",
           "newton-polygon", "numeric")
_EXACT = ("morse", "univariate", "morse-bott", "power", "quasi-homogeneous", "newton-polygon")


class MethodNotApplicableError(DerivationError):
    """A method was asked for by name, and its hypotheses fail (or cannot be proved) here."""


@dataclass(frozen=True)
class ExponentResult:
    """The answer of :func:`lojasiewicz_exponent`.

    Attributes
    ----------
    exponent
        The exact exponent (SymPy Rational), or None when only an interval is known.
    method
        The method that produced it (``numeric`` for an estimate).
    interval
        (lo, hi): the point interval (θ, θ) when exact; otherwise the numerical enclosure (see
        :mod:`kltools.analysis.estimate` for what it claims), clipped by proved bounds.
    bound
        The D'Acunto–Kurdyka upper bound for polynomials, else None.
    critical_point
        The certified critical point (:class:`~kltools.analysis.critical.CriticalPoint`).
    reason
        The proof summary (exact) or the interval's justification (numeric).
    attempts
        Every method tried, with why it applied or declined.
    numeric
        The numerical estimate when one was made.
    seconds
        Wall-clock time of the call.
    """

    exponent: sp.Rational | None
    method: str
    interval: tuple[sp.Rational | float, sp.Rational | float]
    bound: sp.Rational | None
    critical_point: CriticalPoint
    reason: str
    variables: tuple[str, ...]
    attempts: tuple[MethodOutcome, ...] = ()
    numeric: NumericEstimate | None = None
    seconds: float = 0.0
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def exact(self) -> bool:
        return self.exponent is not None

    def to_text(self) -> str:
        """A short human-readable summary (the CLI's default output)."""
        cp = self.critical_point
        lo, hi = self.to_json()["interval"]
        head = (f"exponent  {self.exponent}  (exact, {self.method})" if self.exact
                else f"exponent  unknown exactly; numerical interval [{lo}, {hi}] "
                     f"({self.method})")
        cert = (f"certified ({cp.method})" if cp.certified else "not certified")
        kernel = ("" if cp.kernel_dimension is None
                  else f", kernel dimension {cp.kernel_dimension}")
        lines = [head, f"interval  [{lo}, {hi}]",
                 f"bound     {self.bound} (D'Acunto–Kurdyka)" if self.bound is not None
                 else "bound     none (not a polynomial)",
                 f"point     ({', '.join(cp.point)}): {cert}, {cp.classification}{kernel}",
                 f"why       {self.reason}"]
        for a in self.attempts:
            if not a.applies and a.method != self.method:
                lines.append(f"  not {a.method}: {a.reason}")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        from kltools.display import exponent_html

        return exponent_html(self.to_json())

    def _repr_latex_(self) -> str:
        from kltools.display import exponent_latex

        return exponent_latex(self.to_json())

    def to_json(self) -> dict[str, Any]:
        """JSON-friendly dict: rationals as strings ("3/4"), floats as decimal strings."""

        cp = self.critical_point
        out: dict[str, Any] = {
            "exponent": None if self.exponent is None else str(self.exponent),
            "method": self.method,
            "interval": [_outward(self.interval[0], ROUND_FLOOR),
                         _outward(self.interval[1], ROUND_CEILING)],
            "bound": None if self.bound is None else str(self.bound),
            "critical_point": {"point": list(cp.point), "certified": cp.certified,
                               "classification": cp.classification,
                               "kernel_dimension": cp.kernel_dimension},
            "variables": list(self.variables),
            "reason": self.reason,
            "attempts": [{"method": a.method, "applies": a.applies, "reason": a.reason}
                         for a in self.attempts],
            "seconds": round(self.seconds, 3),
        }
        if self.numeric is not None:
            est = self.numeric
            out["numeric"] = {"estimate": f"{est.estimate:.6g}",
                              "interval": [f"{est.interval[0]:.6g}", f"{est.interval[1]:.6g}"],
                              "converged": est.converged, "radius": est.radius,
                              "seed": est.seed,
                              "last_slopes": [f"{s:.6g}" for s in est.slopes[-6:]],
                              "justification": est.justification}
        if self.details:
            out["details"] = self.details
        return out


_Method = Callable[[Germ], MethodOutcome]


def _outward(v: sp.Rational | float, rounding: str) -> str:
    """An interval end as a string: exact for rationals, else 6 significant digits rounded
    outwards (down for the lower end, up for the upper end), so the printed interval still
    contains the computed one."""
    if isinstance(v, sp.Basic):
        return str(v)
    d = Decimal(repr(float(v)))
    if d == 0:
        return "0"
    q = Decimal(1).scaleb(d.adjusted() - 5)
    return str(d.quantize(q, rounding=rounding).normalize())


def _numeric_options(germ: Germ, options: dict[str, Any] | None) -> dict[str, Any]:
    opts = dict(options or {})
    if germ.poly is None:
        opts.setdefault("levels", 12)
    return opts


def _proved_bounds(germ: Germ, attempts: Sequence[MethodOutcome]
                   ) -> tuple[sp.Rational | None, sp.Rational, list[str]]:
    """(lower, upper, sources) from proved facts: the D'Acunto–Kurdyka bound and the bounds the
    quasi-homogeneous and Newton-polygon methods proved before declining."""
    lower: sp.Rational | None = None
    upper = sp.Integer(1)
    src: list[str] = []
    if germ.degree is not None and germ.degree >= 2:
        dk = dacunto_kurdyka(germ.n, germ.degree)
        upper = dk
        src.append(f"D'Acunto–Kurdyka ≤ {dk}")
    for a in attempts:
        ub = a.details.get("upper_bound")
        if ub is not None and ub != "oo":
            ub_r = sp.Rational(ub)
            if ub_r < upper:
                upper = ub_r
                src.append(f"{a.method} ≤ {ub_r}")
        lb = a.details.get("lower_bound")
        if lb is not None and a.method == "newton-polygon" and lb not in ("-oo", "oo"):
            lb_r = sp.Rational(lb)
            if lower is None or lb_r > lower:
                lower = lb_r
                src.append(f"{a.method} ≥ {lb_r}")
    return lower, upper, src


def exponent_of_germ(germ: Germ, method: str = "auto", *,
                     numeric: dict[str, Any] | None = None
                     ) -> tuple[MethodOutcome, list[MethodOutcome], NumericEstimate | None]:
    """The exponent of a germ: (outcome, attempts, numeric estimate or None).

    The outcome is exact (``exponent`` set), or carries an ``interval`` (numeric or power rule
    over a numeric inner estimate).
    """
    if method not in METHODS:
        raise SpecError(f"unknown method {method!r}; use one of {', '.join(METHODS)}", "method")
    table: dict[str, _Method] = {
        "morse": morse, "univariate": univariate, "morse-bott": morse_bott,
        "power": lambda g: power_rule(g, lambda sub: exponent_of_germ(sub, numeric=numeric)[0]),
        "quasi-homogeneous": quasi_homogeneous, "newton-polygon": newton_polygon,
    }
    if method in table:
        out = table[method](germ)
        if out.exponent is None and not (method == "power" and out.interval is not None):
            raise MethodNotApplicableError(f"method {method!r} does not apply here: {out.reason}")
        return out, [out], None
    attempts: list[MethodOutcome] = []
    if method == "auto":
        for name in _EXACT:
            out = table[name](germ)
            attempts.append(out)
            if out.exponent is not None:
                return out, attempts, None
        # The power rule over a numerical θ(G) gives a narrower interval than estimating f.
        powered = [a for a in attempts if a.method == "power" and a.interval is not None]
        if powered:
            return powered[0], attempts, None
    lower, upper, src = _proved_bounds(germ, attempts)
    # Proved rational bounds enter as floats rounded outwards, so they still contain the value.
    up_f = math.nextafter(float(upper), math.inf)
    est = estimate_exponent(germ, upper=up_f, **_numeric_options(germ, numeric))
    lo, hi = est.interval
    clipped = []
    if lower is not None and math.nextafter(float(lower), -math.inf) > lo:
        lo = math.nextafter(float(lower), -math.inf)
        clipped.append(f"lower end raised to the proved {lower}")
    if up_f < hi:
        hi = up_f
        clipped.append(f"upper end lowered to the proved {upper}")
    reason = ("level-set minima of |∇f|, local slopes of log m(ε): " + est.justification
              + ("; " + "; ".join(clipped) if clipped else ""))
    details = {"estimate": est.estimate, "proved_bounds": src}
    return (MethodOutcome("numeric", None, reason, (lo, min(max(hi, lo), 1.0)), details),
            attempts, est)


def lojasiewicz_exponent(f: FunctionInput, at: Sequence[object] | str | None = None, *,
                         variables: Sequence[str | sp.Symbol] | str | None = None,
                         method: str = "auto",
                         numeric: dict[str, Any] | None = None) -> ExponentResult:
    """The Łojasiewicz exponent of ``f`` at the critical point ``at``.

    Parameters
    ----------
    f
        An expression (string or SymPy) in ``variables``, or a
        :class:`~kltools.spec.problem.Problem` (objective or network; piecewise models are
        analysed on the smooth piece of the point, which must lie off the kinks).
    at
        The critical point, exact (numbers or strings such as ``"1/2"``, ``"sqrt(2)"``);
        ``None`` is the origin. It must be a critical point (checked exactly).
    variables
        Names (``["x", "y"]`` or ``"x,y"``) for an expression; ignored for a Problem.
    method
        ``"auto"`` (default), one of the exact methods (raises :class:`MethodNotApplicableError` if
        its hypotheses fail), or ``"numeric"``.
    numeric
        Options of :func:`~kltools.analysis.estimate.estimate_exponent` (``radius``, ``seed``,
        ``levels``, ``step``, ``samples``).

    Returns
    -------
    ExponentResult

    Raises
    ------
    SpecError
        Malformed expression, unknown symbols, wrong number of coordinates, unknown method.
    DerivationError
        Not a critical point, a constant function, a point on a kink; a forced method that does
        not apply (:class:`MethodNotApplicableError`).

    Examples
    --------
    >>> r = lojasiewicz_exponent("x**2 + y**4", variables="x,y")
    >>> r.exponent, r.method
    (3/4, 'quasi-homogeneous')
    >>> r = lojasiewicz_exponent("(a*b - 1)**2/2", ["2", "1/2"], variables="a,b")
    >>> r.exponent, r.method, r.critical_point.classification, r.critical_point.kernel_dimension
    (1/2, 'morse-bott', 'degenerate', 1)
    """
    t0 = time.perf_counter()
    germ = make_germ(f, at, variables=variables)
    cp = certify_critical_point(f if isinstance(f, Problem) else germ.source, list(germ.point),
                                variables=None if isinstance(f, Problem)
                                else [v.name for v in germ.variables])
    out, attempts, est = exponent_of_germ(germ, method, numeric=numeric)
    bound = (dacunto_kurdyka(germ.n, germ.degree)
             if germ.degree is not None and germ.degree >= 2 else None)
    if out.exponent is not None:
        interval: tuple[Any, Any] = (out.exponent, out.exponent)
    else:
        assert out.interval is not None
        interval = out.interval
    return ExponentResult(out.exponent, out.method, interval, bound, cp, out.reason,
                          tuple(v.name for v in germ.variables), tuple(attempts), est,
                          time.perf_counter() - t0, dict(out.details))
