"""Fuzzing the command line's options: every bad value is one line on stderr and exit code 2.

Hypothesis draws option values a careless or hostile user could type (words, nan and inf,
numbers with huge exponents, signs where none fit, integers out of range, paths into missing
directories or onto existing files) and runs each command line in-process through click's
CliRunner. Every case must end with exit code 2, exactly one line on stderr naming the option,
no traceback and nothing on stdout. Each command line carries a small budget (``--max-steps``,
``--wall-time``), so a value wrongly accepted makes a short run that fails the test, never a
hang. A last group checks the converse: values that are fine are accepted and run.

Cases per run: 120 + 50 + 40 + 25 + 25 = 260 (the spec and expression fuzz of the spec layer adds
its own).
"""

from __future__ import annotations

import string
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kltools.cli import main

ROOT = Path(__file__).resolve().parents[1]
SPEC = str(ROOT / "examples" / "objective_blowup.toml")  # one parameter, derived in milliseconds
BUDGET = ["--max-steps", "20", "--wall-time", "1"]


def fuzz(cases: int) -> settings:
    """``cases`` examples; no deadline (a case's time is bounded by its budget) and no example
    database (the CI profile derandomises the draw)."""
    return settings(max_examples=cases, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture,
                                           HealthCheck.too_slow])


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    yield tmp_path_factory.mktemp("fuzz")


def _refused(args: list[str], option: str) -> None:
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2, (args, result.output)
    lines = result.stderr.splitlines()
    assert len(lines) == 1, (args, result.stderr)
    assert lines[0].startswith("kltools: error: "), lines[0]
    assert option in lines[0], (option, lines[0])
    assert "Traceback" not in result.output and result.stdout == ""


# -- exact numbers --------------------------------------------------------------------------------

#: (command line with {} for the value, option, the value must be > 0, upper bound)
NUMBER_OPTIONS = [
    (["integrate", SPEC, "--t-end", "{}", *BUDGET], "--t-end", True, None),
    (["integrate", SPEC, "--t-end", "1", "--method", "gd", "--eta", "{}", *BUDGET], "--eta",
     True, None),
    (["integrate", SPEC, "--t-end", "1", "--init", "{}", *BUDGET], "--init", False, None),
    (["check", SPEC, "--property", "lojasiewicz", "--exponent", "{}", *BUDGET], "--exponent",
     True, Fraction(1)),
    (["check", SPEC, "--property", "no-blowup", "--t-end", "{}", *BUDGET], "--t-end", True,
     None),
    (["check", SPEC, "--property", "gd-vs-flow", "--eta", "{}", *BUDGET], "--eta", True, None),
    (["sweep", SPEC, "--n", "1", "--integrate", "--workers", "0", "--out", "{out}", "--t-end",
      "{}", *BUDGET], "--t-end", True, None),
    (["sweep", SPEC, "--n", "1", "--property", "lojasiewicz", "--workers", "0", "--out",
      "{out}", "--exponent", "{}", *BUDGET], "--exponent", True, Fraction(1)),
    (["exponent", SPEC, "--at-end", "--t-end", "{}"], "--t-end", True, None),
]

NOT_NUMBERS = st.one_of(
    st.sampled_from(["nan", "NaN", "-nan", "inf", "-inf", "+inf", "Infinity", "abc", "", " ",
                     "1e", "e3", "1..2", "1/0", "0/0", "7/0", "0x1f", "1_000", "--1", "1e-",
                     "½", "1/2/3", "1 2", "3/-4", "2**10", "1e9999999999999999", "--json",
                     "(1)", "1j", "٣/0", "١e١٠٠١"]),
    st.integers(1001, 10**40).map(lambda e: f"1e{e}"),
    st.integers(1001, 10**40).map(lambda e: f"-2.5E-{e}"),
    st.integers(1001, 5000).map(lambda k: "9" * k),  # more than 1000 characters
    st.text(st.characters(blacklist_categories=["Nd", "Cs"], blacklist_characters=",\x00"),
            min_size=1, max_size=12),
)


def _bad_for(positive: bool, high: Fraction | None) -> st.SearchStrategy[str]:
    extra = []
    if positive:
        extra.append(st.fractions(max_value=0).map(str))
        extra.append(st.integers(max_value=0).map(str))
        extra.append(st.decimals(max_value=0, allow_nan=False, allow_infinity=False,
                                 places=6).map(str))
    if high is not None:
        extra.append(st.fractions(min_value=high, max_value=10**6).filter(lambda q: q > high)
                     .map(str))
    return st.one_of(NOT_NUMBERS, *extra)


@fuzz(120)
@given(data=st.data())
def test_a_bad_number_is_refused(workdir: Path, data: st.DataObject) -> None:
    template, option, positive, high = data.draw(st.sampled_from(NUMBER_OPTIONS))
    value = data.draw(_bad_for(positive, high), label=option)
    out = str(workdir / "never-written.jsonl")
    args = [value if a == "{}" else out if a == "{out}" else a for a in template]
    _refused(args, f"'{option}'")
    assert not Path(out).exists()


# -- integers and seconds -------------------------------------------------------------------------

