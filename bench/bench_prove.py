"""``kltools prove --all`` benchmark (issue 17): wall clock and CPU time, and the precision of
the codimension-2 count.

*prove*: the whole command as a user runs it (``kltools prove --all --json --workers W``, a fresh
process, imports and plots included) for each W asked for. Wall = ``time.perf_counter`` around
the subprocess; CPU = user + system time of the process and every worker it forked
(``resource.getrusage(RUSAGE_CHILDREN)``), which does not depend on what else the machine runs.
Each run must end with every verdict as expected (exit code 0); the per-proof seconds come from
its JSON. The 1-minute load average is printed before and after: on a shared machine wall time
is only meaningful beside it.

*codim2*: the 400 seeded starts of the codimension-2 claim (ReLU net, t = 20) run at two
precisions; every start's event counts (crossings, simultaneous transversal crossings, sliding
modes, arrivals at an intersection while sliding) must agree between them.

Run from the repository root::

    python bench/bench_prove.py prove --workers 2          # the main figure
    python bench/bench_prove.py prove --workers 1 2        # with the one-process baseline
    python bench/bench_prove.py codim2 --dps 20 30         # the precision of the count
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _children_cpu() -> float:
    use = resource.getrusage(resource.RUSAGE_CHILDREN)
    return use.ru_utime + use.ru_stime


def terminal_text(data: dict[str, Any]) -> str:
    """The table ``kltools prove`` prints (without colours), rebuilt from its JSON."""
    import click

    from kltools.proving import ClaimResult, Proof, ProofRun
    from kltools.report.terminal import terminal_table

    runs = [ProofRun(Proof(p["name"], p["title"], p["source"], tuple(p["hypotheses"]),
                           tuple(p["claims"])),
                     [ClaimResult(r["claim"], r["expected"], r["verdict"], summary=r["summary"],
                                  control=r["control"]) for r in p["results"]],
                     p["seconds"], p["error"]) for p in data["proofs"]]
    return click.unstyle(terminal_table(runs))


def prove_once(workers: int, save: Path | None = None) -> dict[str, Any]:
    """One ``kltools prove --all`` in a fresh process: wall, CPU, verdicts, per-proof seconds
    (with ``save``, its JSON and the printed table are written there)."""
    exe = Path(sys.executable).parent / "kltools"
    with tempfile.TemporaryDirectory() as out:
        load0 = os.getloadavg()[0]
        cpu0, start = _children_cpu(), time.perf_counter()
        proc = subprocess.run([str(exe), "prove", "--all", "--json", "--workers", str(workers),
                               "--out", out], capture_output=True, text=True,
                              env={**os.environ, "PYTHONPATH": str(ROOT)})
        wall, cpu = time.perf_counter() - start, _children_cpu() - cpu0
    data = json.loads(proc.stdout)
    if save is not None:
        save.mkdir(parents=True, exist_ok=True)
        (save / f"prove-w{workers}.json").write_text(proc.stdout, encoding="utf-8")
        (save / f"prove-w{workers}.txt").write_text(terminal_text(data) + "\n", encoding="utf-8")
    return {"workers": workers, "wall": wall, "cpu": cpu, "exit": proc.returncode,
            "verdicts": f"{data['claims_as_expected']}/{data['claims']}",
            "load": (load0, os.getloadavg()[0]),
            "proofs": {p["name"]: p["seconds"] for p in data["proofs"]}}


def prove_table(rows: list[dict[str, Any]]) -> str:
    names = list(rows[0]["proofs"])
    lines = ["| workers | wall (s) | CPU user+sys (s) | exit | verdicts as expected | load "
             "before → after | " + " | ".join(names) + " |",
             "|---:|---:|---:|---:|---:|---|" + "---:|" * len(names)]
    for r in rows:
        lines.append(f"| {r['workers']} | {r['wall']:.0f} | {r['cpu']:.0f} | {r['exit']} | "
                     f"{r['verdicts']} | {r['load'][0]:.1f} → {r['load'][1]:.1f} | "
                     + " | ".join(f"{r['proofs'][n]:.0f}" for n in names) + " |")
    return "\n".join(lines)


def codim2_counts(dps: int, workers: int) -> tuple[list[dict[str, Any]], float]:
    """Every start's event counts at ``dps`` digits and the CPU seconds they took."""
    from kltools.proving import Config
    from kltools.proving.registry import load_proof

    ul: Any = load_proof("unified-linear")
    common = sys.modules["kltools._proofs._common"]
    from kltools.integrate.flow import FlowSystem
    from kltools.symbolic.derivation import derive

    prob = common.load(ul.RELU)
    ul._SYSTEMS["relu"] = FlowSystem(derive(prob))
    inits = common.random_inits(prob.n_parameters, 400, 23, 1.0)
    cpu0 = _children_cpu() + time.process_time()
    rows = Config(workers=workers).map(ul._codim2_job, [(th, dps) for th in inits], "codim-2")
    return rows, _children_cpu() + time.process_time() - cpu0


def codim2_table(dps_list: list[int], workers: int) -> str:
    keys = ["crossings", "transversal", "sliding modes entered",
            "codim2 arrivals while sliding", "runs with events"]
    results = {d: codim2_counts(d, workers) for d in dps_list}
    lines = ["| dps | CPU (s) | " + " | ".join(keys) + " | starts with the same counts as "
             f"dps {dps_list[-1]} |", "|---:|---:|" + "---:|" * (len(keys) + 1)]
    ref = results[dps_list[-1]][0]
    for d, (rows, cpu) in results.items():
        same = sum(a == b for a, b in zip(rows, ref, strict=True))
        lines.append(f"| {d} | {cpu:.0f} | "
                     + " | ".join(str(sum(r[k] for r in rows)) for k in keys)
                     + f" | {same}/{len(rows)} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="what", required=True)
    p = sub.add_parser("prove")
    p.add_argument("--workers", type=int, nargs="+", default=[2])
    p.add_argument("--save", type=Path, default=None,
                   help="directory for each run's JSON and printed table")
    c = sub.add_parser("codim2")
    c.add_argument("--dps", type=int, nargs="+", default=[20, 30])
    c.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    print(f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, Python "
          f"{platform.python_version()}, {os.cpu_count()} CPUs ({platform.machine()})\n")
    if args.what == "prove":
        print(prove_table([prove_once(w, args.save) for w in args.workers]))
    else:
        print(codim2_table(args.dps, args.workers))


if __name__ == "__main__":
    main()
