"""What a lab twin looks like, as plain data: nodes, links, addresses and static routes.

Nothing here touches the kernel; `netns` turns a `LabTopology` into namespaces and `kfaults`
breaks it. Keeping the plan pure means the address plan is unit-tested and the same tree always
gets the same addresses (so inventories, daemon configs and dashboards built from it are stable).

VRFs are emulated by namespaces (the kernel here has no VRF device): every (node, VRF) pair is
its own namespace, so party/intranet isolation is real routing state.  The global namespace of a
core/agg/unit node (``gvl-<lab>-<node>``) holds the intranet table *and* management: every unit
keeps a management address there even when it is not on the intranet segment.  Party and extranet
ride the same devices in ``...-p`` / ``...-x`` namespaces along the same tree (unit → agg → core);
the provincial party uplink hangs off ``core-p``.

Address plan (``network`` is 198.18.0.0/15 or a part of it, at most a /17) — quarters::

    q0 intranet/management, q1 party, q2 extranet, q3 infrastructure (caller link, leak links)

Inside a VRF quarter, 1024-address blocks: block 0 belongs to the core (loopback +1, uplink
loopback +2, /31 links from +512: core↔prober, core↔uplink, core↔agg k); block k+1 belongs to agg
k (its loopback +1, unit i loopback +2+i, unit i link /31 at +512+2i).  So the core needs one
route per agg, an agg one per unit, and a unit only "lab network via parent".
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from ipaddress import IPv4Address, IPv4Interface, IPv4Network
from typing import Literal

from govnet.errors import LabError

Vrf = Literal["intranet", "party", "extranet"]
Role = Literal["core", "agg", "unit", "uplink", "prober"]

VRFS: tuple[Vrf, ...] = ("intranet", "party", "extranet")
VRF_SUFFIX: dict[Vrf, str] = {"intranet": "", "party": "-p", "extranet": "-x"}
LAB_SPACE = IPv4Network("198.18.0.0/15")
LOOPBACK_SPACE = IPv4Network("127.0.0.0/8")
UPLINK_IFNAME = "uplink"
LAN_IFNAME = "lan0"
BLOCK = 1024
MAX_UNITS_PER_AGG = 256

_NODE_NAME = re.compile(r"^[a-z0-9][a-z0-9_]{0,11}$")
_LAB_NAME = re.compile(r"^[a-z0-9]{1,8}$")


@dataclass(frozen=True)
class LabNode:
    """One simulated device; ``vrfs`` are the namespaces it owns (``intranet`` = global table)."""

    name: str
    role: Role
    vrfs: tuple[Vrf, ...]
    addresses: tuple[tuple[Vrf, IPv4Address], ...]
    parent: str | None = None
    segments: tuple[Vrf, ...] = ()

    def address(self, vrf: Vrf) -> IPv4Address:
        """The node's loopback in ``vrf`` (for ``intranet``: its management address)."""
        for v, addr in self.addresses:
            if v == vrf:
                return addr
        raise LabError(f"node {self.name} has no address in VRF {vrf}")

    @property
    def mgmt(self) -> IPv4Address:
        return self.address("intranet")


@dataclass(frozen=True)
class Link:
    """A veth between parent ``a`` and child ``b`` in one VRF; ``b`` is the child's uplink."""

    a: str
    b: str
    vrf: Vrf
    a_addr: IPv4Interface
    b_addr: IPv4Interface
    a_ifname: str
    b_ifname: str


@dataclass(frozen=True)
class HostLink:
    """The veth from the caller's namespace to the prober, the caller's only way into the lab."""

    ifname: str
    host_addr: IPv4Interface
    prober_addr: IPv4Interface
    prober_ifname: str = "host"


