"""What ``kltools prove`` shows on a terminal: a summary table that fits 100 columns, and
progress lines for the long loops inside a claim.

The table has up to four lines per claim: the verdict (with ✓ or ✗), the proof and the claim
wrapped to at most two lines; the expected verdict when it was not reached; the key evidence on
one line, indented under the claim. Verdicts carry colours (green as expected, red otherwise) that
:func:`click.echo` keeps only when the stream is a terminal. The full text of every claim and its
evidence stays in ``report.md``.
"""

from __future__ import annotations

import textwrap
import time
from collections.abc import Callable, Sequence

import click

from kltools.proving.claims import ClaimResult, ProofRun

__all__ = ["WIDTH", "ProgressLines", "fit", "terminal_table"]

#: Columns the table fits in.
WIDTH = 100
_VERDICT, _PROOF = 14, 19  # "✗ inconclusive", the longest proof name plus a space
_TEXT = WIDTH - _VERDICT - _PROOF - 2


def _short(text: str, width: int = _TEXT) -> str:
    return textwrap.shorten(" ".join(str(text).split()), width=width, placeholder=" …")


def fit(line: str, width: int = WIDTH) -> str:
    """``line`` shortened to ``width`` columns (a log line on stderr; report.md has it all).

    >>> line = fit("unified-linear: claim: " + "log(L − L*) is linear in t " * 9)
    >>> len(line), line[-20:]
    (100, '(L − L*) is linear …')
    """
    return _short(line, width)


def _row(r: ClaimResult, proof: str) -> list[str]:
    mark = "✓" if r.as_expected else "✗"
    cell = f"{mark} {r.verdict}".ljust(_VERDICT)
    colour = "green" if r.as_expected else "red"
    text = ("control: " if r.control and not r.claim.startswith("control") else "") + r.claim
    claim = textwrap.wrap(" ".join(text.split()), width=_TEXT, max_lines=2, placeholder=" …")
    indent = " " * (_VERDICT + _PROOF + 2)
    lines = [f"{click.style(cell, fg=colour, bold=not r.as_expected)} {proof:<{_PROOF}} "
             f"{claim[0]}", *(indent + more for more in claim[1:])]
    if not r.as_expected:
        lines.append(indent + click.style(f"expected {r.expected}", fg="red"))
    if r.summary:
        lines.append(indent + click.style(_short(r.summary), dim=True))
    return lines


def terminal_table(runs: Sequence[ProofRun]) -> str:
    """The summary for a terminal: every line at most :data:`WIDTH` columns (ANSI styles aside).

    >>> from kltools.proving.claims import Proof
    >>> run = ProofRun(Proof("p", "t", "s", (), ()), [ClaimResult("1 + 1 = 2", "proved",
    ...                                                           "proved", summary="exact")])
    >>> print(click.unstyle(terminal_table([run])))
    verdict        proof               claim / key evidence
    ✓ proved       p                   1 + 1 = 2
                                       exact
    1 of 1 verdicts as expected
    """
    lines = [f"{'verdict':<{_VERDICT}} {'proof':<{_PROOF}} claim / key evidence"]
    for run in runs:
        if run.error:
            cell = click.style("✗ crashed".ljust(_VERDICT), fg="red", bold=True)
            lines.append(f"{cell} {run.proof.name:<{_PROOF}} {_short(run.error)}")
        for r in run.results:
            lines += _row(r, run.proof.name)
    results = [r for run in runs for r in run.results]
    good = sum(r.as_expected for r in results)
    ok = good == len(results) and not any(run.error for run in runs)
    tail = f"{good} of {len(results)} verdicts as expected"
    lines.append(click.style(tail, fg="green" if ok else "red", bold=not ok))
    return "\n".join(lines)


class ProgressLines:
    """Progress of a loop inside a claim as lines on stderr: ``label: done/total unit``, at most
    one line per ``every`` seconds per label, always the first and the last.

    ``echo`` receives each line (``click.echo(..., err=True)`` in the CLI); ``clock`` is for
    tests.
    """

    def __init__(self, echo: Callable[[str], None], every: float = 5.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.echo, self.every, self.clock = echo, every, clock
        self._last: dict[str, float] = {}

    def __call__(self, label: str, done: int, total: int, unit: str = "") -> None:
        now = self.clock()
        last = self._last.get(label)
        if done < total and last is not None and now - last < self.every:
            return
        self._last[label] = now
        self.echo(f"{label}: {done}/{total}{' ' + unit if unit else ''}")
