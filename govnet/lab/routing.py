"""The kernel state a `LabTopology` asks for, as `ip -batch` lines per namespace (pure, no I/O).

Static routes only, no routing daemon: a unit routes the lab network via its parent, an agg has
a /32 per unit plus "the rest via the core", the core one route per agg block.  No namespace gets
a default route, so nothing can leave the lab; an agg also holds an ``unreachable`` route for its
own block so a missing unit namespace answers "net unreachable" instead of looping.

The prober routes each VRF's quarter to the core of that VRF, and sends packets *sourced* from
its party/extranet address through that VRF (policy rules), so isolation probes really enter the
party network.  The infrastructure quarter (caller link) is routed back by every core.

Every veth end gets a MAC derived from its address and its peer a permanent neighbour entry, so
the lab sends no ARP at all.  This matters past ~150 units: the kernel's ARP table is one table
for all namespaces, and dynamic entries beyond ``gc_thresh3`` (1024 by default, settable only in
the host's namespace) are refused with "neighbor table overflow" — silently unreachable units.
Permanent entries do not count against that limit.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from ipaddress import IPv4Interface, IPv4Network

from govnet.lab.topology import (
    LAN_IFNAME,
    VRFS,
    HostLink,
    LabTopology,
    Link,
    Route,
    agg_block,
)

GUARD_METRIC = 4242
HOST_ROUTE_METRIC = 100
PROBER_TABLE_BASE = 100


def veth_lines(topology: LabTopology) -> list[str]:
    """`ip -batch` lines (run in the caller) creating every link directly in its namespaces."""
    lines = []
    for link in topology.links:
        lines.append(
            f"link add {link.a_ifname} address {mac(link.a_addr)} netns {topology.netns(link.a, link.vrf)} "
            f"type veth peer name {link.b_ifname} address {mac(link.b_addr)} "
            f"netns {topology.netns(link.b, link.vrf)}"
        )
    host = topology.host_link
    lines.append(
        f"link add {host.ifname} address {mac(host.host_addr)} type veth peer name {host.prober_ifname} "
        f"address {mac(host.prober_addr)} netns {topology.netns(topology.prober)}"
    )
    return lines


def mac(addr: IPv4Interface) -> str:
    """The MAC of the veth end holding ``addr``: locally administered, ``02:00`` + the address.

    >>> mac(IPv4Interface("198.18.2.1/31"))
    '02:00:c6:12:02:01'
    """
    return "02:00:" + ":".join(f"{b:02x}" for b in addr.ip.packed)


def neighbour(peer: IPv4Interface, ifname: str) -> str:
    """The permanent neighbour entry for ``peer`` on ``ifname`` (an `ip -batch` line)."""
    return f"neigh replace {peer.ip} lladdr {mac(peer)} dev {ifname} nud permanent"


def _host_neighbour(host: HostLink) -> str:
    return neighbour(host.prober_addr, host.ifname)


def host_lines(topology: LabTopology) -> list[str]:
    """Caller-side address and the one route into the lab, via the lab's own veth."""
    host = topology.host_link
    return [
        f"addr replace {host.host_addr} dev {host.ifname}",
        f"link set {host.ifname} up",
        _host_neighbour(host),
        f"route replace {topology.network} via {host.prober_addr.ip} dev {host.ifname} "
        f"metric {HOST_ROUTE_METRIC}",
    ]


def routes(topology: LabTopology) -> list[Route]:
    """Every static route of the lab, in every namespace."""
    out: list[Route] = []
    net = topology.network
    for link in topology.links:
        child = topology.node(link.b)
        a_ns, b_ns = topology.netns(link.a, link.vrf), topology.netns(link.b, link.vrf)
        if child.role == "prober":
            out.append(Route(a_ns, topology.quarter(3), link.b_addr.ip, link.a_ifname))
            out.append(Route(b_ns, topology.vrf_range(link.vrf), link.a_addr.ip, link.b_ifname))
            if link.vrf != "intranet":
                table = PROBER_TABLE_BASE + VRFS.index(link.vrf)
                out.append(Route(b_ns, net, link.a_addr.ip, link.b_ifname, table=table))
            continue
        src = child.address(link.vrf)
        out.append(Route(b_ns, net, link.a_addr.ip, link.b_ifname, src=src))
        if child.role == "agg":
            out.append(Route(a_ns, agg_block(topology, child.name, link.vrf), link.b_addr.ip, link.a_ifname))
            out.append(
                Route(
                    b_ns, agg_block(topology, child.name, link.vrf), kind="unreachable", metric=GUARD_METRIC
                )
            )
        else:
            out.append(Route(a_ns, IPv4Network(f"{src}/32"), link.b_addr.ip, link.a_ifname))
    return out


