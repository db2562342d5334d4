"""The verdicts every kltools check, identity and proof can reach: one enum, one vocabulary.

* ``PROVED`` — an exact symbolic identity (the difference reduces to 0) or an interval-arithmetic
  enclosure (a certified critical point);
* ``VERIFIED`` — a high-precision computation whose digits were checked (against a closed form or
  a run at higher precision), over a stated number of initialisations;
* ``HOLDS`` — a property check found the claim true at every initialisation it tried;
* ``REFUTED`` — a witness that cannot be a transient (an exact or certified fact, or an
  established asymptotic regime) contradicts the claim;
* ``INCONCLUSIVE`` — the evidence was not enough either way; the evidence says why.

JSON carries the lower-case values. The CLI exit code of a verdict is :attr:`Status.exit_code`.
"""

from __future__ import annotations

import enum

__all__ = ["Status"]


class Status(enum.Enum):
    """A verdict (module docstring)."""

    PROVED = "proved"
    VERIFIED = "verified"
    HOLDS = "holds"
    REFUTED = "refuted"
    INCONCLUSIVE = "inconclusive"

    @property
    def positive(self) -> bool:
        """Whether the claim was established (proved, verified or holds)."""
        return self in (Status.PROVED, Status.VERIFIED, Status.HOLDS)

    @property
    def exit_code(self) -> int:
        """The CLI's exit code: 0 established, 1 refuted, 3 inconclusive."""
        if self is Status.REFUTED:
            return 1
        if self is Status.INCONCLUSIVE:
            return 3
        return 0

    def __str__(self) -> str:
        return self.value
