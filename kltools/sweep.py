"""Many initialisations at once: seeded, parallel or distributed, written as they finish, resumable.

:func:`sweep` runs N initialisations of one spec, either integrating the flow (``integrate``
mode) or checking a property (``property`` mode, one :class:`~kltools.checks.verdict.Verdict`
per initialisation). Run i starts from :func:`init_from_seed` with child i of
``numpy.random.SeedSequence(seed).spawn(N)``: θ_j = scale·round₁₂(g_j), g standard normal, the
rule of a spec's ``[init] seed/scale`` (scale = the spec's ``[init] scale`` when its init is
seeded, else 1). A run depends on nothing but its task, so the results are the same in this
process, in a local process pool or on a dask.distributed cluster (apart from timings).

Results go to a JSON-lines file: a header (spec, its SHA-256, mode, options, versions), then one
line per initialisation as it finishes (``index``, ``seed``, exact ``init``, ``outcome``,
``verdict``, ``figures``: rate, exponent, loss, digits, event counts, wall and CPU time; the
verdict's ``evidence``; the trajectory without samples), each flushed and fsynced. Re-running
with the same file skips the indices already there; a file of another spec or other options is
refused. The summary (:class:`SweepResult`) gives the fraction that holds with its exact 95 %
interval, quantiles of the rates and exponents, and the count of simultaneous kink crossings
with a 95 % upper bound on their probability.

>>> from kltools.sweep import init_from_seed
>>> [str(v) for v in init_from_seed(3, 2024, 0)]
['-211724338351/1000000000000', '-1340720567/7812500000', '74773317929/125000000000']
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

from kltools._sweep_exec import drive, open_executor
from kltools._sweep_stats import (
    binomial_cdf,
    clopper_pearson,
    plot_summary,
    summarize,
    summary_text,
    upper_bound,
)
from kltools._sweep_store import ResultFile, canonical_json, make_header
from kltools._sweep_worker import TIMING_FIELDS, Task, init_from_seed, recording_checker, run_task
from kltools.errors import SpecError
from kltools.spec.problem import Problem

__all__ = ["SweepResult", "binomial_cdf", "clopper_pearson", "comparable", "init_from_seed",
           "load_results", "sweep", "upper_bound"]


@dataclass
class SweepResult:
    """What :func:`sweep` did and what the results file now says.

    Attributes
    ----------
    path
        The results file.
    header
        Its header line.
    lines
        A record per run with index < n, sorted by index: the fields the summary reads
        (index, outcome, verdict, figures, detail, error; init when refuted). The full lines
        are in the file (:func:`load_results`).
    summary
        :func:`kltools._sweep_stats.summarize` of those lines (JSON-ready).
    ran, skipped
        Runs computed by this call, and indices found already done.
    elapsed
        Wall-clock seconds of this call.
    executor
        Where the runs executed.
    """

    path: Path
    header: dict[str, Any]
    lines: list[dict[str, Any]]
    summary: dict[str, Any]
    ran: int = 0
    skipped: int = 0
    elapsed: float = 0.0
    executor: str = ""
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def exit_code(self) -> int:
        """0 all hold (or integrate mode), 1 some run refuted, 3 some inconclusive or missing."""
        s = self.summary
        if s["missing"]:
            return 3
        if s["mode"] != "property":
            return 0
        v = s["verdicts"]
        return 1 if v["refuted"] else 3 if v["inconclusive"] else 0

    def text(self) -> str:
        return summary_text(self.summary)

    def to_json(self) -> dict[str, Any]:
        return {**self.summary, "out": str(self.path), "ran": self.ran,
                "skipped": self.skipped, "elapsed": round(self.elapsed, 3),
                "executor": self.executor}

    def plot(self, path: str | Path) -> Path:
        """Histogram PNG of verdicts/outcomes, rates and exponents (matplotlib, Agg)."""
        return plot_summary(self.summary, self.lines, path)


def comparable(line: dict[str, Any]) -> dict[str, Any]:
    """A result line without its timings: equal for equal runs on any executor."""
    out = {k: (dict(v) if isinstance(v, dict) else v) for k, v in line.items()}
    for outer, inner in TIMING_FIELDS:
        if isinstance(out.get(outer), dict):
            out[outer].pop(inner, None)
    return out


def load_results(path: str | Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The header and the result lines (first line per index, sorted) of a results file."""
    import json

    text = Path(path).read_text(encoding="utf-8")
    raw = text.splitlines()
    if not raw:
        raise SpecError(f"{path} is empty", "--out")
    header = json.loads(raw[0])
    seen: dict[int, dict[str, Any]] = {}
    for r in raw[1:]:
        try:
            line = json.loads(r)
        except json.JSONDecodeError:
            continue  # an incomplete last line of an interrupted write
        seen.setdefault(int(line["index"]), line)
    return header, [seen[i] for i in sorted(seen)]


