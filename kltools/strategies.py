"""Public Hypothesis strategies (see :mod:`kltools.checks.strategies`)."""

from kltools.checks.strategies import (
    datasets,
    initialisations,
    networks,
    objectives,
    problems,
    rationals,
)

__all__ = ["datasets", "initialisations", "networks", "objectives", "problems", "rationals"]
