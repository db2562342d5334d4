"""Rayleigh quotients and linear convergence, over- and under-parameterised (Robin,
Scaman & Lelarge, "Convergence beyond the over-parameterized regime using Rayleigh quotients",
arXiv 2301.08117).

For the square loss L = (1/2n)‖r‖², r = f(θ; X) − y, with J = ∂f/∂θ and K = JJᵀ,

    ∇L = (1/n)Jᵀr,   ‖∇L‖² = (2/n)·R(θ)·L(θ),   R(θ) = rᵀKr/rᵀr ∈ [λ_min(K), λ_max(K)],

so along θ' = −s∇L, d/dt log L = −(2s/n)R and L(t) = L(0)·exp(−(2s/n)∫₀ᵗR) exactly: a lower bound
R ≥ μ along the flow gives L(t) ≤ L(0)e^{−2sμt/n} (a KL inequality with exponent ½).

Three toy models:

* **over-parameterised** (P = 6 ≥ n = 2, tanh): K is positive definite, R ≥ λ_min(K) > 0, and the
  rate predicted from λ_min(K(θ₀)) holds while λ_min(K(θ(t))) stays above it;
* **under-parameterised, realisable** (P = 4 < n = 6, σ(z) = z + z², labels from a teacher of the
  same architecture): rank K ≤ 2 < n, so λ_min(K) = 0 for every θ (the neural-tangent argument
  gives nothing), yet r stays in the range of J and R ≥ λ₊(K) > 0: linear convergence to 0 — the
  point of the paper;
* **under-parameterised, not realisable** (same net, labels off the model): L* > 0 is the exact
  least-squares value over span{x, x²}. The identity still holds, but R(θ(t)) → 0 (Kr = nJ∇L → 0
  while r → r* ≠ 0), so the Rayleigh bound says nothing about L → 0, and L does not tend to 0.
  What is claimed there is only that L − L* → 0 linearly, at the rate 2s·μ with μ the smallest
  non-zero Hessian eigenvalue at the limit (a Morse–Bott minimum: Łojasiewicz exponent ½), which is
  standard Łojasiewicz theory, not the Rayleigh argument.
"""

from __future__ import annotations

import math
from typing import Any

import sympy as sp

from kltools.analysis.limit import NewtonLimit
from kltools.analysis.rayleigh import RayleighQuotient
from kltools.checks.properties import check_property
from kltools.compiled.evaluator import Evaluator
from kltools.compiled.pointwise import compile_program
from kltools.integrate.flow import integrate
from kltools.proving import ClaimResult, Config, Proof, Recorder
from kltools.symbolic.derivation import derive
from kltools.symbolic.identities import prove_zero

from ._common import agree_digits, as_float, check_status, load, mp, num

__all__ = ["PROOF", "run"]

OVER = """\
# Over-parameterised: tanh net [1, 3, 1] (P = 6) on n = 2 samples, square loss.
[network]
layers = [1, 3, 1]
activation = "tanh"
[loss]
kind = "square"
[data]
x = [["1"], ["2"]]
y = ["0.5", "0.75"]
[init]
theta = ["0.5", "-0.3", "0.8", "0.6", "0.4", "-0.5"]
"""

_POLY = """[network]
layers = [1, 2, 1]
activation = "z + z**2"
[loss]
kind = "square"
[data]
x = [["-1"], ["-0.5"], ["0.5"], ["1"], ["1.5"], ["2"]]
y = [{y}]
[init]
theta = ["0.3", "-0.6", "0.8", "0.4"]
"""
# Teacher a = (1, 1/2), c = (1, -1): f(x) = x/2 + 3x²/4.
UNDER = ("# Under-parameterised (P = 4 < n = 6), realisable: labels of a teacher network.\n"
         + _POLY.format(y='"1/4", "-1/16", "7/16", "5/4", "39/16", "4"'))
# The same labels + (-1)^i/8: not in span{x, x²}.
NOISY = ("# Under-parameterised, not realisable: the teacher's labels + (-1)^i/8.\n"
         + _POLY.format(y='"3/8", "-3/16", "9/16", "9/8", "41/16", "31/8"'))
