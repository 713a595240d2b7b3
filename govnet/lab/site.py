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
from ipaddress import IPv4Address
from pathlib import Path
from typing import Any

from govnet.errors import LabError
from govnet.inventory.models import Device, Inventory, SegmentName, Unit
from govnet.lab import healthsim
from govnet.lab.devsim.quirks import QUIRKS
from govnet.lab.topology import LAN_IFNAME, UPLINK_IFNAME, VRFS, LabTopology

MAX_UNITS = 1000
DEFAULT_UNITS = 24
LAB_USER = "govnet"
LAB_SNMP_USER = "govnet-mon"


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


def is_clone(inv: Inventory, unit: Unit) -> bool:
    return inv.unit(unit.id) is None


def device_name(inv: Inventory, unit: Unit) -> str:
    """The site's device name; clones get the clone suffix so names stay unique."""
    name = unit.device.name
    return f"{name}-{unit.id.rsplit('-', 1)[1].upper()}" if is_clone(inv, unit) else name


def _membership(unit: Unit, segment: SegmentName, address: IPv4Address, vlan: int | None) -> dict[str, Any]:
    member = unit.segments[segment]
    out: dict[str, Any] = {"address": f"{address}/32"}
    if vlan is not None:
        out["vlan"] = vlan
    if member.wave is not None:
        out["wave"] = member.wave
    return out


def legacy_ssh_units(units: Sequence[LabUnit]) -> set[str]:
    """Lab ids of the units whose device offers only legacy SSH algorithms (devsim ``ssh:
    legacy``; the lab inventory says ``ssh: {profile: legacy}`` for them): every unit whose site
    device is ``legacy`` (the IOS 15 Catalysts), and the first unit of each platform, so that each
    vendor's login is tried with SHA-1 key exchange and ``ssh-rsa`` too."""
    legacy = {u.id for u in units if u.unit.device.ssh.profile == "legacy"}
    first: dict[str, str] = {}
    for u in units:
        first.setdefault(u.unit.device.platform, u.id)
    return legacy | set(first.values())


REFUSING_QUIRKS = frozenset({"vrp8", "small-input-buffer"})
"""Quirks govnet answers, by design, by refusing the device or failing the push
(``govnet/devices/conformance.md``): a default lab leaves them to the tests that ask for them,
so that its rollouts can succeed."""


def quirk_units(units: Sequence[LabUnit]) -> dict[str, tuple[str, ...]]:
    """Lab id → the real-device quirks (``devsim.quirks.QUIRKS``) its device shows.

    Per platform, one unit shows every registered quirk but the refusing ones, so that each
    platform's rollouts meet them all: the last of the units on the most segments, never the
    platform's first unit (tests and engineers that take a platform's first unit meet a plain
    device, as stock netmiko expects; ``legacy_ssh_units`` takes it for another lesson), so a
    platform with one unit in the lab has no quirky unit. A quirk that does not apply to a
    platform is ignored by that platform's shell.
    """
    names = tuple(name for name in QUIRKS if name not in REFUSING_QUIRKS)
    first: dict[str, str] = {}
    for u in units:
        first.setdefault(u.unit.device.platform, u.id)
    chosen: dict[str, LabUnit] = {}
    for u in units:
        platform = u.unit.device.platform
        best = chosen.get(platform)
        if u.id != first[platform] and (best is None or len(u.segments) >= len(best.segments)):
            chosen[platform] = u
    return {u.id: names for u in chosen.values()} if names else {}


