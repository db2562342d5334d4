"""One run: its initial point is child i of one SeedSequence; how it ended, by name."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from kltools.sweep import init_from_seed
from kltools.sweep.worker import outcome_name, stopped_on_kink_intersection


def test_inits_are_the_children_of_one_seed_sequence() -> None:
    children = np.random.SeedSequence(11).spawn(4)
    for i, child in enumerate(children):
        g = np.random.default_rng(child).standard_normal(3)
        expected = tuple(Fraction(1, 2) * Fraction(f"{v:.12g}") for v in g)
        got = init_from_seed(3, 11, i, "1/2")
        assert tuple(Fraction(str(v)) for v in got) == expected
    assert init_from_seed(3, 11, 2) == init_from_seed(3, 11, 2)
    assert init_from_seed(3, 11, 2) != init_from_seed(3, 12, 2)


class _Traj:
    def __init__(self, value: str, info: dict[str, object]) -> None:
        self.outcome = type("O", (), {"value": value})()
        self.info = info


@pytest.mark.parametrize(("value", "info", "name"), [
    ("ok", {}, "ok"), ("blowup", {}, "blowup"), ("sliding", {}, "sliding"),
    ("max_steps", {}, "max_steps"), ("max_steps", {"engine": "max_steps"}, "max_steps"),
    ("max_steps", {"engine": "time_limit"}, "time_limit"),
    ("max_steps", {"engine": "stalled"}, "stalled"),
    ("max_steps", {"engine": "max_events"}, "max_events"),
    ("time_limit", {}, "time_limit"), ("stiff", {}, "stiff"),  # an integrator with own values
])
def test_an_early_stop_is_named_by_its_cause(value: str, info: dict[str, object],
                                             name: str) -> None:
    assert outcome_name(_Traj(value, info)) == name


def test_a_stop_on_an_intersection_of_kinks_is_recognised() -> None:
    from kltools.errors import IntegrationError

    assert stopped_on_kink_intersection(IntegrationError(
        "at t = 0.5 the flow slides on the intersection of 2 kink surfaces (codimension >= 2)"))
    assert not stopped_on_kink_intersection(IntegrationError("a start exactly on a kink"))
