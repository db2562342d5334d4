"""kltools: check the convergence theory of gradient-flow training on toy networks.

The public API, imported lazily (so that ``import kltools`` and the pytest plugin stay light):

* specs: :func:`load_problem`, :class:`Problem`;
* symbolic: :func:`derive` (loss, reverse-mode gradient, kinks), :func:`conservation_laws`;
* integration: :func:`integrate` → :class:`Trajectory`;
* analysis: :func:`lojasiewicz_exponent`, :func:`certify_critical_point`;
* checks: :func:`check` (a property over many initialisations), :func:`check_property`,
  :class:`Verdict`;
* sweeps: :func:`sweep`;
* errors: :class:`KltoolsError`, :class:`SpecError`, :class:`DerivationError`,
  :class:`IntegrationError`, :class:`NotApplicableError`.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

__version__ = "0.1.0"

_EXPORTS = {
    "load_problem": "kltools.spec",
    "Problem": "kltools.spec",
    "derive": "kltools.symbolic.derivation",
    "conservation_laws": "kltools.symbolic.laws",
    "integrate": "kltools.integrate.flow",
    "Trajectory": "kltools.integrate.trajectory",
    "lojasiewicz_exponent": "kltools.analysis",
    "certify_critical_point": "kltools.analysis",
    "check": "kltools.checks.runner",
    "check_property": "kltools.checks.properties",
    "Verdict": "kltools.checks.verdict",
    "sweep": "kltools.sweep",
    "KltoolsError": "kltools.errors",
    "SpecError": "kltools.errors",
    "DerivationError": "kltools.errors",
    "IntegrationError": "kltools.errors",
    "NotApplicableError": "kltools.errors",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        value = getattr(import_module(_EXPORTS[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'kltools' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])
