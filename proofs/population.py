"""Population (test) loss: Rayleigh quotients without a finite sample (Robin, Scaman and
Lelarge, "Convergence beyond the over-parameterized regime using Rayleigh quotients",
arXiv 2301.08117).

The paper's argument needs no finiteness of the sample. For L(θ) = ½E_x(f(θ; x) − f*(x))² with
r = f − f*, differentiation under the expectation gives

    ∇L = E[r ∇_θ f],   ‖∇L‖² = 2·R(θ)·L(θ),   R(θ) = ‖E[r∇f]‖²/E[r²] = ⟨r, Kr⟩/⟨r, r⟩,

K the tangent kernel as an integral operator on L²(μ) (the finite formula with n = 1). Along
θ' = −∇L, L(t) = L(0)·exp(−2∫₀ᵗR) exactly, and R ≥ μ > 0 along the flow gives linear convergence
L(t) ≤ L(0)e^{−2μt}. kltools computes L in closed form (no sampling) and E[r∇f] by integrating
r·∂f/∂θ itself, so the identity ∇L = E[r∇f] is a real check of the closed forms.

Models:

* **relu-uniform**: f = v·relu(w x), x ~ U[−1, 1], teacher relu(x). On w > 0,
  L = (vw − 1)²/12 and R = (v² + w²)/6 ≥ vw/3: R stays ≥ 1/3·min vw > 0 and L → 0 linearly.
* **relu-gaussian**: f = Σ_{j≤2} v_j relu(w_j·x), x ~ N(0, I₂), teacher relu(x₁) + relu(x₂),
  through the arc-cosine kernel; realisable, the flow from the given start reaches the teacher.
* **quadratic-gaussian**: f = a(bx)², x ~ N(0, 1), teacher x²: L = (3/2)(ab² − 1)², whose flow is
  checked against an independent integration of the closed form (mpmath.odefun).
* **control, wrong side**: relu-uniform started at w < 0: there L = (v²w² + 1)/12 ≥ 1/12 and the
  flow keeps w < 0 (w' = −v²w/6), so L(t) ≥ 1/12 for all t — exactly, not a transient — and
  R → 0: "L → 0 linearly" is refuted.
* **control, L2 term**: with λ = 1/10 the identity L(t) = L(0)exp(−2∫R) fails (∇L has +λθ).
"""

from __future__ import annotations

from typing import Any

import sympy as sp

from kltools.analysis.rayleigh import RayleighQuotient
from kltools.checks.properties import check_property
from kltools.integrate.flow import integrate
from kltools.proving.claims import ClaimResult, Config, Proof, Recorder
from kltools.symbolic.derivation import derive
from kltools.symbolic.expectation import population_expressions
from kltools.symbolic.identities import prove_zero

from ._common import agree_digits, as_float, check_status, load, mp, num

__all__ = ["PROOF", "run"]

RELU = """\
# f = v relu(w x), x ~ U[-1, 1], teacher relu(x): L = (vw - 1)^2/12 on w > 0.
[network]
layers = [1, 1, 1]
activation = "relu"
[data]
distribution = "uniform"
dim = 1
teacher = "relu(x1)"
[init]
theta = ["0.5", "0.3"]
"""
GAUSS = """\
# Two ReLU units, x ~ N(0, I_2), teacher relu(x1) + relu(x2) (arc-cosine kernel).
[network]
layers = [2, 2, 1]
activation = "relu"
[data]
distribution = "gaussian"
dim = 2
teacher = "relu(x1) + relu(x2)"
[init]
theta = ["0.8", "0.1", "0.2", "0.9", "0.7", "0.6"]
"""
QUAD = """\
# f = a (b x)^2, x ~ N(0, 1), teacher x^2: L = (3/2)(a b^2 - 1)^2.
[network]
layers = [1, 1, 1]
activation = "z**2"
[data]
distribution = "gaussian"
dim = 1
teacher = "x1**2"
[init]
theta = ["0.6", "0.4"]
"""
WRONG = RELU.replace('theta = ["0.5", "0.3"]', 'theta = ["-0.5", "0.3"]').replace(
    "# f = v relu", "# Control: started at w < 0. f = v relu")
RELU_L2 = RELU.replace("[data]", '[loss]\nkind = "square"\nl2 = "0.1"\n[data]').replace(
    "# f = v relu", "# Control: with an L2 term. f = v relu")

