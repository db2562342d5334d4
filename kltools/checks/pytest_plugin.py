"""The kltools pytest plugin (entry point ``pytest11``): options, fixtures and a marker.

Imports nothing heavy at import time: kltools itself is imported inside the fixtures.

* ``--kltools-dps N``: working precision for the fixtures (default 30);
* ``--kltools-examples N``: initialisations per property check (default 10);
* fixtures ``kltools_dps``, ``kltools_examples``, ``kltools_integrate`` (``integrate`` with the
  chosen precision);
* marker ``@pytest.mark.kltools``: a test of a gradient-flow property (select with
  ``-m kltools``).
"""

from __future__ import annotations

from typing import Any

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("kltools", "kltools gradient-flow property checks")
    group.addoption("--kltools-dps", type=int, default=30, dest="kltools_dps",
                    help="working precision (decimal digits) of kltools fixtures (default 30)")
    group.addoption("--kltools-examples", type=int, default=10, dest="kltools_examples",
                    help="random initialisations per property check (default 10)")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "kltools: a gradient-flow property test (kltools)")


@pytest.fixture
def kltools_dps(request: pytest.FixtureRequest) -> int:
    dps = int(request.config.getoption("kltools_dps"))
    if not 10 <= dps <= 10000:
        raise pytest.UsageError(f"--kltools-dps {dps}: use 10..10000 digits")
    return dps


@pytest.fixture
def kltools_examples(request: pytest.FixtureRequest) -> int:
    n = int(request.config.getoption("kltools_examples"))
    if n < 1:
        raise pytest.UsageError(f"--kltools-examples {n}: use at least 1")
    return n


@pytest.fixture
def kltools_integrate(kltools_dps: int) -> Any:
    """``integrate(problem, theta0=None, t_end=1, **kw)`` at the session's precision."""
    from functools import partial

    from kltools.integrate.flow import integrate

    return partial(integrate, dps=kltools_dps)