@dataclass(frozen=True)
class Route:
    """A static route in one namespace; ``kind`` ``unreachable`` has no ``via``."""

    netns: str
    dest: IPv4Network
    via: IPv4Address | None = None
    dev: str | None = None
    table: int | None = None
    kind: Literal["unicast", "unreachable"] = "unicast"
    metric: int | None = None
    src: IPv4Address | None = None

    def ip_args(self) -> list[str]:
        args = ([self.kind] if self.kind != "unicast" else []) + [str(self.dest)]
        if self.via is not None:
            args += ["via", str(self.via)]
        if self.dev is not None:
            args += ["dev", self.dev]
        if self.table is not None:
            args += ["table", str(self.table)]
        if self.metric is not None:
            args += ["metric", str(self.metric)]
        if self.src is not None:
            args += ["src", str(self.src)]
        return args


@dataclass(frozen=True)
class LabTopology:
    lab: str
    network: IPv4Network
    nodes: tuple[LabNode, ...]
    links: tuple[Link, ...]
    prober: str
    host_link: HostLink
    _by_name: dict[str, LabNode] = field(init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        by_name = {n.name: n for n in self.nodes}
        if len(by_name) != len(self.nodes):
            raise LabError(f"lab {self.lab}: duplicate node names")
        object.__setattr__(self, "_by_name", by_name)
        check_lab_network(self.network)
        for node in self.nodes:
            for _, addr in node.addresses:
                check_lab_address(addr, self.network, node.name)
        for link in self.links:
            for end in (link.a_addr, link.b_addr):
                check_lab_address(end.ip, self.network, f"{link.a}-{link.b}")
        for addr in (self.host_link.host_addr, self.host_link.prober_addr):
            check_lab_address(addr.ip, self.network, "host link")

    @property
    def prefix(self) -> str:
        """Name prefix of everything this lab creates (namespaces, the caller's veth)."""
        return lab_prefix(self.lab)

    def node(self, name: str) -> LabNode:
        try:
            return self._by_name[name]
        except KeyError:
            raise LabError(f"lab {self.lab} has no node {name!r}") from None

    def netns(self, name: str, vrf: Vrf = "intranet") -> str:
        """Namespace of ``name`` in ``vrf``; the prober is one namespace for all VRFs."""
        node = self.node(name)
        if node.role == "prober":
            return f"{self.prefix}{name}"
        if vrf not in node.vrfs:
            raise LabError(f"node {name} does not carry VRF {vrf}")
        return f"{self.prefix}{name}{VRF_SUFFIX[vrf]}"

    def namespaces(self) -> list[str]:
        names = [self.netns(self.prober)]
        for node in self.nodes:
            if node.role != "prober":
                names += [self.netns(node.name, v) for v in node.vrfs]
        return names

    def units(self) -> list[LabNode]:
        return [n for n in self.nodes if n.role == "unit"]

    def children(self, name: str) -> list[LabNode]:
        return [n for n in self.nodes if n.parent == name]

    def units_behind(self, name: str) -> list[LabNode]:
        """Units whose path to the core crosses ``name`` (a unit is behind itself)."""
        node = self.node(name)
        if node.role == "unit":
            return [node]
        return [u for c in self.children(name) for u in self.units_behind(c.name)]

    def uplinks(self, name: str) -> list[Link]:
        return [link for link in self.links if link.b == name]

    def prober_address(self, vrf: Vrf) -> IPv4Address:
        """The prober's source address in ``vrf`` (for party: a party address, for isolation)."""
        for link in self.links:
            if link.b == self.prober and link.vrf == vrf:
                return link.b_addr.ip
        raise LabError(f"lab {self.lab}: prober has no {vrf} interface")

    def quarter(self, index: int) -> IPv4Network:
        return list(self.network.subnets(prefixlen_diff=2))[index]

    def vrf_range(self, vrf: Vrf) -> IPv4Network:
        return self.quarter(VRFS.index(vrf))


def lab_prefix(lab: str) -> str:
    """``gvl-<lab>-``: every namespace of the lab starts with it, so `down` finds leftovers."""
    if not _LAB_NAME.match(lab):
        raise LabError(f"lab name {lab!r} must be 1-8 lowercase letters or digits")
    return f"gvl-{lab}-"


def check_lab_network(network: IPv4Network) -> None:
    if not network.subnet_of(LAB_SPACE):
        raise LabError(f"lab network {network} is outside {LAB_SPACE}")
    if network.prefixlen > 17:
        raise LabError(f"lab network {network} is too small (needs at least a /17)")


def check_lab_address(addr: IPv4Address, network: IPv4Network, where: str) -> None:
    """Refuse any address a lab could leak: only the lab network or loopback."""
    if addr in LOOPBACK_SPACE:
        return
    if addr not in network:
        raise LabError(f"{where}: address {addr} is outside the lab network {network}")


def _at(net: IPv4Network, offset: int) -> IPv4Address:
    return net.network_address + offset


def _p2p(net: IPv4Network, offset: int) -> tuple[IPv4Interface, IPv4Interface]:
    """A /31 at ``offset``: (parent end, child end).

    >>> _p2p(IPv4Network("198.18.0.0/17"), 512)
    (IPv4Interface('198.18.2.0/31'), IPv4Interface('198.18.2.1/31'))
    """
    base = _at(net, offset)
    return IPv4Interface(f"{base}/31"), IPv4Interface(f"{base + 1}/31")


def build_tree(
    lab: str,
    units: Sequence[tuple[str, str, Iterable[str]]],
    *,
    network: str = "198.18.0.0/15",
    core: str = "core",
    uplink: str = "prov",
    prober: str = "probe",
) -> LabTopology:
    """Build a core → aggs → units tree from ``(unit, agg, segments)`` rows, deterministically.

    Aggs are numbered by first appearance, units by order within their agg.

    >>> t = build_tree("demo", [("u1", "a1", ["intranet", "party"]), ("u2", "a2", ["extranet"])])
    >>> str(t.node("u1").mgmt), str(t.node("u1").address("party")), t.netns("u1", "party")
    ('198.18.4.2', '198.18.132.2', 'gvl-demo-u1-p')
    >>> t.node("u2").vrfs, str(t.node("u2").address("extranet"))
    (('intranet', 'extranet'), '198.19.8.2')
    >>> str(t.prober_address("party")), str(t.host_link.host_addr)
    ('198.18.130.1', '198.19.128.0/31')
    """
    prefix = lab_prefix(lab)
    try:
        net = IPv4Network(network)
    except ValueError as exc:
        raise LabError(f"lab network {network!r}: {exc}") from None
    check_lab_network(net)
    quarters = list(net.subnets(prefixlen_diff=2))
    infra = quarters[3]

    aggs: list[str] = []
    per_agg: dict[str, list[tuple[str, tuple[Vrf, ...]]]] = {}
    seen: set[str] = {core, uplink, prober}
    for unit, agg, segs in units:
        segments = tuple(v for v in VRFS if v in set(segs))
        unknown = set(segs) - set(VRFS)
        if unknown or not segments:
            raise LabError(f"unit {unit}: segments must be a non-empty subset of {list(VRFS)}")
        for name in (unit, agg):
            if not _NODE_NAME.match(name):
                raise LabError(f"node name {name!r}: use 1-12 of a-z, 0-9, _ (starting alnum)")
        if unit in seen:
            raise LabError(f"node name {unit!r} used twice")
        seen.add(unit)
        if agg not in per_agg:
            if agg in seen:
                raise LabError(f"node name {agg!r} used twice")
            aggs.append(agg)
            per_agg[agg] = []
        per_agg[agg].append((unit, segments))
    for name in (core, uplink, prober):
        if not _NODE_NAME.match(name):
            raise LabError(f"node name {name!r}: use 1-12 of a-z, 0-9, _ (starting alnum)")
    if len(aggs) > quarters[0].num_addresses // BLOCK - 1:
        raise LabError(f"{len(aggs)} aggregation nodes do not fit in {net}")

    nodes: list[LabNode] = []
    links: list[Link] = []
    core_vrfs = tuple(
        v for v in VRFS if v == "intranet" or any(v in segs for rows in per_agg.values() for _, segs in rows)
    )

    def block(vrf: Vrf, index: int) -> IPv4Network:
        q = quarters[VRFS.index(vrf)]
        return IPv4Network(f"{_at(q, index * BLOCK)}/{32 - (BLOCK - 1).bit_length()}")

    def link(a: str, b: str, vrf: Vrf, blk: IPv4Network, offset: int, a_if: str, b_if: str) -> None:
        pa, pb = _p2p(blk, offset)
        links.append(Link(a, b, vrf, pa, pb, a_if, b_if))

    nodes.append(LabNode(core, "core", core_vrfs, tuple((v, _at(block(v, 0), 1)) for v in core_vrfs)))
    nodes.append(LabNode(prober, "prober", core_vrfs, (), parent=core))
    for v in core_vrfs:
        link(core, prober, v, block(v, 0), 512, prober, f"core{VRF_SUFFIX[v] or '-i'}")
    if "party" in core_vrfs:
        nodes.append(
            LabNode(
                uplink,
                "uplink",
                ("party",),
                (("party", _at(block("party", 0), 2)),),
                parent=core,
                segments=("party",),
            )
        )
        link(core, uplink, "party", block("party", 0), 514, f"dn-{uplink}", UPLINK_IFNAME)
    for k, agg in enumerate(aggs):
        rows = per_agg[agg]
        if len(rows) > MAX_UNITS_PER_AGG:
            raise LabError(f"agg {agg}: {len(rows)} units, at most {MAX_UNITS_PER_AGG}")
        agg_vrfs = tuple(v for v in VRFS if v == "intranet" or any(v in s for _, s in rows))
        nodes.append(
            LabNode(agg, "agg", agg_vrfs, tuple((v, _at(block(v, k + 1), 1)) for v in agg_vrfs), parent=core)
        )
        for v in agg_vrfs:
            link(core, agg, v, block(v, 0), 516 + 2 * k, f"dn-{agg}", UPLINK_IFNAME)
        for i, (unit, segments) in enumerate(rows):
            unit_vrfs = tuple(v for v in VRFS if v == "intranet" or v in segments)
            nodes.append(
                LabNode(
                    unit,
                    "unit",
                    unit_vrfs,
                    tuple((v, _at(block(v, k + 1), 2 + i)) for v in unit_vrfs),
                    parent=agg,
                    segments=segments,
                )
            )
            for v in unit_vrfs:
                link(agg, unit, v, block(v, k + 1), 512 + 2 * i, f"dn-{unit}", UPLINK_IFNAME)
    host_end, prober_end = _p2p(infra, 0)
    host = HostLink(f"{prefix}h", host_end, prober_end)
    return LabTopology(lab, net, tuple(nodes), tuple(links), prober, host)


def leak_addresses(topology: LabTopology, unit: str) -> tuple[IPv4Interface, IPv4Interface]:
    """The /31 of ``unit``'s isolation-leak veth: (global end, party end), from the infra quarter.

    >>> t = build_tree("demo", [("u1", "a1", ["party"])])
    >>> leak_addresses(t, "u1")
    (IPv4Interface('198.19.132.0/31'), IPv4Interface('198.19.132.1/31'))
    """
    index = [u.name for u in topology.units()].index(unit)
    return _p2p(topology.quarter(3), BLOCK + 2 * index)


def agg_block(topology: LabTopology, agg: str, vrf: Vrf) -> IPv4Network:
    """The 1024-address block of ``agg`` in ``vrf`` (its units' loopbacks and links)."""
    loop = topology.node(agg).address(vrf)
    return IPv4Network(f"{loop}/{32 - (BLOCK - 1).bit_length()}", strict=False)
