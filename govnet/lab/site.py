"""From a site inventory to a lab twin: which units, which lab names, which addresses.

The lab is the shipped site scaled to N units: a deterministic choice that covers every
segment, platform, aggregation node, extranet wave and unit kind first, then round-robin over
the aggregation nodes. Past the site's own size, units are cloned (``-c2``, ``-c3`` …) so the
full-city figure of 255 units can be reached. The lab's inventory keeps the site's ids, names,
kinds, platforms and paperwork, and swaps every address for one inside the lab network.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from govnet.errors import LabError
from govnet.inventory.models import Inventory, Unit

MAX_UNITS = 1000
DEFAULT_UNITS = 24


@dataclass(frozen=True)
class LabUnit:
    """A unit of the lab: the site unit it copies, its id in the lab and its node name."""

    unit: Unit
    id: str
    node: str
    agg: str
    """The site's aggregation node id."""
    agg_node: str

    @property
    def segments(self) -> tuple[str, ...]:
        return tuple(self.unit.segments)


def _coverage_key(unit: Unit) -> list[str]:
    keys = [f"platform:{unit.device.platform}", f"kind:{unit.kind}", f"parent:{unit.parent}"]
    keys += [f"segment:{s}" for s in unit.segments]
    keys.append("segments:" + "+".join(sorted(unit.segments)))
    extranet = unit.segments.get("extranet")
    if extranet is not None:
        keys.append(f"wave:{extranet.wave}")
    if unit.services:
        keys.append("services")
    return keys


def choose_units(inv: Inventory, count: int) -> list[Unit]:
    """``count`` units of the site, covering its variety first, in a stable order.

    Greedy: take the unit that adds the most not-yet-covered traits (platform, kind, parent,
    segment mix, wave, services), ties broken by inventory order; once everything is covered,
    take units round-robin over parents so every aggregation node keeps a share.
    """
    if not 1 <= count <= MAX_UNITS:
        raise LabError(f"--units must be between 1 and {MAX_UNITS}")
    pool = list(inv.units)
    chosen: list[Unit] = []
    covered: set[str] = set()
    while pool and len(chosen) < count:
        best = max(pool, key=lambda u: (len(set(_coverage_key(u)) - covered), -pool.index(u)))
        if not set(_coverage_key(best)) - covered:
            break
        chosen.append(best)
        covered |= set(_coverage_key(best))
        pool.remove(best)
    by_parent: dict[str | None, list[Unit]] = defaultdict(list)
    for unit in pool:
        by_parent[unit.parent].append(unit)
    queues = list(by_parent.values())
    while len(chosen) < count and any(queues):
        for queue in queues:
            if queue and len(chosen) < count:
                chosen.append(queue.pop(0))
    base = list(chosen) or list(inv.units)
    copy = 2
    while len(chosen) < count:
        for unit in base:
            if len(chosen) >= count:
                break
            chosen.append(
                unit.model_copy(
                    update={
                        "id": f"{unit.id}-c{copy}",
                        "slug": f"{unit.slug}-c{copy}",
                        "name": f"{unit.name}（{copy}）",
                    }
                )
            )
        copy += 1
    return chosen


def lab_units(inv: Inventory, units: Sequence[Unit]) -> list[LabUnit]:
    """Give each chosen unit a short node name and place it under its site aggregation node."""
    aggs: dict[str, str] = {}
    out = []
    for index, unit in enumerate(units, start=1):
        agg = _aggregation(inv, unit)
        agg_node = aggs.setdefault(agg, f"a{len(aggs) + 1}")
        out.append(LabUnit(unit, unit.id, f"u{index:03d}", agg, agg_node))
    return out


def _aggregation(inv: Inventory, unit: Unit) -> str:
    """The nearest aggregation node above ``unit`` (units hang off aggregation nodes in the lab)."""
    parent = inv.element(unit.parent) if unit.parent else None
    chain = [parent, *inv.parent_chain(parent.id)] if parent is not None else []
    for element in chain:
        if element is not None and element.kind == "aggregation":
            return element.id
    raise LabError(
        f"unit {unit.id} has no aggregation node above it; the lab needs core → aggregation → unit"
    )