PROOF = Proof(
    name="population",
    title="Population (test) loss: the Rayleigh identity and linear convergence without a "
          "finite sample",
    source="Robin, Scaman, Lelarge 2023, arXiv 2301.08117 (test-loss minimisation)",
    hypotheses=(
        "square population loss ½E(f − f*)² over U[−1, 1]^d or N(0, I_d), computed exactly",
        "no L2 term; for the rate: R(θ(t)) ≥ μ > 0 along the flow",
    ),
    claims=(
        "closed forms: (vw − 1)²/12 and (v²w² + 1)/12 (ReLU, uniform), (3/2)(ab² − 1)² "
        "(quadratic, Gaussian)",
        "∇L = E[r∇f] identically (the population form of ∇L = (1/n)Jᵀr)",
        "L(t) = L(0)·exp(−2∫₀ᵗR) along the flow (uniform ReLU and Gaussian arc-cosine models)",
        "linear convergence of the test loss at a rate ≥ 2·min R, both ReLU models",
        "the flow of the closed form agrees with an independent integration (≥ 25 digits)",
        "control: from w < 0 the test loss stays ≥ 1/12 (L → 0 refuted)",
        "control: with an L2 term the identity fails",
    ),
    models={"relu-uniform": RELU, "relu-gaussian": GAUSS, "quadratic-gaussian": QUAD,
            "relu-uniform-wrong-side": WRONG, "relu-uniform-l2": RELU_L2},
)


def run(config: Config) -> list[ClaimResult]:
    """Check every claim of :data:`PROOF`; see the module docstring for the mathematics."""
    rec = Recorder(config)
    dps = config.pick(40, 30)
    relu, gauss, quad = load(RELU), load(GAUSS), load(QUAD)

    with rec.claim("closed forms: ReLU/uniform (vw − 1)²/12 on w > 0 and (v²w² + 1)/12 on "
                   "w < 0; quadratic/Gaussian (3/2)(ab² − 1)²", "proved",
                   model="relu-uniform") as r:
        ev = _closed_forms(relu, quad)
        r.verdict = "proved" if all(v == "proved" for v in ev.values()) else "refuted"
        r.evidence = ev
        r.summary = "L from the exact piecewise integrals and moments equals the closed forms"

    with rec.claim("∇L = E[r∇f] identically (r·∂f/∂θ integrated on its own)", "proved",
                   model="relu-uniform") as r:
        ev = {name: _gradient_identity(p) for name, p in
              (("relu-uniform", relu), ("quadratic-gaussian", quad))}
        r.verdict = "proved" if set(ev.values()) == {"proved"} else (
            "refuted" if "refuted" in ev.values() else "inconclusive")
        r.evidence = ev
        r.summary = "every component of ∇L − E[r∇f] simplifies to 0"

    with rec.claim("L(t) = L(0)·exp(−2∫₀ᵗR) along the flow, R = ‖E[r∇f]‖²/E[r²]", "verified",
                   model="relu-gaussian") as r:
        ev, statuses = {}, []
        for name, p in (("relu-uniform", relu), ("relu-gaussian", gauss)):
            v = check_property("rayleigh-identity", p, None, t_end=5, dps=dps)
            statuses.append(check_status(v))
            ev[name] = dict(v.evidence)
        r.verdict = statuses[0] if len(set(statuses)) == 1 else "inconclusive"
        r.evidence = ev
        r.summary = "max relative error " + ", ".join(
            f"{float(e['max relative error']):.1e}" for e in ev.values()) + f" ({dps} digits)"

    horizon = {"relu-uniform": config.pick(60, 40), "relu-gaussian": config.pick(80, 60)}
    for name, p in (("relu-uniform", relu), ("relu-gaussian", gauss)):
        with rec.claim(f"{name}: the test loss → 0 linearly at a rate ≥ 2·min R along the flow",
                       "verified", model=name) as r:
            res = _linear_rate(p, horizon[name], dps)
            r.verdict = "verified" if res["ok"] else "inconclusive"
            r.evidence = res["evidence"]
            r.summary = (f"average rate {res['rate']:.5g} ≥ 2 min R = {res['predicted']:.5g}; "
                         f"L falls {res['decades']:.0f} decades, tail linear")
            r.plots = _rate_plot(name, res, config)

    with rec.claim("the flow of (3/2)(ab² − 1)² agrees with mpmath.odefun on the closed form "
                   "to ≥ 25 digits", "verified", model="quadratic-gaussian") as r:
        digits = _against_odefun(quad, dps)
        r.verdict = "verified" if digits >= 25 else "inconclusive"
        r.evidence = {"t": 2, "digits of agreement at t = 2": round(digits, 1),
                      "kltools dps": dps, "odefun dps": dps + 10}
        r.summary = f"{digits:.1f} digits at t = 2"

    with rec.claim("control (start at w < 0): the test loss → 0 linearly", "refuted",
                   model="relu-uniform-wrong-side", control=True) as r:
        r.verdict, r.evidence, r.summary = _wrong_side(load(WRONG), dps)

    with rec.claim("control (L2 term λ = 1/10): L(t) = L(0)·exp(−2∫₀ᵗR)", "refuted",
                   model="relu-uniform-l2", control=True) as r:
        v = check_property("rayleigh-identity", load(RELU_L2), None, t_end=5, dps=dps)
        r.verdict = check_status(v)
        r.evidence = dict(v.evidence)
        r.summary = f"relative error {float(v.evidence['max relative error']):.2g} (∇L has +λθ)"
    return rec.results


