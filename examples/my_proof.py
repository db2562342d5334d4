"""A proof script of your own: run it with ``kltools prove examples/my_proof.py``.

Euler's identity for homogeneous functions: a polynomial f homogeneous of degree k satisfies
⟨θ, ∇f(θ)⟩ = k·f(θ) identically. The claim is proved on f = x²y² (k = 4) by expanding the
difference to 0; the negative control drops homogeneity (f = x²y² + x) and must come out
refuted, with an exact rational witness.
"""

from __future__ import annotations

import sympy as sp

from kltools.proving import ClaimResult, Config, Proof, Recorder

PROOF = Proof(
    name="my-euler",
    title="Euler's identity for a homogeneous polynomial",
    source="Euler's homogeneous function theorem",
    hypotheses=("f is a polynomial, homogeneous of degree k",),
    claims=("⟨θ, ∇f(θ)⟩ = k·f(θ) for every θ",),
)

x, y = sp.symbols("x y")


def euler_defect(f: sp.Expr, k: int) -> sp.Expr:
    """⟨θ, ∇f(θ)⟩ − k·f(θ), expanded (0 exactly when Euler's identity holds)."""
    return sp.expand(x * sp.diff(f, x) + y * sp.diff(f, y) - k * f)


def run(config: Config) -> list[ClaimResult]:
    rec = Recorder(config)
    with rec.claim("Euler's identity ⟨θ, ∇f⟩ = 4f for f = x²y²", "proved") as r:
        defect = euler_defect(x**2 * y**2, 4)
        r.verdict = "proved" if defect == 0 else "refuted"
        r.evidence = {"defect": str(defect)}
        r.summary = f"⟨θ, ∇f⟩ − 4f expands to {defect}"
    with rec.claim("control (not homogeneous, f = x²y² + x): ⟨θ, ∇f⟩ = 4f", "refuted",
                   control=True) as r:
        defect = euler_defect(x**2 * y**2 + x, 4)
        witness = {x: sp.Rational(1), y: sp.Rational(1)}
        value = defect.subs(witness)
        r.verdict = "refuted" if value != 0 else "inconclusive"
        r.evidence = {"defect": str(defect), "witness (x, y)": "(1, 1)", "value": str(value)}
        r.summary = f"⟨θ, ∇f⟩ − 4f = {defect} = {value} at (1, 1)"
    return rec.results
