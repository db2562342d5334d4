"""Rich display of kltools results: HTML and LaTeX from plain data, for notebooks and the docs.

Two kinds of function live here:

* **builders** take plain data (strings, numbers, lists, dicts) and return markup:
  :func:`plain` (any JSON-like value as readable text, never a Python repr), :func:`plural`,
  :func:`html_table`, :func:`latex_table`, :func:`latex_equations`, :func:`html_image`,
  :func:`figure_png`;
* **views**, one per result type, turn a result's plain data (its ``to_json()``) into a table, and
  read the few attributes a plot or an equation needs by name (duck typing).

The module imports nothing from kltools' layers (only :mod:`kltools.numbers`), so the classes of
every layer — ``Derivation``, ``Trajectory``, ``Verdict``, ``ExponentResult``, ``Laws`` — give
themselves ``_repr_html_`` / ``_repr_latex_`` by delegating here in a line or two. Jupyter shows
the richest form a frontend supports (HTML in JupyterLab and in the docs site).

>>> plain({"holds": 3, "refuted": 0})
'holds 3, refuted 0'
>>> plural(1, "sample"), plural(2, "sample"), plural(1, "independent law")
('1 sample', '2 samples', '1 independent law')
>>> print(latex_table([("exponent", Math(r"\\frac{3}{4}"))]))
$$\\begin{array}{ll}
\\text{exponent} & \\frac{3}{4} \\\\
\\end{array}$$
"""

from __future__ import annotations

import base64
import enum
import html
import io
from collections.abc import Callable, Iterable, Mapping, Sequence
from fractions import Fraction
from typing import Any

from kltools.numbers import format_number, to_float

__all__ = [
    "Math", "at_end_rows", "derivation_latex", "exponent_html", "exponent_latex", "figure_png",
    "html_image", "html_table", "latex_equations", "latex_table", "laws_html", "laws_latex",
    "plain", "plural", "text_table", "trajectory_html", "trajectory_latex", "trajectory_plot",
    "trajectory_rows", "verdict_html", "verdict_latex",
]

_STATUS_COLOURS = {"holds": "#1b7f3b", "proved": "#1b7f3b", "verified": "#1b7f3b",
                   "refuted": "#b3261e", "inconclusive": "#8a6d00"}


class Math(str):
    """A table cell that is already LaTeX (math mode), not text to escape."""


# -- builders --------------------------------------------------------------------------------
def plural(n: int, noun: str, plural_form: str | None = None) -> str:
    """``n`` and the noun, plural unless ``n == 1`` (the last word takes the ``s``)."""
    return f"{n} {noun if n == 1 else (plural_form or noun + 's')}"


def plain(value: Any) -> str:
    """A JSON-like value as text a person reads: dicts as ``key value, …``, lists comma-joined,
    booleans as yes/no, numbers with their digits (never a Python repr)."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, enum.Enum):
        return plain(value.value)
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping):
        return ", ".join(f"{k} {plain(v)}" for k, v in value.items())
    if isinstance(value, list | tuple | set | frozenset):
        return ", ".join(plain(v) for v in value)
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, int | Fraction):
        return str(value)
    try:
        return format_number(value)
    except (TypeError, ValueError):
        return str(value)


def _latex_text(text: str) -> str:
    """``text`` inside ``\\text{...}``, with LaTeX's special characters escaped."""
    out = text
    for ch, rep in (("\\", r"\backslash "), ("{", r"\{"), ("}", r"\}"), ("$", r"\$"),
                    ("&", r"\&"), ("#", r"\#"), ("%", r"\%"), ("_", r"\_"), ("^", r"\^{}"),
                    ("~", r"\~{}")):
        out = out.replace(ch, rep)
    return r"\text{" + out + "}"


def _latex_cell(value: Any) -> str:
    return str(value) if isinstance(value, Math) else _latex_text(plain(value))


def latex_table(rows: Iterable[Sequence[Any]], *, header: Sequence[str] | None = None,
                caption: str | None = None) -> str:
    """A display-math ``array``: text cells escaped, :class:`Math` cells as they are."""
    rows = [list(r) for r in rows]
    width = max([len(r) for r in rows] + [len(header or ())]) or 1
    lines = [r"$$\begin{array}{" + "l" * width + "}"]
    if caption:
        lines.append(r"\multicolumn{" + str(width) + "}{l}{" + _latex_text(caption) + r"} \\")
    if header:
        lines.append(" & ".join(_latex_text(h) for h in header) + r" \\ \hline")
    lines += [" & ".join(_latex_cell(c) for c in r) + r" \\" for r in rows]
    lines.append(r"\end{array}$$")
    return "\n".join(lines)