OVER_L2 = OVER.replace('kind = "square"', 'kind = "square"\nl2 = "0.1"').replace(
    "# Over-parameterised:", "# Control: the over-parameterised net with an L2 term:")

PROOF = Proof(
    name="rayleigh",
    title="Rayleigh quotients: the exact loss identity and linear convergence at the predicted "
          "rate",
    source=('Robin, Scaman & Lelarge 2023, "Convergence beyond the over-parameterized regime '
            'using Rayleigh quotients", arXiv 2301.08117'),
    hypotheses=(
        "square loss without an L2 term, network differentiable along the flow",
        "for the rate: R(θ(t)) ≥ μ > 0 along the flow (not λ_min(K) > 0: K may be singular)",
    ),
    claims=(
        "∇L = (1/n)Jᵀr, hence ‖∇L‖² = (2/n)R·L (symbolic)",
        "L(t) = L(0)·exp(−(2s/n)∫₀ᵗR(θ(τ))dτ) along the flow (to its digits)",
        "linear convergence at a rate ≥ 2s·min R/n, over-parameterised (λ_min(K) > 0) and "
        "under-parameterised (λ_min(K) = 0, R > 0)",
        "under-parameterised with L* > 0: only L − L* → 0 linearly (rate 2s·μ from the Hessian "
        "at the limit); L → 0 is not claimed and fails",
        "control: with an L2 term the identity fails",
    ),
    models={"over": OVER, "under-realisable": UNDER, "under-noisy": NOISY,
            "over-l2": OVER_L2},
)


