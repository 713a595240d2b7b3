"""How long the daemon takes to render its /metrics exposition for N units (one render per change).

Fills a `DaemonView` as cycles would (ICMP on every segment, one SNMP poll per device with one
interface, TCP and isolation empty) and renders it the way the exporter does (`render`, in this
process), ``--repeat`` times; prints the best time and the exposition's size. Sends nothing.

    .venv/bin/python bench/render_bench.py 10000
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

from bench.gen_inventory import inventory
from govnet.inventory.loader import load
from govnet.metrics.http import render
from govnet.monitor.record import record
from govnet.monitor.site import WatchedSite
from govnet.monitor.state import DaemonView, Tracker
from govnet.probes.base import InterfaceStatus, ProbeResult, Target


def filled(units: int, work: Path) -> DaemonView:
    path = work / "bench-inventory.yml"
    path.write_text(yaml.safe_dump(inventory(units), allow_unicode=True))
    loaded = load(path).inventory
    site = WatchedSite.from_inventory(loaded)
    view = _view(site)
    for segment in site.segments:
        results = [
            ProbeResult(
                "icmp", Target(e.id, segment, m.address), True, rtt_seconds=0.001, loss_ratio=0.0, sent=3
            )
            for e in (*site.nodes, *site.units)
            for s, m in e.segments.items()
            if s == segment
        ]
        record(view, "icmp", segment, results)
    iface = (InterfaceStatus(1, "lo", 1, 1, 1000, 2000, 1000),)
    polls = [
        ProbeResult(
            "snmp", Target(u.id, "management", u.host, 161), True, uptime_seconds=100.0, interfaces=iface
        )
        for u in site.units
    ]
    record(view, "snmp", "management", polls)
    return view


def _view(site: WatchedSite) -> DaemonView:
    tracker = Tracker(site, 2)
    try:
        from govnet.probes.registry import default_kinds  # noqa: PLC0415
    except ImportError:  # before #16 item 1: no registry
        return DaemonView(site, tracker, site.name)
    kinds: Any = default_kinds()
    return DaemonView(site, tracker, site.name, kinds=kinds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("units", type=int)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as work:
        view = filled(args.units, Path(work))
    best, size = float("inf"), 0
    for _ in range(args.repeat):
        started = time.perf_counter()
        rendered = render(view.snapshot())
        best = min(best, time.perf_counter() - started)
        size = rendered.plain_length()
    print(
        f"{args.units} units: render {best * 1000:.0f} ms (best of {args.repeat}), exposition {size / 1e6:.1f} MB"
    )


if __name__ == "__main__":
    main()
