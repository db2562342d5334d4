"""What a proof script is: any module (or object) with a ``PROOF`` and a ``run(config)``.

The built-in scripts in ``proofs/`` and a user's own file (``kltools prove ./my_proof.py``)
satisfy the same :class:`ProofScript` protocol; the harness checks it before running anything,
so a file that lacks either name fails with one line that says what to add.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from kltools.errors import SpecError
from kltools.proving.claims import ClaimResult, Config, Proof

__all__ = ["ProofScript", "check_script"]


@runtime_checkable
class ProofScript(Protocol):
    """A proof script.

    ``PROOF`` states the theorem (:class:`~kltools.proving.claims.Proof`); ``run(config)``
    checks each claim and negative control and returns their results, usually collected with a
    :class:`~kltools.proving.claims.Recorder`. Each result carries the verdict the theory
    expects, and the run is as expected when every verdict equals it.
    """

    PROOF: Proof

    def run(self, config: Config) -> list[ClaimResult]: ...


def check_script(script: object, where: str) -> ProofScript:
    """``script`` if it satisfies :class:`ProofScript`, else a :class:`SpecError` naming what is
    missing in ``where`` (a file or module name)."""
    missing = [name for name in ("PROOF", "run") if not hasattr(script, name)]
    if missing:
        raise SpecError(f"{where} is not a proof script: it defines no {' and no '.join(missing)} "
                        "(a proof script defines PROOF = kltools.proving.Proof(...) and "
                        "def run(config) -> list[ClaimResult])")
    if not isinstance(script.PROOF, Proof):  # type: ignore[attr-defined]
        kind = type(script.PROOF).__name__  # type: ignore[attr-defined]
        raise SpecError(f"{where}: PROOF is a {kind}, not a kltools.proving.Proof")
    if not callable(script.run):  # type: ignore[attr-defined]
        raise SpecError(f"{where}: run is not a function; define def run(config) -> "
                        "list[ClaimResult]")
    assert isinstance(script, ProofScript)
    return script
