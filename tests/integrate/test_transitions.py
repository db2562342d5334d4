"""Kink-mode transitions are pure functions returning values (integrate/_transitions.py)."""

from __future__ import annotations

from fractions import Fraction
from types import SimpleNamespace

from kltools.compiled.layout import FlowLayout
from kltools.integrate._transitions import Mode, kink_transition
from kltools.integrate.trajectory import EventKind, Outcome


def _hit(indices: tuple[int, ...], directions: tuple[int, ...]) -> SimpleNamespace:
    return SimpleNamespace(t=Fraction(1, 2), indices=indices, directions=directions,
                           state=[0, 0])


def test_transitions_are_values() -> None:
    lay = FlowLayout(n=2, m=2)                     # surfaces are outputs 3 and 4
    labels = ["s0", "s1"]
    smooth = Mode((0, 0))

    def rates_keep(_state: object, chi: tuple[int, ...]) -> list[int]:
        return [1 if c else -1 for c in chi]       # every surface keeps moving its way

    def rates_back(_state: object, chi: tuple[int, ...]) -> list[int]:
        return [-1 if c else 1 for c in chi]       # the new side pushes back: sliding

    cross = kink_transition(lay, labels, _hit((3,), (1,)), smooth, rates_keep)
    assert cross.mode == Mode((1, 0)) and cross.outcome is None
    assert [e.kind for e in cross.events] == [EventKind.CROSSING] and cross.restart_on == (3,)
    slide = kink_transition(lay, labels, _hit((4,), (1,)), smooth, rates_back)
    assert slide.mode == Mode((0, 0), sliding=1) and slide.outcome is None
    both = kink_transition(lay, labels, _hit((3, 4), (1, 1)), smooth, rates_back)
    assert both.outcome is Outcome.KINK_INTERSECTION
    assert [e.kind for e in both.events] == [EventKind.SIMULTANEOUS]
    assert both.mode == smooth                     # nothing changed: the run ends here
    through = kink_transition(lay, labels, _hit((3, 4), (1, -1)), smooth, rates_keep)
    assert through.outcome is None and through.mode == Mode((1, 0))
    leave = kink_transition(lay, labels, _hit((lay.one_minus_alpha,), (-1,)),
                            Mode((0, 0), sliding=1), rates_keep)
    assert leave.mode == Mode((0, 1)) and leave.events[0].kind == EventKind.SLIDING_EXIT
