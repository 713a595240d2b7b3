"""Start-up of govnet's read commands: ``govnet --help`` and ``govnet inventory list``.

Issue #15 asks for ≤ 0.3 s each (a read command an engineer types all day). Like hyperfine: each
command runs ``--runs`` times (after ``--warmup`` unmeasured runs, so the file cache is warm) as a
fresh process through the ``govnet`` console script beside this interpreter, its output to a
pipe (as in a script, no terminal), commands interleaved run by run so that a load change on a
shared machine hits them all alike. Prints the median, min and max wall time per command (and the
user + system CPU of the median run's command, from ``RUSAGE_CHILDREN``). On a shared machine wall
times follow the load; ``--instructions`` also counts each command's instructions once under
valgrind's callgrind, a figure no other process changes. It asserts nothing.

    .venv/bin/python bench/startup_bench.py                      # the checkout's inventory
    .venv/bin/python bench/startup_bench.py --inventory PATH --runs 31 --instructions
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def commands(govnet: str, inventory: Path) -> dict[str, list[str]]:
    return {
        "govnet --help": [govnet, "--help"],
        "govnet --version": [govnet, "--version"],
        "govnet inventory list": [govnet, "inventory", "list", "--inventory", str(inventory)],
        "govnet inventory list --json": [
            govnet,
            "inventory",
            "list",
            "--json",
            "--inventory",
            str(inventory),
        ],
        "govnet inventory validate": [govnet, "inventory", "validate", "--inventory", str(inventory)],
    }


def once(argv: list[str]) -> tuple[float, float]:
    """Wall and CPU seconds of one run of ``argv``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def instructions(argv: list[str]) -> int:
    """Instructions ``argv`` executes (user space, the interpreter included), counted by callgrind."""
    done = subprocess.run(
        ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", *argv],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        check=True,
    )
    found = re.search(r"Collected : (\d+)", done.stderr)
    assert found, done.stderr
    return int(found.group(1))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=21)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--inventory", type=Path, default=ROOT / "inventory")
    parser.add_argument("--instructions", action="store_true", help="also count instructions (valgrind)")
    args = parser.parse_args()
    if args.instructions and shutil.which("valgrind") is None:
        parser.error("--instructions needs valgrind")
    govnet = str(Path(sys.executable).parent / "govnet")
    table = commands(govnet, args.inventory)
    for _ in range(args.warmup):
        for argv in table.values():
            once(argv)
    samples: dict[str, list[tuple[float, float]]] = {name: [] for name in table}
    for _ in range(args.runs):
        for name, argv in table.items():
            samples[name].append(once(argv))
    print(
        f"{platform.python_implementation()} {platform.python_version()}, {os.cpu_count()} cores, "
        f"load {os.getloadavg()[0]:.2f}, {args.runs} runs each (+{args.warmup} warm-up)\n"
    )
    counted = {name: instructions(argv) for name, argv in table.items()} if args.instructions else {}
    print("| command | wall s (median) | wall s (min–max) | CPU s (median) | instructions |")
    print("|---|---|---|---|---|")
    for name, runs in samples.items():
        walls = sorted(w for w, _ in runs)
        cpu = statistics.median(c for _, c in runs)
        count = f"{counted[name] / 1e9:.2f} G" if name in counted else "—"
        print(
            f"| `{name}` | {statistics.median(walls):.3f} | {walls[0]:.3f}–{walls[-1]:.3f} | {cpu:.3f} | {count} |"
        )


if __name__ == "__main__":
    main()