def _addr_lines(topology: LabTopology) -> dict[str, list[str]]:
    lines: dict[str, list[str]] = {ns: ["link set lo up"] for ns in topology.namespaces()}
    for node in topology.nodes:
        for vrf, addr in node.addresses:
            lines[topology.netns(node.name, vrf)].append(f"addr replace {addr}/32 dev lo")
        if node.role == "unit":
            ns = topology.netns(node.name)
            lines[ns] += [
                f"link add {LAN_IFNAME} type veth peer name {LAN_IFNAME}-peer",
                f"link set {LAN_IFNAME}-peer up",
                f"link set {LAN_IFNAME} up",
            ]
    for link in topology.links:
        ends = _ends(topology, link)
        for (ns, ifname, ifaddr), (_, _, peer) in zip(ends, reversed(ends), strict=True):
            lines[ns] += [
                f"addr replace {ifaddr} dev {ifname}",
                f"link set {ifname} up",
                neighbour(peer, ifname),
            ]
    prober_ns = topology.netns(topology.prober)
    host = topology.host_link
    lines[prober_ns] += [
        f"addr replace {host.prober_addr} dev {host.prober_ifname}",
        f"link set {host.prober_ifname} up",
        neighbour(host.host_addr, host.prober_ifname),
    ]
    for vrf in VRFS[1:]:
        if vrf in topology.node(topology.prober).vrfs:
            table = PROBER_TABLE_BASE + VRFS.index(vrf)
            src = topology.prober_address(vrf)
            lines[prober_ns].append(f"rule add from {src} lookup {table} priority {table}")
    return lines


def _ends(topology: LabTopology, link: Link) -> list[tuple[str, str, IPv4Interface]]:
    return [
        (topology.netns(link.a, link.vrf), link.a_ifname, link.a_addr),
        (topology.netns(link.b, link.vrf), link.b_ifname, link.b_addr),
    ]


def netns_lines(topology: LabTopology) -> dict[str, list[str]]:
    """Per namespace: loopback, addresses, links up, routes, rules.

    Everything is idempotent (``replace``) except ``link add`` / ``rule add``, whose only
    failure on a repair run is "File exists", which `netns` tolerates.
    """
    lines = _addr_lines(topology)
    for route in routes(topology):
        lines[route.netns].append("route replace " + " ".join(route.ip_args()))
    return lines


def forwarding_namespaces(topology: LabTopology) -> list[str]:
    """Namespaces that route for others (core, aggs, prober) and need ``ip_forward=1``."""
    names = [topology.netns(topology.prober)]
    for node in topology.nodes:
        if node.role in ("core", "agg"):
            names += [topology.netns(node.name, v) for v in node.vrfs]
    return names


def held_down(topology: LabTopology, faults: Iterable[Mapping[str, object]]) -> set[tuple[str, str]]:
    """(namespace, ifname) of every link end that ``link-down``/``device-down`` faults keep down."""
    ends: set[tuple[str, str]] = set()
    for fault in faults:
        node, kind = str(fault["node"]), str(fault["kind"])
        if kind not in ("link-down", "device-down"):
            continue
        for link in topology.links:
            if link.b == node or (kind == "device-down" and link.a == node):
                ends.add((topology.netns(link.a, link.vrf), link.a_ifname))
                ends.add((topology.netns(link.b, link.vrf), link.b_ifname))
        if kind == "device-down" and topology.node(node).role == "unit":
            ends.add((topology.netns(node), LAN_IFNAME))
    return ends
