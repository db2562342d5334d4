"""Kink-mode transitions as pure functions: what happens to the flow at a kink event.

A :class:`Mode` is what the engine integrates: a smooth activation pattern ``χ``, or sliding on
one surface. At an event located by the engine (:class:`~kltools.integrate.taylor.EventHit`)
:func:`kink_transition` returns the next mode, the events to log and the surfaces the restart
lies on — or an outcome that ends the run. Nothing is mutated and nothing is raised for a
property of the model: sliding into an intersection of kinks is the outcome
``kink_intersection``, a value.

Classification (``∇s·F`` is the rate of change of the surface value under a field):

* **crossing**: on the new side the surface keeps moving the same way, so the switch flips;
* **sliding** (Filippov): the new side's field points back into the surface: the flow continues
  on the surface (Clarke hull element tangent to it) until ``α`` reaches 0 or 1 (**sliding-exit**);
* **simultaneous**: several surfaces at one instant; each flips if its crossing is transversal,
  and if one of them would slide the flow enters an intersection of kinks (codimension >= 2).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from kltools.compiled.layout import FlowLayout
from kltools.errors import IntegrationError
from kltools.integrate.trajectory import EventKind, FlowEvent, Outcome

__all__ = ["Mode", "Transition", "kink_transition", "start_transition"]

Rates = Callable[[Sequence[Any], Sequence[int]], list[Any]]
"""``rates(state, χ)``: d s_j/dt of every surface under the smooth field of pattern χ."""


@dataclass(frozen=True)
class Mode:
    """The smooth pattern ``chi``, and the surface slid on (None: smooth)."""

    chi: tuple[int, ...]
    sliding: int | None = None

    def flipped(self, changes: dict[int, int], sliding: int | None) -> Mode:
        chi = list(self.chi)
        for k, v in changes.items():
            chi[k] = v
        return Mode(tuple(chi), sliding)


@dataclass(frozen=True)
class Transition:
    """The result of an event: the next mode, the events to log, the surface outputs the
    restart lies on, and ``outcome`` when the run must end here."""

    mode: Mode
    events: tuple[FlowEvent, ...]
    restart_on: tuple[int, ...]
    outcome: Outcome | None = None


def _event(t: Any, kind: EventKind, ks: Sequence[int], labels: Sequence[str]) -> FlowEvent:
    return FlowEvent(t, kind, tuple(ks), tuple(labels[k] for k in ks))


def kink_transition(layout: FlowLayout, labels: Sequence[str], hit: Any, mode: Mode,
                    rates: Rates) -> Transition:
    """The transition at the event ``hit`` (module docstring)."""
    exits = {layout.alpha: 0, layout.one_minus_alpha: 1}
    if mode.sliding is not None and any(j in exits for j in hit.indices):
        k = mode.sliding
        j = next(j for j in hit.indices if j in exits)
        return Transition(mode.flipped({k: exits[j]}, None),
                          (_event(hit.t, EventKind.SLIDING_EXIT, [k], labels),),
                          (layout.surfaces[k],))
    pairs = [(layout.surface_of(j), d) for j, d in zip(hit.indices, hit.directions, strict=True)]
    ks = [k for k, _ in pairs if k is not None]
    flips = {k: 1 if d > 0 else 0 for k, d in pairs if k is not None}
    kind = EventKind.SIMULTANEOUS if len(ks) > 1 else EventKind.CROSSING
    restart = tuple(layout.surfaces[k] for k in ks)
    if mode.sliding is not None:
        # A crossing of another surface while sliding: flip it and keep sliding.
        return Transition(mode.flipped(flips, mode.sliding), (_event(hit.t, kind, ks, labels),),
                          restart)
    new = mode.flipped(flips, None)
    r = rates(hit.state, new.chi)
    slide = [k for k, d in pairs if k is not None and r[k] * d < 0]
    if not slide:
        return Transition(new, (_event(hit.t, kind, ks, labels),), restart)
    if len(ks) > 1:
        return Transition(mode, (_event(hit.t, EventKind.SIMULTANEOUS, ks, labels),), (),
                          Outcome.KINK_INTERSECTION)
    k = slide[0]
    return Transition(Mode(mode.chi, k), (_event(hit.t, EventKind.SLIDING, [k], labels),), ())


def start_transition(layout: FlowLayout, labels: Sequence[str], state: Sequence[Any],
                     mode: Mode, on_surface: Sequence[int], rates: Rates) -> Transition:
    """Filippov convention at a start on kinks: per surface, χ = 1 if the χ = 1 field leaves
    into s > 0, χ = 0 if the χ = 0 field leaves into s < 0, sliding if both push into it.
    A start where the flow is tangent to a kink, or slides on several, is refused (the flow is
    not determined there by a single sliding mode)."""
    events: list[FlowEvent] = []
    for j in on_surface:
        k = layout.surface_of(j)
        assert k is not None
        g1 = rates(state, mode.flipped({k: 1}, None).chi)[k]
        g0 = rates(state, mode.flipped({k: 0}, None).chi)[k]
        if g1 > 0:
            mode = mode.flipped({k: 1}, mode.sliding)
        elif g0 < 0:
            mode = mode.flipped({k: 0}, mode.sliding)
        elif mode.sliding is None and g0 >= 0 >= g1 and g0 > g1:
            mode = Mode(mode.chi, k)
            events.append(_event(0, EventKind.SLIDING, [k], labels))
        else:
            raise IntegrationError(
                f"the start lies on the kink {labels[k]} where the flow is tangent to it or "
                "slides on several surfaces at once; perturb the initialisation")
    return Transition(mode, tuple(events), tuple(on_surface))
