"""Finding proof scripts: the built-in ones by name, a user's own by file path.

The built-in scripts live in the top-level ``proofs/`` directory of the source tree (one per
theorem). A wheel ships that directory as the package ``kltools._proofs``
(``[tool.hatch.build.targets.wheel.force-include]``); in a source checkout (editable install, or
``python -m`` from the repository) the directory next to the ``kltools`` package is loaded under
the same module name. Either way the proofs are found from the installed package itself, never
from the current directory. A path ending in ``.py`` names a user's proof file instead
(:func:`load_file`); both kinds satisfy :class:`~kltools.proving.protocol.ProofScript`.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import sys
from pathlib import Path
from types import ModuleType

from kltools.errors import SpecError
from kltools.proving.protocol import ProofScript, check_script

__all__ = ["PACKAGE", "available", "is_file", "load", "load_file", "load_proof",
           "proofs_package"]

PACKAGE = "kltools._proofs"


def _source_dir() -> Path:
    import kltools

    return Path(kltools.__file__).resolve().parent.parent / "proofs"


def _exec_module(name: str, path: Path, package_dir: Path | None = None) -> ModuleType:
    """Import the file ``path`` as the module ``name`` (a package when ``package_dir``)."""
    locations = [str(package_dir)] if package_dir is not None else None
    spec = importlib.util.spec_from_file_location(name, path,
                                                  submodule_search_locations=locations)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return module


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
    if not (root / "__init__.py").is_file():
        raise SpecError(f"the proof scripts were not found (looked for the installed package "
                        f"{PACKAGE} and for {root}); reinstall kltools from a source tree "
                        "that has proofs/")
    return _exec_module(PACKAGE, root / "__init__.py", root)


def _module_name(name: str) -> str:
    return name.strip().replace("-", "_")


def available() -> list[str]:
    """Built-in proof names (``energy-blowup``, ...) in report order."""
    return [m.replace("_", "-") for m in proofs_package().ORDER]


def load_proof(name: str) -> ProofScript:
    """The built-in proof ``name`` (``energy-blowup`` or ``energy_blowup``)."""
    pkg = proofs_package()
    mod = _module_name(name)
    if mod not in pkg.ORDER:
        raise SpecError(f"unknown proof {name!r}; known: {', '.join(available())} (or give "
                        "the path of a proof file, ./my_proof.py)", "NAME")
    return check_script(importlib.import_module(f"{PACKAGE}.{mod}"), f"proof {name}")


def is_file(name: str) -> bool:
    """Whether ``name`` names a proof file (ends in ``.py``) rather than a built-in proof."""
    return name.endswith(".py")


def load_file(path: str | Path) -> ProofScript:
    """A user's proof file, imported as a module of its own (named after the file's resolved
    path, so two files never collide and a forked worker finds the same module).

    Errors (no such file, an exception while importing it, no ``PROOF`` or ``run``) are one
    :class:`SpecError` line that names the file.
    """
    file = Path(path).expanduser().resolve()
    if not file.is_file():
        raise SpecError(f"proof file {path} does not exist (give the path of a Python file "
                        "that defines PROOF and run)")
    name = "kltools_user_proof_" + hashlib.sha256(str(file).encode()).hexdigest()[:16]
    if name in sys.modules:
        return check_script(sys.modules[name], str(path))
    try:
        module = _exec_module(name, file)
    except SyntaxError as exc:
        raise SpecError(f"proof file {path}, line {exc.lineno}: {exc.msg}") from None
    except Exception as exc:
        raise SpecError(f"proof file {path} failed while importing: {type(exc).__name__}: "
                        f"{exc}") from None
    return check_script(module, f"proof file {path}")


def load(name: str) -> ProofScript:
    """A built-in proof by name, or a user's proof file by path (``*.py``)."""
    return load_file(name) if is_file(name) else load_proof(name)
