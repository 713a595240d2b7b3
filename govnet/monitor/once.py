"""``govnet probe``: one ICMP cycle over the inventory, states resolved as the daemon would.

The probe is built as the daemon builds it (`make_probe`: the config's kinds, the segment's
block before the top-level one) and its results recorded by the kind's own rule.
"""

from __future__ import annotations

import asyncio
from typing import Any

from govnet.inventory.models import Inventory
from govnet.inventory.select import select
from govnet.monitor.config import DaemonConfig
from govnet.monitor.setup import make_probe
from govnet.monitor.site import WatchedSite
from govnet.monitor.state import Tracker
from govnet.monitor.targets import icmp_targets
from govnet.probes.base import ProbeResult

LAB_NETWORKS = ["127.0.0.0/8", "198.18.0.0/15"]


async def probe_once(
    config: DaemonConfig, inventory: Inventory, segments: list[str]
) -> tuple[list[dict[str, Any]], int]:
    """(rows for the units and nodes on ``segments``, how many were refused by allowed_networks)."""
    owned_units = select(inventory, shard=config.shard_spec)  # every unit without a shard
    site = WatchedSite.from_inventory(inventory, [u.id for u in owned_units])
    owned = site.owned
    tracker = Tracker(site, 1, owned)
    results: dict[tuple[str, str], ProbeResult] = {}
    refused = 0
    kind = config.kinds["icmp"]
    for segment in segments:
        found = icmp_targets(config, site, owned, segment)
        refused += len(found.refused)
        if not found.targets:
            continue  # nothing allowed on this segment: not even a socket is opened
        probe = make_probe(config, "icmp", segment)
        try:
            found_results = await probe.run(found.targets, max(2.0, config.deadline("icmp", segment)))
        finally:
            await probe.close()
        results.update({(result.target.unit, segment): result for result in found_results})
        kind.record(kind.empty, segment, found_results, tracker)
    rows = []
    for (element, segment), entry in tracker.entries.items():
        if segment not in segments:
            continue
        seen = results.get((element, segment))
        rows.append(
            {
                "unit": element,
                "segment": segment,
                "node": not entry.is_unit,
                "state": entry.state if seen is not None else "unknown",
                "loss_ratio": seen.loss_ratio if seen else None,
                "rtt_seconds": seen.rtt_seconds if seen else None,
                "detail": (seen.detail if seen else "not probed: outside allowed_networks"),
            }
        )
    return rows, refused


def run(config: DaemonConfig, inventory: Inventory, segments: list[str]) -> tuple[list[dict[str, Any]], int]:
    return asyncio.run(probe_once(config, inventory, segments))
