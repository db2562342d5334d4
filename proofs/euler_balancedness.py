"""Euler's identity and the balancedness conservation laws (exact identities;
Du, Hu & Lee 2018, "Algorithmic Regularization in Learning Deep Homogeneous Models: Layers are
Automatically Balanced", arXiv 1806.00900; Marcotte, Gribonval & Peyré, "Abide by the Law and
Follow the Flow: Conservation Laws for Gradient Flows", arXiv 2307.00144).

If every layer is positively homogeneous (linear, ReLU, leaky-ReLU; no biases) the output is
positively k-homogeneous in θ, f(cθ; x) = cᵏ f(θ; x) for c > 0, and differentiating at c = 1 gives

    ⟨θ, ∇_θ f(θ; x)⟩ = k·f(θ; x)                                   (Euler).

A hidden unit v with a positively h-homogeneous activation is unchanged by
(in_v, out_v) ↦ (c·in_v, c^(−h)·out_v), so ⟨in_v, ∇_in L⟩ = h⟨out_v, ∇_out L⟩ and under the flow
(no L2 term) d/dt (‖in_v‖² − h‖out_v‖²) = 0 (balancedness); summed over a layer,
‖W_l‖² − ‖W_{l+1}‖² is constant. Both are proved symbolically on every activation pattern.
Negative controls: a bias or a sigmoid breaks homogeneity (Euler fails, with a rational witness);
tanh is not homogeneous, so no rescaling symmetry and no balancedness law.
"""

from __future__ import annotations

from kltools.checks.properties import check_property
from kltools.compiled.pointwise import compile_program
from kltools.compiled.program import program_from_sympy
from kltools.integrate.flow import integrate
from kltools.proving import ClaimResult, Config, Proof, Recorder
from kltools.symbolic.derivation import derive
from kltools.symbolic.identities import balancedness, balancedness_laws, euler_identity
from kltools.symbolic.laws import conservation_laws

from ._common import as_float, check_status, identities_status, load, mp

__all__ = ["PROOF", "run"]

_DATA = """[data]
x = [["2", "1"], ["0", "2"], ["-1", "1"]]
y = ["1", "-1", "0.5"]
"""


def _two_layer(activation: str, bias: bool, init: str) -> str:
    return (f'[network]\nlayers = [2, 3, 1]\nactivation = "{activation}"\n'
            f"bias = {'true' if bias else 'false'}\n[loss]\nkind = \"square\"\n{_DATA}"
            f"[init]\ntheta = [{init}]\n")


_INIT9 = '"0.3", "-0.05", "0.4", "0.2", "-0.6", "0.5", "0.8", "-0.3", "0.25"'
_INIT13 = ('"0.3", "-0.05", "0.4", "0.2", "-0.6", "0.5", "0.1", "-0.2", "0.3", "0.8", "-0.3", '
           '"0.25", "0.05"')

RELU = "# Two-layer ReLU network, no biases: positively 2-homogeneous.\n" + \
    _two_layer("relu", False, _INIT9)
CHAIN3 = """\
# Depth-3 scalar linear chain f(x) = W3 W2 W1 x: positively 3-homogeneous.
[network]
layers = [1, 1, 1, 1]
activation = "linear"
[data]
x = [["1"], ["2"]]
y = ["2", "4"]
[init]
theta = ["0.7", "0.4", "-0.3"]
"""
RELU_BIAS = "# Control: the same ReLU network with biases (not homogeneous).\n" + \
    _two_layer("relu", True, _INIT13)
SIGMOID = "# Control: sigmoid activation, no biases (sigmoid is not homogeneous).\n" + \
    _two_layer("sigmoid", False, _INIT9)
TANH = "# Control: tanh activation, no biases (no rescaling symmetry).\n" + \
    _two_layer("tanh", False, _INIT9)

