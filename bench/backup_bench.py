"""``govnet config backup`` of a whole segment on the full-city lab: concurrent against sequential.

``config backup`` read one device after the other inside the CLI; it now goes through the rollout
runner, ``--concurrency`` devices at a time (#15 item 2). This brings up ``govnet lab up --units
N`` as ``bench/rollout_bench.py`` does and times the real CLI, one process per run, backing up
every device of the segment at each ``--concurrency`` given; with ``--old-tree PATH`` (a checkout
of the code before the runner, e.g. ``git archive``), also that code's sequential backup, in the
same lab, runs interleaved. Each figure is the best and the worst of ``--rounds`` runs. Run as
root inside a private network namespace:

    unshare --net -- bash -c 'ip link set lo up && .venv/bin/python bench/backup_bench.py'
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from rollout_bench import Bench


def backup(bench: Bench, concurrency: int | None, tree: Path | None) -> float:
    """Wall seconds of one ``config backup --segment`` (``concurrency`` None: the flag left out)."""
    args = ["--inventory", str(bench.inventory), "--known-hosts", str(bench.known_hosts)]
    if concurrency is not None:
        args += ["--concurrency", str(concurrency)]
    command = ["config", "backup", "--segment", bench.args.segment, *args, "--json"]
    if tree is None:
        result, wall, _ = bench.govnet(*command)
    else:  # run from the tree (``-m`` puts the working directory first on the path)
        started = time.perf_counter()
        result = subprocess.run(
            [sys.executable, "-m", "govnet", *command],
            cwd=tree,
            env=bench.env,
            capture_output=True,
            text=True,
            check=False,
        )
        wall = time.perf_counter() - started
        if result.returncode not in (0, 3) or Path(tree, "govnet", "rollout", "runner.py").exists():
            raise SystemExit(f"{tree}: not the code before the runner, or it failed: {result.stderr[-2000:]}")
    rows = json.loads(result.stdout)
    failed = [r for r in rows if not r["ok"]]
    if failed:
        raise SystemExit(f"{len(failed)} device(s) not backed up, e.g. {failed[0]}")
    return wall


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--units", type=int, default=255)
    parser.add_argument("--segment", default="party", choices=["intranet", "party", "extranet"])
    parser.add_argument("--concurrency", type=int, action="append", help="repeatable (default: 1, 10, 50)")
    parser.add_argument("--old-tree", type=Path, help="also time this checkout's (sequential) backup")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--timing", help="lab devices play this timing profile (e.g. field: a real switch's delays)"
    )
    args = parser.parse_args()
    args.processes = None
    if os.geteuid() != 0:
        print(
            "bench/backup_bench.py: needs root (the lab twin); run it as the docstring says", file=sys.stderr
        )
        return 2
    runs: list[tuple[str, int | None, Path | None]] = []
    if args.old_tree is not None:
        runs.append(("before: sequential (no --concurrency)", None, args.old_tree.resolve()))
    runs += [(f"runner, --concurrency {c}", c, None) for c in args.concurrency or [1, 10, 50]]
    walls: dict[str, list[float]] = {name: [] for name, _, _ in runs}
    with tempfile.TemporaryDirectory(prefix="govnet-backup-bench-") as tmp:
        bench = Bench(args, Path(tmp))
        try:
            bench.up()
            for _ in range(args.rounds):
                for name, concurrency, tree in runs:
                    walls[name].append(backup(bench, concurrency, tree))
                    print(f"[bench] {name}: {walls[name][-1]:.1f} s")
        except KeyboardInterrupt:
            return 130
        finally:
            bench.down()
    load = os.getloadavg()
    devices = sum(1 for u in bench.info["units"] if args.segment in u["segments"])
    print(f"\n{os.cpu_count()} cores, load {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}, "
          f"{time.strftime('%Y-%m-%d %H:%M')} UTC, {args.segment}: {devices} units and its nodes\n")  # fmt: skip
    print("| backup of the segment | best s | worst s |\n|---|---|---|")
    for name, values in walls.items():
        print(f"| {name} | {min(values):.1f} | {max(values):.1f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
