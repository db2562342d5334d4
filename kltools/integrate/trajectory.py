"""The result of an integration: a :class:`Trajectory` with its outcome, events and digits.

Failure is a value (diffrax's ``RESULTS``): :class:`Outcome` members carry the message a user
reads, and :meth:`Trajectory.raise_for_outcome` turns a bad one into an
:class:`~kltools.errors.IntegrationError` when the caller asks (``throw=True``).
"""

from __future__ import annotations

import enum
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from kltools.errors import IntegrationError
from kltools.numbers import dps_for_bits

__all__ = ["EventKind", "FlowEvent", "Outcome", "Trajectory", "TrajectoryBuilder"]


class Outcome(enum.StrEnum):
    """How an integration ended: one member per cause, each with the message a user reads.

    The string values are what JSON carries. :attr:`stopped_early` groups the members that end
    the run before ``t_end`` for a reason other than the flow itself (a guard, a step collapse,
    a case kltools does not integrate); ``blowup`` is a property of the flow, not a stop.
    """

    OK = "ok"
    BLOWUP = "blowup"
    SLIDING = "sliding"
    STATIONARY = "stationary"
    MAX_STEPS = "max_steps"
    TIME_LIMIT = "time_limit"
    STALLED = "stalled"
    MAX_EVENTS = "max_events"
    STIFF = "stiff"
    KINK_INTERSECTION = "kink_intersection"

    @property
    def message(self) -> str:
        return _MESSAGES[self]

    @property
    def stopped_early(self) -> bool:
        """True when the run ended before ``t_end`` without reaching a property of the flow."""
        return self not in (Outcome.OK, Outcome.BLOWUP, Outcome.SLIDING, Outcome.STATIONARY)


_MESSAGES = {
    Outcome.OK: "Reached the end of the time span.",
    Outcome.BLOWUP: "The solution blows up in finite time (see blowup_time); the flow has no "
                    "continuation past it.",
    Outcome.SLIDING: "Reached the end of the time span on a Filippov sliding mode: the flow "
                     "points into a kink surface from both sides and follows it on the "
                     "minimal-norm Clarke field.",
    Outcome.STATIONARY: "The state is a critical point (the vector field vanishes exactly): the "
                        "flow stays there for all time.",
    Outcome.MAX_STEPS: "Stopped early: the step limit was reached. Raise max_steps or shorten "
                       "the time span.",
    Outcome.TIME_LIMIT: "Stopped early: the wall-clock limit was reached. Raise wall_time or "
                        "shorten the time span.",
    Outcome.STALLED: "Stopped early: the step size fell below the resolution of t (t + h == t) "
                     "without a recognisable blow-up. Raise dps or inspect the vector field "
                     "near the final time.",
    Outcome.MAX_EVENTS: "Stopped early: the kink-event limit was reached (many crossings, e.g. "
                        "chattering across a kink). Raise max_events or use the filippov "
                        "convention.",
    Outcome.STIFF: "Stopped early: the problem is stiff here (the step size collapsed far below "
                   "the time scale of the solution); see info['stiff'] for the time reached and "
                   "a suggestion (lower dps, a shorter horizon, or rescale the fast variable).",
    Outcome.KINK_INTERSECTION: "Stopped early: the flow slides into the intersection of two or "
                               "more kink surfaces (codimension >= 2), which kltools does not "
                               "integrate; perturb the initialisation.",
}


class EventKind(enum.StrEnum):
    """Kinds of kink event (the string values are what JSON carries)."""

    CROSSING = "crossing"
    SLIDING = "sliding"
    SLIDING_EXIT = "sliding-exit"
    SIMULTANEOUS = "simultaneous"