def latex_equations(equations: Iterable[tuple[str, str]], *,
                    caption: str | Sequence[str] = ()) -> str:
    """Aligned display equations ``lhs = rhs`` (both LaTeX), after optional text lines."""
    lines = [r"$$\begin{aligned}"]
    for text in [caption] if isinstance(caption, str) else caption:
        lines.append(r"&" + _latex_text(text) + r" \\")
    lines += [f"{lhs} &= {rhs}" + r" \\" for lhs, rhs in equations]
    lines.append(r"\end{aligned}$$")
    return "\n".join(lines)


def html_table(rows: Iterable[Sequence[Any]], *, header: Sequence[str] | None = None,
               caption: str | None = None) -> str:
    """An HTML table; every cell is :func:`plain` text, escaped."""
    parts = ['<table class="kltools">']
    if caption:
        parts.append(f"<caption style=\"text-align:left\">{html.escape(caption)}</caption>")
    if header:
        parts.append("<tr>" + "".join(f"<th>{html.escape(h)}</th>" for h in header) + "</tr>")
    for r in rows:
        parts.append("<tr>" + "".join(
            f"<td style=\"text-align:left\">{html.escape(plain(c))}</td>" for c in r) + "</tr>")
    parts.append("</table>")
    return "".join(parts)


def text_table(rows: Iterable[Sequence[Any]]) -> str:
    """``label  value`` lines, labels right-aligned (the terminal form of a two-column table)."""
    rows = [(plain(k), plain(v)) for k, v in rows]
    width = max((len(k) for k, _ in rows), default=0)
    return "\n".join(f"{k:>{width}}  {v}" for k, v in rows)


def html_image(png: bytes, alt: str, width: int = 360) -> str:
    """An inline PNG (base64 data URI)."""
    data = base64.b64encode(png).decode("ascii")
    return (f'<img src="data:image/png;base64,{data}" alt="{html.escape(alt)}" '
            f'style="max-width:{width}px">')


def figure_png(draw: Callable[[Any], Any], size: tuple[float, float] = (4.5, 2.8)) -> bytes:
    """Draw on the axes of a fresh figure and return it as PNG bytes. The figure is made
    without pyplot, so a notebook does not also show it as a separate output."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=size)
    draw(fig.subplots())
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=80, bbox_inches="tight")
    return buf.getvalue()


def _badge(status: str) -> str:
    colour = _STATUS_COLOURS.get(status, "#444")
    return (f'<span style="color:white;background:{colour};padding:1px 6px;'
            f'border-radius:3px;font-weight:bold">{html.escape(status)}</span>')


# -- trajectories ----------------------------------------------------------------------------
def _significant(text: str, digits: int) -> str:
    """A decimal string cut to ``digits`` significant digits (rounded)."""
    try:
        return format_number(Fraction(text), digits)
    except (ValueError, ZeroDivisionError):
        return text


def trajectory_rows(data: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The summary of a trajectory from its ``to_json(samples=False)``: outcome, final time,
    loss (to its correct digits), ‖∇L‖, digits, precision, steps, events, blow-up time."""
    digits = float(data.get("correct_digits", 0))
    shown = max(6, min(int(digits), 40))
    how = "verified against a run at higher precision" if data.get("verified") else "estimated"
    kinds: dict[str, int] = {}
    for e in data.get("events", []):
        kinds[e["kind"]] = kinds.get(e["kind"], 0) + 1
    rows = [("outcome", f"{data['outcome']}: {data.get('message', '')}"),
            ("t", _significant(data["t"], 15)),
            ("loss", _significant(data["loss"], shown))]
    if data.get("grad_norm") is not None:
        rows.append(("‖∇L‖", _significant(data["grad_norm"], 10)))
    rows += [("correct digits", f"{digits:.1f} ({how})"),
             ("precision", f"{data.get('dps')} digits; "
                           f"{plural(int(data.get('n_steps', 0)), 'step')}"),
             ("events", ", ".join(f"{k} × {n}" for k, n in kinds.items()) or "none")]
    if data.get("blowup_time") is not None:
        rows.append(("blow-up time", f"t* = {data['blowup_time']} "
                                     f"({float(data.get('blowup_time_digits', 0)):.1f} digits)"))
    return rows


