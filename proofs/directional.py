"""Directional convergence and alignment (Ji & Telgarsky, "Directional convergence and alignment
in deep learning", arXiv 2006.06657).

Hypotheses: f positively k-homogeneous in θ, exponential loss L = Σᵢ e^{−yᵢf(θ;xᵢ)}, and a time t₀
with L(θ(t₀)) < ℓ(0) = 1 (every sample classified correctly). Claims: ‖θ(t)‖ → ∞, θ/‖θ‖ converges,
the normalised margin minᵢ yᵢf/‖θ‖ᵏ converges and the smoothed margin −log L/‖θ‖ᵏ is non-decreasing
after t₀; with locally Lipschitz gradients, cos∠(θ, −∇L) → 1.

For a linear classifier (k = 1) the limit direction is the hard-margin SVM direction ŵ (solved
exactly: :mod:`._svm`) and more is known (Soudry et al. 2018, continuous time): with S the support
vectors and αᵢ > 0 the exact KKT multipliers, w(t) = ŵ·log t + w̃ + δ(t) where zᵢ·w̃ = −log αᵢ
(i ∈ S, zᵢ = yᵢxᵢ) and δ(t) = O(t^(−λ)), λ = λ_min(Σ_S αᵢzᵢzᵢᵀ) (linearising
dδ/d(log t) = −Aδ). Hence, with u = ŵ/‖ŵ‖, the angle to ŵ satisfies

    tan∠(w(t), ŵ)·(log t + b) → c,   c = ‖w̃ − (w̃·u)u‖/‖ŵ‖,   b = (w̃·u)/‖ŵ‖,

so the angle shrinks like 1/log t with a constant predicted exactly, and ‖w(t)‖/log t → ‖ŵ‖ =
1/margin. The flow is integrated to t = 10¹² (the Taylor steps grow with t, so long horizons are
cheap) and the predicted constants are compared with the computed angles.
"""

from __future__ import annotations

import itertools
import math
from typing import Any

import numpy as np
import sympy as sp

from kltools.analysis.margins import MarginTracker
from kltools.checks.properties import check_property
from kltools.integrate.flow import integrate
from kltools.proving import ClaimResult, Config, Proof, Recorder
from kltools.symbolic.derivation import derive
from kltools.symbolic.identities import euler_identity

from ._common import as_float, check_status, identities_status, load, loglog_fit, mp, num
from ._svm import SVM, hard_margin_svm

__all__ = ["PROOF", "run"]

_X = '[["2", "0.5"], ["1", "1.5"], ["0.25", "1"], ["-1", "-0.5"], ["-0.5", "-2"]]'
_Y = '["1", "1", "1", "-1", "-1"]'
LINEAR = f"""\
# Linear classifier f(x) = <w, x> (1-homogeneous), exponential loss, separable data whose
# hard-margin SVM has two support vectors.
[network]
layers = [2, 1]
bias = false
[loss]
kind = "exponential"
[data]
x = {_X}
y = {_Y}
[init]
theta = ["0.1", "-0.2"]
"""
RELU = f"""\
# Two-layer ReLU network without biases (2-homogeneous), exponential loss, the same data.
[network]
layers = [2, 2, 1]
activation = "relu"
bias = false
[loss]
kind = "exponential"
[data]
x = {_X}
y = {_Y}
[init]
theta = ["0.5", "0.3", "-0.4", "-0.6", "0.7", "0.6"]
"""
DEEP_LINEAR = RELU.replace('activation = "relu"', 'activation = "linear"').replace(
    "# Two-layer ReLU network without biases (2-homogeneous)",
    "# Two-layer linear network (2-homogeneous, locally Lipschitz gradient)")
SQUARE = RELU.replace('kind = "exponential"', 'kind = "square"').replace(
    "# Two-layer ReLU network without biases (2-homogeneous), exponential loss",
    "# Control: the ReLU network with the square loss (labels as targets)")

