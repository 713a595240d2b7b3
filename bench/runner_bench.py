"""What the rollout runner itself costs per unit, without devices: its scheduling, results and hooks.

``govnet.rollout.runner.Runner`` runs 238 jobs (the full-city party rollout's devices) whose work
does nothing, with the hooks a real ``rollout apply`` off a terminal has (a progress line per unit,
here to /dev/null), against the plainest pool that could run them (``ThreadPoolExecutor.map``).
The difference is what the runner adds to a rollout; the full-city rollout itself is timed by
``bench/rollout_bench.py``. No root, no lab:

    .venv/bin/python bench/runner_bench.py [--jobs 238] [--concurrency 50] [--rounds 20]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor

from govnet.cli.progress import Lines
from govnet.rollout.runner import Canary, FailureThreshold, Job, Runner, UnitResult
from govnet.rollout.workers import Work


def nothing(job: Job[int]) -> UnitResult[int]:
    return UnitResult(job.unit, job.device, "changed", value=job.item)


def make() -> Work[Job[int], UnitResult[int]]:
    return nothing, lambda: None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=238)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    jobs = [Job(f"u{i:03}", f"d{i:03}", i) for i in range(args.jobs)]
    bare: list[float] = []
    runner: list[float] = []
    with open(os.devnull, "w", encoding="utf-8") as devnull:
        for _ in range(args.rounds):
            started = time.perf_counter()
            with ThreadPoolExecutor(max_workers=args.concurrency) as pool:
                list(pool.map(nothing, jobs))
            bare.append(time.perf_counter() - started)
            started = time.perf_counter()
            Runner(
                make,
                concurrency=args.concurrency,
                canary=Canary(1),
                threshold=FailureThreshold("10%"),
                hooks=[Lines(lambda r: r.status, devnull)],
            ).run(jobs)
            runner.append(time.perf_counter() - started)
    print(
        f"{args.jobs} no-op jobs, concurrency {args.concurrency}, {args.rounds} rounds, load {os.getloadavg()[0]:.1f}"
    )
    print("| pool | median ms | best ms | per job µs (median) |\n|---|---|---|---|")
    for name, values in (
        ("ThreadPoolExecutor.map", bare),
        ("Runner (canary 1, threshold, line hook)", runner),
    ):
        median = statistics.median(values)
        print(f"| {name} | {median * 1000:.1f} | {min(values) * 1000:.1f} | {median / args.jobs * 1e6:.0f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
