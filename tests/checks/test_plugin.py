"""The pytest plugin, run through pytester on exactly the README's user example."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[2] / "README.md"


def readme_example() -> str:
    text = README.read_text(encoding="utf-8")
    m = re.search(r"<!-- user-example:[^>]*-->\s*```python\n(.*?)```", text, re.S)
    assert m, "the README must keep its user example block"
    return m.group(1)


def test_readme_user_example_passes_through_the_plugin(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_user=readme_example())
    result = pytester.runpytest_subprocess("--kltools-examples", "2", "-m", "kltools", "-p",
                                "no:cacheprovider")
    result.assert_outcomes(passed=1)


def test_plugin_options_and_fixtures(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_opts="""
        def test_values(kltools_dps, kltools_examples, kltools_integrate):
            assert (kltools_dps, kltools_examples) == (45, 3)
            from kltools.spec import load_problem
            p = load_problem('[objective]\\nexpr = "x**2"\\nvars = ["x"]\\n')
            traj = kltools_integrate(p, ["1"], 1)
            assert traj.dps == 45
    """)
    result = pytester.runpytest_subprocess("--kltools-dps", "45", "--kltools-examples", "3")
    result.assert_outcomes(passed=1)


def test_a_failing_helper_shows_the_counterexample(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_bad="""
        from kltools.spec import load_problem
        from kltools.testing import assert_no_blowup

        def test_unbounded(kltools_examples):
            p = load_problem('[objective]\\nexpr = "-x**4"\\nvars = ["x"]\\n'
                             '[init]\\ntheta = ["1/2"]\\n')
            assert_no_blowup(p, examples=kltools_examples, t_end=1)
    """)
    result = pytester.runpytest_subprocess("--kltools-examples", "1")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*no-blowup: refuted*", "*--init 1/2*",
                                 "*blow-up at t* = 0.5*", "*init = 1/2"])


def test_bad_plugin_option_is_a_usage_error(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_x="def test_x(kltools_dps):\n    pass\n")
    result = pytester.runpytest_subprocess("--kltools-dps", "3")
    assert result.ret != 0
    result.stdout.fnmatch_lines(["*--kltools-dps 3*"])
