"""The result of an integration: a :class:`Trajectory` with its outcome, events and digits.

Failure is a value (diffrax's ``RESULTS``): :class:`Outcome` members carry the message a user
reads, and :meth:`Trajectory.raise_for_outcome` turns a bad one into an
:class:`~kltools.errors.IntegrationError` when the caller asks (``throw=True``).
"""

from __future__ import annotations

import enum
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kltools.errors import IntegrationError

__all__ = ["FlowEvent", "Outcome", "Trajectory"]


class Outcome(enum.Enum):
    """How an integration ended."""

    OK = "ok"
    BLOWUP = "blowup"
    SLIDING = "sliding"
    MAX_STEPS = "max_steps"

    @property
    def message(self) -> str:
        return {
            "ok": "Reached the end of the time span.",
            "blowup": "The solution blows up in finite time (see blowup_time); the flow has no "
                      "continuation past it.",
            "sliding": "The run ended on a Filippov sliding mode (the flow points into a kink "
                       "surface from both sides); it continued on the minimal-norm Clarke field.",
            "max_steps": "Stopped early: the step, event or wall-clock limit was reached, or the "
                         "step size stalled. Raise max_steps / max_events / wall_time, or "
                         "shorten the time span.",
        }[self.value]


@dataclass(frozen=True)
class FlowEvent:
    """A kink event on the flow.

    ``kind``: ``crossing`` (transversal), ``sliding`` (entering a Filippov sliding mode),
    ``sliding-exit`` (leaving it), ``simultaneous`` (two or more surfaces within tolerance at
    the same instant: the codimension-2 situation seed 003 says almost no initialisation meets).
    """

    t: Any
    kind: str
    surfaces: tuple[int, ...]
    labels: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {"t": _num(self.t), "kind": self.kind, "surface": list(self.surfaces),
                "labels": list(self.labels)}


def _num(v: Any, digits: int | None = None) -> str:
    """All digits of an mpmath/gmpy2 number as a decimal string."""
    try:
        import sys

        # An mpf exists only once mpmath is imported: printing gmpy2 numbers (the Taylor
        # path) does not pay mpmath's import.
        mpmath = sys.modules.get("mpmath")
        if mpmath is not None and isinstance(v, mpmath.mpf):
            return mpmath.nstr(v, digits or mpmath.libmp.prec_to_dps(v.context.prec) + 2,
                               strip_zeros=False, min_fixed=-4, max_fixed=8)
    except (ImportError, AttributeError):
        pass
    try:
        import gmpy2

        if isinstance(v, gmpy2.mpfr):
            d = digits or int(v.precision / 3.3219280948873626) + 1
            return f"{v:.{d}g}"
    except ImportError:
        pass
    return str(v)


@dataclass
class Trajectory:
    """A computed gradient-flow (or gradient-descent) trajectory.

    Attributes
    ----------
    parameters
        Parameter names, canonical order.
    times, states, losses, grad_norms
        Samples at the accepted step points (states at working precision).
    events
        Kink events in time order.
    outcome
        An :class:`Outcome`.
    dps
        Requested precision (decimal digits).
    correct_digits
        Estimated number of correct significant digits of the final state: from the local error
        bounds, or (after ``verify``) the digits that agree with a run at higher precision.
    blowup_time, blowup_digits
        Estimated blow-up time and its trustworthy digits (outcome ``blowup`` only).
    method
        ``taylor`` or ``gd``.
    """

    parameters: tuple[str, ...]
    times: list[Any] = field(default_factory=list)
    states: list[list[Any]] = field(default_factory=list)
    losses: list[Any] = field(default_factory=list)
    grad_norms: list[Any] = field(default_factory=list)
    events: list[FlowEvent] = field(default_factory=list)
    outcome: Outcome = Outcome.OK
    dps: int = 30
    correct_digits: float = 0.0
    verified: bool = False
    blowup_time: Any = None
    blowup_digits: float = 0.0
    method: str = "taylor"
    n_steps: int = 0
    wall_time: float = 0.0
    info: dict[str, Any] = field(default_factory=dict)
    dense: Callable[[Any], list[Any]] | None = field(default=None, repr=False)
    velocity: Callable[[Any], list[Any]] | None = field(default=None, repr=False)

    @property
    def t(self) -> Any:
        """The final time reached."""
        return self.times[-1]

    @property
    def theta(self) -> list[Any]:
        """The final state."""
        return self.states[-1]

    @property
    def loss(self) -> Any:
        return self.losses[-1]

    def __call__(self, t: Any) -> list[Any]:
        """The state at time ``t`` (dense output from the Taylor polynomials of each step)."""
        if self.dense is None:
            raise IntegrationError("this trajectory has no dense output (loaded from JSON or "
                                   "computed by gradient descent); use its samples")
        return self.dense(t)

    def raise_for_outcome(self) -> None:
        if self.outcome is not Outcome.OK:
            raise IntegrationError(self.outcome.message)

    def to_json(self, samples: bool = True) -> dict[str, Any]:
        """JSON-ready data; numbers as decimal strings with all their digits."""
        out: dict[str, Any] = {
            "outcome": self.outcome.value,
            "message": self.outcome.message,
            "method": self.method,
            "t": _num(self.t),
            "parameters": list(self.parameters),
            "theta": [_num(v) for v in self.theta],
            "loss": _num(self.loss),
            "grad_norm": _num(self.grad_norms[-1]) if self.grad_norms else None,
            "dps": self.dps,
            "correct_digits": round(float(self.correct_digits), 1),
            "verified": self.verified,
            "events": [e.to_json() for e in self.events],
            "n_steps": self.n_steps,
            "wall_time": round(self.wall_time, 3),
        }
        if self.outcome is Outcome.BLOWUP:
            out["blowup_time"] = _num(self.blowup_time)
            out["blowup_time_digits"] = round(float(self.blowup_digits), 1)
        out.update(self.info)
        if samples:
            out["samples"] = {
                "t": [_num(t) for t in self.times],
                "theta": [[_num(v) for v in s] for s in self.states],
                "loss": [_num(v) for v in self.losses],
                "grad_norm": [_num(v) for v in self.grad_norms],
            }
        return out

    def save(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps(self.to_json(), indent=1) + "\n", encoding="utf-8")

    @staticmethod
    def load(path: str | Path, dps: int | None = None) -> Trajectory:
        """Read a trajectory written by :meth:`save` (numbers as mpmath at ``dps`` or the saved
        precision)."""
        from kltools.compiled.pointwise import mp_context

        data = json.loads(Path(path).read_text(encoding="utf-8"))
        ctx = mp_context(dps or int(data["dps"]) + 5)
        s = data["samples"]

        def nums(xs: Sequence[str]) -> list[Any]:
            return [ctx.mpf(x) for x in xs]

        return Trajectory(
            parameters=tuple(data["parameters"]), times=nums(s["t"]),
            states=[nums(r) for r in s["theta"]], losses=nums(s["loss"]),
            grad_norms=nums(s["grad_norm"]),
            events=[FlowEvent(ctx.mpf(e["t"]), e["kind"], tuple(e["surface"]),
                              tuple(e["labels"])) for e in data["events"]],
            outcome=Outcome(data["outcome"]), dps=int(data["dps"]),
            correct_digits=float(data["correct_digits"]), verified=bool(data["verified"]),
            blowup_time=ctx.mpf(data["blowup_time"]) if "blowup_time" in data else None,
            blowup_digits=float(data.get("blowup_time_digits", 0.0)),
            method=data["method"], n_steps=int(data["n_steps"]),
            wall_time=float(data["wall_time"]))
