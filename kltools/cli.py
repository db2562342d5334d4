"""The ``kltools`` command.

Exit codes: 0 holds / success, 1 refuted, 2 usage or spec error (one line on stderr), 3
inconclusive, 4 internal error (a bug in kltools), 130 interrupted (Ctrl-C), 143 terminated
(SIGTERM). JSON goes to stdout only; logs and progress go to stderr. Set ``KLTOOLS_DEBUG=1`` to
see the traceback of an internal error. Option values are checked when the command line is read
(:mod:`kltools.cli_params`); ``integrate``, ``check`` and ``sweep`` run inside a wall-clock and
step budget (:mod:`kltools.budget`), shown in their output.
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable
from fractions import Fraction
from typing import Any, TypeVar

import click

from kltools.cli_params import (
    DEFAULT_MAX_STEPS,
    DEFAULT_WALL_TIME,
    ExactNumber,
    NumberList,
    OneLineGroup,
    Seconds,
    check_examples,
    check_runs,
    check_workers,
    one_line,
)
from kltools.errors import KltoolsError

__all__ = ["main"]

F = TypeVar("F", bound=Callable[..., Any])

EXIT_OK, EXIT_REFUTED, EXIT_USAGE, EXIT_INCONCLUSIVE, EXIT_INTERNAL = 0, 1, 2, 3, 4


def _fail(message: str, code: int) -> None:
    click.echo(f"kltools: error: {one_line(message)}", err=True)
    sys.exit(code)


def handle_errors(fn: F) -> F:
    """Turn kltools errors into one line on stderr and exit code 2; anything else into exit 4."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except KltoolsError as exc:
            # NotApplicableError, SpecError, DerivationError, IntegrationError: the user's input.
            _fail(str(exc), EXIT_USAGE)
        except (click.exceptions.Exit, click.ClickException, SystemExit, KeyboardInterrupt):
            raise
        except Exception as exc:
            if os.environ.get("KLTOOLS_DEBUG"):
                raise
            _fail(f"internal error: {type(exc).__name__}: {exc} (this is a bug in kltools; "
                  "rerun with KLTOOLS_DEBUG=1 for the traceback and report it)", EXIT_INTERNAL)

    return wrapper  # type: ignore[return-value]


@click.group(cls=OneLineGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="kltools")
@click.option("--limit", "limit_values", multiple=True, metavar="NAME=VALUE",
              help="Raise a resource limit for this run, e.g. --limit width=10000 (names and "
                   "defaults: docs/limits.md; or set KLTOOLS_MAX_<NAME>).")
@click.pass_context
@handle_errors
def main(ctx: click.Context, limit_values: tuple[str, ...]) -> None:
    """Check convergence theory of gradient flows on toy networks."""
    if limit_values:
        from kltools.spec import limits

        values = dict(limits.parse_assignment(v) for v in limit_values)
        ctx.with_resource(limits.exported(**values))  # worker processes inherit them


def _load(spec: str) -> Any:
    from pathlib import Path

    from kltools.spec import load_problem

    return load_problem(Path(spec))


@main.command()
@click.argument("spec", type=click.Path(dir_okay=False))
@click.option("--format", "fmt", type=click.Choice(["text", "latex", "python", "json"]),
              default="text", show_default=True, help="Output format.")
@click.option("--json", "as_json", is_flag=True, help="Same as --format json.")
@click.option("--identities", is_flag=True,
              help="Also prove the energy, Euler and balancedness identities.")
@handle_errors
def derive(spec: str, fmt: str, as_json: bool, identities: bool) -> None:
    """Derive L, its gradient and the kink surfaces of SPEC (a TOML file)."""
    import json

    from kltools.symbolic.derivation import derive as _derive
    from kltools.symbolic.export import export, to_dict

    problem = _load(spec)
    d = _derive(problem)
    if as_json:
        fmt = "json"
    ids = _identities(d) if identities else []
    if fmt == "json":
        data = to_dict(d)
        if identities:
            data["identities"] = [i.to_json() for i in ids]
        click.echo(json.dumps(data, indent=2))
        return
    click.echo(export(d, fmt), nl=False)
    for i in ids:
        click.echo(f"{i.status:>12}  {i.name}: {i.statement}"
                   + (f"  (witness {_assignments(i.witness)})" if i.witness else ""))


