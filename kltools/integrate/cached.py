"""Flow systems from the compiled-program cache: integrate a spec without importing SymPy.

:func:`flow_system` returns a :class:`CachedFlowSystem` for a spec document. On a cache miss it
derives the problem (SymPy), compiles the flow program and the kink-surface program and stores
them (:mod:`kltools.compiled.cache`); on a hit it reads them back and nothing symbolic is
imported. Everything :func:`kltools.integrate.flow.integrate` needs on the smooth path is in the
cache entry:

* the flow program ``[F_1..F_P, L, s_1..s_m, monitor]`` (the one :class:`FlowSystem` builds);
* the kink-surface program and its levels (surface k uses only switches of earlier levels), so
  the pattern χ at an exact start and the surfaces a start lies on are decided in exact rational
  arithmetic (``Fraction``): the sign of each surface value is exact, as with the symbolic
  evaluation it replaces. Surfaces with transcendental operations fall back to the derivation;
* Filippov sliding programs, one entry per surface, added the first time a run slides on it.

Anything else (the evaluators of gradient descent, checks that read the symbolic derivation) is
delegated to a :class:`FlowSystem` built on first use, so a cached system can stand wherever a
``FlowSystem`` is accepted.

Resource limits (:mod:`kltools.spec.limits`) are part of the key when they differ from their
defaults: an entry is stored only after the spec derived under the limits of its key, so a hit
never lets through a spec that the limits in force would refuse.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Mapping, Sequence
from fractions import Fraction
from functools import cached_property
from pathlib import Path
from typing import Any

from kltools.compiled.cache import ProgramCache, program_from_json, program_to_json, spec_digest
from kltools.compiled.layout import FlowLayout
from kltools.compiled.program import Program
from kltools.errors import SpecError
from kltools.integrate.flow import FlowSystem
from kltools.symbolic.kinks import KinkConvention, switch_values

__all__ = ["CachedFlowSystem", "ProblemSummary", "flow_system", "load_flow_system",
           "read_spec"]

#: Operations a surface program may use for exact rational evaluation.
_RATIONAL_OPS = frozenset({"add", "sub", "mul", "div", "neg", "cmul", "cadd", "sqr", "powi"})

#: Spec files up to this size are read here; larger ones go through the full loader, which
#: applies the ``spec_bytes`` limit (its default is far above this).
FAST_READ_BYTES = 1 << 20


class ProblemSummary:
    """The parts of a :class:`~kltools.spec.problem.Problem` a flow run reads, as plain data;
    other attributes come from the full problem, loaded (with SymPy) on first use."""

    def __init__(self, data: Mapping[str, Any], name: str, owner: CachedFlowSystem) -> None:
        self.parameters: tuple[str, ...] = tuple(data["parameters"])
        self.name = name
        self.source: dict[str, Any] = dict(data["source"])
        self._init = tuple(Fraction(v) for v in data["init"])
        self._description = str(data["description"])
        self._owner = owner

    @property
    def n_parameters(self) -> int:
        return len(self.parameters)

    @property
    def flow_scale(self) -> Fraction:
        return self._owner.flow_scale_fraction

    def initial_point(self) -> tuple[Fraction, ...]:
        """θ(0), exact (the spec's init, as the problem computes it)."""
        return self._init

    def describe(self) -> str:
        return self._description

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self._owner.system.d.problem, name)


class _Label:
    __slots__ = ("label",)

    def __init__(self, label: str) -> None:
        self.label = label


class _LightDerivation:
    """``problem``, ``flow_scale`` and the switch labels; the rest from the full derivation."""

    def __init__(self, owner: CachedFlowSystem, data: Mapping[str, Any]) -> None:
        self._owner = owner
        self.problem = ProblemSummary(data, owner.name, owner)
        self.flow_scale = Fraction(data["flow_scale"])
        self.switches = tuple(_Label(lb) for lb in data["labels"])

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self._owner.system.d, name)


class CachedFlowSystem(FlowSystem):
    """A :class:`FlowSystem` whose programs come from the cache (module docstring)."""

    def __init__(self, data: Mapping[str, Any], doc: Mapping[str, Any], name: str,
                 cache: ProgramCache | None, key: str, system: FlowSystem | None = None) -> None:
        # The problem's name as the loader sets it: the spec's own `name`, else the file stem.
        self.name = doc["name"] if isinstance(doc.get("name"), str) else name
        self.doc = dict(doc)
        self.cache = cache
        self.key = key
        self.n = int(data["n"])
        self.m = int(data["m"])
        self.layout = FlowLayout(self.n, self.m)
        self.flow_scale_fraction = Fraction(data["flow_scale"])
        self.levels: list[list[int]] = [list(g) for g in data["levels"]]
        self.__dict__["program"] = program_from_json(data["program"])
        self.surfaces = program_from_json(data["surfaces"])
        self.exact_surfaces = all(op in _RATIONAL_OPS for op, *_ in self.surfaces.instrs)
        self.d = _LightDerivation(self, data)  # type: ignore[assignment]
        if system is not None:
            self.__dict__["system"] = system

    @cached_property
    def system(self) -> FlowSystem:
        """The symbolic flow system (derives the problem: imports SymPy)."""
        from kltools.spec import problem_from_dict
        from kltools.symbolic.derivation import derive

        return FlowSystem(derive(problem_from_dict(self.doc, self.name)))

    @cached_property
    def ev(self) -> Any:
        return self.system.ev

    # -- exact surface values ------------------------------------------------------------------
    def _surface_values(self, theta: Sequence[object], chi: Sequence[int]) -> list[Fraction]:
        from kltools.numbers import to_fraction

        x = [to_fraction(v) for v in theta]
        return self.surfaces.evaluate(x, [Fraction(c) for c in chi], convert=lambda q: q)

    def pattern(self, theta: Sequence[object], convention: KinkConvention, dps: int
                ) -> tuple[int, ...]:
        if not self.m:
            return ()
        if not self.exact_surfaces:
            return self.system.pattern(theta, convention, dps)
        chi = [0] * self.m
        labels = [s.label for s in self.d.switches]
        for group in self.levels:
            try:
                values = self._surface_values(theta, chi)
            except ZeroDivisionError:  # a surface not defined there: the symbolic path says so
                return self.system.pattern(theta, convention, dps)
            for i in group:
                chi[i] = switch_values([values[i]], convention, [labels[i]])[0]
        return tuple(chi)

    def zero_surfaces(self, theta0: Sequence[object], chi: Sequence[int]) -> list[int]:
        if not self.m:
            return []
        if not self.exact_surfaces:
            return self.system.zero_surfaces(theta0, chi)
        try:
            values = self._surface_values(theta0, chi)
        except ZeroDivisionError:
            return self.system.zero_surfaces(theta0, chi)
        return [self.layout.surfaces[k] for k, v in enumerate(values) if v == 0]

    # -- sliding programs, cached per surface --------------------------------------------------
    def _sliding(self, k: int) -> Program:
        memo = self._sliding_cache
        if k in memo:
            return memo[k]
        entry = f"sliding-{k}"
        data = self.cache.load(self.key, entry) if self.cache is not None else None
        try:
            prog = program_from_json(data) if data is not None else None
        except (KeyError, TypeError, ValueError):
            prog = None
        if prog is None:
            prog = self.system.sliding_program(k)
            if self.cache is not None:
                self.cache.store(self.key, entry, program_to_json(prog))
        memo[k] = prog
        return prog