def trajectory_plot(traj: Any, ax: Any = None) -> Any:
    """Loss and ‖∇L‖ against t (log scale when positive), kink events as dotted lines; returns
    the axes (a new pyplot figure when ``ax`` is None)."""
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(5, 3))
    t = [to_float(v) for v in traj.times]
    for label, ys in (("L", traj.losses), ("‖∇L‖", traj.grad_norms)):
        vals = [to_float(v) for v in ys]
        if len(vals) == len(t):
            ax.plot(t, vals, marker=".", markersize=3, label=label)
    if all(to_float(v) > 0 for v in [*traj.losses, *traj.grad_norms]):
        ax.set_yscale("log")
    for e in traj.events:
        ax.axvline(to_float(e.t), color="grey", linestyle=":", linewidth=0.8)
    ax.set_xlabel("t")
    ax.legend(loc="best", fontsize="small")
    return ax


def trajectory_html(traj: Any) -> str:
    """Summary table and a small plot of loss and ‖∇L‖ against t."""
    caption = f"Trajectory ({traj.method}, {plural(len(traj.parameters), 'parameter')})"
    table = html_table(trajectory_rows(traj.to_json(samples=False)), caption=caption)
    if len(traj.times) < 2:
        return table
    img = html_image(figure_png(lambda ax: trajectory_plot(traj, ax)), "loss and gradient norm")
    return f'<div style="display:flex;gap:1em;align-items:flex-start">{table}{img}</div>'


def trajectory_latex(traj: Any) -> str:
    return latex_table(trajectory_rows(traj.to_json(samples=False)), caption="Trajectory")


# -- derivations -----------------------------------------------------------------------------
_MAX_OPS = 400  # larger expressions are summarised, not printed
_MAX_BLOCKS = 400  # past this many CSE blocks the full expressions are not even expanded


def derivation_latex(d: Any, max_rows: int = 12) -> str:
    """L, each ∂L/∂θ_i and each kink surface as LaTeX equations (switches χ as symbols);
    expressions beyond a few hundred operations are summarised by their size, and a derivation
    of more than a few hundred CSE blocks by its counts (expanding it would take long)."""
    import sympy as sp

    if len(d.blocks) > _MAX_BLOCKS:
        return latex_equations([], caption=[
            f"{plural(len(d.parameters), 'parameter')}, "
            f"{plural(len(d.switches), 'kink switch', 'kink switches')}, "
            f"{plural(len(d.blocks), 'CSE block')}: too large to print as full expressions; "
            "kltools derive SPEC --format latex writes the CSE form"])

    def tex(e: Any) -> str:
        n = sp.count_ops(e)
        return sp.latex(e) if n <= _MAX_OPS else _latex_text(f"({n} operations)")

    eqs = [("L", tex(d.loss_expr))]
    for p, g in list(zip(d.parameters, d.gradient_exprs, strict=True))[:max_rows]:
        eqs.append((r"\frac{\partial L}{\partial " + sp.latex(p) + "}", tex(g)))
    for sw, s in list(zip(d.switches, d.surface_exprs, strict=True))[:max_rows]:
        eqs.append((sp.latex(sw.symbol), r"[\,s > 0\,],\quad s = " + tex(s)))
    more = max(0, len(d.parameters) - max_rows) + max(0, len(d.switches) - max_rows)
    caption = (f"{plural(len(d.parameters), 'parameter')}, "
               f"{plural(len(d.switches), 'kink switch', 'kink switches')}, "
               f"flow θ' = −s∇L with s = {d.flow_scale}"
               + (f" ({more} more rows not shown)" if more else ""))
    return latex_equations(eqs, caption=caption)


# -- verdicts, exponents, laws ---------------------------------------------------------------
def _evidence_rows(evidence: Mapping[str, Any]) -> list[tuple[str, str]]:
    return [(str(k), plain(v)) for k, v in evidence.items()]


def verdict_html(data: Mapping[str, Any]) -> str:
    """A verdict (``Verdict.to_json()``): status, claim, evidence table, counter-example."""
    head = (f"<p><b>{html.escape(data['property'])}</b>: {_badge(data['verdict'])} "
            f"({plural(int(data.get('examples', 1)), 'example')})<br>"
            f"<i>claim:</i> {html.escape(data['claim'])}</p>")
    parts = [head, html_table(_evidence_rows(data.get("evidence", {})),
                              header=("evidence", "value"))]
    cx = data.get("counterexample")
    if cx:
        parts.append(f"<p>counter-example ({html.escape(plain(cx.get('detail')))}); "
                     f"init = {html.escape(plain(cx.get('init')))}</p>")
        if cx.get("spec"):
            parts.append(f"<pre>{html.escape(cx['spec'])}</pre>")
    return "".join(parts)


