"""The proof harness: theorems as :class:`Proof` s, claims checked into :class:`ClaimResult` s,
scripts found by name or file and run side by side.

How to add a proof (a file of your own, run with ``kltools prove ./my_proof.py``; the template
``examples/my_proof.py`` is one, exercised by the tests):

1. define ``PROOF = Proof(name, title, source, hypotheses, claims, models)``;
2. define ``run(config) -> list[ClaimResult]``: open ``with rec.claim(text, expected) as r:``
   on a :class:`Recorder` for each claim and set ``r.verdict``, ``r.evidence`` (JSON-ready
   facts, the digits that were checked) and ``r.summary`` (one line); a negative control
   (``control=True``) drops one hypothesis and expects ``refuted``;
3. long loops go through ``config.map(fn, items, label)``: progress on stderr, and the items
   shared among ``config.workers`` forked processes.

A built-in proof is the same file in ``proofs/``, listed in ``proofs/__init__.py`` ``ORDER``.
"""

from kltools.proving.claims import VERDICTS, ClaimResult, Config, Proof, ProofRun, Recorder
from kltools.proving.protocol import ProofScript, check_script
from kltools.proving.registry import available, load, load_file, load_proof
from kltools.proving.runner import run_proofs, run_script

__all__ = [
    "VERDICTS", "ClaimResult", "Config", "Proof", "ProofRun", "ProofScript", "Recorder",
    "available", "check_script", "load", "load_file", "load_proof", "run_proofs", "run_script",
]