class _Progress:
    """A tqdm bar on stderr that appears only for runs longer than a second or two; its
    position is :class:`~kltools.integrate.progress.HorizonScale` (log time beyond 1e6)."""

    def __init__(self, total: float, desc: str) -> None:
        from tqdm import tqdm

        from kltools.integrate.progress import HorizonScale

        self.scale = HorizonScale(total)
        self.bar = tqdm(total=1000, desc=desc, delay=1.5, file=sys.stderr, leave=False,
                        bar_format="{desc}: {percentage:3.0f}%|{bar}| [{elapsed}]")
        self.desc, self.total = desc, total

    def __call__(self, t: float) -> None:
        # update() (not refresh()) so that tqdm's delay keeps short runs silent.
        self.bar.set_description_str(f"{self.desc} t = {t:.4g} / {self.total:.4g}",
                                     refresh=False)
        self.bar.update(max(0, round(1000 * self.scale.position(t)) - self.bar.n))

    def close(self) -> None:
        self.bar.close()


def _budget_options(command: str) -> Callable[[F], F]:
    """``--wall-time`` and ``--max-steps`` with the command's defaults (shown in --help)."""

    def deco(fn: F) -> F:
        what = {"integrate": "the whole command", "check": "the whole check",
                "sweep": "each run"}[command]
        fn = click.option("--max-steps", default=DEFAULT_MAX_STEPS, show_default=True,
                          type=click.IntRange(1, 10**9),
                          help="Step budget of every integration.")(fn)
        return click.option("--wall-time", default=DEFAULT_WALL_TIME[command],
                            show_default=True, type=Seconds(),
                            help=f"Wall-clock budget in seconds for {what}; a run that "
                                 "spends it ends with its time-limit outcome.")(fn)

    return deco


@main.command()
@click.argument("spec", type=click.Path(dir_okay=False))
@click.option("--t-end", "t_end", required=True, type=ExactNumber(positive=True),
              help="Horizon T > 0 (e.g. 10 or 1e8).")
@click.option("--dps", default=30, show_default=True, type=int,
              help="Decimal digits of working precision (10..10000).")
@click.option("--init", "init", default=None, type=NumberList(),
              help="Initial point v1,v2,... (exact decimals or fractions); default: the spec's.")
@click.option("--method", type=click.Choice(["taylor", "gd"]), default="taylor",
              show_default=True, help="The flow (Taylor) or gradient descent.")
@click.option("--eta", default=None, type=ExactNumber(positive=True),
              help="Step of gradient descent (--method gd).")
@click.option("--convention", type=click.Choice(["error", "right", "left", "filippov"]),
              default="error", show_default=True,
              help="Switch value on a kink surface the start lies on.")
@click.option("--verify", is_flag=True,
              help="Re-run at higher precision and report the digits that agree.")
@_budget_options("integrate")
@click.option("--json", "as_json", is_flag=True, help="JSON on stdout.")
@click.option("--samples", is_flag=True, help="With --json: include every step's samples.")
@click.option("--plot", "plot", default=None, type=click.Path(dir_okay=False),
              help="Write a PNG of loss and gradient norm against time.")
@click.option("--save", "save", default=None, type=click.Path(dir_okay=False),
              help="Write the trajectory (all samples) as JSON.")
@click.option("--force", is_flag=True, help="Let --save/--plot overwrite existing files.")
@click.option("--backend", type=click.Choice(["native", "heyoka"]), default="native",
              show_default=True,
              help="heyoka: its LLVM-compiled Taylor integrator for flows without kinks "
                   "(optional: pip install 'kltools[fast]'). Without heyoka, or for a model "
                   "with kinks, the native integrator runs; --json's info.backend says which.")
@click.option("--no-cache", "no_cache", is_flag=True,
              help="Derive and compile SPEC afresh, without reading or writing the program "
                   "cache (see `kltools cache`).")
