"""Many initialisations at once: seeded, parallel or distributed, written as they finish, resumable.

:func:`sweep` runs N initialisations of one spec, either integrating the flow (``integrate``
mode) or checking a property (``property`` mode, one :class:`~kltools.checks.verdict.Verdict`
per initialisation). Run i starts from :func:`init_from_seed` with child i of
``numpy.random.SeedSequence(seed).spawn(N)``: θ_j = scale·round₁₂(g_j), g standard normal, the
rule of a spec's ``[init] seed/scale`` (scale = the spec's ``[init] scale`` when its init is
seeded, else 1). A run depends on nothing but its task, so the results are the same in this
process, in a local process pool or on a dask.distributed cluster (apart from timings).

Results go to a JSON-lines file: a header (spec, its SHA-256, mode, options, versions), then one
line per initialisation as it finishes (``index``, ``seed``, exact ``init``, ``outcome``,
``verdict``, ``figures``: rate, exponent, loss, digits, event counts, wall and CPU time; the
verdict's ``evidence``; the trajectory without samples), each flushed and fsynced. Re-running
with the same file skips the indices already there; a file of another spec or other options is
refused. The summary (:class:`SweepResult`) gives the fraction that holds with its exact 95 %
interval, quantiles of the rates and exponents, and the count of simultaneous kink crossings
with a 95 % upper bound on their probability.

>>> from kltools.sweep import init_from_seed
>>> [str(v) for v in init_from_seed(3, 2024, 0)]
['-211724338351/1000000000000', '-1340720567/7812500000', '74773317929/125000000000']
"""

from kltools.sweep.driver import sweep
from kltools.sweep.result import SweepResult, comparable, load_results
from kltools.sweep.stats import binomial_cdf, clopper_pearson, upper_bound
from kltools.sweep.worker import init_from_seed

__all__ = ["SweepResult", "binomial_cdf", "clopper_pearson", "comparable", "init_from_seed",
           "load_results", "sweep", "upper_bound"]