@dataclass(frozen=True)
class FlowEvent:
    """A kink event on the flow.

    ``kind``: ``crossing`` (transversal), ``sliding`` (entering a Filippov sliding mode),
    ``sliding-exit`` (leaving it), ``simultaneous`` (two or more surfaces within tolerance at
    the same instant: the codimension-2 situation that almost no initialisation meets, by "Gradient
    Flow Convergence Guarantee for General Neural Network Architectures", arXiv 2509.23887).
    """

    t: Any
    kind: EventKind
    surfaces: tuple[int, ...]
    labels: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {"t": _num(self.t), "kind": self.kind.value, "surface": list(self.surfaces),
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
            d = digits or dps_for_bits(v.precision) + 1
            return f"{v:.{d}g}"
    except ImportError:
        pass
    return str(v)


@dataclass(frozen=True)
class Trajectory:
    """A computed gradient-flow (or gradient-descent) trajectory (immutable; built by a
    :class:`TrajectoryBuilder`).

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

    def __repr__(self) -> str:
        # Short: the samples are mpfr lists (see _repr_html_ and to_json for everything).
        return (f"Trajectory(outcome={self.outcome.value}, t={_num(self.t, 8)}, "
                f"loss={_num(self.loss, 8)}, correct_digits={self.correct_digits:.1f}, "
                f"samples={len(self.times)}, events={len(self.events)})")

    def plot(self, ax: Any = None) -> Any:
        """Loss and ‖∇L‖ against t (log scale), kink events dotted; returns the matplotlib axes
        (a new figure when ``ax`` is None)."""
        from kltools.display import trajectory_plot

        return trajectory_plot(self, ax)

    def _repr_html_(self) -> str:
        from kltools.display import trajectory_html

        return trajectory_html(self)

    def _repr_latex_(self) -> str:
        from kltools.display import trajectory_latex

        return trajectory_latex(self)

    def raise_for_outcome(self) -> None:
        """Raise :class:`~kltools.errors.IntegrationError` unless the run reached ``t_end``
        on a smooth piece (``ok``) or stayed at a critical point (``stationary``)."""
        if self.outcome not in (Outcome.OK, Outcome.STATIONARY):
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
            events=[FlowEvent(ctx.mpf(e["t"]), EventKind(e["kind"]), tuple(e["surface"]),
                              tuple(e["labels"])) for e in data["events"]],
            outcome=Outcome(data["outcome"]), dps=int(data["dps"]),
            correct_digits=float(data["correct_digits"]), verified=bool(data["verified"]),
            blowup_time=ctx.mpf(data["blowup_time"]) if "blowup_time" in data else None,
            blowup_digits=float(data.get("blowup_time_digits", 0.0)),
            method=data["method"], n_steps=int(data["n_steps"]),
            wall_time=float(data["wall_time"]))


@dataclass
class TrajectoryBuilder:
    """Collects the samples and events of a run; :meth:`build` makes the frozen
    :class:`Trajectory`."""

    parameters: tuple[str, ...]
    dps: int
    method: str
    times: list[Any] = field(default_factory=list)
    states: list[list[Any]] = field(default_factory=list)
    losses: list[Any] = field(default_factory=list)
    grad_norms: list[Any] = field(default_factory=list)
    events: list[FlowEvent] = field(default_factory=list)
    info: dict[str, Any] = field(default_factory=dict)

    def sample(self, t: Any, state: Sequence[Any], loss: Any, grad_norm: Any) -> None:
        """Append one sample (time, state, loss, ‖∇L‖)."""
        self.times.append(t)
        self.states.append(list(state))
        self.losses.append(loss)
        self.grad_norms.append(grad_norm)

    def build(self, **fields: Any) -> Trajectory:
        """The trajectory with the collected samples and the given further fields."""
        return Trajectory(parameters=self.parameters, dps=self.dps, method=self.method,
                          times=self.times, states=self.states, losses=self.losses,
                          grad_norms=self.grad_norms, events=self.events, info=self.info,
                          **fields)


def with_fields(traj: Trajectory, **changes: Any) -> Trajectory:
    """A copy of ``traj`` with some fields replaced (the trajectory itself is frozen)."""
    return replace(traj, **changes)
