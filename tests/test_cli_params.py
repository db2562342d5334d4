"""Command-line values and the command group: exact numbers parsed without building huge values,
one-line usage errors, Ctrl-C 130, SIGTERM 143."""

from __future__ import annotations

import os
import signal
from fractions import Fraction

import click
import pytest
from click.testing import CliRunner

from kltools.cli_params import ExactNumber, OneLineGroup, Seconds, parse_exact


@pytest.mark.parametrize(("text", "value"), [
    ("0.1", Fraction(1, 10)), ("-3/4", Fraction(-3, 4)), ("1e-3", Fraction(1, 1000)),
    (" 2.5E+2 ", Fraction(250)), (".5", Fraction(1, 2)), ("7.", Fraction(7)),
    ("1e1000", Fraction(10) ** 1000), ("+6/4", Fraction(3, 2)),
])
def test_exact_values(text: str, value: Fraction) -> None:
    assert parse_exact(text) == value


@pytest.mark.parametrize(("text", "reason"), [
    ("nan", "not a finite number"), ("inf", "not a finite number"), ("abc", "not a finite"),
    ("", "not a finite"), ("1e1001", "exponent beyond"), ("1e-99999999", "exponent beyond"),
    ("1" * 1001, "1001 characters"), ("1/0", "zero denominator"), ("0x10", "not a finite"),
    ("1_000", "not a finite"), ("2**3", "not a finite"),
])
def test_refusals_say_why(text: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        parse_exact(text)


def _group() -> click.Group:
    @click.group(cls=OneLineGroup)
    def cli() -> None:
        """A toy command group."""

    @cli.command()
    @click.option("--x", type=ExactNumber(positive=True, high=Fraction(1)))
    @click.option("--s", type=Seconds(high=10))
    def take(x: str | None, s: float | None) -> None:
        click.echo(f"x={x} s={s}")

    @cli.command()
    def ctrl_c() -> None:
        raise KeyboardInterrupt

    @cli.command()
    def sigterm() -> None:
        os.kill(os.getpid(), signal.SIGTERM)
        raise AssertionError("SIGTERM did not stop the command")

    return cli


def test_values_within_range_pass_as_their_text() -> None:
    r = CliRunner().invoke(_group(), ["take", "--x", " 3/4 ", "--s", "2.5"])
    assert r.exit_code == 0 and r.stdout == "x=3/4 s=2.5\n"


@pytest.mark.parametrize(("args", "message"), [
    (["take", "--x", "0"], "Invalid value for '--x': '0' must be positive "
                           "(see kltools take --help)"),
    (["take", "--x", "5/4"], "Invalid value for '--x': '5/4' must be at most 1 "
                             "(see kltools take --help)"),
    (["take", "--s", "0.5"], "Invalid value for '--s': '0.5' must be a number of seconds "
                             "from 1 to 10 (see kltools take --help)"),
    (["take", "--s", "nan"], "Invalid value for '--s': 'nan' must be a number of seconds "
                             "from 1 to 10 (see kltools take --help)"),
])
def test_usage_errors_are_one_line_with_exit_2(args: list[str], message: str) -> None:
    r = CliRunner().invoke(_group(), args)
    assert r.exit_code == 2
    assert r.stderr == f"kltools: error: {message}\n" and r.stdout == ""


@pytest.mark.parametrize(("args", "needle", "hint"), [
    (["take", "--yy", "1"], "--yy", "(see kltools take --help)"),
    (["nope"], "nope", "(see kltools --help)"),
])
def test_click_own_errors_are_one_line_too(args: list[str], needle: str, hint: str) -> None:
    r = CliRunner().invoke(_group(), args)  # click words these; only their shape is ours
    assert r.exit_code == 2 and len(r.stderr.splitlines()) == 1
    assert r.stderr.startswith("kltools: error: ") and needle in r.stderr
    assert r.stderr.rstrip().endswith(hint)


def test_ctrl_c_exits_130_not_1() -> None:
    r = CliRunner().invoke(_group(), ["ctrl-c"])
    assert r.exit_code == 130 and r.stderr.endswith("kltools: interrupted\n")


def test_sigterm_unwinds_and_exits_143_and_the_handler_is_restored() -> None:
    before = signal.getsignal(signal.SIGTERM)
    r = CliRunner().invoke(_group(), ["sigterm"])
    assert r.exit_code == 143 and r.stderr == "kltools: terminated\n"
    assert signal.getsignal(signal.SIGTERM) is before
