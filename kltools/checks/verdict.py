"""Verdicts: what a property check concluded, with the numbers that back it.

A :class:`Verdict` is ``holds``, ``refuted`` (with a counter-example that reproduces it: the spec
as TOML and the initial point) or ``inconclusive`` (the evidence was not enough either way, e.g.
too few digits or too short a tail; ``reason`` says which). ``evidence`` is the property's typed
evidence (a mapping over its JSON form). A verdict over many initialisations lists every example
in ``records``: its own verdict, reason, init, horizon reached and key numbers.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from kltools.errors import NotApplicableError
from kltools.status import Status

__all__ = ["NotApplicableError", "Status", "TalliedEvidence", "Verdict"]


class TalliedEvidence(Mapping[str, Any]):
    """A property's typed evidence plus run-level entries (the tally of examples): attributes
    come from the typed evidence, the mapping/JSON form has both."""

    def __init__(self, evidence: Mapping[str, Any], extra: dict[str, Any]) -> None:
        self._evidence = evidence
        self._extra = extra

    def __getattr__(self, name: str) -> Any:
        return getattr(self._evidence, name)

    def to_json(self) -> dict[str, Any]:
        ev = self._evidence
        return {**(ev.to_json() if hasattr(ev, "to_json") else dict(ev)), **self._extra}

    def __getitem__(self, key: str) -> Any:
        return self.to_json()[key]

    def __iter__(self) -> Any:
        return iter(self.to_json())

    def __len__(self) -> int:
        return len(self.to_json())


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
        A :class:`~kltools.status.Status`.
    evidence
        Typed evidence of the property (a mapping over its JSON form), or a plain dict.
    counterexample
        When refuted: ``{"spec": <TOML text>, "init": [exact strings], "detail": ...}``; the
        spec and init reproduce the failure with ``kltools integrate``.
    examples
        How many initialisations were tried (1 for a single check).
    reason
        Why the verdict is what it is (always set for inconclusive and refuted).
    init
        The initial point checked (exact strings), for a single example.
    horizon
        The time the flow reached (a decimal string), for a single example.
    records
        One JSON record per example (over many initialisations).
    trajectory
        The Taylor trajectory the check ran (not serialised).
    tally, shrink_runs
        Over many initialisations: examples per verdict, and the runs spent shrinking.
    """

    property: str
    claim: str
    status: Status
    evidence: Mapping[str, Any] = field(default_factory=dict)
    counterexample: dict[str, Any] | None = None
    examples: int = 1
    reason: str = ""
    init: list[str] | None = None
    horizon: str | None = None
    records: list[dict[str, Any]] = field(default_factory=list)
    trajectory: Any = field(default=None, repr=False, compare=False)
    tally: dict[str, int] | None = None
    shrink_runs: int | None = None

    @property
    def holds(self) -> bool:
        return self.status is Status.HOLDS

    @property
    def refuted(self) -> bool:
        return self.status is Status.REFUTED

    def evidence_json(self) -> dict[str, Any]:
        ev = self.evidence
        return ev.to_json() if hasattr(ev, "to_json") else dict(ev)

    def record(self) -> dict[str, Any]:
        """This single-example verdict as one JSON record."""
        return {"init": self.init, "verdict": self.status.value, "reason": self.reason,
                "horizon": self.horizon, "evidence": self.evidence_json()}

    def to_json(self) -> dict[str, Any]:
        out = {"property": self.property, "claim": self.claim, "verdict": self.status.value,
               "reason": self.reason, "examples": self.examples,
               "evidence": self.evidence_json(), "counterexample": self.counterexample}
        out["records"] = self.records or [self.record()]
        if self.tally is not None:
            out["tally"] = self.tally
        if self.shrink_runs is not None:
            out["shrink runs"] = self.shrink_runs
        return out

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
        if self.reason:
            lines.append(f"  reason: {self.reason}")
        for k, v in self.evidence_json().items():
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
