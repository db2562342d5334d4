"""One verification script per theorem (run them with ``kltools prove``).

Each module defines ``PROOF`` (a :class:`kltools.proving.Proof`: hypotheses, claims, toy
models as spec TOML) and ``run(config) -> list[ClaimResult]``: the theorem's claims proved
symbolically or verified at high precision, and negative controls (one hypothesis dropped) that
must come out refuted. ``ORDER`` is the order of ``kltools prove --all`` and of the report.

The directory is shipped inside the wheel as ``kltools._proofs`` (see pyproject.toml); in a
source checkout :mod:`kltools.proving.registry` loads it from here under that same name, so the
modules import their helpers relatively.
"""

ORDER = (
    "energy_blowup",
    "euler_balancedness",
    "rayleigh",
    "population",
    "unified_linear",
    "directional",
    "lojasiewicz_simon",
    "rates",
)
