"""Reference exponents: the public values of issue 4 and cases derived and checked here.

Each case records the exact exponent, the method ``auto`` must use, other exact methods that must
agree (a second proof), and how the value was derived. Every exact value is also checked by the
numerical estimate in the tests (a second method, independent of all the theorems).

Run ``python -m tests.analysis.cases`` to time every case (the command of BENCHMARKS.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sympy as sp


@dataclass(frozen=True)
class Case:
    expr: str
    vars: str
    theta: sp.Rational
    method: str
    at: str | None = None
    also: tuple[str, ...] = ()
    why: str = ""
    public: bool = False
    numeric: bool = True
    tags: tuple[str, ...] = field(default=())

    @property
    def id(self) -> str:
        return f"{self.expr}@{self.at or 'origin'}"


R = sp.Rational

PUBLIC = [
    Case("x**2", "x", R(1, 2), "morse", also=("univariate",), public=True),
    Case("x**3", "x", R(2, 3), "univariate", public=True),
    Case("x**4", "x", R(3, 4), "univariate", also=("quasi-homogeneous",), public=True),
    Case("x**6", "x", R(5, 6), "univariate", public=True),
    Case("x**2 - y**2", "x,y", R(1, 2), "morse", also=("quasi-homogeneous", "newton-polygon"),
         public=True),
    Case("x**2 + y**4", "x,y", R(3, 4), "quasi-homogeneous", also=("newton-polygon",),
         public=True),
    Case("(a*b - 1)**2/2", "a,b", R(1, 2), "morse-bott", at="2,1/2", also=("power",),
         public=True,
         why="a curve of minima ab = 1 with normal Hessian rank 1; also (ab − 1)² with "
             "ab − 1 regular at the point: (2 − 1 + 0)/2"),
]

DERIVED = [
    Case("x**2*y**2", "x,y", R(3, 4), "power", also=("newton-polygon",),
         why="non-isolated critical set (both axes). (xy)² with xy Morse: (1 + 1/2)/2; along "
             "x = y = t the ratio |f|^α/|∇f| ~ t^(4α − 3)"),
    Case("x**4 + y**6", "x,y", R(5, 6), "quasi-homogeneous", also=("newton-polygon",),
         why="weights (1/4, 1/6): 1 − 1/6; along the y-axis y⁶ gives 5/6"),
    Case("x**3 - 3*x*y**2", "x,y", R(2, 3), "quasi-homogeneous", also=("newton-polygon",),
         why="monkey saddle, homogeneous of degree 3 with an isolated critical point: 1 − 1/3"),
    Case("(x**2 + y**2)**2", "x,y", R(3, 4), "power", also=("newton-polygon",),
         why="(x² + y²)² with x² + y² Morse: (1 + 1/2)/2; not isolated over ℂ, so the "
             "quasi-homogeneous method declines"),
    Case("x**2*y + y**4", "x,y", R(3, 4), "quasi-homogeneous", also=("newton-polygon",),
         why="D5, weights (3/8, 1/4); witness u = (0, 1) where ∂f/∂x = 2xy = 0"),
    Case("x**3 + x*y**3", "x,y", R(7, 9), "quasi-homogeneous", also=("newton-polygon",),
         why="E7, weights (1/3, 2/9); the worst points lie on the polar curve 3x² + y³ = 0 "
             "(y < 0): there ∂f/∂x = 0 and |∇f| = |∂f/∂y| ≍ |f|^(7/9)"),
    Case("x**3 + 3*x*y**4", "x,y", R(2, 3), "newton-polygon",
         why="real ≠ complex: |∇f| ≥ ∂f/∂x = 3(x² + y⁴) and |f| ≤ 3(x² + y⁴)^(3/2), so "
             "|f|^(2/3) ≤ C|∇f|, and generic orbits (t²a, tb) give equality: θ = 2/3. The "
             "complex polar branches x = ±iy² would give 5/6 (the quasi-homogeneous method "
             "proves only θ ≤ 5/6 and declines)"),
    Case("x**3 + x*z**3 + y**2", "x,y,z", R(7, 9), "quasi-homogeneous",
         why="E7 + y², three variables; witness certified by Krawczyk at z = −1, "
             "x = 1/√3, y = 0"),
    Case("x**3 + y**3 + z**3 + x*y*z", "x,y,z", R(2, 3), "quasi-homogeneous",
         why="homogeneous cubic with an isolated critical point (zero-dimensional Jacobian "
             "ideal): 1 − 1/3"),
    Case("(x**2 - y**3)**2", "x,y", R(5, 6), "power",
         why="the cusp x² − y³ has θ = 2/3 (weights (1/2, 1/3), witness (0, 1)); squared: "
             "(1 + 2/3)/2. The Newton polygon is degenerate (double root) and declines"),
    Case("(x**2 + y**2 - 1)**2", "x,y", R(1, 2), "morse-bott", at="3/5,4/5", also=("power",),
         why="a circle of minima; normal Hessian non-degenerate"),
    Case("x - tanh(x)", "x", R(2, 3), "univariate",
         why="x − tanh x = x³/3 − 2x⁵/15 + …: order 3 (analytic, not polynomial)"),
    Case("x*y**3 + x**3*y + x**6", "x,y", R(3, 4), "newton-polygon",
         why="xy(x² + y²) is homogeneous quartic with an isolated critical point; x⁶ is of "
             "higher order; the Newton polygon proves 3/4 (vertex (6, 0) contributes only 1/2)"),
    Case("x**4 - x**2*y**2 + y**5", "x,y", R(4, 5), "newton-polygon",
         why="edges (0,5)–(2,2) and (2,2)–(4,0) non-degenerate; the y-axis gives 4/5"),
    Case("(x - y*z)**2 + y**4 + z**4", "x,y,z", R(3, 4), "quasi-homogeneous",
         why="weighted homogeneous with weights (1/2, 1/4, 1/4) (xyz has weight 1): 1 − 1/4; "
             "also u² + y⁴ + z⁴ with u = x − yz"),
]

NUMERIC_ONLY = [
    Case("x**2 + 2*x*y**2 + y**4 + y**5", "x,y", R(4, 5), "numeric",
         why="(x + y²)² + y⁵ = u² + y⁵ in the coordinates u = x + y²: 4/5 (exponents are "
             "invariant under analytic changes of coordinates); no exact method applies "
             "(degenerate Newton polygon)"),
    Case("(y - x**2)**2 - x**6", "x,y", R(5, 6), "numeric",
         why="u² − x⁶ with u = y − x²: the u = 0 arc gives |∇f| = 6|x|⁵, |f| = x⁶: 5/6"),
    Case("(x - y**2)**2 + y**5 + z**4", "x,y,z", R(4, 5), "numeric",
         why="u² + y⁵ + z⁴ with u = x − y²: weights (1/2, 1/5, 1/4), witness (0, 1, 0): 4/5"),
]

POWER_OVER_NUMERIC = Case(
    "(x**2 + 2*x*y**2 + y**4 + y**5)**2", "x,y", R(9, 10), "power",
    why="G² with θ(G) = 4/5 (numeric): (1 + 4/5)/2 = 9/10, interval mapped by the power rule")

EXACT = PUBLIC + DERIVED


def main() -> None:  # pragma: no cover - benchmark command
    import time

    from kltools.analysis import lojasiewicz_exponent

    print("| expression | point | θ | method (auto) | s (auto) | numeric interval | s (numeric) |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for c in [*EXACT, *NUMERIC_ONLY, POWER_OVER_NUMERIC]:
        t = time.perf_counter()
        r = lojasiewicz_exponent(c.expr, c.at, variables=c.vars)
        ta = time.perf_counter() - t
        t = time.perf_counter()
        n = lojasiewicz_exponent(c.expr, c.at, variables=c.vars, method="numeric")
        tn = time.perf_counter() - t
        lo, hi = n.interval
        got = r.exponent if r.exponent is not None else (
            f"[{float(r.interval[0]):.4f}, {float(r.interval[1]):.4f}]")
        print(f"| `{c.expr}` | {c.at or '0'} | {got} | {r.method} | {ta:.2f} | "
              f"[{lo:.4f}, {hi:.4f}] | {tn:.2f} |")


if __name__ == "__main__":  # pragma: no cover
    main()