# -- pieces -----------------------------------------------------------------------------------
def _closed_forms(relu: Any, quad: Any) -> dict[str, str]:
    d = derive(relu)
    w, v = d.parameters
    (chi,) = d.switch_symbols
    out = {"surface of the switch is w": "proved" if d.switches[0].surface == w else "refuted"}
    for label, val, want in (("w > 0: (vw - 1)^2/12", 1, (v * w - 1) ** 2 / 12),
                             ("w < 0: (v^2 w^2 + 1)/12", 0, (v**2 * w**2 + 1) / 12)):
        out[label] = "proved" if sp.expand(d.loss_expr.subs(chi, val) - want) == 0 else "refuted"
    dq = derive(quad)
    b, a = dq.parameters
    out["(3/2)(a b^2 - 1)^2"] = ("proved" if sp.expand(dq.loss_expr - sp.Rational(3, 2)
                                                        * (a * b**2 - 1) ** 2) == 0
                                 else "refuted")
    return out


def _gradient_identity(prob: Any) -> str:
    """∂L/∂θ_j − E[r ∂f/∂θ_j] ≡ 0 on every switch pattern (exact; a witness refutes)."""
    ex = population_expressions(prob, gradient=True)
    chis = [s.symbol for s in ex.switches]
    syms = prob.symbols
    statuses = {prove_zero(sp.diff(ex.data_loss, p) - g, syms, chis)[0]
                for p, g in zip(syms, ex.residual_gradient, strict=True)}
    if "refuted" in statuses:
        return "refuted"
    return "proved" if statuses == {"proved"} else "inconclusive"


def _linear_rate(prob: Any, horizon: int, dps: int) -> dict[str, Any]:
    """Average rate log(L(0)/L(T))/T against 2·min R along the flow, and a linear tail: the
    slope of log L over the last third within 20% of the slope over the middle third."""
    traj = integrate(prob, None, horizon, dps=dps)
    rq = RayleighQuotient(derive(prob))
    rs = [as_float(rq(th, dps=dps).quotient) for th in traj.states]
    ctx = mp(dps + 20)
    l0, lt = ctx.mpf(str(traj.losses[0])), ctx.mpf(str(traj.losses[-1]))
    T = as_float(traj.t)
    rate = float(ctx.log(l0 / lt)) / T
    predicted = 2 * min(rs)
    pts = [(as_float(t), float(ctx.log(ctx.mpf(str(loss)))))
           for t, loss in zip(traj.times, traj.losses, strict=True) if loss > 0]

    def slope(lo: float, hi: float) -> float:
        seg = [p for p in pts if lo * T <= p[0] <= hi * T]
        return -(seg[-1][1] - seg[0][1]) / (seg[-1][0] - seg[0][0])

    s_mid, s_last = slope(1 / 3, 2 / 3), slope(2 / 3, 1)
    decades = float(ctx.log10(l0 / lt))
    linear = s_last > 0 and abs(s_last - s_mid) <= 0.2 * s_mid
    ok = traj.correct_digits >= dps - 10 and linear and rate >= predicted and decades >= 5
    return {"ok": ok, "rate": rate, "predicted": predicted, "decades": decades,
            "points": pts, "r_values": rs,
            "evidence": {"T": T, "L(0)": num(l0, 15), "L(T)": num(lt, 15),
                         "average rate log(L(0)/L(T))/T": f"{rate:.10g}",
                         "min R along the flow": f"{min(rs):.10g}",
                         "predicted rate 2 min R": f"{predicted:.10g}",
                         "slope of log L, middle / last third": f"{s_mid:.6g} / {s_last:.6g}",
                         "decades of L": round(decades, 1),
                         "flow digits": round(traj.correct_digits, 1)}}


