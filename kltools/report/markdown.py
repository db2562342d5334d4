"""The proof report: ``report.md`` (summary table, one section per proof) and the JSON document.

:func:`summary_table` is the Markdown summary table of ``report.md`` (claim, expected, verdict,
key evidence); :func:`write_report` writes it with a section per proof: source, hypotheses,
claims, each result with its evidence, the embedded PNG plots, and the toy models as TOML.
"""

from __future__ import annotations

import json
import platform
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kltools.proving.claims import ClaimResult, Config, ProofRun

__all__ = ["report_json", "summary_table", "write_report"]


def _cell(text: str) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def _mark(r: ClaimResult) -> str:
    return "✓" if r.as_expected else "✗ UNEXPECTED"


def summary_table(runs: Sequence[ProofRun]) -> str:
    """A Markdown table: one row per claim (controls marked), as-expected mark, key evidence.

    >>> from kltools.proving.claims import Proof
    >>> run = ProofRun(Proof("p", "t", "s", (), ()), [ClaimResult("1 + 1 = 2", "proved",
    ...                                                           "proved", summary="exact")])
    >>> print(summary_table([run]))
    | proof | claim | expected | verdict | | key evidence |
    | --- | --- | --- | --- | --- | --- |
    | p | 1 + 1 = 2 | proved | **proved** | ✓ | exact |
    """
    lines = ["| proof | claim | expected | verdict | | key evidence |",
             "| --- | --- | --- | --- | --- | --- |"]
    for run in runs:
        if run.error:
            lines.append(f"| {run.proof.name} | (the proof crashed) | | | ✗ UNEXPECTED | "
                         f"{_cell(run.error)} |")
        for r in run.results:
            claim = _cell(r.claim)
            if r.control:
                claim = ("*control*" + claim[len("control"):] if claim.startswith("control")
                         else f"*control:* {claim}")
            lines.append(f"| {run.proof.name} | {claim} | {r.expected} | **{r.verdict}** | "
                         f"{_mark(r)} | {_cell(r.summary)} |")
    return "\n".join(lines)


def _totals(runs: Sequence[ProofRun]) -> tuple[int, int]:
    results = [r for run in runs for r in run.results]
    return len(results), sum(r.as_expected for r in results)


def _versions() -> dict[str, str | None]:
    from importlib import metadata

    out: dict[str, str | None] = {"python": platform.python_version()}
    for pkg in ("kltools", "sympy", "mpmath", "gmpy2", "python-flint", "numpy", "matplotlib"):
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            out[pkg] = None
    return out


def report_json(runs: Sequence[ProofRun], config: Config, seconds: float,
                report: Path | None = None) -> dict[str, Any]:
    """Everything as JSON data: every claim with its verdict, expected verdict and evidence."""
    total, good = _totals(runs)
    return {"as_expected": good == total and all(run.error is None for run in runs),
            "claims": total, "claims_as_expected": good,
            "unexpected": [{"proof": run.proof.name, "claim": r.claim, "expected": r.expected,
                            "verdict": r.verdict} for run in runs for r in run.results
                           if not r.as_expected],
            "mode": "quick" if config.quick else "full", "seed": config.seed,
            "seconds": round(seconds, 1), "report": str(report) if report else None,
            "versions": _versions(), "proofs": [run.to_json() for run in runs]}


def _evidence_lines(value: Any, indent: int = 0) -> list[str]:
    pad = "  " * indent
    out: list[str] = []
    if isinstance(value, dict):
        for k, v in value.items():
            if isinstance(v, dict | list) and v and not _flat(v):
                out.append(f"{pad}- {k}:")
                out += _evidence_lines(v, indent + 1)
            else:
                out.append(f"{pad}- {k}: {_short(v)}")
    elif isinstance(value, list):
        for i, v in enumerate(value):
            if isinstance(v, dict | list) and not _flat(v):
                out.append(f"{pad}- [{i + 1}]")
                out += _evidence_lines(v, indent + 1)
            else:
                out.append(f"{pad}- {_short(v)}")
    else:
        out.append(f"{pad}- {_short(value)}")
    return out


def _flat(v: Any) -> bool:
    return isinstance(v, list) and all(not isinstance(x, dict | list) for x in v) and len(v) <= 12


def _short(v: Any, limit: int = 400) -> str:
    text = json.dumps(v, ensure_ascii=False) if isinstance(v, list | dict) else str(v)
    text = " ".join(text.split())
    return f"`{text[:limit]}{' …' if len(text) > limit else ''}`"


def write_report(runs: Sequence[ProofRun], config: Config, seconds: float,
                 command: str = "kltools prove") -> Path:
    """Write ``report.md`` into ``config.out`` (the plots are already there) and return it."""
    if config.out is None:
        raise ValueError("write_report needs config.out, the report directory")
    out = config.out
    out.mkdir(parents=True, exist_ok=True)
    total, good = _totals(runs)
    ok = good == total and all(run.error is None for run in runs)
    versions = _versions()
    lines = [
        "# kltools proof report", "",
        f"`{command}` — {datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')}, "
        f"{'quick (reduced) mode' if config.quick else 'full mode'}, seed {config.seed}, "
        f"{seconds:.0f} s on {platform.machine()} (kltools {versions['kltools']}, "
        f"Python {versions['python']}, SymPy {versions['sympy']}, mpmath {versions['mpmath']}).",
        "",
        f"**{good} of {total} verdicts as expected"
        + (" — every theorem's claims proved or verified, every negative control refuted.**"
           if ok else " — see the rows marked UNEXPECTED.**"),
        "",
        "Verdicts: *proved* = exact symbolic identity or interval-arithmetic enclosure; "
        "*verified* = high-precision computation whose digits were checked against a closed "
        "form or a higher-precision run; *refuted* = a concrete counter-example; controls drop "
        "one hypothesis and must come out refuted.", "",
        "## Summary", "", summary_table(runs), "",
    ]
    for run in runs:
        p = run.proof
        lines += [f"## {p.title}", "",
                  f"`kltools prove {p.name}` · source: {p.source} · {run.seconds:.1f} s", ""]
        if run.error:
            lines += [f"**The proof crashed:** `{run.error}`", ""]
        lines += ["**Hypotheses**", "", *[f"- {h}" for h in p.hypotheses], ""]
        lines += ["**Claims**", "", *[f"- {c}" for c in p.claims], ""]
        for r in run.results:
            if r.control and r.claim.startswith("control"):
                heading = "Control" + r.claim[len("control"):]
            else:
                heading = f"{'Control' if r.control else 'Claim'}: {r.claim}"
            lines += [f"### {heading}", "",
                      f"Expected **{r.expected}**, verdict **{r.verdict}** {_mark(r)} "
                      f"(model `{r.model}`, {r.seconds:.1f} s).", ""]
            if r.summary:
                lines += [r.summary, ""]
            lines += ["<details><summary>evidence</summary>", ""]
            lines += [*_evidence_lines(r.evidence), "", "</details>", ""]
            for png in r.plots:
                lines += [f"![{png}]({png})", ""]
        if p.models:
            lines += ["<details><summary>toy models (spec TOML)</summary>", ""]
            for name, text in p.models.items():
                lines += [f"`{name}`", "", "```toml", text.rstrip(), "```", ""]
            lines += ["</details>", ""]
    path = out / "report.md"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path
