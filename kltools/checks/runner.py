"""Running a property over many initialisations with Hypothesis, shrinking counter-examples.

:func:`check` draws initial points with :func:`kltools.checks.strategies.initialisations`,
checks the property at each, and when one is refuted lets Hypothesis shrink it to a small
counter-example (coordinates closer to 0, fewer digits). Shrinking is bounded (``shrink_budget``
extra runs): past it only initialisations already seen to fail count as failing, so the replay of
the minimal example stays consistent. The overall verdict is *refuted* if any example is,
*holds* if every example holds, *inconclusive* otherwise. Every example checked is listed in
the verdict's ``records`` (its own verdict, reason, init, horizon reached and evidence).
"""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction
from typing import Any

from hypothesis import HealthCheck, Phase, given, reject, settings
from hypothesis import seed as hypothesis_seed

from kltools.checks.properties import get_property
from kltools.checks.properties._context import Checker
from kltools.checks.strategies import initialisations
from kltools.checks.verdict import Status, TalliedEvidence, Verdict
from kltools.errors import DerivationError, IntegrationError, SpecError
from kltools.spec.problem import Problem

__all__ = ["check"]


class _RefutedError(Exception):
    def __init__(self, verdict: Verdict) -> None:
        super().__init__(verdict.explain())
        self.verdict = verdict


def check(problem: Problem, name: str, *, examples: int = 20, seed: int = 0,
          shrink_budget: int = 30, near_kinks: bool = False,
          progress: Callable[[int, Verdict], None] | None = None, **options: Any) -> Verdict:
    """Check property ``name`` over ``examples`` random initialisations of ``problem``.

    ``options`` go to the property (``t_end``, ``dps``, ``exponent``, ...). The first example is
    the spec's own initial point, so a spec with an explicit init is always checked there.
    Raises :class:`~kltools.errors.NotApplicableError` (before running anything) when the spec does
    not meet the property's hypotheses.
    """
    prop = get_property(name)
    if isinstance(examples, bool) or not isinstance(examples, int) or examples < 1:
        raise SpecError(f"examples must be a positive integer, got {examples!r}", "--examples")
    prop.parse(**options)  # bad option names fail before any derivation
    checker = Checker(problem)
    tally = {s: 0 for s in _COUNTED}
    records: list[dict[str, Any]] = []
    seen: dict[tuple[Fraction, ...], Verdict] = {}
    calls: dict[str, Any] = {"n": 0, "after_first_failure": 0}
    first = prop.run(checker, None, **options)  # the spec's init; raises NotApplicableError early
    tally[first.status] += 1
    records.append(first.record())
    if progress is not None:
        progress(1, first)
    if first.status is Status.REFUTED or examples == 1:
        first.records, first.tally = records, _summary(tally)
        first.evidence = TalliedEvidence(first.evidence, {"examples": first.tally})
        return first

    @settings(max_examples=examples - 1, database=None, deadline=None,
              phases=[Phase.generate, Phase.shrink], derandomize=False,
              suppress_health_check=list(HealthCheck), print_blob=False)
    @hypothesis_seed(seed)
    @given(initialisations(problem, near_kinks=near_kinks))
    def trial(theta: list[Fraction]) -> None:
        key = tuple(theta)
        if calls.get("bug") is not None:
            return
        if key in seen:
            v = seen[key]
        elif calls["after_first_failure"] > shrink_budget:
            return  # shrinking budget spent: only known failures still fail
        else:
            calls["n"] += 1
            v = _run_one(prop, checker, theta, options, calls)
            if v is None:
                return
            seen[key] = v
            if any(s.status is Status.REFUTED for s in seen.values()):
                calls["after_first_failure"] += 1
            else:
                tally[v.status] += 1
                records.append(v.record())
                if progress is not None:
                    progress(calls["n"] + 1, v)
        if v.status is Status.REFUTED:
            raise _RefutedError(v)

    try:
        trial()
        if calls.get("bug") is not None:
            raise calls["bug"]
    except _RefutedError as exc:
        return _refuted(exc.verdict, tally, records, calls["after_first_failure"])
    return _overall(prop, first, tally, records)


def _run_one(prop: Any, checker: Checker, theta: list[Fraction], options: dict[str, Any],
             calls: dict[str, Any]) -> Verdict | None:
    """The property at one generated start; None when kltools itself failed (kept in
    ``calls["bug"]``: a bug is not a counter-example, and Hypothesis would spend minutes
    shrinking it)."""
    try:
        return prop.run(checker, [str(q) for q in theta], **options)
    except DerivationError:
        # Exactly on a kink (a null set; Hypothesis likes zeros): not a sample of the claim's
        # "almost every initialisation".
        reject()
    except IntegrationError as exc:
        return Verdict(prop.name, prop.claim, Status.INCONCLUSIVE, {}, reason=str(exc),
                       init=[str(q) for q in theta])
    except Exception as exc:
        calls["bug"] = calls.get("bug") or exc
        return None


def _refuted(v: Verdict, tally: dict[Status, int], records: list[dict[str, Any]],
             shrink_runs: int) -> Verdict:
    """The refuting example, with the tally of all examples tried."""
    tally[Status.REFUTED] += 1
    v.examples = sum(tally.values())
    v.records = [*records, v.record()]
    v.tally, v.shrink_runs = _summary(tally), shrink_runs
    v.evidence = TalliedEvidence(v.evidence, {"examples": v.tally, "shrink runs": shrink_runs})
    return v


def _overall(prop: Any, first: Verdict, tally: dict[Status, int],
             records: list[dict[str, Any]]) -> Verdict:
    """Holds when every example held, else inconclusive (no refutation was found)."""
    total = sum(tally.values())
    status = Status.HOLDS if tally[Status.HOLDS] == total else Status.INCONCLUSIVE
    reason = "" if status is Status.HOLDS else (
        f"{total - tally[Status.HOLDS]} of {total} examples inconclusive (see records)")
    summary = {"examples": _summary(tally),
               **{f"first example: {k}": v for k, v in first.evidence_json().items()}}
    out = Verdict(prop.name, prop.claim, status, summary, None, total, reason=reason,
                  records=records)
    out.tally = _summary(tally)
    return out


_COUNTED = (Status.HOLDS, Status.REFUTED, Status.INCONCLUSIVE)


def _summary(tally: dict[Status, int]) -> dict[str, int]:
    return {s.value: n for s, n in tally.items()}
