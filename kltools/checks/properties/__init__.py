"""Properties of gradient flows, one module each, held in a registry.

Each module defines one :class:`~kltools.checks.properties._base.Property` (name, claim,
hypotheses, the rule that decides it, an options dataclass, ``applies``, the check) and registers
it. :data:`PROPERTIES` maps names to them in the order below; :func:`get_property` looks one up
and :func:`check_property` runs one from one initialisation.

=============================  ==================================================================
name                           claim
=============================  ==================================================================
``energy``                     L(t_{i+1}) − L(t_i) = −(1/s)∫‖θ'‖² over every step
``no-blowup``                  no blow-up before the horizon, ‖θ(t) − θ(0)‖ ≤ √(s t (L0 − L))
``lojasiewicz``                |L − L*|^a ≤ C‖∇L‖ along the tail
``linear-convergence``         log(L − L*) asymptotically linear in t
``rayleigh-identity``          L(t) = L(0)·exp(−(2s/n)∫₀ᵗ R(θ(τ)) dτ) (square loss)
``conservation``               the architecture's conservation laws are constant along the flow
``directional-convergence``    margins non-decreasing, θ/‖θ‖ settling, cos(θ, −∇L) → 1
``codim2``                     no two kink surfaces are crossed at the same instant
``gd-vs-flow``                 gradient descent with step η stays within O(η) of the flow
``kl-bound``                   −L' ≥ s(ε/n)²(1 − e^{−L})² (softmax KL bound, linear model)
=============================  ==================================================================

**Refuted needs a witness that cannot be a transient** (an exact or certified fact, or an
established asymptotic regime agreeing with a certified limit); otherwise the verdict is
inconclusive with the reason. Each module's docstring states its rule.

To add a property: write ``kltools/checks/properties/<name>.py`` with an options dataclass
(subclass :class:`Options`, documented fields via :func:`doc`), a typed evidence dataclass
(subclass :class:`Evidence`, fields via :func:`shown`) and ``register(Property(...))``; import it
below. The CLI, ``kltools sweep`` and ``kltools.testing`` pick it up from the registry.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from kltools.checks.properties import (  # noqa: F401 - each import registers a property
    codim2,
    conservation,
    directional_convergence,
    energy,
    gd_vs_flow,
    kl_bound,
    linear_convergence,
    lojasiewicz,
    no_blowup,
    rayleigh_identity,
)
from kltools.checks.properties._base import (
    REGISTRY,
    Evidence,
    Options,
    Property,
    doc,
    get_property,
    register,
    shown,
)
from kltools.checks.verdict import Verdict
from kltools.spec.problem import Problem

__all__ = ["PROPERTIES", "Checker", "Evidence", "Options", "Property", "check_property", "doc",
           "get_property", "register", "shown"]

# The order of the table above (the CLI help and error messages list them so).
for _name in ("energy", "no-blowup", "lojasiewicz", "linear-convergence", "rayleigh-identity",
              "conservation", "directional-convergence", "codim2", "gd-vs-flow", "kl-bound"):
    REGISTRY[_name] = REGISTRY.pop(_name)
PROPERTIES = REGISTRY


def __getattr__(name: str) -> Any:
    if name == "Checker":  # the compiled state, imported on use (it loads the integrator)
        from kltools.checks.properties._context import Checker

        return Checker
    raise AttributeError(f"module 'kltools.checks.properties' has no attribute {name!r}")


def check_property(name: str, problem: Problem, theta0: Sequence[object] | None = None,
                   **options: Any) -> Verdict:
    """Check property ``name`` on ``problem`` from ``theta0`` (one initialisation).

    Raises :class:`~kltools.errors.NotApplicableError` when the spec does not meet the property's
    hypotheses, and :class:`~kltools.errors.SpecError` for an unknown name (listing the known
    ones) or an option the property does not take.
    """
    return get_property(name).check(problem, theta0, **options)
