"""The kernel state a `Topology` asks for, as `ip -batch` lines per namespace (pure, no I/O).

Static routes only, no routing daemon: a unit routes the lab network via its parent, an agg has
a /32 per unit plus "the rest via the core", the core one route per agg block.  No namespace gets
a default route, so nothing can leave the lab; an agg also holds an ``unreachable`` route for its
own block so a missing unit namespace answers "net unreachable" instead of looping.

The prober routes each VRF's quarter to the core of that VRF, and sends packets *sourced* from
its party/extranet address through that VRF (policy rules), so isolation probes really enter the
party network.  The infrastructure quarter (caller link) is routed back by every core.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from ipaddress import IPv4Network

from govnet.lab.topology import (
    LAN_IFNAME,
    VRFS,
    Link,
    Route,
    Topology,
    agg_block,
)

GUARD_METRIC = 4242
HOST_ROUTE_METRIC = 100
PROBER_TABLE_BASE = 100


def veth_lines(topology: Topology) -> list[str]:
    """`ip -batch` lines (run in the caller) creating every link directly in its namespaces."""
    lines = []
    for link in topology.links:
        lines.append(
            f"link add {link.a_ifname} netns {topology.netns(link.a, link.vrf)} type veth "
            f"peer name {link.b_ifname} netns {topology.netns(link.b, link.vrf)}"
        )
    host = topology.host_link
    lines.append(
        f"link add {host.ifname} type veth peer name {host.prober_ifname} "
        f"netns {topology.netns(topology.prober)}"
    )
    return lines


def host_lines(topology: Topology) -> list[str]:
    """Caller-side address and the one route into the lab, via the lab's own veth."""
    host = topology.host_link
    return [
        f"addr replace {host.host_addr} dev {host.ifname}",
        f"link set {host.ifname} up",
        f"route replace {topology.network} via {host.prober_addr.ip} dev {host.ifname} "
        f"metric {HOST_ROUTE_METRIC}",
    ]


def routes(topology: Topology) -> list[Route]:
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


def _addr_lines(topology: Topology) -> dict[str, list[str]]:
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
        for ns, ifname, ifaddr in _ends(topology, link):
            lines[ns] += [f"addr replace {ifaddr} dev {ifname}", f"link set {ifname} up"]
    prober_ns = topology.netns(topology.prober)
    host = topology.host_link
    lines[prober_ns] += [
        f"addr replace {host.prober_addr} dev {host.prober_ifname}",
        f"link set {host.prober_ifname} up",
    ]
    for vrf in VRFS[1:]:
        if vrf in topology.node(topology.prober).vrfs:
            table = PROBER_TABLE_BASE + VRFS.index(vrf)
            src = topology.prober_address(vrf)
            lines[prober_ns].append(f"rule add from {src} lookup {table} priority {table}")
    return lines


def _ends(topology: Topology, link: Link) -> list[tuple[str, str, str]]:
    return [
        (topology.netns(link.a, link.vrf), link.a_ifname, str(link.a_addr)),
        (topology.netns(link.b, link.vrf), link.b_ifname, str(link.b_addr)),
    ]


def netns_lines(topology: Topology) -> dict[str, list[str]]:
    """Per namespace: loopback, addresses, links up, routes, rules.

    Everything is idempotent (``replace``) except ``link add`` / ``rule add``, whose only
    failure on a repair run is "File exists", which `netns` tolerates.
    """
    lines = _addr_lines(topology)
    for route in routes(topology):
        lines[route.netns].append("route replace " + " ".join(route.ip_args()))
    return lines


def forwarding_namespaces(topology: Topology) -> list[str]:
    """Namespaces that route for others (core, aggs, prober) and need ``ip_forward=1``."""
    names = [topology.netns(topology.prober)]
    for node in topology.nodes:
        if node.role in ("core", "agg"):
            names += [topology.netns(node.name, v) for v in node.vrfs]
    return names


def held_down(topology: Topology, faults: Iterable[Mapping[str, object]]) -> set[tuple[str, str]]:
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