PROOF = Proof(
    name="euler-balancedness",
    title="Euler's identity and the balancedness conservation laws of homogeneous networks",
    source=('Euler\'s identity; balancedness: Du, Hu & Lee 2018, "Algorithmic Regularization '
            'in Learning Deep Homogeneous Models: Layers are Automatically Balanced", '
            'arXiv 1806.00900; '
            'no other laws: Marcotte, Gribonval & Peyré 2023, "Abide by the Law and Follow the '
            'Flow: Conservation Laws for Gradient Flows", arXiv 2307.00144'),
    hypotheses=(
        "every unit positively homogeneous (linear / ReLU / leaky ReLU), no biases: f is "
        "positively k-homogeneous in θ, k read from the network graph",
        "for balancedness: gradient flow without an L2 term",
    ),
    claims=(
        "Euler: ⟨θ, ∇_θ f(θ; x)⟩ = k·f(θ; x) for every sample",
        "balancedness: ‖in_v‖² − h‖out_v‖² per hidden unit and ‖W_l‖² − ‖W_{l+1}‖² per layer "
        "are constant along the flow",
        "these laws are all the conservation laws of the architecture (Lie-algebra count)",
        "controls: biases and sigmoid break Euler; tanh breaks balancedness",
    ),
    models={"relu": RELU, "chain3": CHAIN3, "relu-bias": RELU_BIAS, "sigmoid": SIGMOID,
            "tanh": TANH},
)


def run(config: Config) -> list[ClaimResult]:
    """Check every claim of :data:`PROOF`; see the module docstring for the mathematics."""
    rec = Recorder(config)
    dps = config.pick(40, 30)
    models = {name: load(text) for name, text in PROOF.models.items()}

    with rec.claim("Euler's identity ⟨θ, ∇f⟩ = k·f holds for every sample: ReLU net (k = 2) "
                   "and depth-3 linear chain (k = 3)", "proved", model="relu") as r:
        ev, statuses = {}, []
        for name in ("relu", "chain3"):
            d = derive(models[name])
            k = models[name].network.homogeneity_degree()  # type: ignore[union-attr]
            ids = euler_identity(d)
            statuses.append(identities_status(ids) if k is not None else "inconclusive")
            ev[name] = {"degree k (from the graph)": k, "identities": len(ids),
                        "statuses": sorted({i.status for i in ids})}
        r.verdict = _all(statuses)
        r.evidence = ev
        r.summary = ("ReLU net: 3 samples, k = 2; chain: 2 samples, k = 3; every difference "
                     "expands to 0")

    with rec.claim("balancedness: ‖in_v‖² − ‖out_v‖² per unit and per layer are constant "
                   "(d/dt h = ∇h·θ' = 0 on every activation pattern)", "proved",
                   model="relu") as r:
        ev, statuses = {}, []
        for name in ("relu", "chain3"):
            ids = balancedness(derive(models[name]))
            statuses.append(identities_status(ids))
            ev[name] = {i.name: i.status for i in ids}
        r.verdict = _all(statuses)
        r.evidence = ev
        r.summary = f"{sum(len(v) for v in ev.values())} laws proved (ReLU net and chain)"

    with rec.claim("the laws are conserved along computed flows to their digits (drift below "
                   "10^-(digits − 5))", "verified", model="relu") as r:
        ev, statuses = {}, []
        for name in ("relu", "chain3"):
            v = check_property("conservation", models[name], None, t_end=5, dps=dps)
            statuses.append(check_status(v))
            ev[name] = dict(v.evidence)
        r.verdict = _all(statuses)
        r.evidence = ev
        r.summary = "max relative drift " + ", ".join(
            f"{n} {float(e['max relative drift']):.1e}" for n, e in ev.items()) + \
            f" ({dps}-digit flows)"
        r.plots = _drift_plot(models, config, dps)

    with rec.claim("no other conservation laws: D − dim Lie(W_φ) equals the number of "
                   "independent balancedness laws (count certified)", "proved",
                   model="relu") as r:
        ev, statuses = {}, []
        for name in ("relu", "chain3"):
            res = conservation_laws(models[name], 2)
            data = res.to_json()
            proved = all(p["status"] == "proved" for p in data["proofs"])
            statuses.append("proved" if data["certified"] and data["complete"] and proved
                            else "inconclusive")
            ev[name] = {"parameters D": data["parameters"], "dim Lie(W_phi)":
                        data["lie_dimension"], "count D - dim": data["count"],
                        "laws (degree <= 2)": data["laws"], "certified": data["certified"]}
        r.verdict = _all(statuses)
        r.evidence = ev
        r.summary = "; ".join(f"{n}: {e['count D - dim']} laws = D {e['parameters D']} − dim "
                              f"Lie {e['dim Lie(W_phi)']}" for n, e in ev.items())

    for name, what in (("relu-bias", "biases"), ("sigmoid", "a sigmoid activation")):
        with rec.claim(f"control ({what}): Euler's identity ⟨θ, ∇f⟩ = k·f with k the depth",
                       "refuted", model=name, control=True) as r:
            net = models[name].network
            ids = euler_identity(derive(models[name]))
            r.verdict = identities_status(ids)
            bad = next((i for i in ids if i.status == "refuted"), None)
            r.evidence = {"degree from the graph": net.homogeneity_degree(),  # type: ignore[union-attr]
                          "statuses": [i.status for i in ids],
                          "witness (exact rational point)": bad.witness if bad else None,
                          "residual ⟨θ,∇f⟩ − k f": bad.residual[:300] if bad else None}
            r.summary = (f"{sum(i.status == 'refuted' for i in ids)}/{len(ids)} refuted with "
                         "exact rational witnesses")
            if name == "relu-bias":
                per_unit = balancedness(derive(models[name]))
                r.evidence["per-unit balancedness with the bias counted as an incoming weight"] \
                    = [i.status for i in per_unit]

    with rec.claim("control (tanh): the balancedness laws ‖in_v‖² − ‖out_v‖² are constant",
                   "refuted", model="tanh", control=True) as r:
        ids = balancedness(derive(models["tanh"]))
        v = check_property("conservation", models["tanh"], None, t_end=5, dps=dps)
        symbolic = identities_status(ids)
        r.verdict = symbolic if check_status(v) == symbolic else "inconclusive"
        bad = next((i for i in ids if i.status == "refuted"), None)
        r.evidence = {"symbolic": {i.name: i.status for i in ids},
                      "witness": bad.witness if bad else None,
                      "along the flow": dict(v.evidence)}
        r.summary = (f"symbolic witness, and drift {float(v.evidence['max relative drift']):.2g}"
                     " along the flow")
    return rec.results