def _options(problem: Problem, prop: str | None, t_end: object, dps: object,
             seed: object, exponent: object, eta: object) -> tuple[dict[str, Any], str]:
    """Validated options: (the header's options, the scale)."""
    from kltools.checks.properties import PROPERTIES

    if isinstance(dps, bool) or not isinstance(dps, int) or not 10 <= dps <= 10000:
        raise SpecError(f"dps = {dps!r}: pass an integer number of digits in 10..10000", "--dps")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise SpecError(f"seed must be a non-negative integer, got {seed!r}", "--seed")
    if t_end is None:
        t_end = PROPERTIES[prop].default_t_end if prop else "10"
    try:
        te = Fraction(str(t_end))
    except (ValueError, ZeroDivisionError):
        raise SpecError(f"--t-end {t_end!r} is not a number; pass e.g. 10 or 1e8",
                        "--t-end") from None
    if te <= 0:
        raise SpecError(f"--t-end must be positive, got {t_end!r}", "--t-end")
    opts: dict[str, Any] = {"t_end": str(te), "dps": dps, "seed": seed}
    if exponent is not None:
        if prop != "lojasiewicz":
            raise SpecError("--exponent goes with --property lojasiewicz", "--exponent")
        opts["exponent"] = str(Fraction(str(exponent)))
    if eta is not None:
        if prop != "gd-vs-flow":
            raise SpecError("--eta goes with --property gd-vs-flow", "--eta")
        opts["eta"] = str(Fraction(str(eta)))
    init = problem.init
    scale = str(init.scale) if init is not None and init.theta is None else "1"
    opts["scale"] = scale
    return opts, scale


class _PreflightStopError(Exception):
    """Raised in place of the first flow of a property: its hypotheses were checked by then."""


def _preflight(problem: Problem, prop: str, options: dict[str, Any]) -> int:
    """Raise NotApplicableError now (not in a worker) if ``prop`` does not apply; return the
    number of kink surfaces. Every property checks its hypotheses before integrating, so
    stopping it at its first flow costs one derivation and no integration."""
    from kltools.checks.properties import PROPERTIES
    from kltools.integrate.cached import flow_system

    # Derived here once and stored in the program cache: the workers load it.
    checker = recording_checker(problem, flow_system(problem.source, problem.name))

    def stop(*_a: Any, **_k: Any) -> Any:
        raise _PreflightStopError

    checker.flow = stop  # type: ignore[method-assign]
    with contextlib.suppress(_PreflightStopError):
        PROPERTIES[prop].run(checker, None, **options)
    return checker.system.m


def _load(spec: str | Path | Problem) -> Problem:
    if isinstance(spec, Problem):
        if not spec.source:
            raise SpecError("sweep needs a problem built from a spec document (load_problem or "
                            "problem_from_dict), to record and ship it")
        return spec
    from kltools.spec import load_problem

    return load_problem(Path(spec))