PROOF = Proof(
    name="directional",
    title="Directional convergence, margins and alignment of homogeneous networks",
    source=('Ji & Telgarsky 2020, "Directional convergence and alignment in deep learning", '
            "arXiv 2006.06657"),
    hypotheses=(
        "f positively k-homogeneous in θ (Euler's identity, proved symbolically)",
        "exponential loss, summed over samples",
        "some t₀ with L(θ(t₀)) < ℓ(0) = 1: perfect classification",
        "for alignment: locally Lipschitz ∇L (smooth layers)",
    ),
    claims=(
        "‖θ(t)‖ → ∞, θ/‖θ‖ converges, the normalised margin converges, the smoothed margin is "
        "non-decreasing after t₀",
        "cos∠(θ, −∇L(θ)) → 1 (locally Lipschitz gradients)",
        "linear classifier: θ/‖θ‖ → the hard-margin SVM direction ŵ (exact QP), the angle "
        "shrinks like c/log t, ‖θ(t)‖ ~ ‖ŵ‖ log t",
        "control: with the square loss ‖θ‖ stays bounded (no direction to converge to)",
    ),
    models={"linear": LINEAR, "relu": RELU, "deep-linear": DEEP_LINEAR, "square": SQUARE},
)


def run(config: Config) -> list[ClaimResult]:
    """Check every claim of :data:`PROOF`; see the module docstring for the mathematics."""
    rec = Recorder(config)
    dps = config.pick(30, 20)
    lin, relu, deep = load(LINEAR), load(RELU), load(DEEP_LINEAR)
    data = lin.data
    assert data is not None
    svm = hard_margin_svm([row for row in data.x], [row[0] for row in data.y])

    with rec.claim("the hard-margin SVM of the data, solved exactly (rational KKT point by "
                   "active-set enumeration)", "proved", model="linear") as r:
        kkt = _kkt_check(data, svm)
        r.verdict = "proved" if kkt["KKT conditions hold exactly"] else "refuted"
        r.evidence = kkt
        r.summary = (f"ŵ = ({', '.join(map(str, svm.w))}), support vectors "
                     f"{[i + 1 for i in svm.support]}, α = "
                     f"({', '.join(str(svm.alpha[i]) for i in svm.support)}), margin "
                     f"{sp.nsimplify(svm.margin)}")

    horizon = config.pick("1e12", "1e8")
    with rec.claim(f"linear classifier: tan∠(θ(t), ŵ)·(log t + b) → c with c, b predicted from "
                   f"the exact SVM and KKT multipliers; ‖θ‖/log t → ‖ŵ‖ (t up to {horizon})",
                   "verified", model="linear") as r:
        res = _linear_classifier(lin, svm, horizon, dps)
        r.verdict = "verified" if res["ok"] else "inconclusive"
        r.evidence = res["evidence"]
        r.summary = res["summary"]
        r.plots = _angle_plot(res, config)

    with rec.claim("ReLU net: after t₀ the smoothed margin is non-decreasing, ‖θ‖ grows, the "
                   "normalised margin and θ/‖θ‖ settle (t up to 1e6)", "verified",
                   model="relu") as r:
        ids = euler_identity(derive(relu))
        v = check_property("directional-convergence", relu, None, t_end="1e6", dps=dps)
        euler = identities_status(ids)
        r.verdict = check_status(v) if euler == "proved" else "inconclusive"
        r.evidence = {"Euler identity (k = 2)": euler, **v.evidence}
        drop = v.evidence["largest decrease of the smoothed margin"]
        r.summary = (f"t₀ = {float(v.evidence['t0 (perfect classification)']):.3g}; margin "
                     f"{v.evidence['normalised margin at t0 / at end']}; smoothed margin never "
                     f"decreases (largest drop {drop})")
        r.plots = _margin_plot(relu, dps, config)

    with rec.claim("alignment (two-layer linear net, locally Lipschitz ∇L): 1 − cos∠(θ, −∇L) → 0;"
                   " its end-to-end predictor tends to the SVM direction", "verified",
                   model="deep-linear") as r:
        res = _alignment(deep, svm, dps, config.pick("1e10", "1e6"))
        r.verdict = "verified" if res["ok"] else "inconclusive"
        r.evidence = res["evidence"]
        r.summary = res["summary"]

    with rec.claim("control (square loss): ‖θ(t)‖ → ∞ and θ/‖θ‖ converges", "refuted",
                   model="square", control=True) as r:
        v = check_property("directional-convergence", load(SQUARE), None, t_end="200",
                           dps=dps, force=True)
        r.verdict = check_status(v)
        r.evidence = {**v.evidence, "detail": (v.counterexample or {}).get("detail")}
        r.summary = ("‖θ‖ " + v.evidence.get("|theta| at t0 / at end", "?")
                     + ": bounded, the flow converges to a finite point")
    return rec.results


