"""The terminal summary of ``kltools prove``: within 100 columns whatever the claim length,
colours only when asked for (a terminal), the expected verdict shown beside a surprise, and
progress lines throttled per label."""

from __future__ import annotations

import re

import click

from kltools.proving import ClaimResult, Proof, ProofRun
from kltools.report.terminal import WIDTH, ProgressLines, terminal_table

LONG = ("no blow-up and the energy bound ‖θ(t) − θ₀‖ ≤ √(s t (L₀ − L(t))) up to t = 10, over "
        "20 initialisations of each bounded-below model; " * 6)


def _runs() -> list[ProofRun]:
    ok = ClaimResult(LONG, "verified", "verified", summary=LONG)
    control = ClaimResult("control (L = −x⁴): no blow-up", "refuted", "refuted",
                          summary="blow-up at t* = 1/(8x₀²)", control=True)
    surprise = ClaimResult("x⁴ has exponent ¾", "proved", "inconclusive", summary="no fit")
    return [ProofRun(Proof("energy-blowup", "t", "s", (), ()), [ok, control]),
            ProofRun(Proof("lojasiewicz-simon", "t", "s", (), ()), [surprise]),
            ProofRun(Proof("rates", "t", "s", (), ()), [], error="ValueError: " + LONG)]


def test_every_line_fits_100_columns() -> None:
    text = click.unstyle(terminal_table(_runs()))
    assert len(LONG) > 3 * WIDTH
    assert max(len(line) for line in text.splitlines()) <= WIDTH == 100
    assert "energy-blowup" in text and "…" in text  # shortened, not dropped


def test_surprises_name_the_expected_verdict_and_the_totals() -> None:
    text = click.unstyle(terminal_table(_runs()))
    lines = text.splitlines()
    i = next(k for k, line in enumerate(lines) if "x⁴ has exponent" in line)
    assert lines[i].startswith("✗ inconclusive") and "expected proved" in lines[i + 1]
    assert any(line.startswith("✗ crashed") and "rates" in line for line in lines)
    assert lines[-1] == "2 of 3 verdicts as expected"
    assert any(line.startswith("✓ refuted") and "control (L = −x⁴)" in line for line in lines)


def test_colour_codes_only_when_the_stream_is_a_terminal() -> None:
    styled = terminal_table(_runs())
    assert "\x1b[32m" in styled and "\x1b[31m" in styled  # green as expected, red surprises
    # click.echo drops the codes on a stream that is not a terminal (a pipe, a file).
    from click.testing import CliRunner

    @click.command()
    def show() -> None:
        click.echo(styled)

    plain = CliRunner().invoke(show).stdout
    coloured = CliRunner().invoke(show, color=True).stdout
    assert "\x1b[" not in plain and "\x1b[32m" in coloured
    assert re.sub(r"\x1b\[[0-9;]*m", "", coloured) == plain


def test_progress_lines_are_throttled_per_label_but_keep_first_and_last() -> None:
    now = [0.0]
    lines: list[str] = []
    progress = ProgressLines(lines.append, every=5.0, clock=lambda: now[0])
    for done in range(1, 401):
        now[0] = done * 0.1  # 40 s for 400 starts: a line at most every 5 s
        progress("unified-linear: codim-2", done, 400, "starts")
    progress("other", 1, 2)
    assert lines[0] == "unified-linear: codim-2: 1/400 starts"
    assert lines[-2] == "unified-linear: codim-2: 400/400 starts"
    assert lines[-1] == "other: 1/2"
    counts = [int(line.split(": ")[-1].split("/")[0]) for line in lines[:-1]]
    assert counts == sorted(counts) and 8 <= len(counts) <= 10
