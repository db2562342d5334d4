"""Sweep benchmark (issue 7): N two-layer ReLU initialisations at 30 digits on three executors.

The gradient flow of ``examples/relu_two_layer.toml`` (9 parameters, 9 kink surfaces) from N
seeded initialisations (``kltools sweep --integrate``, seed 0, scale 1) to t = 5 at 30 digits,
run by a local pool of 1 process, a local pool of 2 processes, and a 2-worker dask
``LocalCluster`` (separate processes, one thread each, on loopback). Each time is the wall clock
of the whole ``sweep()`` call: pool or cluster start-up, derivation in each worker, every run,
writing and fsyncing every line. The three results files are checked to hold the same lines
apart from timings. All three contenders run in one process, one after the other.

Run from the repository root::

    python bench/bench_sweep.py            # prints a markdown section
    python bench/bench_sweep.py --write    # also replaces "## Sweeps (issue 7)" in BENCHMARKS.md
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from kltools.sweep import comparable, load_results, sweep  # noqa: E402

SPEC = ROOT / "examples" / "relu_two_layer.toml"
HEADING = "## Sweeps (issue 7)"


def timed(run: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    out = run()
    return time.perf_counter() - start, out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=200)
    ap.add_argument("--t-end", default="5")
    ap.add_argument("--dps", type=int, default=30)
    ap.add_argument("--write", action="store_true", help="update BENCHMARKS.md")
    args = ap.parse_args()
    from distributed import LocalCluster

    kw: dict[str, Any] = {"integrate": True, "t_end": args.t_end, "dps": args.dps}
    load_before = os.getloadavg()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        files = {}
        for label, workers in (("local pool, 1 process", 1), ("local pool, 2 processes", 2)):
            out = Path(tmp) / f"w{workers}.jsonl"
            secs, res = timed(lambda w=workers, o=out: sweep(SPEC, args.n, out=o, workers=w,
                                                              **kw))
            files[label] = out
            rows.append((label, secs, res))
            print(f"{label}: {secs:.1f} s", file=sys.stderr)
        label = "dask LocalCluster, 2 workers x 1 thread (processes)"
        out = Path(tmp) / "dask.jsonl"
        start = time.perf_counter()
        with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                          dashboard_address=None) as cluster:
            started = time.perf_counter() - start
            secs, res = timed(lambda: sweep(SPEC, args.n, out=out,
                                            scheduler=cluster.scheduler_address, **kw))
        files[label] = out
        rows.append((label, secs + started, res))
        print(f"{label}: {secs + started:.1f} s (cluster start {started:.1f} s)",
              file=sys.stderr)
        ref = [comparable(r) for r in load_results(files[rows[0][0]])[1]]
        identical = all([comparable(r) for r in load_results(f)[1]] == ref
                        for f in files.values())
    load_after = os.getloadavg()
    base = rows[0][1]
    s = rows[0][2].summary
    lines = [
        HEADING, "",
        f"Command: `python bench/bench_sweep.py{' --write' if args.write else ''}` (from the "
        f"repository root). Run {time.strftime('%Y-%m-%d')}, Python {platform.python_version()}, "
        f"{os.cpu_count()} CPUs ({platform.machine()}) shared with other jobs: 1-min load "
        f"average {load_before[0]:.2f} before and {load_after[0]:.2f} after the run (all three "
        "contenders measured in that one run, one after the other).", "",
        f"Workload: `kltools sweep examples/relu_two_layer.toml --n {args.n} --integrate "
        f"--t-end {args.t_end} --dps {args.dps}` (two-layer ReLU net, 9 parameters, 9 kink "
        "surfaces; seed 0, scale 1). Time = wall clock of the whole `sweep()` call: process or "
        "cluster start-up, derivation in each worker, every run, fsync of every line. Runs: "
        "the runs' own wall-clock and CPU seconds added up (wall above CPU: the run waited for "
        "a core). Cores used = runs' CPU / time: what the shared machine gave the sweep.",
        "",
        "| executor | time (s) | runs/s | speed-up vs 1 process | runs: wall (s) | "
        "runs: CPU (s) | cores used |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for label, secs, res in rows:
        rs = res.summary["run_seconds"]
        lines.append(f"| {label} | {secs:.1f} | {args.n / secs:.2f} | {base / secs:.2f}x | "
                     f"{rs['total']:.1f} | {rs['cpu_total']:.1f} | "
                     f"{rs['cpu_total'] / secs:.2f} |")
    outcomes = ", ".join(f"{k} {v['count']}" for k, v in s["outcomes"].items())
    sim = s.get("simultaneous") or {}
    rate = f"{s['rate']['median']:.3g}" if s.get("rate") else "none"
    lines += [
        "",
        "Results identical on the three executors (every line, apart from the wall and CPU "
        "times): "
        f"**{'yes' if identical else 'NO'}**. Outcomes: {outcomes}; "
        f"{sim.get('crossings', 0)} single kink crossings, "
        f"{sim.get('runs_with_simultaneous', 0)} runs with a simultaneous crossing "
        f"(P < {sim.get('upper95', float('nan')):.3g} at 95%); median rate {rate}.",
        "",
    ]
    cores = max(r[2].summary["run_seconds"]["cpu_total"] / r[1] for r in rows)
    cpu = [r[2].summary["run_seconds"]["cpu_total"] / args.n for r in rows]
    per_run = " / ".join(f"{c * 1000:.0f} ms" for c in cpu)
    if cores < 1.5:
        reading = (f"Reading: the sweep never got more than {cores:.2f} of the "
                   f"{os.cpu_count()} CPUs (other jobs held the rest), so this run cannot show "
                   "a parallel speed-up: with two workers each run waited for a core (the runs' "
                   "wall time is about twice their CPU time). It does show what each executor "
                   f"costs: CPU per run {per_run} (1 process / 2 processes / dask), plus "
                   "start-up. Re-run on an idle machine for the speed-up itself.")
    else:
        reading = (f"Reading: two workers used up to {cores:.2f} CPUs; CPU per run {per_run} "
                   "(1 process / 2 processes / dask).")
    lines += [reading, ""]
    text = "\n".join(lines)
    print(text)
    if args.write:
        write_section(ROOT / "BENCHMARKS.md", text)


def write_section(path: Path, text: str) -> None:
    """Replace this benchmark's own section (heading to the next ``## ``), or append it."""
    old = path.read_text(encoding="utf-8")  # read right before writing: others edit the file
    start = old.find(HEADING + "\n")
    if start < 0:
        new = old.rstrip("\n") + "\n\n" + text
    else:
        end = old.find("\n## ", start + len(HEADING))
        new = old[:start] + text + ("" if end < 0 else old[end + 1:])
    path.write_text(new, encoding="utf-8")


if __name__ == "__main__":
    main()
