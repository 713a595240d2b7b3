"""``govnet rollout rollback`` of a whole segment: one unit at a time against ``--concurrency``.

A rollback restored one unit after the other; it now goes through the rollout runner,
``--concurrency`` units at a time (default 10). This brings up ``govnet lab up --units N`` as
``bench/rollout_bench.py`` does; each round plans and applies a change to every unit of the
segment (the lab's first rollout: every unit gets its intent), then times the real CLI rolling that
run back, once per ``--concurrency`` given (the change applied again before each). Each figure is
the best and the worst of ``--rounds`` runs. Run as root inside a private network namespace:

    unshare --net -- bash -c 'ip link set lo up && .venv/bin/python bench/rollback_bench.py --units 60 --timing field'
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

from rollout_bench import Bench


def applied_run(bench: Bench, round_: int) -> tuple[str, int]:
    """Plan and apply a change to every unit of the segment; (the apply's run id, units changed)."""
    common = ["--inventory", str(bench.inventory), "--known-hosts", str(bench.known_hosts)]
    plan_file = bench.work / f"round{round_}.plan.json"
    bench.govnet(
        "rollout", "plan", "--segment", bench.args.segment, *common, "--out", str(plan_file), "--json"
    )
    result, _, _ = bench.govnet(
        "rollout", "apply", str(plan_file), *common, "--concurrency", "20", "--yes", "--json"
    )
    report = json.loads(result.stdout)
    changed = [u for u in report["units"] if u["result"] == "changed"]
    if len(changed) != len(report["units"]):
        raise SystemExit(
            f"apply: {len(report['units']) - len(changed)} unit(s) not changed: {report['units'][:2]}"
        )
    return str(report["run"]), len(changed)


def rollback(bench: Bench, run: str, concurrency: int) -> float:
    """Wall seconds of one ``rollout rollback RUN``; every unit must come back."""
    common = ["--inventory", str(bench.inventory), "--known-hosts", str(bench.known_hosts)]
    result, wall, _ = bench.govnet(
        "rollout", "rollback", run, *common, "--concurrency", str(concurrency), "--yes", "--json"
    )
    bad = [u for u in json.loads(result.stdout)["units"] if u["result"] != "ok"]
    if bad:
        raise SystemExit(f"rollback: {len(bad)} unit(s) not rolled back, e.g. {bad[0]}")
    return wall


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--units", type=int, default=60)
    parser.add_argument("--segment", default="party", choices=["intranet", "party", "extranet"])
    parser.add_argument("--concurrency", type=int, action="append", help="repeatable (default: 1, 10)")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument(
        "--timing", help="lab devices play this timing profile (field: a real switch's delays)"
    )
    args = parser.parse_args()
    args.processes = None
    if os.geteuid() != 0:
        print(
            "bench/rollback_bench.py: needs root (the lab twin); run it as the docstring says",
            file=sys.stderr,
        )
        return 2
    levels = args.concurrency or [1, 10]
    walls: dict[int, list[float]] = {c: [] for c in levels}
    units = 0
    with tempfile.TemporaryDirectory(prefix="govnet-rollback-bench-") as tmp:
        bench = Bench(args, Path(tmp))
        try:
            bench.up()
            for round_ in range(args.rounds):
                for concurrency in levels:
                    run, units = applied_run(bench, round_ * len(levels) + concurrency)
                    walls[concurrency].append(rollback(bench, run, concurrency))
                    print(
                        f"[bench] rollback of {units} units, --concurrency {concurrency}: {walls[concurrency][-1]:.1f} s"
                    )
        except KeyboardInterrupt:
            return 130
        finally:
            bench.down()
    load = os.getloadavg()
    timing = args.timing or "instant (lab default)"
    print(f"\n{os.cpu_count()} cores, load {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}, "
          f"{time.strftime('%Y-%m-%d %H:%M')} UTC, {args.segment}: {units} units, timing {timing}\n")  # fmt: skip
    print("| rollback of the segment | best s | worst s |\n|---|---|---|")
    for concurrency, values in walls.items():
        print(f"| `--concurrency {concurrency}` | {min(values):.1f} | {max(values):.1f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