# -- the linear classifier --------------------------------------------------------------------
def _kkt_check(data: Any, svm: SVM) -> dict[str, Any]:
    z = [[sp.Rational(y[0]) * v for v in x] for x, y in zip(data.x, data.y, strict=True)]
    w = list(svm.w)
    margins = [sum(a * b for a, b in zip(zi, w, strict=True)) for zi in z]
    recon = [sum(svm.alpha[i] * z[i][k] for i in range(len(z))) for k in range(len(w))]
    ok = (recon == w and all(a >= 0 for a in svm.alpha)
          and all(m >= 1 for m in margins)
          and all(svm.alpha[i] == 0 or margins[i] == 1 for i in range(len(z))))
    return {"w_hat": [str(v) for v in w], "alpha": [str(a) for a in svm.alpha],
            "support vectors (1-based)": [i + 1 for i in svm.support],
            "y_i <w_hat, x_i>": [str(m) for m in margins],
            "|w_hat|^2": str(svm.norm2), "margin 1/|w_hat|": str(sp.nsimplify(svm.margin)),
            "active sets tried": svm.candidates_tried, "KKT conditions hold exactly": ok}


def _predictions(data: Any, svm: SVM, ctx: Any) -> dict[str, Any]:
    """w̃ from zᵢ·w̃ = −log αᵢ on S; c, b of the angle; λ = λ_min(Σ αᵢzᵢzᵢᵀ)."""
    z = [[ctx.mpf(sp.Rational(y[0] * v).p) / sp.Rational(y[0] * v).q for v in x]
         for x, y in zip(data.x, data.y, strict=True)]
    S = list(svm.support)
    what = [ctx.mpf(v.p) / v.q for v in svm.w]
    nw = ctx.sqrt(ctx.fsum(v * v for v in what))
    u = [v / nw for v in what]
    d = len(what)
    alpha = {i: ctx.mpf(svm.alpha[i].p) / svm.alpha[i].q for i in S}
    A = ctx.matrix([[z[i][k] for k in range(d)] for i in S])
    wt = ctx.lu_solve(A, ctx.matrix([-ctx.log(alpha[i]) for i in S]))
    wt = [wt[k] for k in range(d)]
    along = ctx.fsum(a * b for a, b in zip(wt, u, strict=True))
    perp = [wt[k] - along * u[k] for k in range(d)]
    M = ctx.matrix(d, d)
    for i in S:
        for a in range(d):
            for b in range(d):
                M[a, b] += alpha[i] * z[i][a] * z[i][b]
    lam = min(ctx.eigsy(M, eigvals_only=True))
    return {"u": u, "norm": nw, "w_tilde": wt, "c": ctx.norm(perp) / nw, "b": along / nw,
            "lambda": lam, "full_rank": len(S) == d}


