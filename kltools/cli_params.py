"""Command-line values, checked when the command line is read: before any spec is loaded,
anything derived or integrated, or any file written.

Every mistake becomes one line and exit code 2 (:class:`OneLineGroup`); Ctrl-C exits 130 and
SIGTERM 143, as shells expect. The limits below keep a command's memory and time bounded
whatever is typed; each says how to raise it.

=================================  ===========  ==========================================
limit                              default      raise with
=================================  ===========  ==========================================
characters of a number             1000         (fixed)
decimal exponent of a number       ±1000        (fixed)
``check --examples``               100 000      ``KLTOOLS_MAX_EXAMPLES``
``sweep --n``                      10 000 000   ``KLTOOLS_MAX_RUNS``
``sweep --workers``                4 × CPUs     (fixed: more processes than cores only wait)
``--wall-time`` (seconds)          1 .. 3.2e8   (the option; defaults in DEFAULT_WALL_TIME)
``--max-steps``                    1 .. 10⁹     (the option; default 200 000)
``sweep --connect-timeout``        1 .. 3600    (the option; default 10)
=================================  ===========  ==========================================
"""

from __future__ import annotations

import os
import re
import signal
import sys
import threading
from collections.abc import Sequence
from fractions import Fraction
from typing import Any

import click

__all__ = ["DEFAULT_MAX_STEPS", "DEFAULT_WALL_TIME", "MAX_NUMBER_CHARS", "ExactNumber",
           "NumberList", "OneLineGroup", "Seconds", "check_examples", "check_runs",
           "check_workers", "env_limit", "one_line", "parse_exact"]

MAX_NUMBER_CHARS = 1000
MAX_DECIMAL_EXPONENT = 1000
MAX_EXAMPLES = 100_000
MAX_RUNS = 10_000_000
EXIT_USAGE, EXIT_INTERRUPTED, EXIT_TERMINATED = 2, 130, 143
# click >= 8.2 raises it for a bare group; older clicks print the help themselves.
_NO_ARGS_IS_HELP: Any = getattr(click.exceptions, "NoArgsIsHelpError", ())

#: Default budgets (:mod:`kltools.budget`), seconds of wall clock: for the whole ``integrate``
#: (each of its integrations), the whole ``check``, and each run of a ``sweep``.
DEFAULT_WALL_TIME = {"integrate": 600.0, "check": 1800.0, "sweep": 600.0}
#: Default step cap of every integration.
DEFAULT_MAX_STEPS = 200_000

_DECIMAL = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE]([+-]?\d+))?")
_RATIO = re.compile(r"[+-]?\d+/\d+")


def parse_exact(text: str) -> Fraction:
    """The exact value of a decimal (``0.25``, ``1e-3``) or a fraction (``3/4``).

    Refuses (``ValueError`` with the reason) anything else — ``nan``, ``inf``, words, a zero
    denominator — and numbers whose text is longer than 1000 characters or whose decimal
    exponent exceeds ±1000, *before* building the value: ``1e99999999`` would be an integer of
    a hundred million digits.

    >>> parse_exact("1e-3"), parse_exact("-3/4")
    (Fraction(1, 1000), Fraction(-3, 4))
    """
    s = text.strip()
    if len(s) > MAX_NUMBER_CHARS:
        raise ValueError(f"has {len(s)} characters, more than the {MAX_NUMBER_CHARS} allowed")
    m = _DECIMAL.fullmatch(s)
    if m is not None:
        if m.group(1) is not None and abs(int(m.group(1))) > MAX_DECIMAL_EXPONENT:
            raise ValueError(f"has a decimal exponent beyond ±{MAX_DECIMAL_EXPONENT}")
        return Fraction(s)
    if _RATIO.fullmatch(s) is not None:
        num, den = s.split("/")
        if int(den) == 0:
            raise ValueError("has a zero denominator")
        return Fraction(int(num), int(den))
    raise ValueError("is not a finite number: write a decimal such as 0.25 or 1e-3, or a "
                     "fraction such as 3/4")


class ExactNumber(click.ParamType):
    """A finite exact number (:func:`parse_exact`), optionally > 0 and at most ``high``;
    converted to its stripped text, which the library parses exactly."""

    name = "number"

    def __init__(self, *, positive: bool = False, high: Fraction | None = None) -> None:
        self.positive = positive
        self.high = high

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None
                ) -> str:
        text = str(value).strip()
        try:
            q = parse_exact(text)
        except ValueError as exc:
            self.fail(f"{text[:40]!r} {exc}", param, ctx)
        if self.positive and q <= 0:
            self.fail(f"{text!r} must be positive", param, ctx)
        if self.high is not None and q > self.high:
            self.fail(f"{text!r} must be at most {self.high}", param, ctx)
        return text


class NumberList(click.ParamType):
    """Comma-separated exact numbers (:func:`parse_exact` each), as a list of their texts."""

    name = "numbers"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None
                ) -> list[str]:
        if isinstance(value, list):
            return value
        parts = [v.strip() for v in str(value).split(",") if v.strip()]
        if not parts:
            self.fail("give comma-separated numbers, e.g. 0.5,-1/3", param, ctx)
        for k, text in enumerate(parts):
            try:
                parse_exact(text)
            except ValueError as exc:
                self.fail(f"value {k + 1} {text[:40]!r} {exc}", param, ctx)
        return parts