def _device(device: Device, name: str, host: IPv4Address, interfaces: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {"name": name, "role": device.role, "platform": device.platform, "host": str(host)}
    if device.model:
        out["model"] = device.model
    out["uplink"] = UPLINK_IFNAME
    out["interfaces"] = interfaces
    return out


def lab_inventory(
    inv: Inventory, units: Sequence[LabUnit], topology: LabTopology, secrets_dir: Path
) -> dict[str, Any]:
    """The lab's own inventory: the site's units, with lab addresses and the lab's secrets."""
    used = [v for v in VRFS if v in topology.node("core").vrfs]
    segments: dict[str, Any] = {}
    for vrf in used:
        plan = inv.segments[vrf]
        segments[vrf] = {"description": plan.description, "supernets": [str(topology.vrf_range(vrf))]}
        if plan.vrf:
            segments[vrf]["vrf"] = plan.vrf
        if plan.vlans:
            segments[vrf]["vlans"] = {"first": plan.vlans.first, "last": plan.vlans.last}
    secret = f"file:{secrets_dir}/"
    nodes: list[dict[str, Any]] = []
    core_site = next(n for n in inv.nodes if n.parent is None)
    for site_id, lab_node in [(core_site.id, "core"), *_aggs(units)]:
        node = topology.node(lab_node)
        site_node = inv.element(site_id)
        assert site_node is not None
        entry: dict[str, Any] = {
            "id": site_node.id,
            "name": site_node.name,
            "slug": site_node.slug,
            "kind": site_node.kind,
        }
        if site_node.parent:
            entry["parent"] = site_node.parent
        entry["segments"] = {v: {"address": f"{node.address(v)}/32"} for v in node.vrfs}
        entry["devices"] = [
            _device(
                site_node.device, site_node.device.name, node.mgmt, [UPLINK_IFNAME] if node.parent else []
            )
            | {"snmp": None}  # the lab runs no SNMP agent on the core and aggregation nodes
        ]
        nodes.append(entry)
    lab_unit_rows: list[dict[str, Any]] = []
    legacy = legacy_ssh_units(units)
    vlans: dict[tuple[str, str], int] = {}
    for lab_unit in units:
        unit, node = lab_unit.unit, topology.node(lab_unit.node)
        row: dict[str, Any] = {"id": unit.id, "name": unit.name, "slug": unit.slug, "kind": unit.kind}
        if unit.groups:
            row["groups"] = list(unit.groups)
        row["parent"] = lab_unit.agg
        row["segments"] = {
            s: _membership(unit, s, node.address(s), _vlan(inv, s, vlans, lab_unit.agg))
            for s in unit.segments
        }
        row["devices"] = [
            _device(unit.device, device_name(inv, unit), node.mgmt, [UPLINK_IFNAME, LAN_IFNAME])
            # what the unit's health agent reports installed (the health probe checks it)
            | {
                "model": healthsim.profile(unit.device.platform).model,
                "serial": healthsim.serial_of(lab_unit.node, unit.device.platform),
            }
        ]
        if lab_unit.id in legacy:
            row["devices"][0]["ssh"] = {"profile": "legacy"}
        for key in ("registration", "agreement"):
            value = getattr(unit, key)
            if value is not None:
                row[key] = value.model_dump(mode="json")
        if unit.services:
            row["services"] = [s.model_dump(mode="json", exclude_none=True) for s in unit.services]
        lab_unit_rows.append(row)
    uplinks = []
    for uplink in inv.uplinks:
        link = next((k for k in topology.links if k.b == "prov"), None)
        if uplink.segment == "party" and link is not None:
            uplinks.append(
                {
                    "id": uplink.id,
                    "name": uplink.name,
                    "segment": "party",
                    "node": core_site.id,
                    "interface": link.a_ifname,
                    "local": str(link.a_addr),
                    "remote": str(link.b_addr.ip),
                    "provider": uplink.provider,
                }
            )
    return {
        "site": {
            "name": f"{inv.site.name}（实验室）",
            "slug": f"{inv.site.slug}-lab",
            "operator": inv.site.operator,
            "management": [str(topology.vrf_range("intranet"))],
            "syslog": [str(topology.host_link.host_addr.ip)],
            "ntp": [str(topology.host_link.host_addr.ip)],
        },
        "segments": segments,
        "defaults": {
            "device": {
                "credentials": {
                    "username": LAB_USER,
                    "password": f"{secret}ssh-password",
                    "enable": f"{secret}enable-secret",
                },
                "snmp": {
                    "version": "v3",
                    "user": LAB_SNMP_USER,
                    "auth_protocol": "sha",
                    "auth_key": f"{secret}snmp-auth",
                    "priv_protocol": "aes",
                    "priv_key": f"{secret}snmp-priv",
                },
            }
        },
        "groups": {name: {} for name in sorted({g for u in units for g in u.unit.groups})},
        "nodes": nodes,
        "units": lab_unit_rows,
        "uplinks": uplinks,
    }


def _aggs(units: Sequence[LabUnit]) -> list[tuple[str, str]]:
    seen: dict[str, str] = {}
    for lab_unit in units:
        seen.setdefault(lab_unit.agg, lab_unit.agg_node)
    return list(seen.items())


def _vlan(inv: Inventory, segment: SegmentName, used: dict[tuple[str, str], int], agg: str) -> int | None:
    """VLANs are renumbered per aggregation node in the lab (clones would otherwise collide)."""
    plan = inv.segments[segment].vlans
    if plan is None:
        return None
    vlan = used.get((segment, agg), plan.first - 1) + 1
    if vlan > plan.last:
        return None
    used[(segment, agg)] = vlan
    return vlan
