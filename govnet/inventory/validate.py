"""Checks beyond the schema: what makes an inventory wrong for a network engineer.

The models say a value has the right shape; these checks say the site makes sense: ids
and addresses are unique, addresses sit inside their segment's plan, the party network is
isolated from the intranet (address space and VRF), the topology is a tree, references
resolve. Each finding carries the path of the value it is about; the loader turns that path
into ``FILE:LINE``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from ipaddress import IPv4Address, IPv4Interface
from itertools import combinations

from govnet.inventory.contacts import named
from govnet.inventory.merge import suggest
from govnet.inventory.models import Inventory, Node, SegmentPlan, Unit

Path = tuple[int | str, ...]


@dataclass(frozen=True)
class Finding:
    path: Path
    message: str
    warning: bool = False


def check(inv: Inventory, today: date | None = None) -> list[Finding]:
    """Every semantic problem (errors and warnings) of a schema-valid inventory."""
    return [
        *_segment_plans(inv),
        *_unique(inv),
        *_topology(inv),
        *_memberships(inv),
        *_devices(inv),
        *_uplinks_and_systems(inv),
        *_contacts(inv),
        *_paperwork(inv, today or date.today()),
    ]


def _elements(inv: Inventory) -> Iterator[tuple[Path, Node | Unit]]:
    for index, node in enumerate(inv.nodes):
        yield ("nodes", index), node
    for index, unit in enumerate(inv.units):
        yield ("units", index), unit


def _segment_plans(inv: Inventory) -> Iterator[Finding]:
    plans = inv.segments
    for (name_a, plan_a), (name_b, plan_b) in combinations(plans.items(), 2):
        for net_a in plan_a.supernets:
            for net_b in plan_b.supernets:
                if net_a.overlaps(net_b):
                    why = " (the party network must be isolated)" if "party" in (name_a, name_b) else ""
                    yield Finding(
                        ("segments", name_b, "supernets"), f"{net_b} overlaps {name_a} supernet {net_a}{why}"
                    )
    for name, plan in plans.items():
        # In-band management on the intranet is a normal design; on party or extranet, never.
        for net in plan.supernets if name != "intranet" else []:
            for mgmt in inv.site.management:
                if net.overlaps(mgmt):
                    yield Finding(
                        ("segments", name, "supernets"), f"{net} overlaps management network {mgmt}"
                    )
        if plan.vlans is not None and plan.vlans.first > plan.vlans.last:
            yield Finding(("segments", name, "vlans"), "first VLAN is above last VLAN")
    party = plans.get("party")
    if party is not None:
        if party.vrf is None:
            yield Finding(("segments", "party", "vrf"), "the party segment needs a VRF to stay isolated")
        for name, plan in plans.items():
            if name != "party" and plan.vrf is not None and plan.vrf == party.vrf:
                yield Finding(("segments", name, "vrf"), f"VRF {plan.vrf} is the party network's VRF")


def _unique(inv: Inventory) -> Iterator[Finding]:
    seen: dict[tuple[str, str], Path] = {}

    def claim(kind: str, value: str, path: Path) -> Iterator[Finding]:
        first = seen.setdefault((kind, value), path)
        if first != path:
            yield Finding(path, f"duplicate {kind} '{value}' (also at {_show(first)})")

    for path, element in _elements(inv):
        yield from claim("id", element.id, (*path, "id"))
        yield from claim("slug", element.slug, (*path, "slug"))
        yield from claim("name", element.name, (*path, "name"))
        intranet = element.segments.get("intranet")
        for d_index, device in enumerate(element.devices):
            dpath = (*path, "devices", d_index)
            yield from claim("device name", device.name.lower(), (*dpath, "name"))
            if intranet is None or device.host != intranet.address.ip:  # in-band: its own intranet address
                yield from claim("address", str(device.host), (*dpath, "host"))
        for segment, member in element.segments.items():
            yield from claim("address", str(member.address.ip), (*path, "segments", segment, "address"))
    for index, uplink in enumerate(inv.uplinks):
        yield from claim("id", uplink.id, ("uplinks", index, "id"))
        yield from claim("address", str(uplink.local.ip), ("uplinks", index, "local"))
    for index, system in enumerate(inv.systems):
        yield from claim("id", system.id, ("systems", index, "id"))
        yield from claim("address", str(system.host), ("systems", index, "host"))


def _show(path: Path) -> str:
    return ".".join(f"[{p}]" if isinstance(p, int) else p for p in path).replace(".[", "[")


def _topology(inv: Inventory) -> Iterator[Finding]:
    ids = {e.id: e for _, e in _elements(inv)}
    for path, element in _elements(inv):
        if element.parent is None:
            if isinstance(element, Unit):
                yield Finding((*path, "parent"), "a unit needs a parent (the node it hangs off)")
            continue
        parent = ids.get(element.parent)
        if parent is None:
            yield Finding(
                (*path, "parent"), f"unknown parent '{element.parent}'{suggest(element.parent, ids)}"
            )
            continue
        if element.parent == element.id:
            yield Finding((*path, "parent"), "an element cannot be its own parent")
            continue
        chain = inv.parent_chain(element.id)
        if (
            chain
            and chain[-1].parent is not None
            and chain[-1].parent in {element.id, *(c.id for c in chain)}
        ):
            cycle = " -> ".join([element.id, *(c.id for c in chain), chain[-1].parent])
            yield Finding((*path, "parent"), f"cycle in the parent chain: {cycle}")
            continue
        for segment in element.segments:
            if parent.segments and segment not in parent.segments:
                yield Finding(
                    (*path, "segments", segment), f"parent '{parent.id}' does not carry segment {segment}"
                )
    cores = [n for n in inv.nodes if n.parent is None]
    if inv.nodes and not cores:
        yield Finding(("nodes",), "no node without a parent: the topology has no root (city core)")


def _in_plan(address: IPv4Address, plan: SegmentPlan) -> bool:
    return any(address in net for net in [*plan.supernets, *plan.interconnect])


def _memberships(inv: Inventory) -> Iterator[Finding]:
    vlans: dict[tuple[str, str | None, int], Path] = {}
    for path, element in _elements(inv):
        for segment, member in element.segments.items():
            mpath = (*path, "segments", segment)
            plan = inv.segments.get(segment)
            if plan is None:
                yield Finding(mpath, f"segment {segment} has no address plan under 'segments'")
                continue
            yield from _address_checks(member.address, plan, segment, (*mpath, "address"))
            vrf = member.vrf or plan.vrf
            if segment == "party" and vrf is None:
                yield Finding(mpath, "party unit without a VRF (set segments.party.vrf or the unit's vrf)")
            party_plan = inv.segments.get("party")
            party_vrf = party_plan.vrf if party_plan else None
            if segment != "party" and member.vrf is not None and member.vrf == party_vrf:
                yield Finding((*mpath, "vrf"), f"VRF {member.vrf} is the party network's VRF (isolation)")
            if segment == "party" and member.vrf is not None and member.vrf != plan.vrf:
                yield Finding(
                    (*mpath, "vrf"), f"party membership uses VRF {member.vrf}, not the party VRF {plan.vrf}"
                )
            if segment == "extranet" and member.wave is None and isinstance(element, Unit):
                yield Finding(mpath, "an extranet unit needs a wave (the migration batch it moves in)")
            if segment != "extranet" and member.wave is not None:
                yield Finding((*mpath, "wave"), "waves exist only on the extranet")
            if member.vlan is not None:
                if plan.vlans and not plan.vlans.first <= member.vlan <= plan.vlans.last:
                    yield Finding(
                        (*mpath, "vlan"),
                        f"VLAN {member.vlan} is outside the {segment} range {plan.vlans.first}-{plan.vlans.last}",
                    )
                key = (segment, element.parent, member.vlan)
                first = vlans.setdefault(key, (*mpath, "vlan"))
                if first != (*mpath, "vlan"):
                    yield Finding(
                        (*mpath, "vlan"),
                        f"VLAN {member.vlan} already used under the same parent at {_show(first)}",
                    )


def _address_checks(address: IPv4Interface, plan: SegmentPlan, segment: str, path: Path) -> Iterator[Finding]:
    if not _in_plan(address.ip, plan):
        nets = ", ".join(str(n) for n in plan.supernets)
        yield Finding(path, f"{address.ip} is outside the {segment} plan ({nets})")
    elif address.network.prefixlen < 31 and address.ip in (
        address.network.network_address,
        address.network.broadcast_address,
    ):
        yield Finding(path, f"{address} is the network or broadcast address of its subnet")


def _devices(inv: Inventory) -> Iterator[Finding]:
    for path, element in _elements(inv):
        for d_index, device in enumerate(element.devices):
            dpath = (*path, "devices", d_index)
            if not any(device.host in net for net in inv.site.management):
                nets = ", ".join(str(n) for n in inv.site.management)
                yield Finding((*dpath, "host"), f"{device.host} is outside the management networks ({nets})")
            for segment in device.segments or []:
                if segment not in element.segments:
                    yield Finding(
                        (*dpath, "segments"), f"device carries {segment} but its owner is not on {segment}"
                    )
        for segment in element.segments:
            if not element.devices_on(segment):
                yield Finding((*path, "devices"), f"no device carries segment {segment}")
        if isinstance(element, Unit):
            for s_index, service in enumerate(element.services):
                if service.segment not in element.segments:
                    yield Finding(
                        ("units", *path[1:], "services", s_index, "segment"),
                        f"unit is not on {service.segment}",
                    )


def _uplinks_and_systems(inv: Inventory) -> Iterator[Finding]:
    ids = {e.id: e for _, e in _elements(inv)}
    for index, uplink in enumerate(inv.uplinks):
        path: Path = ("uplinks", index)
        owner = ids.get(uplink.node)
        if owner is None:
            yield Finding((*path, "node"), f"unknown node '{uplink.node}'{suggest(uplink.node, ids)}")
        elif uplink.segment not in owner.segments:
            yield Finding((*path, "segment"), f"node '{owner.id}' does not carry segment {uplink.segment}")
        plan = inv.segments.get(uplink.segment)
        if plan is not None:
            yield from _address_checks(uplink.local, plan, uplink.segment, (*path, "local"))
            if not _in_plan(uplink.remote, plan):
                yield Finding(
                    (*path, "remote"),
                    f"{uplink.remote} is in neither the {uplink.segment} plan nor its interconnect",
                )
            if uplink.remote not in uplink.local.network:
                yield Finding(
                    (*path, "remote"), f"{uplink.remote} is not on the local subnet {uplink.local.network}"
                )
    for index, system in enumerate(inv.systems):
        path = ("systems", index)
        agency = inv.unit(system.agency)
        if agency is None:
            yield Finding((*path, "agency"), f"unknown unit '{system.agency}'{suggest(system.agency, ids)}")
        elif system.segment not in agency.segments:
            yield Finding((*path, "segment"), f"agency '{agency.id}' is not on {system.segment}")
        plan = inv.segments.get(system.segment)
        if plan is not None and not _in_plan(system.host, plan):
            yield Finding((*path, "host"), f"{system.host} is outside the {system.segment} plan")
        for c_index, consumer in enumerate(system.consumers):
            if inv.unit(consumer) is None:
                yield Finding(
                    (*path, "consumers", c_index), f"unknown unit '{consumer}'{suggest(consumer, ids)}"
                )


def _contacts(inv: Inventory) -> Iterator[Finding]:
    """Every contact named is defined, and named once per list; an unnamed one is a warning."""
    seen: set[tuple[Path, str]] = set()
    for path, name in named(inv):
        if name not in inv.contacts:
            yield Finding(path, f"unknown contact '{name}'{suggest(name, inv.contacts)}")
        elif (path[:-1], name) in seen:
            yield Finding(path, f"contact '{name}' listed twice")
        seen.add((path[:-1], name))
    used = {name for _, name in seen}
    for name in inv.contacts:
        if name not in used:
            yield Finding(("contacts", name), "named nowhere: this contact gets no alert", warning=True)


def _paperwork(inv: Inventory, today: date) -> Iterator[Finding]:
    for index, unit in enumerate(inv.units):
        for missing in unit.paperwork_missing:
            what = (
                "application-system registration (备案)"
                if missing == "registration"
                else "signed security-responsibility agreement"
            )
            yield Finding(
                ("units", index),
                f"no {what}; rollouts to this unit will be refused",
                warning=True,
            )
        if unit.agreement and unit.agreement.expires and unit.agreement.expires < today:
            yield Finding(
                ("units", index, "agreement", "expires"),
                f"agreement expired on {unit.agreement.expires}",
                warning=True,
            )
        if unit.agreement and unit.agreement.signed > today:
            yield Finding(("units", index, "agreement", "signed"), "agreement is dated in the future")
