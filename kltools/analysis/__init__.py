"""The mathematics of convergence: Łojasiewicz exponents, certified critical points, constants.

Public API (see each module's docstring for the theorems and what is proved):

* :func:`lojasiewicz_exponent` → :class:`ExponentResult` — exact exponents with the method that
  proves them (Morse, univariate, Morse–Bott, power rule, quasi-homogeneous, Newton polygon), or a
  numerical interval with its justification, the D'Acunto–Kurdyka bound and the critical point;
* :func:`certify_critical_point` → :class:`CriticalPoint` — exact or Krawczyk certification and
  the certified inertia of the Hessian;
* :func:`best_constant` → :class:`ConstantEstimate` — C for a given exponent on a ball;
* :func:`fit_tail` → :class:`TailFit` and :func:`refute_exponent` → :class:`Refutation` — the
  inequality along data, and witnesses against a claimed exponent.

The names are re-exported lazily, so importing another module of this package (e.g.
``kltools.analysis.alongflow``) does not load SciPy or the exponent machinery.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "METHODS": "exponent", "ExponentResult": "exponent", "MethodNotApplicableError": "exponent",
    "lojasiewicz_exponent": "exponent",
    "CriticalPoint": "critical", "certify_critical_point": "critical",
    "ConstantEstimate": "constants", "best_constant": "constants",
    "Refutation": "inequality", "TailFit": "inequality", "fit_tail": "inequality",
    "refute_exponent": "inequality",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(f"kltools.analysis.{_EXPORTS[name]}"), name)
    raise AttributeError(f"module 'kltools.analysis' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
