"""Optional backend: heyoka's LLVM-compiled Taylor integrator for smooth flows (extra ``fast``).

heyoka (F. Biscani, D. Izzo, "Revisiting high-order Taylor methods for astrodynamics and
celestial mechanics", arXiv:2105.00800) computes the Taylor coefficients of an ODE by automatic
differentiation recurrences compiled to machine code; in multiprecision (``fp_type=real``, MPFR)
its cost per coefficient is close to the cost of the big-float multiplications themselves, which
a Python-level jet kernel cannot reach on large networks.

What is handed to heyoka: the flow θ' = F(θ) of a :class:`~kltools.compiled.program.Program`
(outputs 0..P−1), translated instruction by instruction into heyoka expressions (constants as
exact rationals rounded once to the working precision, like the native kernels do), integrated at
``bits_for_dps(dps)`` bits with tolerance 10^−dps, compact mode (the compiled code grows with the
program, not with the Taylor order).

What stays with kltools: the choice of this backend only for flows without kink surfaces (a
piecewise model's events, crossings and Filippov sliding are kltools' own), exact inputs
(θ(0) and t_end enter as rationals rounded once), the losses and gradient norms recorded at
every step (evaluated by kltools' pointwise gmpy2 code), and the digit report: the sum of
heyoka's per-step tolerance over the steps gives the estimate, and ``verify`` re-runs at higher
precision exactly as for the native integrator. Without heyoka installed :func:`available` is
false and callers use the native integrator.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from kltools.compiled.program import Program
from kltools.errors import IntegrationError
from kltools.integrate.trajectory import Outcome, Trajectory, TrajectoryBuilder, with_fields
from kltools.numbers import bits_for_dps, to_fraction

if TYPE_CHECKING:
    from kltools.integrate.flow import FlowRunner, RunLimits

__all__ = ["available", "flow_runner", "heyoka_system", "integrate_smooth"]


def available() -> bool:
    """Whether heyoka (with multiprecision support) can be imported."""
    try:
        import heyoka as hy
    except ImportError:
        return False
    return hasattr(hy, "real")


def _real(q: Fraction, prec: int) -> Any:
    """The rational ``q`` rounded once to ``prec`` bits, as a heyoka ``real``."""
    import gmpy2
    import heyoka as hy

    with gmpy2.context(precision=prec):
        v = gmpy2.mpfr(q.numerator) / q.denominator
    # MPFR's shortest round-trip digits: read back at the same precision it is the same value.
    return hy.real(format(v, f".{math.ceil(prec * math.log10(2)) + 1}e"), prec)


def heyoka_system(program: Program, n_state: int, switches: Sequence[object], prec: int,
                  gradient_of: tuple[int, Fraction] | None = None
                  ) -> tuple[list[Any], list[tuple[Any, Any]]]:
    """The heyoka variables and ODE system ``[(x_i, F_i(x))]`` of ``program``'s first
    ``n_state`` outputs, with the switch slots fixed to the exact values ``switches``.

    With ``gradient_of = (j, s)`` the field is F = −s∇(output j) instead, the gradient taken by
    heyoka (``diff_tensors``) from the translated output j alone: for a gradient flow this is
    the same field as outputs 0..P−1 (which kltools computes as −s∇L by reverse mode), and
    heyoka's own differentiation gives it the expression graph its step is fastest on.
    """
    import heyoka as hy

    names = [f"x{i}" for i in range(program.n_inputs)]
    xs = list(hy.make_vars(*names)) if names else []
    if not isinstance(xs, list):  # one variable: make_vars returns it bare
        xs = [xs]
    if len(switches) != program.n_switches:
        raise IntegrationError(f"the program takes {program.n_switches} switch values, got "
                               f"{len(switches)}")

    def const(q: Fraction) -> Any:
        return hy.expression(_real(q, prec))

    roots = [program.outputs[gradient_of[0]]] if gradient_of else list(program.outputs[:n_state])
    live = _live(program, roots)
    first = program.first_instr_slot
    s: list[Any] = [*xs, *(const(to_fraction(v)) for v in switches),
                    *(const(c) for c in program.constants)]
    for k, (op, a, b, c) in enumerate(program.instrs):
        s.append(_op(hy, op, s[a], s[b] if b >= 0 else None, c, const)
                 if first + k in live else None)
    if gradient_of is None:
        return xs, [(xs[i], s[program.outputs[i]]) for i in range(n_state)]
    grad = hy.diff_tensors([s[roots[0]]], diff_args=xs[:n_state], diff_order=1).jacobian[0]
    scale = const(gradient_of[1])
    return xs, [(xs[i], -scale * grad[i]) for i in range(n_state)]


def _live(program: Program, roots: Sequence[int]) -> set[int]:
    """The slots the ``roots`` depend on (instruction slots only matter)."""
    first = program.first_instr_slot
    live, stack = set(), list(roots)
    while stack:
        v = stack.pop()
        if v in live:
            continue
        live.add(v)
        if v >= first:
            _, a, b, _ = program.instrs[v - first]
            stack += [a] + ([b] if b >= 0 else [])
    return live


def _op(hy: Any, op: str, x: Any, y: Any, c: Fraction | None,
        const: Callable[[Fraction], Any]) -> Any:
    if op == "add":
        return x + y
    if op == "sub":
        return x - y
    if op == "mul":
        return x * y
    if op == "div":
        return x / y
    if op == "neg":
        return -x
    if op == "cmul":
        return const(c) * x  # type: ignore[arg-type]
    if op == "cadd":
        return const(c) + x  # type: ignore[arg-type]
    if op == "sqr":
        return x * x
    if op == "powi":
        return x ** int(c)  # type: ignore[arg-type]
    if op == "pow":
        return x ** const(c)  # type: ignore[arg-type]
    if op in ("exp", "log", "tanh", "sigmoid"):
        return getattr(hy, op)(x)
    if op == "softplus":
        return hy.log(1.0 + hy.exp(x))
    raise IntegrationError(f"the heyoka backend cannot translate the operation {op!r}")


def integrate_smooth(program: Program, n_state: int, switches: Sequence[object],
                     theta0: Sequence[object], t_end: object, *, dps: int,
                     loss_output: int | None = None, scale: object = 1,
                     max_steps: int = 200_000, wall_time: float | None = None,
                     parameters: Sequence[str] = ()) -> Trajectory:
    """Integrate θ' = F(θ) (``program``'s first ``n_state`` outputs) from θ(0) to ``t_end``.

    Returns a :class:`Trajectory` with the state after every heyoka step, the loss (output
    ``loss_output``) and ‖θ'‖/``scale`` there (with ``loss_output`` the field handed to heyoka
    is −``scale``·∇L, see :func:`heyoka_system`), outcome ``ok``, ``max_steps`` or
    ``time_limit``, and ``correct_digits`` from the summed per-step tolerance (module
    docstring).
    """
    import gmpy2
    import heyoka as hy

    from kltools.compiled.pointwise import compile_program

    prec = bits_for_dps(dps)
    start, cpu = time.monotonic(), time.process_time()
    grad = (loss_output, to_fraction(scale)) if loss_output is not None else None
    scale_f = float(to_fraction(scale))
    _, sys_ = heyoka_system(program, n_state, switches, prec, grad)
    x0 = [_real(to_fraction(v), prec) for v in theta0]
    te = _real(to_fraction(t_end), prec)
    tol = _real(Fraction(1, 10**dps), prec)
    ta = hy.taylor_adaptive(sys_, x0, fp_type=hy.real, prec=prec, compact_mode=True, tol=tol)
    built, built_cpu = time.monotonic() - start, time.process_time() - cpu
    f = compile_program(program, "gmpy2", dps)
    out = TrajectoryBuilder(parameters=tuple(parameters), dps=dps, method="taylor")

    def record(t: Any, state: Sequence[Any]) -> None:
        with gmpy2.context(precision=prec):
            x = [gmpy2.mpfr(str(v), prec) for v in state]
            ys = f(x, list(switches))
            out.sample(gmpy2.mpfr(str(t), prec), x,
                       ys[loss_output] if loss_output is not None else None,
                       gmpy2.sqrt(gmpy2.fsum(v * v for v in ys[:n_state])) / scale_f)

    record(0, x0)
    outcome, steps = Outcome.OK, 0
    while ta.time < te:
        if steps >= max_steps:
            outcome = Outcome.MAX_STEPS
            break
        if wall_time is not None and time.monotonic() - start >= wall_time:
            outcome = Outcome.TIME_LIMIT
            break
        oc, _ = ta.step(max_delta_t=te - ta.time)
        steps += 1
        record(ta.time, ta.state)
        if oc not in (hy.taylor_outcome.success, hy.taylor_outcome.time_limit):
            raise IntegrationError(f"heyoka stopped with outcome {oc} at t = {ta.time}")
    out.info.update({"backend": "heyoka", "heyoka_order": int(ta.order),
                     "heyoka_build_seconds": round(built, 3),
                     "heyoka_build_cpu": round(built_cpu, 3), "working_dps": dps})
    return out.build(outcome=outcome, n_steps=steps, wall_time=time.monotonic() - start,
                     correct_digits=max(0.0, min(float(dps), dps - math.log10(max(steps, 1)))))


def flow_runner(system: Any, native: FlowRunner) -> FlowRunner:
    """The flow driver to use for ``system``: heyoka when it is installed and the flow has no
    kink surfaces, else ``native`` (kltools' own driver, same signature), noting why in
    ``info["backend"]``."""
    reason = ("heyoka is not installed (pip install 'kltools[fast]')" if not available()
              else "the model has kink surfaces (events stay with kltools)" if system.m
              else None)
    if reason is not None:
        def fallback(*args: Any, **kwargs: Any) -> Trajectory:
            traj = native(*args, **kwargs)
            return with_fields(traj, info={**traj.info, "backend": f"native: {reason}"})

        return fallback

    def run(system: Any, theta0: Sequence[object], t_end: Fraction, dps: int, _conv: Any,
            limits: RunLimits, _adaptive: bool, progress: Callable[[float], None] | None
            ) -> Trajectory:
        # No kinks: the only switch slot is the precision monitor's constant, unused here.
        traj = integrate_smooth(system.program, system.n, [0], theta0, t_end, dps=dps,
                                loss_output=system.layout.loss,
                                scale=system.d.flow_scale, max_steps=limits.max_steps,
                                wall_time=limits.wall_time,
                                parameters=system.d.problem.parameters)
        if progress is not None:
            progress(float(t_end))
        return traj

    return run