def run(config: Config) -> list[ClaimResult]:
    """Check every claim of :data:`PROOF`; see the module docstring for the mathematics."""
    rec = Recorder(config)
    dps = config.pick(40, 30)
    over, under, noisy = load(OVER), load(UNDER), load(NOISY)
    horizon = {"over": config.pick(150, 80), "under": config.pick(40, 25),
               "noisy": config.pick(60, 40)}

    with rec.claim("∇L = (1/n)Jᵀr (so ‖∇L‖² = (2/n)·R·L) holds identically", "proved",
                   model="over") as r:
        ev = {}
        for name, prob in (("over", over), ("under-realisable", under)):
            ev[name] = _gradient_identity(prob)
        r.verdict = "proved" if all(v == "proved" for v in ev.values()) else (
            "refuted" if "refuted" in ev.values() else "inconclusive")
        r.evidence = ev
        r.summary = "every component of ∇L − Jᵀr/n expands to 0 (tanh net and polynomial net)"

    flows = {"over": integrate(over, None, horizon["over"], dps=dps),
             "under": integrate(under, None, horizon["under"], dps=dps),
             "noisy": integrate(noisy, None, horizon["noisy"], dps=dps)}

    with rec.claim("exact identity L(t) = L(0)·exp(−(2s/n)∫₀ᵗR) along the flow, for all three "
                   "models", "verified", model="over") as r:
        ev, statuses = {}, []
        for name, prob in (("over", over), ("under-realisable", under),
                           ("under-noisy", noisy)):
            v = check_property("rayleigh-identity", prob, None, t_end=10, dps=dps)
            statuses.append(check_status(v))
            ev[name] = dict(v.evidence)
        r.verdict = statuses[0] if len(set(statuses)) == 1 else "inconclusive"
        r.evidence = ev
        r.summary = "max relative error " + ", ".join(
            f"{float(e['max relative error']):.1e}" for e in ev.values()) + f" ({dps} digits)"

    with rec.claim("over-parameterised: L → 0 linearly at a rate ≥ 2s·min R/n, and ≥ the rate "
                   "2s·λ_min(K(θ₀))/n while λ_min(K(θ(t))) ≥ λ_min(K(θ₀))", "verified",
                   model="over") as r:
        rows = _along(over, flows["over"], dps)
        res = _linear_rate(over, flows["over"], rows)
        lam0 = rows[0]["lmin"]
        lam_min = min(row["lmin"] for row in rows)
        n = over.data.n  # type: ignore[union-attr]
        pred_k = 2 * lam0 / n
        in_region = lam_min >= lam0 * (1 - 1e-12)
        ok = res["ok"] and in_region and res["average rate"] >= pred_k
        r.verdict = "verified" if ok else ("refuted" if in_region else "inconclusive")
        r.evidence = {**res["evidence"], "lambda_min(K(theta0))": f"{lam0:.10g}",
                      "min over the flow of lambda_min(K)": f"{lam_min:.10g}",
                      "K stays as well-conditioned as at theta0": in_region,
                      "rate predicted from lambda_min(K(theta0)): 2 s lambda0/n": f"{pred_k:.8g}"}
        r.summary = (f"rate {res['average rate']:.5g} ≥ 2 min R/n = {res['predicted']:.5g} ≥ "
                     f"2λ_min(K₀)/n = {pred_k:.5g}; L falls {res['decades']:.0f} decades")
        r.plots = _rate_plot("rayleigh_overparam.png", "Over-parameterised tanh net (P = 6, "
                             "n = 2)", rows, res, config, lam_line=pred_k)

    with rec.claim("under-parameterised, realisable (P = 4 < n = 6): λ_min(K) = 0 for every θ "
                   "(rank K ≤ 2), yet min R > 0 along the flow and L → 0 at a rate ≥ 2s·min R/n",
                   "verified", model="under-realisable") as r:
        rank_proof = _rank_bound(under, 2)
        rows = _along(under, flows["under"], dps)
        res = _linear_rate(under, flows["under"], rows)
        ok = rank_proof == "proved" and res["ok"] and res["min R"] > 0
        r.verdict = "verified" if ok else "inconclusive"
        r.evidence = {"rank K <= 2 for every theta (all 3x3 minors of J vanish)": rank_proof,
                      "max over the flow of |lambda_min(K)| (numerically 0)":
                          f"{max(abs(row['lmin']) for row in rows):.2e}", **res["evidence"]}
        r.summary = (f"λ_min(K) ≡ 0 (rank ≤ 2 proved), min R = {res['min R']:.5g} > 0; rate "
                     f"{res['average rate']:.5g} ≥ {res['predicted']:.5g}")
        r.plots = _rate_plot("rayleigh_underparam.png", "Under-parameterised realisable net "
                             "(P = 4 < n = 6): λ_min(K) = 0 but R > 0", rows, res, config)

    noisy_rows = _along(noisy, flows["noisy"], dps)
    with rec.claim("under-parameterised, not realisable: L* = exact least-squares value > 0 and "
                   "L − L* → 0 linearly at the rate 2s·μ, μ the smallest non-zero Hessian "
                   "eigenvalue at the limit", "verified", model="under-noisy") as r:
        res = _shifted_rate(noisy, flows["noisy"], dps)
        r.verdict = "verified" if res["ok"] else "inconclusive"
        r.evidence = {**res["evidence"],
                      "not claimed": "L -> 0 (false: L* > 0); a Rayleigh bound R >= mu > 0 "
                                     "(false: R(theta(t)) -> 0 since K r = n J grad L -> 0)"}
        r.summary = (f"L* = {res['L*']} exactly; tail rate {res['rate']:.8g} vs 2μ = "
                     f"{res['predicted']:.8g} ({res['digits']:.1f} digits)")
        r.plots = _shifted_plot(noisy_rows, res, config)

    with rec.claim("control (not realisable): L(θ(t)) → 0 at the Rayleigh rate 2s·min R/n > 0",
                   "refuted", model="under-noisy", control=True) as r:
        last = noisy_rows[-1]
        lstar = _least_squares(noisy)[0]
        gap_end = last["L"] - float(lstar)
        r_end = last["R"]
        refuted = last["L"] > 0.5 * float(lstar) > 0 and r_end < 1e-6 * noisy_rows[0]["R"]
        r.verdict = "refuted" if refuted else "inconclusive"
        r.evidence = {"L(T)": f"{last['L']:.15g}", "L* (exact)": str(lstar),
                      "L(T) - L*": f"{gap_end:.3e}", "R(theta(0))": f"{noisy_rows[0]['R']:.6g}",
                      "R(theta(T))": f"{r_end:.3e}", "T": horizon["noisy"]}
        r.summary = (f"L(T) = {last['L']:.6g} → L* > 0 while R(θ(T)) = {r_end:.1e} → 0: no "
                     "positive Rayleigh rate")

    with rec.claim("control (L2 term λ = 1/10): L(t) = L(0)·exp(−(2s/n)∫R) along the flow",
                   "refuted", model="over-l2", control=True) as r:
        v = check_property("rayleigh-identity", load(OVER_L2), None, t_end=5, dps=dps)
        r.verdict = check_status(v)
        r.evidence = dict(v.evidence)
        r.summary = f"relative error {float(v.evidence['max relative error']):.2g} (∇L has +λθ)"
    return rec.results


