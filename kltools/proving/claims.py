"""What a proof script returns: a :class:`Proof` (the theorem) and its :class:`ClaimResult` s.

Verdicts (the proof vocabulary of :class:`kltools.status.Status`, without ``holds``):

* ``proved`` — an exact symbolic identity (SymPy reduces the difference to 0 on every activation
  pattern) or an interval-arithmetic enclosure (a certified critical point);
* ``verified`` — a high-precision computation whose digits were checked against a closed form or a
  run at higher precision, over a stated number of initialisations;
* ``refuted`` — a concrete counter-example (spec + initialisation) violates the statement;
* ``inconclusive`` — the evidence was not enough either way.

Every claim carries the verdict it is *expected* to get: ``proved`` or ``verified`` for the
theorem's claims, ``refuted`` for negative controls (the same statement with one hypothesis
dropped). A run is as expected exactly when every verdict equals its expected verdict.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kltools.status import Status

__all__ = ["VERDICTS", "ClaimResult", "Config", "Proof", "ProofRun", "Recorder", "timed"]

#: The verdicts a claim can get: :class:`~kltools.status.Status` values except ``holds`` (a
#: property check's word; a proof says *verified* for a checked high-precision computation).
VERDICTS = tuple(s.value for s in Status if s is not Status.HOLDS)


@dataclass
class ClaimResult:
    """The outcome of one claim (or negative control) of a proof.

    Attributes
    ----------
    claim
        The statement checked, in words and formulas.
    expected
        The verdict the theory predicts (``refuted`` for a negative control).
    verdict
        One of :data:`VERDICTS`.
    evidence
        JSON-ready facts behind the verdict: numbers as strings with the digits that were checked.
    summary
        The key evidence in one short line (the report's summary table).
    plots
        PNG file names, relative to the report directory.
    model
        The key of the toy model (``Proof.models``) the claim was checked on.
    control
        True for a negative control.
    seconds
        Wall-clock time spent on the claim.
    """

    claim: str
    expected: str
    verdict: str
    evidence: dict[str, Any] = field(default_factory=dict)
    summary: str = ""
    plots: list[str] = field(default_factory=list)
    model: str = ""
    control: bool = False
    seconds: float = 0.0

    def __post_init__(self) -> None:
        for v in (self.expected, self.verdict):
            if v not in VERDICTS:
                raise ValueError(f"verdict {v!r} is not one of {', '.join(VERDICTS)}")

    @property
    def as_expected(self) -> bool:
        return self.verdict == self.expected

    @property
    def status(self) -> Status:
        """The verdict as a :class:`~kltools.status.Status`."""
        return Status(self.verdict)

    def to_json(self) -> dict[str, Any]:
        return {"claim": self.claim, "expected": self.expected, "verdict": self.verdict,
                "as_expected": self.as_expected, "control": self.control, "model": self.model,
                "summary": self.summary, "evidence": self.evidence, "plots": list(self.plots),
                "seconds": round(self.seconds, 2)}


@dataclass(frozen=True)
class Proof:
    """A theorem as a proof script states it.

    Attributes
    ----------
    name
        Command-line name (``energy-blowup``).
    title
        One line.
    source
        Where the theorem comes from (the paper's title and arXiv number).
    hypotheses, claims
        In words and formulas.
    models
        The toy models, name → spec TOML text (loadable with :func:`kltools.spec.load_problem`).
    """

    name: str
    title: str
    source: str
    hypotheses: tuple[str, ...]
    claims: tuple[str, ...]
    models: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "title": self.title, "source": self.source,
                "hypotheses": list(self.hypotheses), "claims": list(self.claims),
                "models": dict(self.models)}


@dataclass
class Config:
    """Settings shared by every proof of a run.

    ``quick`` selects the reduced mode (fewer initialisations, lower precision, shorter horizons)
    used by the tests; ``out`` is the directory plots are written to (None: no plots); ``seed``
    seeds every random initialisation; ``log`` receives progress lines (stderr in the CLI);
    ``progress`` receives ``(label, done, total, unit)`` from long loops inside a claim (see
    :meth:`map`); ``workers`` is how many processes :meth:`map` may use (1: in this process).
    """

    quick: bool = False
    out: Path | None = None
    seed: int = 0
    log: Callable[[str], None] | None = None
    progress: Callable[[str, int, int, str], None] | None = None
    workers: int = 1

    def pick(self, full: Any, quick: Any) -> Any:
        """``full`` normally, ``quick`` in the reduced mode."""
        return quick if self.quick else full

    def plot_path(self, name: str) -> Path | None:
        """Where to write the PNG ``name`` (None when plots are off)."""
        if self.out is None:
            return None
        self.out.mkdir(parents=True, exist_ok=True)
        return self.out / name

    def say(self, message: str) -> None:
        if self.log is not None:
            self.log(message)

    def step(self, label: str, done: int, total: int, unit: str = "") -> None:
        """Report progress inside a claim: ``done`` of ``total`` ``unit`` of ``label``."""
        if self.progress is not None:
            self.progress(label, done, total, unit)

    def map(self, fn: Callable[[Any], Any], items: list[Any], label: str, unit: str = "runs"
            ) -> list[Any]:
        """``[fn(x) for x in items]``, in order, reporting ``label: done/total unit`` as it goes.

        With ``workers > 1`` the items are shared among that many forked processes (POSIX
        ``fork``: they inherit everything already computed here, such as derived and compiled
        programs, so ``fn`` should find its inputs in a module-level cache filled before the
        call). ``fn`` must be a module-level function; its results must pickle.
        """
        from kltools.proving._pool import ordered_map

        return ordered_map(fn, items, self.workers,
                           lambda done: self.step(label, done, len(items), unit))


@dataclass
class ProofRun:
    """A proof with the results of running it."""

    proof: Proof
    results: list[ClaimResult]
    seconds: float = 0.0
    error: str | None = None

    @property
    def as_expected(self) -> bool:
        return self.error is None and all(r.as_expected for r in self.results)

    def to_json(self) -> dict[str, Any]:
        return {**self.proof.to_json(), "results": [r.to_json() for r in self.results],
                "as_expected": self.as_expected, "seconds": round(self.seconds, 2),
                "error": self.error}


@contextmanager
def timed() -> Iterator[Callable[[], float]]:
    """``with timed() as elapsed: ...; elapsed()`` — seconds since the block started."""
    start = time.perf_counter()
    yield lambda: time.perf_counter() - start


class Recorder:
    """Collects a proof's :class:`ClaimResult` s, timing each and turning a crash into a value.

    >>> rec = Recorder(Config())
    >>> with rec.claim("1 + 1 = 2", "proved") as r:
    ...     r.verdict = "proved" if 1 + 1 == 2 else "refuted"
    >>> with rec.claim("a step that fails", "verified") as r:
    ...     raise ArithmeticError("no digits left")
    >>> [(r.verdict, r.as_expected) for r in rec.results]
    [('proved', True), ('inconclusive', False)]
    >>> rec.results[1].evidence["error"]
    'ArithmeticError: no digits left'
    """

    def __init__(self, config: Config) -> None:
        self.config = config
        self.results: list[ClaimResult] = []

    @contextmanager
    def claim(self, text: str, expected: str, *, model: str = "", control: bool = False
              ) -> Iterator[ClaimResult]:
        """Yield a result (verdict ``inconclusive`` until the block sets it) and record it.

        An exception inside the block leaves the verdict ``inconclusive`` with the error as
        evidence (set ``KLTOOLS_DEBUG=1`` to let it propagate instead).
        """
        result = ClaimResult(text, expected, "inconclusive", model=model, control=control)
        self.config.say(text if control and text.startswith("control") else
                        f"{'control' if control else 'claim'}: {text}")
        start = time.perf_counter()
        try:
            yield result
        except Exception as exc:
            if os.environ.get("KLTOOLS_DEBUG"):
                raise
            result.verdict = "inconclusive"
            result.evidence["error"] = f"{type(exc).__name__}: {exc}"
        finally:
            result.seconds = time.perf_counter() - start
            self.results.append(result)
            self.config.say(f"-> {result.verdict} (expected {result.expected}, "
                            f"{result.seconds:.1f} s)")
