"""One run: its initial point is child i of one SeedSequence; how it ended, by name."""

from __future__ import annotations

from fractions import Fraction

import numpy as np

from kltools.sweep import init_from_seed


def test_inits_are_the_children_of_one_seed_sequence() -> None:
    children = np.random.SeedSequence(11).spawn(4)
    for i, child in enumerate(children):
        g = np.random.default_rng(child).standard_normal(3)
        expected = tuple(Fraction(1, 2) * Fraction(f"{v:.12g}") for v in g)
        got = init_from_seed(3, 11, i, "1/2")
        assert tuple(Fraction(str(v)) for v in got) == expected
    assert init_from_seed(3, 11, 2) == init_from_seed(3, 11, 2)
    assert init_from_seed(3, 11, 2) != init_from_seed(3, 12, 2)


