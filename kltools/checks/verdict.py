"""Verdicts: what a property check concluded, with the numbers that back it.

A :class:`Verdict` is ``holds``, ``refuted`` (with a counter-example that reproduces it: the spec
as TOML and the initial point) or ``inconclusive`` (the evidence was not enough either way, e.g.
too few digits or too short a tail). Evidence values are plain JSON data: numbers as decimal
strings with the digits that were checked, and a ``digits`` figure where one applies.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

from kltools.errors import NotApplicableError

__all__ = ["NotApplicableError", "Status", "Verdict"]


class Status(enum.Enum):
    HOLDS = "holds"
    REFUTED = "refuted"
    INCONCLUSIVE = "inconclusive"

    @property
    def exit_code(self) -> int:
        """The CLI's exit code for this status (0 holds, 1 refuted, 3 inconclusive)."""
        return {"holds": 0, "refuted": 1, "inconclusive": 3}[self.value]


@dataclass
class Verdict:
    """The outcome of checking one property.

    Attributes
    ----------
    property
        The property's name (``energy``, ``no-blowup``, ...).
    claim
        The statement checked, in words and formulas.
    status
        A :class:`Status`.
    evidence
        Numbers that support the status (JSON-ready).
    counterexample
        When refuted: ``{"spec": <TOML text>, "init": [exact strings], "detail": ...}``; the
        spec and init reproduce the failure with ``kltools integrate``.
    examples
        How many initialisations were tried (1 for a single check).
    """

    property: str
    claim: str
    status: Status
    evidence: dict[str, Any] = field(default_factory=dict)
    counterexample: dict[str, Any] | None = None
    examples: int = 1

    @property
    def holds(self) -> bool:
        return self.status is Status.HOLDS

    @property
    def refuted(self) -> bool:
        return self.status is Status.REFUTED

    def to_json(self) -> dict[str, Any]:
        return {"property": self.property, "claim": self.claim, "verdict": self.status.value,
                "examples": self.examples, "evidence": self.evidence,
                "counterexample": self.counterexample}

    def _repr_html_(self) -> str:
        from kltools.display import verdict_html

        return verdict_html(self.to_json())

    def _repr_latex_(self) -> str:
        from kltools.display import verdict_latex

        return verdict_latex(self.to_json())

    def explain(self) -> str:
        """A few lines a person reads: the claim, the verdict, the evidence, the counter-example
        (values as text, never Python reprs)."""
        from kltools.display import plain, plural

        lines = [f"{self.property}: {self.status.value} ({plural(self.examples, 'example')})",
                 f"  claim: {self.claim}"]
        for k, v in self.evidence.items():
            lines.append(f"  {k}: {plain(v)}")
        if self.counterexample:
            init = ",".join(str(v) for v in self.counterexample.get("init") or [])
            lines.append("  counter-example (reproduce with `kltools integrate SPEC.toml "
                         f"--t-end T --init {init}`, SPEC.toml the spec below):")
            detail = self.counterexample.get("detail")
            if detail:
                lines.append(f"    {detail}")
            lines.append(f"    init = {init}")
            spec = self.counterexample.get("spec")
            if spec:
                lines += ["    " + ln for ln in spec.strip().splitlines()]
        return "\n".join(lines)
