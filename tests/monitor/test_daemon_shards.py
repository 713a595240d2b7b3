"""Sharded daemons on the lab twin: two and three real daemons (``govnet daemon --shard K/N``)
together export ``govnet_unit_up`` for every (unit, segment) of the inventory exactly once.

Nodes (core, aggregation) are watched by every shard (a unit's state needs its parent's); units
by exactly one. The union is read from each daemon's /metrics once every daemon has measured all
it owns. The 2-shard run also shows the flag overriding the config's own ``shard:``.
"""

from __future__ import annotations

import json
import signal
from collections import Counter
from functools import partial
from pathlib import Path

import pytest

from tests.monitor.daemonkit import DaemonProcess, Lab, Metrics, govnet


def inventory_pairs(lab: Lab) -> set[tuple[str, str]]:
    listed = json.loads(
        govnet(lab.state, "inventory", "list", "--inventory", str(lab.inventory), "--json").stdout
    )
    return {(u["id"], s) for u in listed for s in u["segments"]}


def measured(daemon: DaemonProcess) -> Metrics | None:
    """The daemon's metrics once every element it watches has a ``govnet_unit_up`` series."""
    units = daemon.status()["units"]
    if not units or any(u["state"] == "unknown" for u in units):
        return None
    metrics = daemon.metrics()  # rendered once per change: may lag the status a moment
    return metrics if len(metrics.select("govnet_unit_up")) == len(units) else None


def reloaded(daemon: DaemonProcess) -> str | None:
    lines = [line for line in daemon.log_text().splitlines() if "reloaded" in line]
    return lines[-1] if lines else None


@pytest.mark.parametrize("count", [2, 3])
def test_shards_cover_the_inventory_exactly_once(lab: Lab, tmp_path: Path, count: int) -> None:
    expected = inventory_pairs(lab)
    unit_ids = {u for u, _ in expected}
    daemons = []
    try:
        for k in range(1, count + 1):
            directory = tmp_path / f"shard{k}"
            directory.mkdir()
            # traps off: one trap port per lab; the file's shard is overridden by the flag
            config = lab.daemon_config(directory, traps=None, shard=f"{count}/{count}")
            daemons.append(DaemonProcess(config, directory / "daemon.log", "--shard", f"{k}/{count}").start())
        seen: Counter[tuple[str, str]] = Counter()
        for k, daemon in enumerate(daemons, start=1):
            metrics = daemon.until(partial(measured, daemon), 180, f"shard {k}/{count} measured all it owns")
            assert metrics.select("govnet_build_info")[0][0]["shard"] == f"{k}/{count}"
            pairs = {(ls["unit"], ls["segment"]) for ls, _ in metrics.select("govnet_unit_up")}
            own = {p for p in pairs if p[0] in unit_ids}
            assert own, f"shard {k}/{count} exports no unit"
            assert metrics.get1("govnet_units_watched") == len({u for u, _ in own})
            seen.update(own)
        assert set(seen) == expected
        assert [p for p, n in seen.items() if n != 1] == []
        # SIGHUP reloads the config (whose shard: says N/N): the flag still wins
        first = daemons[0]
        watched = first.metrics().get1("govnet_units_watched")
        first.signal(signal.SIGHUP)
        line = first.until(partial(reloaded, first), 60, "shard 1 reloaded")
        assert f"watching {watched:.0f} units" in line
        assert first.metrics().select("govnet_build_info")[0][0]["shard"] == f"1/{count}"
    finally:
        for daemon in daemons:
            if daemon.alive():
                daemon.stop()