def _linear_classifier(prob: Any, svm: SVM, horizon: str, dps: int) -> dict[str, Any]:
    ctx = mp(dps + 10)
    pred = _predictions(prob.data, svm, ctx)
    traj = integrate(prob, None, horizon, dps=dps)
    u = pred["u"]
    rows = []
    for t, th in zip(traj.times, traj.states, strict=True):
        tt = ctx.mpf(str(t))
        if tt < 100:
            continue
        w = [ctx.mpf(str(v)) for v in th]
        along = ctx.fsum(a * b for a, b in zip(w, u, strict=True))
        perp = ctx.norm([w[k] - along * u[k] for k in range(len(w))])
        tan = perp / along
        lt = ctx.log(tt)
        rows.append({"t": float(tt), "logt": float(lt), "angle": float(ctx.atan(tan)),
                     "scaled": tan * (lt + pred["b"]), "norm/logt": ctx.norm(w) / lt})
    c, b = pred["c"], pred["b"]
    dev = [(row["t"], float(abs(row["scaled"] / c - 1))) for row in rows]
    late = [p for p in dev if p[0] >= 1e4]
    slope, _, _ = loglog_fit([p[0] for p in late], [p[1] for p in late])
    # Fit 1/angle = (log t + b)/c on t >= 1e4: the "angle·log t → constant" statement.
    fit_rows = [row for row in rows if row["t"] >= 1e4]
    k1, k0 = np.polyfit([row["logt"] for row in fit_rows],
                        [1 / math.tan(row["angle"]) for row in fit_rows], 1)
    c_fit, b_fit = 1 / k1, k0 / k1
    last = rows[-1]
    norm_digits = float(-ctx.log10(abs(last["norm/logt"] / pred["norm"] - 1)))
    decreasing = all(x["angle"] > y["angle"] for x, y in itertools.pairwise(rows)
                     if x["t"] >= 1e3)
    lam = float(pred["lambda"])
    ok = (pred["full_rank"] and decreasing and dev[-1][1] < 1e-2
          and abs(slope + lam) < 0.25 * lam and abs(c_fit / float(c) - 1) < 0.05)
    return {"ok": ok, "rows": rows, "c": float(c), "b": float(b), "c_fit": c_fit,
            "b_fit": b_fit, "horizon": horizon,
            "summary": f"angle·(log t + b) → c = {num(c, 8)} (predicted) vs {c_fit:.6g} "
                       f"(fit); at t = {horizon} off by {dev[-1][1]:.1e}, shrinking like "
                       f"t^({slope:.3f}) (predicted t^−λ, λ = {lam:.4f})",
            "evidence": {"predicted c = |P_perp w_tilde|/|w_hat|": num(c, 15),
                         "predicted b = <w_tilde, u>/|w_hat|": num(b, 15),
                         "w_tilde (z_i.w_tilde = -log alpha_i on S)":
                             [num(v, 15) for v in pred["w_tilde"]],
                         "fit of 1/tan(angle) = (log t + b)/c on t >= 1e4: c, b":
                             [f"{c_fit:.8g}", f"{b_fit:.6g}"],
                         "angle at t = 1e4 / end": [f"{fit_rows[0]['angle']:.6e}",
                                                    f"{last['angle']:.6e}"],
                         "relative deviation of tan(angle)(log t + b) from c at the end":
                             f"{dev[-1][1]:.3e}",
                         "decay exponent of that deviation (fit on t >= 1e4)": f"{slope:.4f}",
                         "predicted decay exponent -lambda_min(sum alpha_i z_i z_i^T)":
                             f"{-lam:.4f}",
                         "|w(T)|/log T vs |w_hat|": [num(last["norm/logt"], 12),
                                                      num(pred["norm"], 12)],
                         "digits of |w|/log t = |w_hat| at the end": round(norm_digits, 2),
                         "angle decreasing for t >= 1e3": decreasing,
                         "samples": len(rows), "horizon": horizon,
                         "flow digits": round(traj.correct_digits, 1)}}