class Seconds(click.ParamType):
    """A finite number of seconds from 1 (an integration always gets one slice of
    :data:`kltools.budget.MIN_SLICE`) to ``high`` (default ten years: a bound, not a wish)."""

    name = "seconds"
    LOW = 1.0

    def __init__(self, high: float = 3.2e8) -> None:
        self.HIGH = high

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None
                ) -> float:
        try:
            x = float(value)
        except (TypeError, ValueError):
            self.fail(f"{str(value)[:40]!r} is not a number of seconds", param, ctx)
        if not self.LOW <= x <= self.HIGH:  # also refuses nan
            self.fail(f"{value!r} must be a number of seconds from {self.LOW:g} to "
                      f"{self.HIGH:g}", param, ctx)
        return x


def env_limit(name: str, default: int) -> int:
    """An integer limit from the environment variable ``name`` (default ``default``)."""
    raw = os.environ.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise click.UsageError(f"{name}={raw[:40]!r} is not an integer") from None
    if value < 1:
        raise click.UsageError(f"{name}={raw!r} must be a positive integer")
    return value


def _at_most(value: int | None, limit: int, param: click.Parameter, how: str) -> int | None:
    if value is not None and value > limit:
        raise click.BadParameter(f"{value} is more than the {limit} kltools accepts; {how}",
                                 param=param)
    return value


def check_examples(ctx: click.Context, param: click.Parameter, value: int | None
                   ) -> int | None:
    """Callback of ``check --examples``: at most ``KLTOOLS_MAX_EXAMPLES`` (100 000)."""
    return _at_most(value, env_limit("KLTOOLS_MAX_EXAMPLES", MAX_EXAMPLES), param,
                    "set KLTOOLS_MAX_EXAMPLES to allow more")


def check_runs(ctx: click.Context, param: click.Parameter, value: int | None) -> int | None:
    """Callback of ``sweep --n``: at most ``KLTOOLS_MAX_RUNS`` (10 000 000)."""
    return _at_most(value, env_limit("KLTOOLS_MAX_RUNS", MAX_RUNS), param,
                    "set KLTOOLS_MAX_RUNS to allow more, or split the sweep")


def check_workers(ctx: click.Context, param: click.Parameter, value: int | None
                  ) -> int | None:
    """Callback of ``sweep --workers``: at most four processes per CPU."""
    return _at_most(value, 4 * (os.cpu_count() or 1), param,
                    "more local processes than 4 per CPU only wait for each other")


def one_line(message: str) -> str:
    """``message`` on one line: its non-blank lines joined by spaces."""
    return " ".join(part.strip() for part in message.splitlines() if part.strip())


class TerminatedError(BaseException):
    """SIGTERM arrived: unwind like Ctrl-C (files closed, workers stopped), then exit 143.
    A BaseException, so that no ``except Exception`` on the way swallows it."""


def _on_sigterm(_signum: int, _frame: object) -> None:
    raise TerminatedError


class OneLineGroup(click.Group):
    """A click group whose usage errors are one line on stderr with exit code 2 (click prints a
    usage block), whose Ctrl-C exits 130 (click exits 1, the code of "refuted"), and whose
    SIGTERM unwinds the command (closing its files, stopping its workers) and exits 143."""

    def main(self, args: Sequence[str] | None = None, prog_name: str | None = None,
             complete_var: str | None = None, standalone_mode: bool = True,
             **extra: Any) -> Any:
        in_main_thread = threading.current_thread() is threading.main_thread()
        previous = signal.signal(signal.SIGTERM, _on_sigterm) if in_main_thread else None
        try:
            return self._main(args, prog_name, complete_var, standalone_mode, **extra)
        finally:
            if in_main_thread:
                signal.signal(signal.SIGTERM, previous)

    def _main(self, args: Sequence[str] | None, prog_name: str | None,
              complete_var: str | None, standalone_mode: bool, **extra: Any) -> Any:
        try:
            rv = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except click.exceptions.Abort:
            click.echo("kltools: interrupted", err=True)
            sys.exit(EXIT_INTERRUPTED)
        except TerminatedError:
            click.echo("kltools: terminated", err=True)
            sys.exit(EXIT_TERMINATED)
        except _NO_ARGS_IS_HELP as exc:  # bare `kltools`: the help is the answer
            click.echo(exc.ctx.get_help() if exc.ctx is not None else exc.format_message(),
                       err=True)
            sys.exit(EXIT_USAGE)
        except click.ClickException as exc:
            hint = ""
            if isinstance(exc, click.UsageError) and exc.ctx is not None:
                # The program is kltools whatever name it was started by (python -m ...).
                words: list[str] = []
                c: click.Context | None = exc.ctx
                while c is not None and c.parent is not None:
                    words.insert(0, c.info_name or "")
                    c = c.parent
                hint = f" (see {' '.join(['kltools', *words])} --help)"
            click.echo(f"kltools: error: {one_line(exc.format_message())}{hint}", err=True)
            sys.exit(EXIT_USAGE if isinstance(exc, click.UsageError) else exc.exit_code)
        if not standalone_mode:
            return rv
        sys.exit(rv if isinstance(rv, int) else 0)
