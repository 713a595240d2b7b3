"""ICMP benchmark: govnet's icmp probe and fping side by side in one run, loopback targets only.

Scenarios (each repeated ``--rounds`` times, tools alternating, medians reported):

- 10,000 targets x 3 echoes at fping's fastest pacing: ``fping -q -C 3 -r 0 -p 20 -i 0`` versus
  the probe with ``rate=0, interval=0.02`` (the same pacing: no gap between packets, 20 ms
  between echoes to one target);
- the same 10,000 x 3 with the probe in a fresh child process (interpreter start-up and imports
  included), for a process-to-process comparison;
- 255 targets x 3 at the probe's default pacing (2,000 packets/s, 0.2 s between echoes to a
  target), and fping at that pacing (``-p 200 -i 0.5``).

Wall time is measured around the whole cycle (socket opened and closed included); CPU time is
user + system from ``resource.getrusage`` (``RUSAGE_SELF`` for the in-process probe,
``RUSAGE_CHILDREN`` for child processes). This is a benchmark: it asserts nothing. Run as root
(or with CAP_NET_RAW): ``.venv/bin/python bench/icmp_bench.py``.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from govnet.probes.base import Target
from govnet.probes.icmp.probe import IcmpProbe, IcmpSettings

FPING_FAST = ["fping", "-q", "-C", "3", "-r", "0", "-p", "20", "-i", "0"]
FPING_DEFAULT_PACING = ["fping", "-q", "-C", "3", "-r", "0", "-p", "200", "-i", "0.5"]
SAME_PACING = {"count": 3, "rate": 0, "interval": 0.02, "timeout": 0.5}


def addresses(count: int) -> list[str]:
    """127.0.x.y, y in 1..250: all of 127/8 answers on Linux loopback."""
    return [f"127.0.{i // 250}.{i % 250 + 1}" for i in range(count)]


@dataclass
class Sample:
    wall: float
    cpu: float
    packets: int
    lost: int


def cpu(usage: resource.struct_rusage) -> float:
    return usage.ru_utime + usage.ru_stime


def run_fping(command: list[str], targets: list[str]) -> Sample:
    with tempfile.NamedTemporaryFile("w", suffix=".txt") as listing:
        listing.write("\n".join(targets) + "\n")
        listing.flush()
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        done = subprocess.run([*command, "-f", listing.name], capture_output=True, text=True, check=False)
        wall = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
    answers = [line.split(":", 1)[1].split() for line in done.stderr.splitlines() if " : " in line]
    sent = sum(len(a) for a in answers)
    lost = sum(a.count("-") for a in answers) + (len(targets) * 3 - sent)
    return Sample(wall, cpu(after) - cpu(before), len(targets) * 3, lost)


def run_govnet(settings: dict[str, float], targets: list[str]) -> Sample:
    tgts = [Target(f"u{i}", "bench", a) for i, a in enumerate(targets)]

    async def cycle() -> list[tuple[int, int]]:
        probe = IcmpProbe(IcmpSettings.parse(settings))
        try:
            results = await probe.run(tgts, 60)
        finally:
            await probe.close()
        return [(r.sent, r.received) for r in results]

    before = resource.getrusage(resource.RUSAGE_SELF)
    started = time.perf_counter()
    counts = asyncio.run(cycle())
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_SELF)
    packets = len(targets) * int(settings.get("count", 3))
    return Sample(wall, cpu(after) - cpu(before), packets, packets - sum(r for _s, r in counts))


def run_govnet_child(count: int) -> Sample:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, __file__, "--child", str(count)], capture_output=True, text=True, check=True
    )
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return Sample(wall, cpu(after) - cpu(before), count * 3, int(done.stdout.split()[-1]))


def spread(samples: list[Sample]) -> str:
    walls = [s.wall for s in samples]
    return f"{min(walls):.3f}–{max(walls):.3f}"


def median(samples: list[Sample]) -> Sample:
    return Sample(
        statistics.median(s.wall for s in samples),
        statistics.median(s.cpu for s in samples),
        samples[0].packets,
        max(s.lost for s in samples),
    )


def row(name: str, command: str, samples: list[Sample]) -> str:
    s = median(samples)
    rate = s.packets / s.wall
    loss = f"{s.lost / s.packets:.2%}"
    return (
        f"| {name} | `{command}` | {s.packets:,} | {s.wall:.3f} | {spread(samples)} | {s.cpu:.3f} "
        f"| {rate:,.0f} | {loss} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--targets", type=int, default=10_000)
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:  # one cycle in this fresh process; print the number of lost echoes
        print(run_govnet(SAME_PACING, addresses(args.child)).lost)
        return
    big, small = addresses(args.targets), addresses(255)
    runs: dict[str, list[Sample]] = {k: [] for k in ("fping", "govnet", "child", "fping255", "govnet255")}
    run_govnet(SAME_PACING, small)  # warm-up: imports, first socket
    for i in range(args.rounds):
        order = ["fping", "govnet", "child"] if i % 2 == 0 else ["child", "govnet", "fping"]
        for name in order:
            if name == "fping":
                runs[name].append(run_fping(FPING_FAST, big))
            elif name == "govnet":
                runs[name].append(run_govnet(SAME_PACING, big))
            else:
                runs[name].append(run_govnet_child(args.targets))
        runs["fping255"].append(run_fping(FPING_DEFAULT_PACING, small))
        runs["govnet255"].append(run_govnet({}, small))
    m = {k: median(v) for k, v in runs.items()}
    n = f"{args.targets:,}"
    print(
        f"date: {datetime.date.today()}, {os.cpu_count()} cores, Linux {platform.release()}, "
        f"Python {platform.python_version()}, {subprocess.run(['fping', '-v'], capture_output=True, text=True, check=False).stdout.strip()}, "
        f"medians of {args.rounds} rounds\n"
    )
    print("| scenario | command | packets | wall s (median) | wall s (min–max) | CPU s | packets/s | loss |")
    print("|---|---|---|---|---|---|---|---|")
    print(row(f"{n} x 3, fastest", " ".join(FPING_FAST), runs["fping"]))
    print(row(f"{n} x 3, fastest", "govnet icmp rate=0 interval=0.02 (in process)", runs["govnet"]))
    print(row(f"{n} x 3, fastest", "govnet icmp, fresh child process (start-up included)", runs["child"]))
    print(row("255 x 3, default pacing", " ".join(FPING_DEFAULT_PACING), runs["fping255"]))
    print(row("255 x 3, default pacing", "govnet icmp defaults (rate=2000 interval=0.2)", runs["govnet255"]))
    print()
    for label, key in (("in process", "govnet"), ("child process", "child")):
        print(
            f"- govnet/fping, {n} x 3 same pacing, {label}: "
            f"wall {m[key].wall / m['fping'].wall:.2f}x, CPU {m[key].cpu / m['fping'].cpu:.2f}x"
        )
    print(
        f"- govnet/fping, 255 x 3 default pacing: wall {m['govnet255'].wall / m['fping255'].wall:.2f}x, "
        f"CPU {m['govnet255'].cpu / m['fping255'].cpu:.2f}x"
    )


if __name__ == "__main__":
    main()
