"""Export a derivation as text, LaTeX, Python source or JSON.

Expressions are written so that SymPy parses them back (``sympy.parse_expr`` with the names of
:data:`PARSE_NAMES` for ``sigmoid`` and ``softplus``). Small models get full expressions; past
:data:`EXPAND_LIMIT` CSE blocks the loss and gradient are given in CSE form (``cse``: the ordered
assignments, then expressions over them), since full expressions grow like parameters × samples ×
width.
"""

from __future__ import annotations

import json
from typing import Any

import sympy as sp

from kltools.spec.functions import sigmoid, softplus
from kltools.symbolic._pymodule import python_module
from kltools.symbolic.derivation import Derivation

__all__ = ["EXPAND_LIMIT", "FORMATS", "PARSE_NAMES", "export", "to_dict"]

FORMATS = ("text", "latex", "python", "json")
EXPAND_LIMIT = 400
PARSE_NAMES = {"sigmoid": sigmoid, "softplus": softplus}


def _full(d: Derivation) -> bool:
    return len(d.blocks) <= EXPAND_LIMIT


def to_dict(d: Derivation, *, expand: bool | None = None) -> dict[str, Any]:
    """The derivation as JSON-ready data.

    Keys: ``parameters``, ``switches``, ``form`` (``full`` | ``cse``), ``cse`` (list of
    ``[name, expr]``, empty in full form), ``loss``, ``gradient``, ``flow_scale``, ``kinks``
    (``{switch, surface, label}``; the switch is 1 where the surface is positive),
    ``homogeneity_degree`` (int or null), ``kind``.
    """
    full = _full(d) if expand is None else expand
    if full:
        loss, grad, cse = d.loss_expr, d.gradient_exprs, []
        surfaces = d.surface_exprs
    else:
        loss, grad = d.loss, d.gradient
        cse = [[str(s), str(e)] for s, e in d.blocks]
        surfaces = [s.surface for s in d.switches]
    net = d.problem.network
    return {
        "kind": "objective" if net is None else net.kind,
        "description": d.problem.describe(),
        "parameters": list(d.problem.parameters),
        "switches": [str(s.symbol) for s in d.switches],
        "form": "full" if full else "cse",
        "cse": cse,
        "loss": str(loss),
        "gradient": [str(g) for g in grad],
        "flow_scale": str(d.flow_scale),
        "kinks": [{"switch": str(s.symbol), "surface": str(e), "label": s.label}
                  for s, e in zip(d.switches, surfaces, strict=True)],
        "homogeneity_degree": None if net is None else net.homogeneity_degree(),
    }


def _text(d: Derivation) -> str:
    data = to_dict(d)
    lines = [f"# {data['description']}",
             f"parameters ({len(data['parameters'])}, canonical order): "
             + ", ".join(data["parameters"])]
    if data["homogeneity_degree"] is not None:
        lines.append(f"positively homogeneous of degree {data['homogeneity_degree']} in θ")
    if data["kinks"]:
        lines.append(f"kink surfaces ({len(data['kinks'])}; switch = 1 where surface > 0):")
        lines += [f"  {k['switch']}: {k['surface']} = 0   [{k['label']}]" for k in data["kinks"]]
    if data["cse"]:
        lines.append("shared subexpressions:")
        lines += [f"  {n} = {e}" for n, e in data["cse"]]
    lines.append(f"L = {data['loss']}")
    scale = "" if data["flow_scale"] == "1" else f"{data['flow_scale']}·"
    lines.append(f"flow: θ' = −{scale}∇L, with")
    lines += [f"  ∂L/∂{p} = {g}" for p, g in zip(data["parameters"], data["gradient"],
                                                  strict=True)]
    return "\n".join(lines) + "\n"


def _latex(d: Derivation) -> str:
    full = _full(d)
    loss = d.loss_expr if full else d.loss
    grad = d.gradient_exprs if full else d.gradient
    out = [r"\begin{align*}"]
    if not full:
        out += [rf"{sp.latex(s)} &= {sp.latex(e)} \\" for s, e in d.blocks]
    out.append(rf"L &= {sp.latex(loss)} \\")
    for p, g in zip(d.parameters, grad, strict=True):
        out.append(rf"\frac{{\partial L}}{{\partial {sp.latex(p)}}} &= {sp.latex(g)} \\")
    for s, e in zip(d.switches, d.surface_exprs, strict=True):
        out.append(rf"&\text{{kink: }} {sp.latex(e)} = 0 \quad ({sp.latex(s.symbol)}) \\")
    out[-1] = out[-1].rstrip("\\ ")
    out.append(r"\end{align*}")
    return "\n".join(out) + "\n"


def _python(d: Derivation) -> str:
    return python_module(d)


def export(d: Derivation, fmt: str = "text") -> str:
    """The derivation in ``fmt`` (one of :data:`FORMATS`)."""
    if fmt == "json":
        return json.dumps(to_dict(d), indent=2) + "\n"
    if fmt == "latex":
        return _latex(d)
    if fmt == "python":
        return _python(d)
    if fmt == "text":
        return _text(d)
    raise ValueError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")