INTEGER_OPTIONS = [
    (["integrate", SPEC, "--t-end", "1", "--wall-time", "1", "--max-steps", "{}"],
     "--max-steps", 1, 10**9),
    (["check", SPEC, "--property", "no-blowup", "--wall-time", "1", "--max-steps", "{}"],
     "--max-steps", 1, 10**9),
    (["check", SPEC, "--property", "no-blowup", *BUDGET, "--examples", "{}"], "--examples", 1,
     100_000),
    (["sweep", SPEC, "--integrate", "--out", "{out}", *BUDGET, "--n", "{}"], "--n", 1,
     10_000_000),
    (["sweep", SPEC, "--n", "1", "--integrate", "--out", "{out}", *BUDGET, "--workers", "{}"],
     "--workers", 0, 4),  # 4 per CPU: at least 4 on any machine
]


@fuzz(50)
@given(data=st.data())
def test_a_bad_integer_is_refused(workdir: Path, data: st.DataObject) -> None:
    template, option, low, high = data.draw(st.sampled_from(INTEGER_OPTIONS))
    if option == "--workers":
        import os

        high = 4 * (os.cpu_count() or 1)
    value = data.draw(st.one_of(
        st.integers(max_value=low - 1).map(str),
        st.integers(min_value=high + 1, max_value=10**30).map(str),
        st.sampled_from(["1.5", "1e3", "abc", "nan", "", "0x10", "½", "--json"]),
    ), label=option)
    out = str(workdir / "never-written.jsonl")
    args = [value if a == "{}" else out if a == "{out}" else a for a in template]
    _refused(args, option)
    assert not Path(out).exists()


SECONDS_OPTIONS = [
    (["integrate", SPEC, "--t-end", "1", "--max-steps", "20", "--wall-time", "{}"],
     "--wall-time", 3.2e8),
    (["check", SPEC, "--property", "no-blowup", "--max-steps", "20", "--wall-time", "{}"],
     "--wall-time", 3.2e8),
    (["sweep", SPEC, "--n", "1", "--integrate", "--out", "{out}", "--max-steps", "20",
      "--wall-time", "{}"], "--wall-time", 3.2e8),
    (["sweep", SPEC, "--n", "1", "--integrate", "--out", "{out}", *BUDGET, "--scheduler",
      "tcp://127.0.0.1:1", "--connect-timeout", "{}"], "--connect-timeout", 3600.0),
]


@fuzz(40)
@given(data=st.data())
def test_bad_seconds_are_refused(workdir: Path, data: st.DataObject) -> None:
    template, option, high = data.draw(st.sampled_from(SECONDS_OPTIONS))
    value = data.draw(st.one_of(
        st.floats(max_value=0.999, allow_nan=False).map(repr),
        st.floats(min_value=high * 1.001, allow_nan=False).map(repr),
        st.sampled_from(["nan", "inf", "-inf", "soon", "", "1s", "1e400", "-0"]),
    ), label=option)
    out = str(workdir / "never-written.jsonl")
    args = [value if a == "{}" else out if a == "{out}" else a for a in template]
    _refused(args, f"'{option}'")
    assert not Path(out).exists()


# -- output files ---------------------------------------------------------------------------------

NAMES = st.text(string.ascii_letters + string.digits + "-_.", min_size=1, max_size=12).filter(
    lambda s: s not in (".", ".."))


@fuzz(25)
@given(option=st.sampled_from(["--save", "--plot"]), name=NAMES,
       where=st.sampled_from(["missing-dir", "existing-file", "under-a-file"]))
def test_an_unusable_output_path_is_refused_untouched(workdir: Path, option: str, name: str,
                                                      where: str) -> None:
    blocker = workdir / "a-file"
    blocker.write_text("mine")
    existing = workdir / f"kept-{name}"
    existing.write_text("mine too")
    path = {"missing-dir": workdir / f"no-such-dir-{name}" / name, "existing-file": existing,
            "under-a-file": blocker / name}[where]
    _refused(["integrate", SPEC, "--t-end", "1", *BUDGET, option, str(path)], option)
    assert blocker.read_text() == "mine" and existing.read_text() == "mine too"
    assert not (workdir / f"no-such-dir-{name}").exists()


# -- the converse: good values run ----------------------------------------------------------------

GOOD_T_END = st.one_of(
    st.fractions(min_value=Fraction(1, 10**6), max_value=10**6).map(str),
    st.integers(1, 10**6).map(str),
    st.builds(lambda m, e: f"{m}e{e}", st.integers(1, 99), st.integers(-6, 1000)),
    st.decimals(min_value="0.000001", max_value="1000000", allow_nan=False,
                allow_infinity=False, places=8).filter(lambda d: d > 0).map(str),
)


@fuzz(25)
@given(t_end=GOOD_T_END)
def test_a_good_horizon_runs_within_its_budget(t_end: str) -> None:
    result = CliRunner().invoke(main, ["integrate", SPEC, "--t-end", t_end, "--max-steps", "3",
                                       "--wall-time", "5"])
    assert result.exit_code == 0, (t_end, result.output)
    assert "budget      5 s wall clock, 3 steps per integration" in result.stdout
    outcome = result.stdout.splitlines()[0]
    assert outcome.split()[1].rstrip(":") in ("ok", "blowup", "max_steps", "time_limit")