def _against_odefun(prob: Any, dps: int) -> float:
    """kltools' flow at t = 2 against mpmath.odefun on the hand-written field of
    L = (3/2)(ab² − 1)², parameters (b, a)."""
    import mpmath

    traj = integrate(prob, None, 2, dps=dps)
    with mpmath.workdps(dps + 10):
        def field(t: Any, y: list[Any]) -> list[Any]:
            b, a = y
            r = a * b * b - 1
            return [-6 * r * a * b, -3 * r * b * b]

        start = [mpmath.mpf(3) / 5, mpmath.mpf(2) / 5]
        ref = mpmath.odefun(field, 0, start)(2)
        return min(agree_digits(x, y, dps + 10) for x, y in zip(traj.theta, ref, strict=True))


def _wrong_side(prob: Any, dps: int) -> tuple[str, dict[str, Any], str]:
    """Refuted by an exact fact: on {w < 0}, L = (v²w² + 1)/12 ≥ 1/12 (closed form, proved),
    and {w < 0} is invariant (w' = −v²w/6: w(t) = w(0)·exp(−∫v²/6) < 0); the computed flow
    shows it (w(T) < 0, L(T) ≥ 1/12, R → 0)."""
    d = derive(prob)
    w, v = d.parameters
    (chi,) = d.switch_symbols
    piece = d.loss_expr.subs(chi, 0)
    floor_proved = sp.expand(piece - sp.Rational(1, 12) - v**2 * w**2 / 12) == 0
    field_w = sp.factor(-sp.diff(piece, w))
    invariant = sp.simplify(field_w / w + v**2 / 6) == 0
    traj = integrate(prob, None, 40, dps=dps)
    rq = RayleighQuotient(d)
    r_end = as_float(rq(traj.theta, dps=dps).quotient)
    l_end = traj.losses[-1]
    w_end = as_float(traj.theta[0])
    ok = floor_proved and invariant and w_end < 0 and as_float(l_end) >= 1 / 12
    evidence = {"L on w < 0 (exact)": str(sp.factor(piece)),
                "L - 1/12 = v^2 w^2/12 >= 0 (proved)": floor_proved,
                "w' = -v^2 w/6 on w < 0 (proved: w keeps its sign)": invariant,
                "w(T)": f"{w_end:.6g}", "L(T)": num(l_end, 15), "T": 40,
                "R(theta(T))": f"{r_end:.3e}", "1/12": num(mp(30).mpf(1) / 12, 15)}
    summary = (f"L(t) ≥ 1/12 for all t (closed form on the invariant set w < 0); "
               f"L(40) = {as_float(l_end):.6g}, R(θ(40)) = {r_end:.1e} → 0")
    return ("refuted" if ok else "inconclusive"), evidence, summary


def _rate_plot(name: str, res: dict[str, Any], config: Config) -> list[str]:
    """The test loss (log scale) against the Rayleigh bound L(0)·exp(−2·min R·t), and R(θ(t))."""
    path = config.plot_path(f"population_{name.replace('-', '_')}.png")
    if path is None:
        return []
    import math

    from kltools.report.figures import Curve, Panel, plot_panels

    t = [p[0] for p in res["points"]]
    loss = [math.exp(p[1]) for p in res["points"]]
    top = [Curve(t, loss, "test loss L(θ(t)) (exact expectation)", "dots", "C0"),
           Curve(t, [loss[0] * math.exp(-res["predicted"] * s) for s in t],
                 f"bound L(0)·exp(−2·min R·t), rate {res['predicted']:.4g}", "dashed", "C3")]
    bottom = [Curve(t, res["r_values"][:len(t)], "R(θ(t)) = ‖E[r∇f]‖²/E[r²]", "line", "C0")]
    plot_panels(path, [Panel(top, "test loss (log scale)", ylog=True, legend="lower left"),
                       Panel(bottom, "Rayleigh quotient", legend="center right")],
                xlabel="t (flow time)", title=f"Population loss, {name}: linear convergence")
    return [path.name]