# -- networks ---------------------------------------------------------------------------------
def _alignment(prob: Any, svm: SVM, dps: int, horizon: str) -> dict[str, Any]:
    k = prob.network.homogeneity_degree()
    d = derive(prob)
    traj = integrate(prob, None, horizon, dps=dps)
    report = MarginTracker(d, k).along(traj, dps)
    mis = [as_float(v) for v in report.misalignment]
    third = len(mis) // 3
    late_ok = all(b <= a * (1 + 1e-9) for a, b in zip(mis[third:], mis[third + 1:],
                                                          strict=False))
    ctx = mp(dps)
    th = [ctx.mpf(str(v)) for v in traj.theta]
    # f(x) = Σ_j W2_1_j (W1_j · x): end-to-end vector v = W1ᵀ W2.
    v = [th[0] * th[4] + th[2] * th[5], th[1] * th[4] + th[3] * th[5]]
    what = [ctx.mpf(q.p) / q.q for q in svm.w]
    cos = ctx.fsum(a * b for a, b in zip(v, what, strict=True)) / (ctx.norm(v) * ctx.norm(what))
    angle = float(ctx.acos(min(cos, ctx.mpf(1))))
    ts = report.times
    tail = [(math.log(math.log(t)), math.log(m)) for t, m in zip(ts, mis, strict=True)
            if t >= math.sqrt(ts[-1]) and m > 0]
    power = float(np.polyfit([a for a, _ in tail], [b for _, b in tail], 1)[0])
    # 1 − cos ≈ angle²/2 and the angle shrinks like 1/log t: 1 − cos ~ 1/log² t, slowly.
    ok = late_ok and mis[-1] < mis[third] / 2 and angle < 0.1
    return {"ok": ok,
            "summary": f"1 − cos∠(θ, −∇L): {mis[0]:.2g} at t₀ → {mis[-1]:.2g} at t = {horizon};"
                       f" end-to-end predictor {angle:.3g} rad from ŵ",
            "evidence": {"homogeneity degree": k, **report.evidence(),
                         "1 - cos non-increasing over the last two thirds": late_ok,
                         "1 - cos at one third of the run / at the end": [f"{mis[third]:.4e}",
                                                                         f"{mis[-1]:.4e}"],
                         "local power of log t in 1 - cos (t >= sqrt(T); -> -2)":
                             f"{power:.3f}",
                         "angle(W1^T W2, w_hat) at the end (rad)": f"{angle:.6g}"}}


# -- plots ------------------------------------------------------------------------------------
def _angle_plot(res: dict[str, Any], config: Config) -> list[str]:
    path = config.plot_path("svm_angle.png")
    if path is None:
        return []
    from kltools.report.figures import plot_angle

    rows = res["rows"]
    plot_angle(path, [row["logt"] for row in rows], [row["angle"] for row in rows],
               c=res["c_fit"], b=res["b_fit"], predicted=(res["c"], res["b"]),
               title=f"Linear classifier, exponential loss: angle between θ(t) and the exact "
                     f"SVM direction, t up to {res['horizon']}")
    return [path.name]


def _margin_plot(prob: Any, dps: int, config: Config) -> list[str]:
    path = config.plot_path("relu_margins.png")
    if path is None:
        return []
    from kltools.report.figures import plot_margins

    d = derive(prob)
    traj = integrate(prob, None, "1e6", dps=dps)
    report = MarginTracker(d, prob.network.homogeneity_degree()).along(traj, dps)
    margins = [as_float(v) for v in report.margins]
    plot_margins(path, report.times, margins, [as_float(v) for v in report.smoothed],
                 limit=(margins[-1], f"normalised margin at t = 1e6: {margins[-1]:.6f}"),
                 title="ReLU net, exponential loss: margins after perfect classification "
                       f"(t₀ = {report.times[0]:.3g})")
    return [path.name]