@handle_errors
def integrate(spec: str, t_end: str, dps: int, init: list[str] | None, method: str,
              eta: str | None, convention: str, verify: bool, max_steps: int, wall_time: float,
              as_json: bool, samples: bool, plot: str | None, save: str | None,
              force: bool, backend: str, no_cache: bool) -> None:
    """Integrate the gradient flow of SPEC to time T at high precision.

    The compiled programs of SPEC are cached (keyed by the spec's content and the kltools
    version): a second run on the same spec starts without deriving it again."""
    import json

    from kltools.budget import budget
    from kltools.errors import IntegrationError
    from kltools.integrate.flow import integrate as _integrate
    from kltools.numbers import to_float

    outputs = _check_outputs({"--save": save, "--plot": plot}, force)
    if method == "taylor":
        from kltools.integrate.cached import load_flow_system

        system = load_flow_system(spec, use_cache=not no_cache)
        problem = system.d.problem
    else:
        system = problem = _load(spec)
    if init is not None and len(init) != problem.n_parameters:
        raise IntegrationError(
            f"--init has {len(init)} values, the problem has {problem.n_parameters} "
            f"parameters ({', '.join(problem.parameters)})")
    bar = _Progress(to_float(t_end), "integrate")
    try:
        with budget(wall_time, max_steps) as spent:
            traj = _integrate(system, init, t_end, method=method, dps=dps, eta=eta,
                              convention=convention, verify=verify, max_steps=max_steps,
                              progress=bar, backend=backend)
    finally:
        bar.close()
    if save:
        from kltools.files import replacing

        with replacing(outputs["--save"], "--save") as tmp:
            traj.save(tmp)
    if plot:
        from kltools.files import replacing
        from kltools.report.plots import plot_trajectory

        with replacing(outputs["--plot"], "--plot") as tmp:
            plot_trajectory(traj, tmp, title=f"{problem.name or spec}: {problem.describe()}")
    if as_json:
        click.echo(json.dumps({**traj.to_json(samples=samples), "budget": spent.to_json()},
                              indent=2))
        return
    _print_trajectory(traj)
    click.echo(f"budget      {spent.describe()} (--wall-time, --max-steps)")


def _check_outputs(paths: dict[str, str | None], force: bool) -> dict[str, Any]:
    """Check every output file before any work: writable, not an existing file unless
    ``force``, no two options naming the same file."""
    from pathlib import Path

    from kltools.errors import SpecError
    from kltools.files import check_output

    given = {opt: p for opt, p in paths.items() if p}
    seen: dict[Path, str] = {}
    for opt, p in given.items():
        key = Path(p).resolve()
        if key in seen:
            raise SpecError(f"{seen[key]} and {opt} name the same file {p}", opt)
        seen[key] = opt
        check_output(p, opt, force=force)
    return given


#: What to do about a run that stopped before T, by outcome name.
_HINTS = {
    "time_limit": "the wall-clock budget ran out before T: raise --wall-time, shorten --t-end "
                  "or lower --dps",
    "max_steps": "the step budget ran out before T: raise --max-steps or shorten --t-end",
    "max_events": "the run met too many kink events before T: shorten --t-end",
    "stalled": "the step size stalled before T: raise --dps, or look at the flow near t",
    "stiff": "the flow is stiff: shorten --t-end, lower --dps, or integrate in log-time",
}


def _print_trajectory(traj: Any) -> None:
    from kltools.integrate.trajectory import _num

    digits = max(6, min(int(traj.correct_digits), 60))
    # The outcome's value names it (as in sweep result lines); the sweep package is not
    # imported here: it imports SymPy, which a warm-cache run never needs.
    name = str(traj.outcome.value)
    click.echo(f"outcome     {name}: {traj.outcome.message}")
    if name in _HINTS:
        click.echo(f"note        {_HINTS[name]}")
    click.echo(f"t           {_num(traj.t, 15)}")
    click.echo(f"loss        {_num(traj.loss, digits)}")
    if traj.grad_norms:
        click.echo(f"|grad L|    {_num(traj.grad_norms[-1], 10)}")
    check = "verified against a higher-precision run" if traj.verified else "estimated"
    click.echo(f"digits      {traj.correct_digits:.1f} correct ({check}); dps {traj.dps}")
    if traj.blowup_time is not None:
        click.echo(f"blow-up     t* = {_num(traj.blowup_time, max(6, int(traj.blowup_digits)))}"
                   f" ({traj.blowup_digits:.1f} digits)")
    click.echo(f"steps       {traj.n_steps} in {traj.wall_time:.2f} s")
    if "stiff" in traj.info:
        st = traj.info["stiff"]
        click.echo(f"stiff       at t = {st['t']:.6g} the step sat at {st['step']:.3g}: "
                   f"{st['suggestion']}")
    if traj.events:
        kinds: dict[str, int] = {}
        for e in traj.events:
            kinds[e.kind] = kinds.get(e.kind, 0) + 1
        click.echo("events      " + ", ".join(f"{v} {k}" for k, v in kinds.items()))
        for e in traj.events[:10]:
            click.echo(f"  t = {_num(e.t, 12):>22}  {e.kind:<12} {', '.join(e.labels)}")
        if len(traj.events) > 10:
            click.echo(f"  ... {len(traj.events) - 10} more (use --json)")
    click.echo("theta")
    for name, v in zip(traj.parameters, traj.theta, strict=True):
        click.echo(f"  {name:>10} = {_num(v, digits)}")