def verdict_latex(data: Mapping[str, Any]) -> str:
    rows = [("verdict", data["verdict"]), ("claim", data["claim"]),
            *_evidence_rows(data.get("evidence", {}))]
    return latex_table(rows, caption=f"{data['property']} "
                                     f"({plural(int(data.get('examples', 1)), 'example')})")


def _exponent_rows(data: Mapping[str, Any], math: bool) -> list[tuple[str, Any]]:
    cp = data["critical_point"]
    exp = data["exponent"]
    shown: Any = exp if exp is not None else "not known exactly"
    if math and exp is not None:
        num, _, den = exp.partition("/")
        shown = Math(r"\frac{" + num + "}{" + den + "}" if den else num)
    lo, hi = data["interval"]
    return [("exponent", shown), ("method", data["method"]), ("interval", f"[{lo}, {hi}]"),
            ("D'Acunto–Kurdyka bound", data.get("bound") or "none (not a polynomial)"),
            ("critical point", f"({', '.join(cp['point'])}): "
                               f"{'certified' if cp['certified'] else 'not certified'}, "
                               f"{cp['classification']}"),
            ("why", data["reason"])]


def exponent_html(data: Mapping[str, Any]) -> str:
    """A Łojasiewicz exponent (``ExponentResult.to_json()``)."""
    return html_table(_exponent_rows(data, math=False), caption="Łojasiewicz exponent")


def exponent_latex(data: Mapping[str, Any]) -> str:
    return latex_table(_exponent_rows(data, math=True), caption="Łojasiewicz exponent")


def at_end_rows(data: Mapping[str, Any], digits: int = 16) -> list[tuple[str, str]]:
    """The exponent at the limit of a flow (``exponent_at_end``'s data, as ``kltools exponent
    SPEC --at-end`` prints it): horizon and outcome, exponent or interval with its method, the
    D'Acunto–Kurdyka bound, the limit θ* (``digits`` significant digits; all of them with
    ``--json``), whether it is certified, its class and inertia, and the reason."""
    exp = data.get("exponent")
    interval = data.get("interval")
    rows = [("horizon", f"t = {data['t_end']}; the flow ends with outcome {data['outcome']}"),
            ("exponent", f"{exp} (exact, {data['method']})" if exp is not None
             else f"not known exactly; the interval is from a {data['method']}" if interval
             else "not determined (see why)"),
            ("interval", f"[{interval[0]}, {interval[1]}]" if interval else "none"),
            ("D'Acunto–Kurdyka", data.get("bound") or "no bound (not a polynomial objective)")]
    cp = data.get("critical_point")
    if cp:
        how = (f"yes ({cp['method']}" + (f", radius {cp['radius']}" if cp.get("radius") else "")
               + ")" if cp["certified"] else f"no: {cp.get('note') or 'not certified'}")
        inertia = cp.get("inertia")
        kind = cp["classification"] + (
            f"; Hessian eigenvalues: {inertia[0]} positive, {inertia[1]} negative, "
            f"{inertia[2]} zero" if inertia else "")
        rows += [("limit θ*", ", ".join(_significant(v, digits) for v in cp["point"])),
                 ("certified", how), ("class", kind),
                 ("‖∇L(θ*)‖", cp.get("gradient_norm"))]
    if data.get("reason"):
        rows.append(("why", data["reason"]))
    return rows


def _laws_rows(data: Mapping[str, Any]) -> list[tuple[str, str]]:
    return [("parameters", f"D = {data['parameters']}"),
            ("Lie algebra", f"dim Lie(W_φ) = {data['lie_dimension']}"),
            ("count", f"{plural(int(data['count']), 'independent conservation law')} (D − dim)"),
            ("polynomial laws", f"{len(data['laws'])} of degree ≤ {data['degree']}, "
                                f"{data['independent']} functionally independent"
                                + (", count certified" if data.get("certified") else ""))]


def laws_html(data: Mapping[str, Any]) -> str:
    """Conservation laws (``Laws.to_json()``): the count and each law with its proof status."""
    statuses = [p.get("status", "") for p in data.get("proofs", [])] or [""] * len(data["laws"])
    rows = [(f"h{i}", law, status) for i, (law, status)
            in enumerate(zip(data["laws"], statuses, strict=True), start=1)]
    return (html_table(_laws_rows(data), caption="Conservation laws")
            + html_table(rows, header=("law", "h(θ)", "along the spec's flow")))


def laws_latex(data: Mapping[str, Any], laws_tex: Sequence[str]) -> str:
    eqs = [(f"h_{{{i}}}(\\theta)", h) for i, h in enumerate(laws_tex, start=1)]
    return latex_equations(eqs, caption=[f"{k}: {v}" for k, v in _laws_rows(data)])
