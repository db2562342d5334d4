"""What a sweep returns and what its results file says: :class:`SweepResult`,
:func:`load_results`, and :func:`comparable` (a line without its timings)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kltools.errors import SpecError
from kltools.sweep.plot import plot_summary
from kltools.sweep.summary import summary_text
from kltools.sweep.worker import TIMING_FIELDS

__all__ = ["SweepResult", "comparable", "load_results"]


@dataclass
class SweepResult:
    """What :func:`sweep` did and what the results file now says.

    Attributes
    ----------
    path
        The results file.
    header
        Its header line.
    lines
        A record per run with index < n, sorted by index: the fields the summary reads
        (index, outcome, verdict, figures, detail, error; init when refuted). The full lines
        are in the file (:func:`load_results`).
    summary
        :func:`kltools.sweep.summary.summarize` of those lines (JSON-ready).
    ran, skipped
        Runs computed by this call, and indices found already done.
    elapsed
        Wall-clock seconds of this call.
    executor
        Where the runs executed.
    """

    path: Path
    header: dict[str, Any]
    lines: list[dict[str, Any]]
    summary: dict[str, Any]
    ran: int = 0
    skipped: int = 0
    elapsed: float = 0.0
    executor: str = ""
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def exit_code(self) -> int:
        """0 all hold (or integrate mode), 1 some run refuted, 3 some inconclusive or missing."""
        s = self.summary
        if s["missing"]:
            return 3
        if s["mode"] != "property":
            return 0
        v = s["verdicts"]
        return 1 if v["refuted"] else 3 if v["inconclusive"] else 0

    def text(self) -> str:
        return summary_text(self.summary)

    def to_json(self) -> dict[str, Any]:
        return {**self.summary, "out": str(self.path), "ran": self.ran,
                "skipped": self.skipped, "elapsed": round(self.elapsed, 3),
                "executor": self.executor}

    def plot(self, path: str | Path) -> Path:
        """Histogram PNG of verdicts/outcomes, rates and exponents (matplotlib, Agg)."""
        return plot_summary(self.summary, self.lines, path)


def comparable(line: dict[str, Any]) -> dict[str, Any]:
    """A result line without its timings: equal for equal runs on any executor."""
    out = {k: (dict(v) if isinstance(v, dict) else v) for k, v in line.items()}
    for outer, inner in TIMING_FIELDS:
        if isinstance(out.get(outer), dict):
            out[outer].pop(inner, None)
    return out


def load_results(path: str | Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The header and the result lines (first line per index, sorted) of a results file."""
    import json

    text = Path(path).read_text(encoding="utf-8")
    raw = text.splitlines()
    if not raw:
        raise SpecError(f"{path} is empty", "--out")
    header = json.loads(raw[0])
    seen: dict[int, dict[str, Any]] = {}
    for r in raw[1:]:
        try:
            line = json.loads(r)
        except json.JSONDecodeError:
            continue  # an incomplete last line of an interrupted write
        seen.setdefault(int(line["index"]), line)
    return header, [seen[i] for i in sorted(seen)]