class _RegistryHelp(click.Command):
    """A command whose epilog documents every registered property, read only when help is
    shown (importing the registry at start-up would slow every command)."""

    def format_epilog(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        from kltools.checks.command import properties_help

        self.epilog = "Properties (from the registry):\n\n" + properties_help()
        super().format_epilog(ctx, formatter)


@main.command(cls=_RegistryHelp)
@click.argument("spec", type=click.Path(dir_okay=False))
@click.option("--property", "prop", required=True,
              help="The property to check (each is documented below).")
@click.option("--examples", default=10, show_default=True, type=click.IntRange(min=1),
              callback=check_examples,
              help="Random initialisations (the spec's own init first); at most 100000 "
                   "(KLTOOLS_MAX_EXAMPLES).")
@click.option("--exponent", default=None, type=ExactNumber(positive=True, high=Fraction(1)),
              help="Łojasiewicz exponent to check, in (0, 1] (e.g. 3/4).")
@click.option("--seed", default=0, show_default=True, type=int, help="Hypothesis seed.")
@click.option("--t-end", "t_end", default=None, type=ExactNumber(positive=True),
              help="Horizon override (default: the property's own, or chosen by the check).")
@click.option("--dps", default=30, show_default=True, type=int)
@click.option("--eta", default=None, type=ExactNumber(positive=True),
              help="Step for gd-vs-flow.")
@click.option("--near-kinks", is_flag=True, help="Start near a first-layer kink surface.")
@click.option("--force", is_flag=True,
              help="Run directional-convergence even where its hypotheses fail.")
@_budget_options("check")
@click.option("--json", "as_json", is_flag=True, help="JSON on stdout.")
@handle_errors
def check(spec: str, prop: str, examples: int, exponent: str | None, seed: int,
          t_end: str | None, dps: int, eta: str | None, near_kinks: bool, force: bool,
          max_steps: int, wall_time: float, as_json: bool) -> None:
    """Check a property of SPEC's gradient flow over random initialisations.

    Exit code 0 when it holds, 1 when refuted (the counter-example is printed), 3 when
    inconclusive (also when the wall-clock budget runs out first), 2 when the property does not
    apply to the spec or the input is bad.
    """
    from kltools.budget import budget
    from kltools.checks.command import render
    from kltools.checks.properties import get_property

    get_property(prop)
    problem = _load(spec)
    given = {"t_end": t_end, "dps": dps, "exponent": exponent, "eta": eta, "force": force}
    with budget(wall_time, max_steps) as spent:
        verdict = _run_check(problem, prop, examples, seed, near_kinks, given, spent)
    click.echo(render(verdict, spec, dps, as_json, {"budget": spent.to_json()}))
    if not as_json:
        click.echo(f"budget: {spent.describe()} (--wall-time, --max-steps)")
    sys.exit(verdict.status.exit_code)


class _BudgetSpentError(BaseException):
    """Stops a check between examples once its wall-clock budget is spent. A BaseException so
    that Hypothesis passes it through (it would shrink an Exception as a failing example)."""


def _run_check(problem: Any, prop: str, examples: int, seed: int, near_kinks: bool,
               given: dict[str, Any], spent: Any) -> Any:
    """The check command's verdict with a progress bar, stopped between examples when the
    budget ``spent`` runs out: then the verdict is inconclusive, with the tally so far."""
    from tqdm import tqdm

    from kltools.checks.command import run_check_command
    from kltools.checks.properties import get_property
    from kltools.checks.verdict import Status, Verdict

    bar = tqdm(total=examples, desc=f"check {prop}", unit="init", file=sys.stderr, delay=1.0,
               leave=False)
    tally = {s.value: 0 for s in Status}

    def progress(done: int, verdict: Any) -> None:
        bar.update(max(0, min(done, examples) - bar.n))
        tally[verdict.status.value] += 1
        # A refutation is always reported (the runner returns it); stop only between others.
        if spent.spent() and verdict.status is not Status.REFUTED and done < examples:
            raise _BudgetSpentError

    try:
        return run_check_command(problem, prop, examples=examples, seed=seed,
                                 near_kinks=near_kinks, given=given, progress=progress)
    except _BudgetSpentError:
        done = sum(tally.values())
        return Verdict(prop, get_property(prop).claim, Status.INCONCLUSIVE, {
            "reason": f"the wall-clock budget of {spent.wall_time:g} s was spent after {done} "
                      f"of {examples} examples; raise --wall-time or lower --examples",
            "examples": tally}, None, done)
    finally:
        bar.close()


@main.command()
@click.argument("spec", type=click.Path(dir_okay=False))
@click.option("--degree", default=2, show_default=True, type=click.IntRange(0, 12),
              help="Largest degree of the polynomial laws searched (0: count only).")
@click.option("--points", "n_points", default=3, show_default=True, type=click.IntRange(1, 20),
              help="Random integer points at which the generic ranks are computed.")
@click.option("--seed", default=0, show_default=True, type=int, help="Seed of those points.")
@click.option("--no-prove", "no_prove", is_flag=True,
              help="Skip the symbolic proof of each law along the spec's own flow.")
@click.option("--json", "as_json", is_flag=True, help="JSON on stdout.")
@handle_errors
def laws(spec: str, degree: int, n_points: int, seed: int, no_prove: bool,
         as_json: bool) -> None:
    """Count and find the conservation laws of SPEC's architecture (every data set and loss).

    Exit code 0 when every law found is proved on SPEC's flow, 1 when one is refuted, 3 when a
    proof is inconclusive, 2 when the architecture is outside the supported families.
    """
    import json

    from kltools.symbolic.laws import conservation_laws

    result = conservation_laws(_load(spec), degree, n_points=n_points, seed=seed,
                               prove=not no_prove)
    click.echo(json.dumps(result.to_json(), indent=2) if as_json else result.to_text(), nl=as_json)
    statuses = {p.status for p in result.proofs}
    sys.exit(EXIT_REFUTED if "refuted" in statuses
             else EXIT_INCONCLUSIVE if "inconclusive" in statuses else EXIT_OK)


@main.command()
@click.argument("expr")
@click.option("--vars", "variables", default=None, help="Comma-separated variables, e.g. x,y.")
@click.option("--at", default=None,
              help="The critical point, comma-separated exact numbers (e.g. 2,1/2); default: the "
                   "origin.")
@click.option("--method", default="auto", show_default=True,
              help="auto, morse, univariate, morse-bott, power, quasi-homogeneous, "
                   "newton-polygon or numeric.")
@click.option("--seed", default=0, show_default=True, type=int,
              help="Seed of the numerical estimate's sampling.")
@click.option("--at-end", "at_end", is_flag=True,
              help="EXPR is a SPEC file: analyse the limit of its flow (needs --t-end).")
@click.option("--t-end", "t_end", default=None, type=ExactNumber(positive=True),
              help="Horizon of the flow for --at-end.")
@click.option("--dps", default=30, show_default=True, type=int, help="Digits for --at-end.")
@click.option("--json", "as_json", is_flag=True, help="JSON on stdout.")
@handle_errors
def exponent(expr: str, variables: str | None, at: str | None, method: str, seed: int,
             at_end: bool, t_end: str | None, dps: int, as_json: bool) -> None:
    """The Łojasiewicz exponent of EXPR at a critical point: exact with the method that proves
    it, or a numerical interval. Exit code 0 on success, 2 for a bad expression, a point that is
    not critical, or a method whose hypotheses fail."""
    import json

    from kltools.errors import SpecError

    if at_end:
        if t_end is None:
            raise SpecError("--at-end integrates the flow of the spec: give --t-end", "--t-end")
        if at is not None or variables is not None:
            raise SpecError("--at-end takes a SPEC file, not --vars/--at", "--at-end")
        from kltools.analysis.at_end import exponent_at_end
        from kltools.budget import budget

        with budget(DEFAULT_WALL_TIME["integrate"], DEFAULT_MAX_STEPS):  # the flow ends, too
            data = exponent_at_end(_load(expr), t_end=t_end, dps=dps)
        if as_json:
            click.echo(json.dumps(data, indent=2))
        else:
            from kltools.display import at_end_rows, text_table

            click.echo(text_table(at_end_rows(data)))
        return
    if variables is None:
        raise SpecError("give the variables of EXPR, e.g. --vars x,y", "--vars")
    from kltools.analysis import lojasiewicz_exponent

    result = lojasiewicz_exponent(expr, at, variables=variables, method=method,
                                  numeric={"seed": seed})
    click.echo(json.dumps(result.to_json(), indent=2) if as_json else result.to_text())


@main.command("sweep")
@click.argument("spec", type=click.Path(dir_okay=False))
@click.option("--n", "n", required=True, type=int, callback=check_runs,
              help="Initialisations 0..N-1 (at most 10^7; KLTOOLS_MAX_RUNS).")
@click.option("--property", "prop", default=None, help="Check this property at each (see check).")
@click.option("--integrate", "integrate_", is_flag=True, help="Integrate the flow from each.")
@click.option("--out", required=True, type=click.Path(dir_okay=False),
              help="JSON-lines results file; rerun with it to resume.")
@click.option("--workers", default=None, type=int, callback=check_workers,
              help="Local processes [default: CPU count; 0: this process; at most 4 per CPU].")
@click.option("--scheduler", default=None, help="dask.distributed address tcp://HOST:PORT.")
@click.option("--connect-timeout", default=10.0, show_default=True, type=Seconds(high=3600),
              help="Seconds to reach the scheduler, handshake included.")
@click.option("--t-end", "t_end", default=None, type=ExactNumber(positive=True),
              help="Horizon [default: the property's; 10].")
@click.option("--dps", default=30, show_default=True, type=int)
@click.option("--seed", default=0, show_default=True, type=int,
              help="Root of numpy SeedSequence(seed).spawn(N).")
@click.option("--exponent", default=None, type=ExactNumber(positive=True, high=Fraction(1)),
              help="Exponent for --property lojasiewicz.")
@click.option("--eta", default=None, type=ExactNumber(positive=True),
              help="Step for --property gd-vs-flow.")
@_budget_options("sweep")
@click.option("--plot", default=None, type=click.Path(dir_okay=False),
              help="Write a PNG of verdicts, rates and exponents.")
@click.option("--force", is_flag=True, help="Let --plot overwrite an existing file.")
@click.option("--json", "as_json", is_flag=True, help="Summary as JSON on stdout.")
@handle_errors
def sweep_command(spec: str, n: int, prop: str | None, integrate_: bool, out: str,
                  workers: int | None, scheduler: str | None, connect_timeout: float,
                  t_end: str | None, dps: int, seed: int, exponent: str | None, eta: str | None,
                  max_steps: int, wall_time: float, plot: str | None, force: bool,
                  as_json: bool) -> None:
    """Run N seeded initialisations of SPEC in parallel, appending results to --out as they
    finish. Exit code 0 when every run holds (or --integrate), 1 when one is refuted, 3 when one
    is inconclusive, 2 for bad input, an --out of another sweep or an unreachable scheduler."""
    import json

    from tqdm import tqdm

    from kltools.sweep import sweep as run_sweep

    outputs = _check_outputs({"--plot": plot}, force)
    bar = tqdm(total=n, desc="sweep", unit="run", file=sys.stderr, delay=1.0, leave=False)

    def progress(done: int, _total: int) -> None:
        bar.update(done - bar.n)

    try:
        result = run_sweep(spec, n, out=out, prop=prop, integrate=integrate_, workers=workers,
                           scheduler=scheduler, t_end=t_end, dps=dps, seed=seed,
                           exponent=exponent, eta=eta, wall_time=wall_time,
                           max_steps=max_steps, connect_timeout=connect_timeout,
                           progress=progress,
                           log=lambda msg: click.echo(f"kltools: {msg}", err=True))
    finally:
        bar.close()
    if plot:
        from kltools.files import replacing

        with replacing(outputs["--plot"], "--plot") as tmp:
            result.plot(tmp)
    click.echo(json.dumps(result.to_json(), indent=2) if as_json else result.text())
    sys.exit(result.exit_code)


@main.command()
@click.argument("names", nargs=-1)
@click.option("--all", "run_all", is_flag=True, help="Run every proof (in report order).")
@click.option("--out", default="kltools-report", show_default=True,
              type=click.Path(file_okay=False), help="Directory for report.md and the plots.")
@click.option("--quick", is_flag=True,
              help="Reduced mode: fewer initialisations, lower precision (for tests).")
@click.option("--seed", default=0, show_default=True, type=int,
              help="Seed of the random initialisations.")
@click.option("--workers", type=click.IntRange(min=1), default=None,
              help="Processes that run proofs (and long loops inside a claim) side by side; "
                   "default: the number of CPUs.")
@click.option("--list", "list_only", is_flag=True, help="List the proofs and exit.")
@click.option("--json", "as_json", is_flag=True, help="JSON on stdout (every claim, evidence).")
@handle_errors
def prove(names: tuple[str, ...], run_all: bool, out: str, quick: bool, seed: int,
          workers: int | None, list_only: bool, as_json: bool) -> None:
    """Run proof scripts: built-in NAMEs (see --list), your own proof files (PATH.py), or
    --all. Writes OUT/report.md and PNG plots, prints a summary table (or JSON with --json);
    progress goes to stderr. Exit code 0 when every verdict is the expected one, 1 when one is
    not, 3 when the only surprises are inconclusive, 4 when a proof crashed."""
    import json
    import time
    from pathlib import Path

    from kltools.errors import SpecError
    from kltools.proving import Config, available, load, load_proof, run_proofs
    from kltools.report.markdown import report_json, write_report
    from kltools.report.terminal import ProgressLines, fit, terminal_table

    if list_only:
        for name in available():
            click.echo(fit(f"{name:20} {load_proof(name).PROOF.title}"))
        return
    if run_all == bool(names):
        raise SpecError("give proof NAMEs or --all (not both); `kltools prove --list` lists "
                        "them", "NAME")
    chosen = available() if run_all else list(names)
    scripts = [load(name) for name in chosen]  # unknown names fail before anything runs
    workers = workers or os.cpu_count() or 1
    config = Config(quick=quick, out=Path(out), seed=seed, workers=workers,
                    log=lambda msg: click.echo(fit(msg), err=True),
                    progress=ProgressLines(lambda line: click.echo(line, err=True)))
    start = time.perf_counter()
    runs = run_proofs(scripts, config, workers=workers)
    seconds = time.perf_counter() - start
    words = ["kltools prove", *(["--all"] if run_all else chosen)] + (["--quick"] if quick
                                                                      else [])
    report = write_report(runs, config, seconds, " ".join(words))
    click.echo(f"report: {report} ({seconds:.0f} s)", err=True)
    data = report_json(runs, config, seconds, report)
    click.echo(json.dumps(data, indent=2) if as_json else terminal_table(runs))
    if any(run.error for run in runs):
        sys.exit(EXIT_INTERNAL)
    surprises = [r for run in runs for r in run.results if not r.as_expected]
    if not surprises:
        sys.exit(EXIT_OK)
    sys.exit(EXIT_INCONCLUSIVE if all(r.verdict == "inconclusive" for r in surprises)
             else EXIT_REFUTED)


def _assignments(values: Any) -> str:
    """``{'b2_1': '3/4'}`` as ``b2_1 = 3/4`` (no Python reprs on the terminal)."""
    from kltools.display import plain

    if isinstance(values, dict):
        return ", ".join(f"{k} = {plain(v)}" for k, v in values.items())
    return plain(values)


@main.group("cache")
def cache_group() -> None:
    """The compiled-program cache (directory: $KLTOOLS_CACHE_DIR or the user cache dir)."""


@cache_group.command("clear")
@handle_errors
def cache_clear() -> None:
    """Remove every cached program (they are rebuilt on the next run)."""
    from kltools.compiled.cache import ProgramCache

    cache = ProgramCache()
    click.echo(f"removed {cache.clear()} cache entries from {cache.root}")


@cache_group.command("dir")
def cache_dir() -> None:
    """Print the cache directory."""
    from kltools.compiled.cache import cache_root

    click.echo(str(cache_root()))


def _identities(d: Any) -> list[Any]:
    from kltools.symbolic.identities import balancedness, energy_identity, euler_identity

    out = [energy_identity(d)]
    if d.problem.network is not None:
        out += euler_identity(d)
        if d.problem.loss.l2 == 0:
            out += balancedness(d)
    return out


if __name__ == "__main__":  # pragma: no cover
    main()
