"""History benchmark: ``config show``, ``config diff --from --to``, ``audit log`` and
``config export-git`` over a city-sized store, and shell completion latency (issue #15 items 3, 6).

The store: 250 devices of a generated inventory-free history (units ``u000``…``u249``), 20
backups each (a ~120-line VRP config whose NTP line changes every other backup: 10 changes per
device), and 3 audit entries per change (push, verified, run-end): 5,000 backups, 7,500 audit
entries, made through govnet's store API. Each command is run as a user runs it (``python -m
govnet``, a new process), the best of ``--repeat`` runs (wall and CPU time); completion is timed the same way
with click's bash protocol. Loopback only, nothing asserted.
``.venv/bin/python bench/history_bench.py [--devices 250] [--repeat 5]``
"""

from __future__ import annotations

import argparse
import os
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from unittest import mock

from govnet.state import audit, backups
from govnet.state.db import connect, transaction

ROOT = Path(__file__).resolve().parent.parent
INVENTORY = ROOT / "inventory"


def config(device: str, version: int) -> str:
    lines = [f"sysname {device}", f"ntp-service unicast-server 10.40.0.{version}"]
    lines += [
        f"interface GigabitEthernet0/0/{i}\n description port {i}\n port link-type access" for i in range(40)
    ]
    lines += ["snmp-agent community read cipher %^%#secret%^%# acl 2990", "return"]
    return "\n".join(lines) + "\n"


def make_store(state: Path, devices: int) -> None:
    """One transaction per device (under the audit trail's turn, as a rollout's records are)."""
    start = time.time() - 30 * 86400
    with connect(state) as conn:
        for n in range(devices):
            unit, device = f"u{n:03d}", f"D{n:03d}"
            with audit.turn(state):
                with transaction(conn):
                    for k in range(20):
                        with mock.patch("time.time", return_value=start + k * 3600 + n):
                            _change(conn, unit, device, k)
                    audit.prepare_head(conn, state)
                audit.commit_head(state)


def _change(conn: sqlite3.Connection, unit: str, device: str, k: int) -> None:
    if k % 2:
        for action in ("push", "verified", "run-end"):
            detail = {"device": device, "commands": ["x"], "backup": "0" * 64}
            audit.entry(conn, action, detail, run_id=f"r{k}", unit=unit)
    backups.save(conn, unit, device, config(device, k // 2), "on-demand")


def timed(args: list[str], repeat: int, env: dict[str, str] | None = None) -> tuple[float, float]:
    """Best wall time and best CPU time (user + system of the child) over ``repeat`` runs: on a
    shared machine the CPU time is the steadier of the two."""
    walls, cpus = [], []
    for _ in range(repeat):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        begin = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "govnet", *args],
            cwd=ROOT,
            env={**os.environ, **(env or {})},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            check=False,
        )
        walls.append(time.perf_counter() - begin)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return min(walls), min(cpus)


def completion(words: str, repeat: int, state: Path) -> tuple[float, float]:
    env = {
        "_GOVNET_COMPLETE": "bash_complete",
        "COMP_WORDS": words,
        "COMP_CWORD": str(len(words.split(" ")) - 1),
        "GOVNET_INVENTORY": str(INVENTORY),
        "GOVNET_STATE": str(state),
    }
    return timed([], repeat, env)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--devices", type=int, default=250)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        state = Path(scratch) / "state"
        begin = time.perf_counter()
        make_store(state, args.devices)
        print(f"store: {args.devices} devices x 20 backups made in {time.perf_counter() - begin:.1f} s")
        where = ["--inventory", str(INVENTORY), "--state", str(state)]
        rows = {
            "config show u123": timed(["config", "show", "u123", *where], args.repeat),
            "config show u123 --at <a day ago>": timed(
                [
                    "config",
                    "show",
                    "u123",
                    "--at",
                    time.strftime("%Y-%m-%dT%H:%M", time.localtime(time.time() - 29 * 86400)),
                    *where,
                ],
                args.repeat,
            ),
            "config diff u123 --from 1d --to <newest>": timed(
                [
                    "config",
                    "diff",
                    "u123",
                    "--from",
                    time.strftime("%Y-%m-%d", time.localtime(time.time() - 29 * 86400)),
                    "--to",
                    "2030-01-01",
                    *where,
                ],
                args.repeat,
            ),
            "audit log (all 7,500 events)": timed(["audit", "log", *where], args.repeat),
            "audit log --unit u123": timed(["audit", "log", "--unit", "u123", *where], args.repeat),
            "complete `govnet co`": completion("govnet co", args.repeat, state),
            "complete `govnet audit log --unit wy-`": completion(
                "govnet audit log --unit wy-", args.repeat, state
            ),
            "complete `govnet config show wy-`": completion("govnet config show wy-", args.repeat, state),
            "complete `govnet rollout status `": completion("govnet rollout status ", args.repeat, state),
        }
        repo = Path(scratch) / "archive"
        first = timed(["config", "export-git", str(repo), *where], 1)
        again = timed(["config", "export-git", str(repo), *where], 1)
        rows["config export-git (first: all backups)"] = first
        rows["config export-git (again: nothing new)"] = again
        print(f"load average (1 min) at the end: {os.getloadavg()[0]:.1f}")
        print("| command | wall (best) | CPU (best) |\n|---|---|---|")
        for name, (wall, cpu) in rows.items():
            print(f"| {name} | {wall:.2f} s | {cpu:.2f} s |")


if __name__ == "__main__":
    main()