# -- pieces -----------------------------------------------------------------------------------
def _gradient_identity(prob: Any) -> str:
    """∇L − (1/n)Jᵀr ≡ 0, component by component (exact; a witness refutes)."""
    d = derive(prob)
    n = prob.data.n
    J = d.jacobian()
    r = sp.Matrix(d.residuals())
    rhs = (J.T * r) / n
    statuses = {prove_zero(g - rhs[i], d.parameters, d.switch_symbols)[0]
                for i, g in enumerate(d.gradient_exprs)}
    if "refuted" in statuses:
        return "refuted"
    return "proved" if statuses == {"proved"} else "inconclusive"


def _rank_bound(prob: Any, rank: int) -> str:
    """rank J(θ) ≤ ``rank`` for every θ: every (rank+1)-minor of the symbolic J expands to 0."""
    from itertools import combinations

    J = derive(prob).jacobian()
    k = rank + 1
    for rows in combinations(range(J.rows), k):
        for cols in combinations(range(J.cols), k):
            if sp.expand(J.extract(list(rows), list(cols)).det(method="berkowitz")) != 0:
                return "refuted"
    return "proved"


def _along(prob: Any, traj: Any, dps: int) -> list[dict[str, float]]:
    """t, L, R, λ_min(K), λ_max(K) at every sample of the flow."""
    rq = RayleighQuotient(derive(prob))
    rows = []
    for t, th, loss in zip(traj.times, traj.states, traj.losses, strict=True):
        v = rq(th, dps=dps)
        rows.append({"t": as_float(t), "L": as_float(loss), "R": as_float(v.quotient),
                     "lmin": as_float(v.lambda_min), "lmax": as_float(v.lambda_max)})
    return rows


def _linear_rate(prob: Any, traj: Any, rows: list[dict[str, float]]) -> dict[str, Any]:
    """Average rate −log(L(T)/L(0))/T against 2s·min R/n, and linearity of the tail of log L
    (the slope over the last third within 20% of the slope over the middle third)."""
    n = prob.data.n
    s = float(prob.flow_scale)
    ctx = mp(60)
    l0, lt = ctx.mpf(str(traj.losses[0])), ctx.mpf(str(traj.losses[-1]))
    T = as_float(traj.t)
    avg = float(ctx.log(l0 / lt)) / T
    min_r = min(row["R"] for row in rows)
    pred = 2 * s * min_r / n
    logs = [(row["t"], math.log(row["L"])) for row in rows if row["L"] > 0]
    third = [p for p in logs if p[0] >= 2 * T / 3]
    mid = [p for p in logs if T / 3 <= p[0] < 2 * T / 3]

    def slope(pts: list[tuple[float, float]]) -> float:
        return -(pts[-1][1] - pts[0][1]) / (pts[-1][0] - pts[0][0])

    s_last, s_mid = slope(third), slope(mid)
    linear = s_last > 0 and abs(s_last - s_mid) <= 0.2 * s_mid
    decades = math.log10(as_float(l0) / as_float(lt))
    return {"ok": linear and avg >= pred, "average rate": avg, "predicted": pred,
            "min R": min_r, "decades": decades, "tail rate": s_last,
            "evidence": {"T": T, "L(0)": num(l0, 15), "L(T)": num(lt, 15),
                         "average rate log(L(0)/L(T))/T": f"{avg:.10g}",
                         "min R along the flow": f"{min_r:.10g}",
                         "predicted rate 2 s min R / n": f"{pred:.10g}",
                         "rate of log L, middle / last third": f"{s_mid:.6g} / {s_last:.6g}",
                         "decades of L": round(decades, 1)}}