def read_spec(path: str | Path) -> tuple[dict[str, Any], str] | None:
    """The spec document (parsed TOML) and name (file stem) of ``path``; ``None`` when the file
    cannot be read or parsed (the full loader then reports the error with its field path)."""
    import tomllib

    p = Path(path)
    try:
        if p.stat().st_size > FAST_READ_BYTES:
            return None
        return tomllib.loads(p.read_text(encoding="utf-8")), p.stem
    except (OSError, UnicodeDecodeError, ValueError):  # ValueError: TOMLDecodeError, int size
        return None


def limits_in_force() -> str:
    """The resource limits that differ from their defaults, as canonical JSON ('' for none).

    Without ``KLTOOLS_MAX_*`` variables and with :mod:`kltools.spec.limits` not imported (so no
    override is active) every limit has its default, and nothing is imported (the limits live in
    the spec package, which imports SymPy)."""
    mod = sys.modules.get("kltools.spec.limits")
    if mod is None:
        if not any(k.startswith("KLTOOLS_MAX_") for k in os.environ):
            return ""
        from kltools.spec import limits as mod
    changed = {name: mod.get(name) for name, lim in mod.LIMITS.items()
               if mod.get(name) != lim.default}
    return json.dumps(changed, sort_keys=True) if changed else ""


def _entry(system: FlowSystem) -> dict[str, Any]:
    """The cache document of a symbolic flow system."""
    from kltools.numbers import to_fraction

    d = system.d
    problem = d.problem
    return {
        "n": system.n, "m": system.m,
        "parameters": list(problem.parameters),
        "source": problem.source,
        "init": [str(to_fraction(v)) for v in problem.initial_point()],
        "description": problem.describe(),
        "flow_scale": str(to_fraction(d.flow_scale)),
        "labels": [s.label for s in d.switches],
        "levels": d._surface_levels if system.m else [],
        "program": program_to_json(system.program),
        "surfaces": program_to_json(system.ev.surface_program),
    }


def flow_system(doc: Mapping[str, Any], name: str = "", *, use_cache: bool = True,
                cache: ProgramCache | None = None) -> CachedFlowSystem:
    """The flow system of a spec document, from the cache when present (no SymPy), else
    derived, compiled and stored.

    ``use_cache=False`` neither reads nor writes the cache (the derivation runs every time).
    Raises :class:`~kltools.errors.SpecError` (from the loader) for an invalid spec.
    """
    store = (cache or ProgramCache()) if use_cache else None
    key = ""
    if store is not None:
        try:
            limits = limits_in_force()
            key = store.key(spec_digest(doc) + (f"|limits={limits}" if limits else ""))
        except (TypeError, ValueError):  # not a JSON document (e.g. TOML dates): no caching
            store = None
    if store is not None:
        data = store.load(key, "flow")
        if data is not None:
            try:
                return CachedFlowSystem(data, doc, name, store, key)
            except (KeyError, TypeError, ValueError):
                pass  # a well-formed file of the wrong shape: rebuild it
    from kltools.spec import problem_from_dict
    from kltools.symbolic.derivation import derive

    if not isinstance(doc, Mapping):
        raise SpecError("a spec is a TOML table")
    system = FlowSystem(derive(problem_from_dict(dict(doc), name)))
    data = _entry(system)
    if store is not None:
        store.store(key, "flow", data)
    return CachedFlowSystem(data, doc, name, store, key, system)


def load_flow_system(path: str | Path, *, use_cache: bool = True) -> CachedFlowSystem:
    """:func:`flow_system` of the spec file ``path``.

    A small file is read here (no SymPy). A file that cannot be read or parsed, a large one, or
    any run with changed limits goes through the full loader, which reports a bad spec (one
    :class:`~kltools.errors.SpecError` naming the problem) and applies every limit."""
    spec = read_spec(path) if not limits_in_force() else None
    if spec is None:
        from kltools.spec import load_problem

        problem = load_problem(Path(path))
        return flow_system(problem.source, problem.name, use_cache=use_cache)
    return flow_system(*spec, use_cache=use_cache)
