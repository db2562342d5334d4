"""The ``kltools`` command.

Exit codes (STYLE.md): 0 holds / success, 1 refuted, 2 usage or spec error, 3 inconclusive,
4 internal error. JSON goes to stdout only; logs and progress go to stderr. Set
``KLTOOLS_DEBUG=1`` to see the traceback of an internal error.
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import click

from kltools.errors import KltoolsError

__all__ = ["main"]

F = TypeVar("F", bound=Callable[..., Any])

EXIT_OK, EXIT_REFUTED, EXIT_USAGE, EXIT_INCONCLUSIVE, EXIT_INTERNAL = 0, 1, 2, 3, 4


def _fail(message: str, code: int) -> None:
    one_line = " ".join(part.strip() for part in message.splitlines() if part.strip())
    click.echo(f"kltools: error: {one_line}", err=True)
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


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="kltools")
def main() -> None:
    """Check convergence theory of gradient flows on toy networks."""


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
                   + (f"  (witness {i.witness})" if i.witness else ""))


class _Progress:
    """A tqdm bar on stderr that appears only for runs longer than a second or two."""

    def __init__(self, total: float, desc: str) -> None:
        from tqdm import tqdm

        self.bar = tqdm(total=total, desc=desc, unit="t", delay=1.5, file=sys.stderr,
                        leave=False, bar_format="{desc}: {percentage:3.0f}%|{bar}| t = {n:.4g} "
                        "/ {total:.4g} [{elapsed}]")

    def __call__(self, t: float) -> None:
        # update() (not refresh()) so that tqdm's delay keeps short runs silent.
        self.bar.update(max(0.0, min(t, self.bar.total) - self.bar.n))

    def close(self) -> None:
        self.bar.close()


@main.command()
@click.argument("spec", type=click.Path(dir_okay=False))
@click.option("--t-end", "t_end", required=True, help="Horizon T > 0 (e.g. 10 or 1e8).")
@click.option("--dps", default=30, show_default=True, type=int,
              help="Decimal digits of working precision (10..10000).")
@click.option("--init", "init", default=None,
              help="Initial point v1,v2,... (exact decimals or fractions); default: the spec's.")
@click.option("--method", type=click.Choice(["taylor", "gd"]), default="taylor",
              show_default=True, help="The flow (Taylor) or gradient descent.")
@click.option("--eta", default=None, help="Step of gradient descent (--method gd).")
@click.option("--convention", type=click.Choice(["error", "right", "left", "filippov"]),
              default="error", show_default=True,
              help="Switch value on a kink surface the start lies on.")
@click.option("--verify", is_flag=True,
              help="Re-run at higher precision and report the digits that agree.")
@click.option("--max-steps", default=200_000, show_default=True, type=int)
@click.option("--wall-time", default=None, type=float, help="Wall-clock limit in seconds.")
@click.option("--json", "as_json", is_flag=True, help="JSON on stdout.")
@click.option("--samples", is_flag=True, help="With --json: include every step's samples.")
@click.option("--plot", "plot", default=None, type=click.Path(dir_okay=False),
              help="Write a PNG of loss and gradient norm against time.")
@click.option("--save", "save", default=None, type=click.Path(dir_okay=False),
              help="Write the trajectory (all samples) as JSON.")
@click.option("--backend", type=click.Choice(["native", "heyoka"]), default="native",
              show_default=True,
              help="heyoka: its LLVM-compiled Taylor integrator for flows without kinks "
                   "(optional: pip install 'kltools[fast]'). Without heyoka, or for a model "
                   "with kinks, the native integrator runs; --json's info.backend says which.")
@click.option("--no-cache", "no_cache", is_flag=True,
              help="Derive and compile SPEC afresh, without reading or writing the program "
                   "cache (see `kltools cache`).")
@handle_errors
def integrate(spec: str, t_end: str, dps: int, init: str | None, method: str, eta: str | None,
              convention: str, verify: bool, max_steps: int, wall_time: float | None,
              as_json: bool, samples: bool, plot: str | None, save: str | None,
              backend: str, no_cache: bool) -> None:
    """Integrate the gradient flow of SPEC to time T at high precision.

    The compiled programs of SPEC are cached (keyed by the spec's content and the kltools
    version): a second run on the same spec starts without deriving it again."""
    import json

    from kltools.errors import IntegrationError
    from kltools.integrate.flow import integrate as _integrate

    if method == "taylor":
        from kltools.integrate.cached import load_flow_system

        system = load_flow_system(spec, use_cache=not no_cache)
        problem = system.d.problem
    else:
        system = problem = _load(spec)
    theta0 = None
    if init is not None:
        theta0 = [v.strip() for v in init.split(",") if v.strip()]
        if len(theta0) != problem.n_parameters:
            raise IntegrationError(
                f"--init has {len(theta0)} values, the problem has {problem.n_parameters} "
                f"parameters ({', '.join(problem.parameters)})")
    try:
        total = float(t_end)
    except ValueError:
        raise IntegrationError(f"--t-end {t_end!r} is not a number; pass e.g. 10 or 1e8") from None
    bar = _Progress(total, "integrate") if total > 0 else None
    try:
        traj = _integrate(system, theta0, t_end, method=method, dps=dps, eta=eta,
                          convention=convention, verify=verify, max_steps=max_steps,
                          wall_time=wall_time, progress=bar, backend=backend)
    finally:
        if bar is not None:
            bar.close()
    if save:
        traj.save(save)
    if plot:
        from kltools.report.plots import plot_trajectory

        plot_trajectory(traj, plot, title=f"{problem.name or spec}: {problem.describe()}")
    if as_json:
        click.echo(json.dumps(traj.to_json(samples=samples), indent=2))
        return
    _print_trajectory(traj)


def _print_trajectory(traj: Any) -> None:
    from kltools.integrate.trajectory import _num

    digits = max(6, min(int(traj.correct_digits), 60))
    click.echo(f"outcome     {traj.outcome.value}: {traj.outcome.message}")
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


@main.command()
@click.argument("spec", type=click.Path(dir_okay=False))
@click.option("--property", "prop", required=True,
              help="energy, no-blowup, lojasiewicz, linear-convergence, rayleigh-identity, "
                   "conservation, directional-convergence, codim2, gd-vs-flow.")
@click.option("--examples", default=10, show_default=True, type=int,
              help="Random initialisations (the spec's own init first).")
@click.option("--exponent", default=None, help="Łojasiewicz exponent to check (e.g. 3/4).")
@click.option("--seed", default=0, show_default=True, type=int, help="Hypothesis seed.")
@click.option("--t-end", "t_end", default=None, help="Horizon (default: the property's own).")
@click.option("--dps", default=30, show_default=True, type=int)
@click.option("--eta", default=None, help="Step for gd-vs-flow.")
@click.option("--near-kinks", is_flag=True, help="Start near a first-layer kink surface.")
@click.option("--force", is_flag=True,
              help="Run directional-convergence even where its hypotheses fail.")
@click.option("--json", "as_json", is_flag=True, help="JSON on stdout.")
@handle_errors
def check(spec: str, prop: str, examples: int, exponent: str | None, seed: int,
          t_end: str | None, dps: int, eta: str | None, near_kinks: bool, force: bool,
          as_json: bool) -> None:
    """Check a property of SPEC's gradient flow over random initialisations.

    Exit code 0 when it holds, 1 when refuted (the counter-example is printed), 3 when
    inconclusive, 2 when the property does not apply to the spec or the input is bad.
    """
    import json

    from kltools.checks.properties import PROPERTIES
    from kltools.checks.runner import check as run_check
    from kltools.errors import SpecError

    if prop not in PROPERTIES:
        raise SpecError(f"unknown property {prop!r}; known: {', '.join(PROPERTIES)}",
                        "--property")
    problem = _load(spec)
    options: dict[str, Any] = {"dps": dps, "t_end": t_end or PROPERTIES[prop].default_t_end}
    if exponent is not None:
        if prop != "lojasiewicz":
            raise SpecError("--exponent goes with --property lojasiewicz", "--exponent")
        options["exponent"] = exponent
    if eta is not None:
        if prop != "gd-vs-flow":
            raise SpecError("--eta goes with --property gd-vs-flow", "--eta")
        options["eta"] = eta
    if force:
        options["force"] = True
    from tqdm import tqdm

    bar = tqdm(total=examples, desc=f"check {prop}", unit="init", file=sys.stderr, delay=1.0,
               leave=False)

    def progress(done: int, _verdict: Any) -> None:
        bar.update(max(0, min(done, examples) - bar.n))

    try:
        verdict = run_check(problem, prop, examples=examples, seed=seed, progress=progress,
                            near_kinks=near_kinks, **options)
    finally:
        bar.close()
    if as_json:
        click.echo(json.dumps(verdict.to_json(), indent=2))
    else:
        click.echo(verdict.explain())
    sys.exit(verdict.status.exit_code)


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
@click.option("--t-end", "t_end", default=None, help="Horizon of the flow for --at-end.")
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

        data = exponent_at_end(_load(expr), t_end=t_end, dps=dps)
        if as_json:
            click.echo(json.dumps(data, indent=2))
        else:
            for k, v in data.items():
                click.echo(f"{k:>15}: {v}")
        return
    if variables is None:
        raise SpecError("give the variables of EXPR, e.g. --vars x,y", "--vars")
    from kltools.analysis import lojasiewicz_exponent

    result = lojasiewicz_exponent(expr, at, variables=variables, method=method,
                                  numeric={"seed": seed})
    click.echo(json.dumps(result.to_json(), indent=2) if as_json else result.to_text())


@main.command("sweep")
@click.argument("spec", type=click.Path(dir_okay=False))
@click.option("--n", "n", required=True, type=int, help="Initialisations 0..N-1.")
@click.option("--property", "prop", default=None, help="Check this property at each (see check).")
@click.option("--integrate", "integrate_", is_flag=True, help="Integrate the flow from each.")
@click.option("--out", required=True, type=click.Path(dir_okay=False),
              help="JSON-lines results file; rerun with it to resume.")
@click.option("--workers", default=None, type=int,
              help="Local processes [default: CPU count; 0: this process].")
@click.option("--scheduler", default=None, help="dask.distributed address tcp://HOST:PORT.")
@click.option("--t-end", "t_end", default=None, help="Horizon [default: the property's; 10].")
@click.option("--dps", default=30, show_default=True, type=int)
@click.option("--seed", default=0, show_default=True, type=int,
              help="Root of numpy SeedSequence(seed).spawn(N).")
@click.option("--exponent", default=None, help="Exponent for --property lojasiewicz.")
@click.option("--eta", default=None, help="Step for --property gd-vs-flow.")
@click.option("--plot", default=None, type=click.Path(dir_okay=False),
              help="Write a PNG of verdicts, rates and exponents.")
@click.option("--json", "as_json", is_flag=True, help="Summary as JSON on stdout.")
@handle_errors
def sweep_command(spec: str, n: int, prop: str | None, integrate_: bool, out: str,
                  workers: int | None, scheduler: str | None, t_end: str | None, dps: int,
                  seed: int, exponent: str | None, eta: str | None, plot: str | None,
                  as_json: bool) -> None:
    """Run N seeded initialisations of SPEC in parallel, appending results to --out as they
    finish. Exit code 0 when every run holds (or --integrate), 1 when one is refuted, 3 when one
    is inconclusive, 2 for bad input, an --out of another sweep or an unreachable scheduler."""
    import json

    from tqdm import tqdm

    from kltools.sweep import sweep as run_sweep

    bar = tqdm(total=n, desc="sweep", unit="run", file=sys.stderr, delay=1.0, leave=False)

    def progress(done: int, _total: int) -> None:
        bar.update(done - bar.n)

    try:
        result = run_sweep(spec, n, out=out, prop=prop, integrate=integrate_, workers=workers,
                           scheduler=scheduler, t_end=t_end, dps=dps, seed=seed,
                           exponent=exponent, eta=eta, progress=progress,
                           log=lambda msg: click.echo(f"kltools: {msg}", err=True))
    finally:
        bar.close()
    if plot:
        result.plot(plot)
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
@click.option("--list", "list_only", is_flag=True, help="List the proofs and exit.")
@click.option("--json", "as_json", is_flag=True, help="JSON on stdout (every claim, evidence).")
@handle_errors
def prove(names: tuple[str, ...], run_all: bool, out: str, quick: bool, seed: int,
          list_only: bool, as_json: bool) -> None:
    """Run the proof scripts (proofs/): NAME ... or --all. Writes OUT/report.md and PNG plots,
    prints the summary table (or JSON with --json). Exit code 0 when every verdict is the
    expected one, 1 when one is not, 3 when the only surprises are inconclusive, 4 when a proof
    crashed."""
    import json
    import time
    from pathlib import Path

    from kltools.errors import SpecError
    from kltools.report.claims import Config
    from kltools.report.markdown import report_json, summary_table, write_report
    from kltools.report.registry import available, load_proof, run_proofs

    if list_only:
        for name in available():
            click.echo(f"{name:20} {load_proof(name).PROOF.title}")
        return
    if run_all == bool(names):
        raise SpecError("give proof NAMEs or --all (not both); `kltools prove --list` lists "
                        "them", "NAME")
    chosen = available() if run_all else list(names)
    for name in chosen:
        load_proof(name)  # unknown names fail before anything runs
    config = Config(quick=quick, out=Path(out), seed=seed,
                    log=lambda msg: click.echo(msg, err=True))
    start = time.perf_counter()
    runs = run_proofs(chosen, config)
    seconds = time.perf_counter() - start
    words = ["kltools prove", *(["--all"] if run_all else chosen)] + (["--quick"] if quick
                                                                      else [])
    report = write_report(runs, config, seconds, " ".join(words))
    click.echo(f"report: {report} ({seconds:.0f} s)", err=True)
    data = report_json(runs, config, seconds, report)
    click.echo(json.dumps(data, indent=2) if as_json else summary_table(runs))
    if any(run.error for run in runs):
        sys.exit(EXIT_INTERNAL)
    surprises = [r for run in runs for r in run.results if not r.as_expected]
    if not surprises:
        sys.exit(EXIT_OK)
    sys.exit(EXIT_INCONCLUSIVE if all(r.verdict == "inconclusive" for r in surprises)
             else EXIT_REFUTED)


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
