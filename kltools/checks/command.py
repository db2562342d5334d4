"""The body of ``kltools check``: options from the command line to a verdict and its report.

CLI options are passed to the property only when its options dataclass has them; an option of
another property is a usage error naming the properties that take it. The text report ends with
the examples that were inconclusive, each with the ``kltools integrate`` command that reproduces
its flow.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Callable
from dataclasses import fields
from typing import Any

from kltools.checks.properties import PROPERTIES, get_property
from kltools.checks.runner import check
from kltools.checks.verdict import Verdict
from kltools.errors import SpecError
from kltools.spec.problem import Problem

__all__ = ["properties_help", "run_check_command"]


def properties_help() -> str:
    """The registry's documentation, one paragraph per property (the CLI's epilog)."""
    return "\n\n".join(p.help() for p in PROPERTIES.values())


def _options(prop_name: str, given: dict[str, Any]) -> dict[str, Any]:
    prop = get_property(prop_name)
    takes = {f.name for f in fields(prop.options)}
    out: dict[str, Any] = {}
    for name, value in given.items():
        if value is None or value is False:
            continue
        if name not in takes:
            others = [p.name for p in PROPERTIES.values()
                      if name in {f.name for f in fields(p.options)}]
            flag = "--" + name.replace("_", "-")
            raise SpecError(f"{flag} goes with --property {' or '.join(others)}", flag)
        out[name] = value
    return out


def _reproduce(spec: str, rec: dict[str, Any], dps: int) -> str:
    init = ",".join(rec.get("init") or [])
    horizon = rec.get("horizon") or "10"
    return (f"kltools integrate {shlex.quote(spec)} --init {shlex.quote(init)} --t-end "
            f"{horizon} --dps {dps}")


def report_text(verdict: Verdict, spec: str, dps: int) -> str:
    """The verdict's explanation plus the inconclusive examples and how to reproduce each."""
    lines = [verdict.explain()]
    stuck = [r for r in verdict.records if r.get("verdict") == "inconclusive"]
    if stuck:
        lines.append(f"  inconclusive examples ({len(stuck)}):")
        for r in stuck:
            lines.append(f"    init {r.get('init')}: {r.get('reason')}")
            lines.append(f"      reproduce: {_reproduce(spec, r, dps)}")
    return "\n".join(lines)


def run_check_command(problem: Problem, prop: str, *, examples: int, seed: int,
                      near_kinks: bool, given: dict[str, Any],
                      progress: Callable[[int, Any], None] | None = None) -> Verdict:
    """Run the check with the command line's options ``given`` (None or False: not given)."""
    return check(problem, prop, examples=examples, seed=seed, progress=progress,
                 near_kinks=near_kinks, **_options(prop, given))


def render(verdict: Verdict, spec: str, dps: int, as_json: bool,
           extra: dict[str, Any] | None = None) -> str:
    """What the command prints: the verdict's JSON (with ``extra`` keys) or its text."""
    if as_json:
        return json.dumps({**verdict.to_json(), **(extra or {})}, indent=2)
    return report_text(verdict, spec, dps)
