"""Exception hierarchy shared by every layer.

Outcomes of long computations are values (enums on the result objects); these exceptions are for
input that cannot be used and for failures the caller asked to be raised. Every message says what
went wrong, where (a field path such as ``network.layers[1]`` when there is one) and how to fix it.
"""

from __future__ import annotations

__all__ = [
    "DerivationError", "IntegrationError", "KltoolsError", "NotApplicableError", "SpecError",
]


class KltoolsError(Exception):
    """Base class of every error kltools raises on purpose."""


class SpecError(KltoolsError, ValueError):
    """A specification (TOML file, Python arguments or expression) cannot be used.

    Parameters
    ----------
    message
        What is wrong and how to fix it.
    path
        The field path of the offending value, e.g. ``data.x[3]``; empty when the whole spec is at
        fault.
    """

    def __init__(self, message: str, path: str = "") -> None:
        self.path = path
        self.message = message
        super().__init__(f"{path}: {message}" if path else message)


class DerivationError(KltoolsError):
    """A symbolic derivation was asked for something the model does not have."""


class IntegrationError(KltoolsError):
    """An integration could not be started, or ended badly and ``throw=True`` was asked."""


class NotApplicableError(KltoolsError):
    """A check or analysis whose hypotheses the spec does not meet; the message says why (e.g.
    directional convergence asked for a square loss), instead of running it anyway."""
