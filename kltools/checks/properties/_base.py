"""The property record, its options and its typed evidence, and the registry that holds them.

A property is one :class:`Property` value in :data:`REGISTRY`: its name, its claim, its
hypotheses, the rule that decides holds / refuted / inconclusive, an options dataclass whose
documented fields hold the thresholds and defaults, ``applies(problem)`` and ``run`` (the check
from one initialisation). The CLI help, ``kltools sweep`` validation and the
``kltools.testing`` helpers are generated from this registry, so a new property is one module
that calls :func:`register`.

The rule every property follows for **refuted**: the witness cannot be a transient. It is an
exact or certified fact (a certified degenerate limit with its exponent, a closed-form identity
checked to its digits, a blow-up, points along which a ratio provably grows), or numerical
evidence whose asymptotic regime is established (the tail law fitted on several decades and
agreeing with the exponent at a certified limit). Anything weaker is **inconclusive**, with the
reason.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, fields
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from kltools.errors import SpecError
from kltools.status import Status

if TYPE_CHECKING:
    from kltools.checks.verdict import Verdict
    from kltools.spec.problem import Problem

__all__ = [
    "REGISTRY",
    "STATIONARY",
    "Evidence",
    "Horizon",
    "Options",
    "Property",
    "by_digits",
    "doc",
    "get_property",
    "num",
    "register",
    "shown",
]


AUTO = "auto"
"""The horizon value meaning "chosen by the check"."""


def doc(text: str, default: Any = None, **kw: Any) -> Any:
    """A dataclass field with a documentation string (shown in the CLI help)."""
    return field(default=default, metadata={"doc": text, **kw})


def shown(label: str, fmt: Callable[[Any], Any] | None = None, default: Any = None,
          hidden: bool = False) -> Any:
    """An evidence field: its JSON label and format (``fmt``), or ``hidden`` from the JSON."""
    return field(default=default, metadata={"label": label, "fmt": fmt, "hidden": hidden})


@dataclass(frozen=True)
class Options:
    """Options every property takes.

    ``t_end`` is the horizon: ``None`` (the property's default) or ``"auto"`` lets the property
    choose it (asymptotic claims integrate until the verdict is decided or the budget is spent).
    """

    t_end: str | None = doc("horizon; default: chosen by the property")
    dps: int = doc("requested decimal digits of the flow", 30)

    def to_json(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


class Evidence(Mapping[str, Any]):
    """Typed evidence: a frozen dataclass whose fields carry ``metadata["label"]``.

    :meth:`to_json` gives the display form (label → JSON value; numbers formatted there, at the
    JSON edge). It is also a read-only mapping over that form, so a report can show it, while
    code reads the typed attributes (never the display text).
    """

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in fields(self):  # type: ignore[arg-type]
            v = getattr(self, f.name)
            if v is None or f.metadata.get("hidden"):
                continue
            fmt = f.metadata.get("fmt")
            out[f.metadata.get("label", f.name)] = fmt(v) if fmt is not None else _plain(v)
        return out

    def __getitem__(self, key: str) -> Any:
        return self.to_json()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.to_json())

    def __len__(self) -> int:
        return len(self.to_json())


def _plain(v: Any) -> Any:
    if isinstance(v, bool | int | str) or v is None:
        return v
    if isinstance(v, float):
        return float(f"{v:.6g}")
    if isinstance(v, list | tuple):
        return [_plain(x) for x in v]
    if isinstance(v, dict):
        return {k: _plain(x) for k, x in v.items()}
    if dataclasses.is_dataclass(v) and hasattr(v, "to_json"):
        return v.to_json()
    from kltools.numbers import format_number

    return format_number(v, 8)


def _applies_always(_problem: Problem) -> str | None:
    return None


@dataclass(frozen=True)
class Property:
    """One property of gradient flows (module docstring).

    Attributes
    ----------
    name, claim
        The name (``kltools check --property NAME``) and the statement checked.
    hypotheses
        When the claim is expected to hold; ``applies`` checks the part that can be read off the
        spec.
    rule
        What makes the verdict holds, refuted or inconclusive (the refutation rule of the module
        docstring made specific).
    options
        The options dataclass (a subclass of :class:`Options`).
    body
        ``body(checker, theta0, options) -> Verdict``: the check from one initialisation.
    applies
        ``applies(problem)``: ``None`` when the property applies, else the reason it does not.
    default_t_end
        The fixed horizon, or ``"auto"`` when the property chooses it along the run.
    """

    name: str
    claim: str
    hypotheses: str
    rule: str
    options: type[Options]
    body: Callable[..., Verdict]
    applies: Callable[[Problem], str | None] = _applies_always
    default_t_end: str = AUTO

    def parse(self, **options: Any) -> Options:
        """The options object; unknown names raise :class:`SpecError` naming the known ones."""
        known = {f.name for f in fields(self.options)}
        bad = sorted(set(options) - known)
        if bad:
            raise SpecError(f"property {self.name!r} takes no option {bad[0]!r}; its options: "
                            f"{', '.join(sorted(known))}", f"--{bad[0].replace('_', '-')}")
        return self.options(**{k: v for k, v in options.items() if v is not None})

    def run(self, checker: Any, theta0: Sequence[object] | None = None, **options: Any
            ) -> Verdict:
        """Check from ``theta0`` (None: the spec's init) with ``checker``'s compiled programs."""
        opts = self.parse(**options)
        if not getattr(opts, "force", False):
            why = checker.why_not(self)
            if why is not None:
                from kltools.errors import NotApplicableError

                raise NotApplicableError(why)
        return self.body(checker, theta0, opts)

    def check(self, problem: Problem, theta0: Sequence[object] | None = None, **options: Any
              ) -> Verdict:
        """Check ``problem`` from one initialisation (a fresh derivation)."""
        from kltools.checks.properties._context import Checker

        return self.run(Checker(problem), theta0, **options)

    def option_docs(self) -> list[tuple[str, Any, str]]:
        """(name, default, documentation) of every option."""
        return [(f.name, f.default, f.metadata.get("doc", "")) for f in fields(self.options)]

    def help(self) -> str:
        """The documentation shown by ``kltools check --help``."""
        opts = "; ".join(f"{n} = {d}" for n, d, _ in self.option_docs() if n != "dps")
        horizon = ("auto (grown until the verdict is decided or the budget is spent)"
                   if self.default_t_end == AUTO else self.default_t_end)
        return (f"{self.name}: {self.claim}. Hypotheses: {self.hypotheses}. Decided: {self.rule} "
                f"Horizon: {horizon}. Defaults: {opts}.")


REGISTRY: dict[str, Property] = {}


def register(prop: Property) -> Property:
    """Add ``prop`` to the registry (its name must be new) and return it."""
    if prop.name in REGISTRY and REGISTRY[prop.name] is not prop:
        raise ValueError(f"property {prop.name!r} is registered already")
    REGISTRY[prop.name] = prop
    return prop


def get_property(name: str) -> Property:
    """The registered property ``name``; :class:`SpecError` listing the known ones otherwise."""
    try:
        return REGISTRY[name]
    except KeyError:
        raise SpecError(f"unknown property {name!r}; known: {', '.join(REGISTRY)}",
                        "--property") from None


STATIONARY = ("the start is a critical point (∇L = 0 exactly): the flow is stationary and the "
              "claim holds trivially")


@dataclass(frozen=True)
class Horizon:
    """How far to integrate when the check chooses the horizon.

    Integration starts at ``start`` and the horizon is multiplied by ``growth`` until the tail
    criterion holds, the time reaches ``t_max``, or ``seconds`` / ``max_steps`` are spent (the
    last, partial run is kept: its tail is as valid as a shorter run's).
    """

    start: Fraction
    growth: int
    t_max: Fraction
    seconds: float
    max_steps: int


def by_digits(err: Any, digits: float) -> Status:
    """Holds when a discrepancy is below 10^−(digits − 5) (agreement to the flow's digits, 5
    spared), refuted above 10^−(digits/2) (a closed-form identity off by more than half the
    digits cannot be rounding), inconclusive between."""
    e = _to_float(err)
    if e <= 10 ** (-(digits - 5)):
        return Status.HOLDS
    if e >= 10 ** (-(digits / 2)):
        return Status.REFUTED
    return Status.INCONCLUSIVE


def num(digits: int) -> Callable[[Any], str]:
    """A field format: ``digits`` significant digits (for evidence ``fmt``)."""
    return lambda v: _fmt(v, digits)


def _to_float(v: Any) -> float:
    from kltools.numbers import to_float

    return to_float(v)


def _fmt(v: Any, digits: int) -> str:
    from kltools.numbers import format_number

    return format_number(v, digits)
