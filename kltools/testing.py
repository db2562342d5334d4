"""Assertion helpers for users' own test suites, one per registered property.

``assert_<name>`` (``-`` becomes ``_``) checks the property over ``examples`` random
initialisations (the spec's own init first) and raises ``AssertionError`` unless it holds; the
message shows the verdict, its evidence and, when refuted, the shrunk counter-example as a spec
TOML plus an init that ``kltools integrate`` reproduces. The helpers are generated from the
property registry (:mod:`kltools.checks.properties`), so every property has one.

>>> from kltools.spec import load_problem
>>> p = load_problem('[objective]\\nexpr = "x**2"\\nvars = ["x"]\\n[init]\\ntheta = ["1"]\\n')
>>> assert_no_blowup(p, examples=1).holds
True
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kltools.checks.properties import PROPERTIES, Property
from kltools.checks.runner import check
from kltools.checks.verdict import Status, Verdict
from kltools.spec.problem import Problem


def assert_property(name: str, problem: Problem, *, examples: int = 10, seed: int = 0,
                    allow_inconclusive: bool = False, **options: Any) -> Verdict:
    """Assert that property ``name`` holds; return the verdict."""
    v = check(problem, name, examples=examples, seed=seed, **options)
    ok = v.status is Status.HOLDS or (allow_inconclusive and v.status is Status.INCONCLUSIVE)
    if not ok:
        raise AssertionError("\n" + v.explain())
    return v


def helper_name(name: str) -> str:
    """The name of the helper of property ``name``."""
    return "assert_" + name.replace("-", "_")


def _helper(prop: Property) -> Callable[..., Verdict]:
    def helper(problem: Problem, **kw: Any) -> Verdict:
        return assert_property(prop.name, problem, **kw)

    helper.__name__ = helper.__qualname__ = helper_name(prop.name)
    helper.__doc__ = f"Assert {prop.claim} ({prop.name}); options: " + ", ".join(
        n for n, _, _ in prop.option_docs()) + "."
    return helper


def __getattr__(name: str) -> Callable[..., Verdict]:
    # Properties registered after import (a user's own) get their helper on demand too.
    for prop in PROPERTIES.values():
        if helper_name(prop.name) == name:
            return _helper(prop)
    raise AttributeError(f"module 'kltools.testing' has no attribute {name!r}")


for _prop in PROPERTIES.values():
    globals()[helper_name(_prop.name)] = _helper(_prop)

__all__ = ["assert_property", "helper_name", *sorted(helper_name(p) for p in PROPERTIES)]
