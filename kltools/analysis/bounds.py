"""Upper bounds on the exponent that hold without further hypotheses.

D'Acunto–Kurdyka (Ann. Polon. Math. 87 (2005) 51–61, "Explicit bounds for the Łojasiewicz exponent
in the gradient inequality for polynomials"): for a polynomial f of degree d ≥ 2 in n variables
and any critical point p,

    θ(f, p) ≤ 1 − 1/(d·(3d − 3)^{n−1}).

For n = 1 this is 1 − 1/d, the value of x^d, so it is sharp there.
"""

from __future__ import annotations

import sympy as sp

__all__ = ["dacunto_kurdyka"]


def dacunto_kurdyka(n: int, d: int) -> sp.Rational:
    """The D'Acunto–Kurdyka bound 1 − 1/(d(3d − 3)^(n−1)).

    >>> dacunto_kurdyka(1, 4), dacunto_kurdyka(2, 4)
    (3/4, 35/36)
    """
    if n < 1 or d < 2:
        raise ValueError("the bound needs n >= 1 variables and degree d >= 2")
    return 1 - sp.Rational(1, d * (3 * d - 3) ** (n - 1))