def _least_squares(prob: Any) -> tuple[sp.Rational, list[sp.Rational]]:
    """Exact inf L over the model's function class span{x, x²} (σ(z) = z + z², no biases:
    f(θ; x) = (Σc_j a_j)x + (Σc_j a_j²)x², a map onto ℝ² with two units)."""
    xs = [row[0] for row in prob.data.x]
    ys = sp.Matrix([row[0] for row in prob.data.y])
    V = sp.Matrix([[x, x**2] for x in xs])
    beta = (V.T * V).inv() * V.T * ys
    res = ys - V * beta
    return (res.T * res)[0] / (2 * len(xs)), list(beta)


def _features_check(prob: Any) -> str:
    """Each output f(θ; x_i) equals β₁x_i + β₂x_i² with β = (Σc_j a_j, Σc_j a_j²) (exact)."""
    d = derive(prob)
    a1, a2, c1, c2 = d.parameters
    b1, b2 = c1 * a1 + c2 * a2, c1 * a1**2 + c2 * a2**2
    for (x,), row in zip(prob.data.x, d.output_exprs, strict=True):
        if sp.expand(row[0] - (b1 * x + b2 * x**2)) != 0:
            return "refuted"
    return "proved"


def _shifted_rate(prob: Any, traj: Any, dps: int) -> dict[str, Any]:
    """L* exactly, the Newton limit θ*, the Hessian spectrum there, and the tail rate of
    log(L − L*) against 2s·μ."""
    lstar, beta = _least_squares(prob)
    work = int(traj.info.get("working_dps", dps))
    ctx = mp(work)
    ev = Evaluator(derive(prob))
    newton = NewtonLimit(ev)
    lp = newton([ctx.mpf(str(v)) for v in traj.theta], dps=work)
    hess = compile_program(newton.hessian_program, "mpmath", work)([*lp.theta], [])
    P = len(lp.theta)
    H = ctx.matrix(P, P)
    for i in range(P):
        for j in range(P):
            H[i, j] = hess[i * P + j]
    eig = sorted(ctx.eigsy(H, eigvals_only=True))
    scale = max(abs(e) for e in eig)
    nonzero = [e for e in eig if abs(e) > scale * ctx.mpf(10) ** (-(work // 2))]
    mu = min(nonzero)
    s = float(prob.flow_scale)
    predicted = 2 * s * float(mu)
    ls = ctx.mpf(lstar.p) / lstar.q
    pts = []
    floor = ls * ctx.mpf(10) ** (-(dps - 8))
    for t, loss in zip(traj.times, traj.losses, strict=True):
        gap = ctx.mpf(str(loss)) - ls
        if gap > floor:
            pts.append((as_float(t), float(ctx.log(gap))))
    tail = [p for p in pts if p[0] >= pts[-1][0] / 2][-6:]
    rate = -(tail[-1][1] - tail[0][1]) / (tail[-1][0] - tail[0][0])
    digits = agree_digits(rate, predicted, 30)
    newton_digits = agree_digits(lp.loss, ls, work)
    ok = (_features_check(prob) == "proved" and lstar > 0 and lp.converged
          and newton_digits >= dps - 10 and digits >= 3 and len(nonzero) < P)
    return {"ok": ok, "L*": str(lstar), "rate": rate, "predicted": predicted,
            "digits": digits, "points": pts, "lstar_float": float(lstar),
            "evidence": {
                "f = b1 x + b2 x^2 (symbolic)": _features_check(prob),
                "L* = min over span{x, x^2} (exact)": str(lstar),
                "least-squares coefficients": [str(b) for b in beta],
                "loss at the Newton limit of the flow's end": num(lp.loss, 25),
                "digits L(limit) = L*": round(newton_digits, 1),
                "Hessian eigenvalues at the limit": [num(e, 8) for e in eig],
                "zero eigenvalues (a manifold of minima: Morse-Bott)": P - len(nonzero),
                "mu (smallest non-zero eigenvalue)": num(mu, 15),
                "predicted tail rate 2 s mu": f"{predicted:.12g}",
                "measured tail rate of log(L - L*)": f"{rate:.12g}",
                "digits of agreement": round(digits, 1)}}


# -- plots ------------------------------------------------------------------------------------
def _rate_plot(name: str, title: str, rows: list[dict[str, float]], res: dict[str, Any],
               config: Config, lam_line: float | None = None) -> list[str]:
    path = config.plot_path(name)
    if path is None:
        return []
    from kltools.report.figures import Curve, Panel, plot_panels

    t = [row["t"] for row in rows]
    L = [row["L"] for row in rows]
    top = [Curve(t, L, "L(θ(t)), computed flow", "dots", "C0"),
           Curve(t, [L[0] * math.exp(-res["predicted"] * s) for s in t],
                 f"predicted bound L(0)·exp(−2s·min R·t/n), rate {res['predicted']:.4g}",
                 "dashed", "C3")]
    if lam_line is not None:
        top.append(Curve(t, [L[0] * math.exp(-lam_line * s) for s in t],
                         f"from λ_min(K(θ₀)): rate {lam_line:.4g}", "dotted", "C2"))
    lmin = [max(row["lmin"], 1e-40) for row in rows]
    label = ("λ_min(K) (numerically 0: |λ| < 1e-25; drawn at 1e-40)"
             if max(abs(row["lmin"]) for row in rows) < 1e-25 else "λ_min(K)")
    bottom = [Curve(t, [row["R"] for row in rows], "R(θ(t)) = rᵀKr/rᵀr", "line", "C0"),
              Curve(t, [row["lmax"] for row in rows], "λ_max(K)", "dashed", "C1"),
              Curve(t, lmin, label, "dotted", "C2")]
    plot_panels(path, [Panel(top, "loss (log scale)", ylog=True, legend="lower left"),
                       Panel(bottom, "Rayleigh quotient, spectrum of K", ylog=True,
                             legend="center right")],
                xlabel="t (flow time)", title=f"{title}: loss against the Rayleigh rate")
    return [path.name]


def _shifted_plot(rows: list[dict[str, float]], res: dict[str, Any], config: Config
                  ) -> list[str]:
    path = config.plot_path("rayleigh_not_realisable.png")
    if path is None:
        return []
    from kltools.report.figures import Curve, Panel, plot_panels

    pts = res["points"]
    t = [p[0] for p in pts]
    gap = [math.exp(p[1]) for p in pts]
    t0, g0 = t[-1], gap[-1]
    top = [Curve(t, gap, "L(θ(t)) − L* (L* exact least squares)", "dots", "C0"),
           Curve(t, [g0 * math.exp(-res["predicted"] * (s - t0)) for s in t],
                 f"predicted rate 2s·μ = {res['predicted']:.6g} (Hessian at the limit)",
                 "dashed", "C3")]
    tt = [row["t"] for row in rows]
    bottom = [Curve(tt, [row["L"] for row in rows], "L(θ(t))", "line", "C0"),
              Curve(tt, [max(row["R"], 1e-60) for row in rows], "R(θ(t)) → 0", "dashed",
                    "C1")]
    plot_panels(path, [Panel(top, "L − L* (log scale)", ylog=True, legend="lower left"),
                       Panel(bottom, "L and R (log scale)", ylog=True,
                             legend="center right",
                             hlines=[(res["lstar_float"], f"L* = {res['L*']}")])],
                xlabel="t (flow time)",
                title="Under-parameterised, not realisable: L → L* > 0 linearly, R → 0")
    return [path.name]