def sweep(spec: str | Path | Problem, n: int, *, out: str | Path, prop: str | None = None,
          integrate: bool = False, workers: int | None = None, scheduler: str | None = None,
          t_end: object | None = None, dps: int = 30, seed: int = 0,
          exponent: object | None = None, eta: object | None = None,
          progress: Callable[[int, int], None] | None = None,
          log: Callable[[str], None] | None = None) -> SweepResult:
    """Run ``n`` seeded initialisations of ``spec`` and append their results to ``out``.

    Parameters
    ----------
    spec
        A spec file (TOML) or a :class:`~kltools.spec.problem.Problem` built from one.
    n
        Initialisations 0..n−1 (≥ 1). Indices already in ``out`` are skipped; a larger ``n``
        later extends the same sweep.
    out
        The JSON-lines results file (created, or resumed when its header matches).
    prop, integrate
        Exactly one: a property name (``kltools check`` properties) or ``integrate=True``.
    workers
        Local worker processes (default: the CPU count; 0: run in this process).
    scheduler
        A dask.distributed scheduler address (``tcp://HOST:PORT``); overrides ``workers``.
    t_end, dps, seed
        Horizon (default: the property's own, 10 for integrate), working digits, root seed.
    exponent, eta
        Options of the ``lojasiewicz`` and ``gd-vs-flow`` properties.
    progress
        Called with (done, n) at the start and after every finished run.
    log
        Called with one-line notes (what is resumed, where runs execute).

    Raises
    ------
    SpecError
        Bad arguments, an ``out`` of another sweep, an unreachable scheduler.
    NotApplicableError
        ``prop`` does not apply to the spec (raised before any run).
    """
    from kltools.checks.properties import PROPERTIES

    started = time.monotonic()
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise SpecError(f"--n must be a positive integer, got {n!r}", "--n")
    if (prop is None) == (not integrate):
        raise SpecError("give exactly one of --property NAME and --integrate", "--property")
    if prop is not None and prop not in PROPERTIES:
        raise SpecError(f"unknown property {prop!r}; known: {', '.join(PROPERTIES)}",
                        "--property")
    problem = _load(spec)
    mode = "integrate" if integrate else "property"
    opts, scale = _options(problem, prop, t_end, dps, seed, exponent, eta)
    run_opts = {k: v for k, v in opts.items() if k not in ("seed", "scale")}
    if prop is not None:
        kinks = _preflight(problem, prop, run_opts)
    else:
        from kltools.integrate.cached import flow_system

        # Also reports a bad model before any run, and fills the program cache the workers read.
        kinks = flow_system(problem.source, problem.name).m
    header = make_header(problem.source, problem.name, mode, prop, opts,
                         {"parameters": list(problem.parameters), "kink_surfaces": kinks})
    spec_json = canonical_json(problem.source)
    out_path = Path(out)
    existed = out_path.exists() and out_path.stat().st_size > 0
    rf = ResultFile.open(out_path, header)
    ran = 0
    where = "nothing to run"
    try:
        todo = [i for i in range(n) if i not in rf.done]
        skipped = n - len(todo)
        if log is not None and skipped:
            log(f"resuming {out_path}: {skipped} of {n} initialisations done, {len(todo)} to run")
        if progress is not None:
            progress(skipped, n)
        tasks = (Task(spec_json, problem.name, mode, prop, run_opts, scale, seed, i)
                 for i in todo)

        def record(line: dict[str, Any]) -> None:
            nonlocal ran
            rf.append(line)
            ran += 1
            if progress is not None:
                progress(skipped + ran, n)

        if todo:
            try:
                with open_executor(workers, scheduler) as (executor, window, where):
                    if log is not None:
                        log(f"running {len(todo)} initialisations on {where}")
                    drive(executor, run_task, tasks, window, record)
            except SpecError:
                if not existed and not ran:
                    rf.close()
                    out_path.unlink(missing_ok=True)  # only the header this call wrote
                raise
        lines = sorted((ln for i, ln in rf.done.items() if i < n), key=lambda r: r["index"])
        header = rf.header
    finally:
        rf.close()
    return SweepResult(out_path, header, lines, summarize(header, lines, n), ran, skipped,
                       time.monotonic() - started, where)

