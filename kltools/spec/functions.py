"""SymPy functions that kltools adds: the logistic sigmoid and softplus.

They are kept as functions of their own (not rewritten as ``1/(1 + exp(-z))``) so that derivations
stay short, and so that the compiled layer can give each its own Taylor recurrence:

* ``sigmoid(z) = 1 / (1 + exp(-z))``, ``sigmoid'(z) = sigmoid(z) (1 - sigmoid(z))``;
* ``softplus(z) = log(1 + exp(z))``, ``softplus'(z) = sigmoid(z)``.

Both are real-analytic on the whole real line.
"""

from __future__ import annotations

import sympy as sp

__all__ = ["sigmoid", "softplus"]


class sigmoid(sp.Function):  # noqa: N801 - SymPy functions are lower-case by convention
    """Logistic sigmoid ``1 / (1 + exp(-z))``."""

    nargs = 1

    def fdiff(self, argindex: int = 1) -> sp.Expr:
        s = sigmoid(self.args[0])
        return s * (1 - s)

    @classmethod
    def eval(cls, z: sp.Expr) -> sp.Expr | None:
        if z.is_zero:
            return sp.Rational(1, 2)
        return None

    def _eval_rewrite_as_exp(self, z: sp.Expr, **kwargs: object) -> sp.Expr:
        return 1 / (1 + sp.exp(-z))

    def _eval_is_real(self) -> bool | None:
        return self.args[0].is_real

    def _eval_evalf(self, prec: int) -> sp.Expr:
        return (1 / (1 + sp.exp(-self.args[0])))._eval_evalf(prec)


class softplus(sp.Function):  # noqa: N801
    """Softplus ``log(1 + exp(z))``."""

    nargs = 1

    def fdiff(self, argindex: int = 1) -> sp.Expr:
        return sigmoid(self.args[0])

    @classmethod
    def eval(cls, z: sp.Expr) -> sp.Expr | None:
        if z.is_zero:
            return sp.log(2)
        return None

    def _eval_rewrite_as_exp(self, z: sp.Expr, **kwargs: object) -> sp.Expr:
        return sp.log(1 + sp.exp(z))

    def _eval_rewrite_as_log(self, z: sp.Expr, **kwargs: object) -> sp.Expr:
        return sp.log(1 + sp.exp(z))

    def _eval_is_real(self) -> bool | None:
        return self.args[0].is_real

    def _eval_evalf(self, prec: int) -> sp.Expr:
        return sp.log(1 + sp.exp(self.args[0]))._eval_evalf(prec)