def _all(statuses: list[str]) -> str:
    return statuses[0] if len(set(statuses)) == 1 else "inconclusive"


def _drift_plot(models: dict, config: Config, dps: int) -> list[str]:
    path = config.plot_path("balancedness_drift.png")
    if path is None:
        return []
    from kltools.report.figures import Curve, plot_curves

    curves = []
    for i, (name, label) in enumerate((("relu", "ReLU (homogeneous)"),
                                       ("chain3", "linear chain (homogeneous)"),
                                       ("tanh", "tanh (control)"))):
        d = derive(models[name])
        laws = balancedness_laws(d)
        prog = program_from_sympy([h for _, _, h in laws], d.parameters, (), cse=True)
        f = compile_program(prog, "mpmath", dps)
        ctx = mp(dps)
        traj = integrate(models[name], None, 5, dps=dps)
        vals = [f([ctx.mpf(str(v)) for v in th], []) for th in traj.states]
        ts, drift = [], []
        for t, row in zip(traj.times[1:], vals[1:], strict=True):
            ts.append(as_float(t))
            drift.append(max(float(abs(a - b)) for a, b in zip(row, vals[0], strict=True))
                         or 10.0 ** (-dps - 5))
        curves.append(Curve(ts, drift, f"{label}: max_v |h_v(t) − h_v(0)|", "line", f"C{i}"))
    plot_curves(path, curves, xlabel="t (flow time)",
                ylabel="drift of the balancedness laws (log scale)",
                title=f"Balancedness along {dps}-digit flows: conserved to rounding for "
                      "homogeneous units, not for tanh", ylog=True, legend="center right")
    return [path.name]
