"""Finding and running the proof scripts (``proofs/`` at the repository root).

The scripts live in the top-level ``proofs/`` directory of the source tree (one per
theorem). A wheel ships that directory as the package ``kltools._proofs``
(``[tool.hatch.build.targets.wheel.force-include]``); in a source checkout (editable install, or
``python -m`` from the repository) the directory next to the ``kltools`` package is loaded under
the same module name. Either way the proofs are found from the installed package itself, never
from the current directory.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from types import ModuleType

from kltools.errors import SpecError
from kltools.report.claims import Config, ProofRun

__all__ = ["PACKAGE", "available", "load_proof", "proofs_package", "run_proofs"]

PACKAGE = "kltools._proofs"


def _source_dir() -> Path:
    import kltools

    return Path(kltools.__file__).resolve().parent.parent / "proofs"


def proofs_package() -> ModuleType:
    """The package of proof scripts: installed ``kltools._proofs``, else ``<checkout>/proofs``."""
    if PACKAGE in sys.modules:
        return sys.modules[PACKAGE]
    try:
        return importlib.import_module(PACKAGE)
    except ModuleNotFoundError as exc:
        if exc.name != PACKAGE:
            raise
    root = _source_dir()
    init = root / "__init__.py"
    if not init.is_file():
        raise SpecError(f"the proof scripts were not found (looked for the installed package "
                        f"{PACKAGE} and for {root}); reinstall kltools from a source tree "
                        "that has proofs/")
    spec = importlib.util.spec_from_file_location(PACKAGE, init,
                                                  submodule_search_locations=[str(root)])
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[PACKAGE] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[PACKAGE]
        raise
    return module


def _module_name(name: str) -> str:
    return name.strip().replace("-", "_")


def available() -> list[str]:
    """Proof names (``energy-blowup``, ...) in report order."""
    return [m.replace("_", "-") for m in proofs_package().ORDER]


def load_proof(name: str) -> ModuleType:
    """The proof module ``name`` (``energy-blowup`` or ``energy_blowup``)."""
    pkg = proofs_package()
    mod = _module_name(name)
    if mod not in pkg.ORDER:
        raise SpecError(f"unknown proof {name!r}; known: {', '.join(available())}", "NAME")
    return importlib.import_module(f"{PACKAGE}.{mod}")


def run_proofs(names: Sequence[str], config: Config,
               on_done: Callable[[ProofRun], None] | None = None) -> list[ProofRun]:
    """Run the named proofs in order; a proof that crashes outside its claims is recorded with
    its error (and counts as not as expected) instead of stopping the others."""
    import os

    modules = [load_proof(n) for n in names]
    runs = []
    for module in modules:
        proof = module.PROOF
        config.say(f"{proof.name}: {proof.title}")
        start = time.perf_counter()
        try:
            results = module.run(config)
            error = None
        except Exception as exc:
            if os.environ.get("KLTOOLS_DEBUG"):
                raise
            results, error = [], f"{type(exc).__name__}: {exc}"
        run = ProofRun(proof, results, time.perf_counter() - start, error)
        runs.append(run)
        if on_done is not None:
            on_done(run)
    return runs
