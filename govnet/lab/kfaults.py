"""Kernel-level faults on lab nodes: real link state, packet drops, delays and route leaks.

A device carries every VRF, so a fault on a node applies in each of its VRF namespaces, and a
fault on an agg hits every unit behind it simply because their traffic crosses it.

- ``link-down``: both ends of the node's uplink veths set down.
- ``device-down``: every link of the node down, its snmpd stopped, `DeviceHook`s told (SSH).
- ``loss=PCT``: iptables ``statistic`` DROP on the uplink, both directions, each direction
  ``1-sqrt(1-PCT/100)`` so a round trip (what ping sees) loses PCT percent.
- ``latency=MS``: egress of the uplink queued (NFQUEUE) to a `delayer` process holding each
  packet MS ms, so every round trip through the uplink takes at least MS longer.
- ``isolation-leak`` (units with a party VRF): a veth between the unit's party and global
  namespaces, plus the leaked /32s up both trees, so party and intranet reach each other.
- ``optics-low``, ``cpu-high``, ``errors`` (units): what the unit's snmpd serves as device
  health changes (`healthsim`): receive power under the transceiver's threshold, CPU 97%,
  uplink input errors rising. The agent keeps running (sysUpTime is not reset).

iptables here is ``iptables-legacy``: the kernel has no ``nft_queue``.
"""

from __future__ import annotations

import importlib.util
import math
import sys
import time
from collections.abc import Iterable, Sequence
from ipaddress import IPv4Address
from pathlib import Path
from typing import Any, Protocol

import govnet
from govnet.errors import LabError
from govnet.lab import healthsim, netns, procs, snmpd, state
from govnet.lab.routing import held_down
from govnet.lab.system import ip_batch, netns_exec, require_binary, run, write_sysctl
from govnet.lab.topology import UPLINK_IFNAME, LabTopology, Vrf, leak_addresses

KINDS = ("link-down", "device-down", "loss", "latency", "isolation-leak", *healthsim.KINDS)
QUEUE_NUM = 42
LOSS_CHAIN = "GVL-LOSS"
LEAK_IFNAME = "leak"
NO_SUCH = ("No such", "Cannot find", "does not exist", "Bad rule", "No chain")
HELD = ("invalid gateway", "Network is down")  # a route via a link another fault holds down


class DeviceHook(Protocol):
    """Told when a device goes down or comes back (e.g. the SSH simulator)."""

    def stop(self, node: str) -> None: ...

    def start(self, node: str) -> None: ...


def parse_kind(kind: str) -> tuple[str, int | None]:
    """Split ``loss=30`` into ``("loss", 30)``; refuse what is not a kernel fault.

    >>> parse_kind("loss=30"), parse_kind("link-down")
    (('loss', 30), ('link-down', None))
    """
    name, _, value = kind.partition("=")
    if name not in KINDS:
        raise LabError(f"{kind!r} is not a kernel fault (one of {', '.join(KINDS)})")
    if name in ("loss", "latency"):
        if not value.isdigit():
            raise LabError(f"{name} needs a number: {name}=N")
        number = int(value)
        if name == "loss" and not 0 < number <= 100:
            raise LabError("loss=PCT needs 1..100")
        if name == "latency" and not 0 < number <= 60_000:
            raise LabError("latency=MS needs 1..60000")
        return name, number
    if value:
        raise LabError(f"{name} takes no value")
    return name, None


def _set_links(ends: Iterable[tuple[str, str]], up: bool) -> None:
    by_ns: dict[str, list[str]] = {}
    for ns, ifname in sorted(ends):
        by_ns.setdefault(ns, []).append(f"link set {ifname} {'up' if up else 'down'}")
    for ns, lines in by_ns.items():
        ip_batch(lines, ns)


def _iptables(ns: str, *args: str, tolerate: Sequence[str] = ()) -> None:
    run(netns_exec(ns, ["iptables-legacy", "-w", *args]), tolerate=tolerate)


def _uplink_namespaces(topology: LabTopology, node: str) -> list[str]:
    links = topology.uplinks(node)
    if not links:
        raise LabError(f"{node} has no uplink to fault")
    return [topology.netns(node, link.vrf) for link in links]


def _loss_rules(probability: float) -> list[tuple[str, ...]]:
    hooks = [("INPUT", "-i"), ("FORWARD", "-i"), ("OUTPUT", "-o"), ("FORWARD", "-o")]
    return [(chain, flag, UPLINK_IFNAME, "-j", LOSS_CHAIN) for chain, flag in hooks] + [
        (
            LOSS_CHAIN,
            "-m",
            "statistic",
            "--mode",
            "random",
            "--probability",
            f"{probability:.6f}",
            "-j",
            "DROP",
        )
    ]


def _loss_on(topology: LabTopology, node: str, pct: int) -> None:
    require_binary("iptables-legacy")
    probability = 1.0 - math.sqrt(1.0 - pct / 100.0)
    for ns in _uplink_namespaces(topology, node):
        _iptables(ns, "-N", LOSS_CHAIN, tolerate=("exists",))
        for rule in _loss_rules(probability):
            _iptables(ns, "-A", *rule)


def _loss_off(topology: LabTopology, node: str) -> None:
    for ns in _uplink_namespaces(topology, node):
        for rule in _loss_rules(0.0)[:-1]:
            _iptables(ns, "-D", *rule, tolerate=NO_SUCH)
        _iptables(ns, "-F", LOSS_CHAIN, tolerate=NO_SUCH)
        _iptables(ns, "-X", LOSS_CHAIN, tolerate=NO_SUCH)


def _delay_rule() -> tuple[str, ...]:
    return (
        "POSTROUTING",
        "-t",
        "mangle",
        "-o",
        UPLINK_IFNAME,
        "-j",
        "NFQUEUE",
        "--queue-num",
        str(QUEUE_NUM),
        "--queue-bypass",
    )


def _latency_on(topology: LabTopology, node: str, ms: int, sdir: Path) -> None:
    require_binary("iptables-legacy")
    if importlib.util.find_spec("netfilterqueue") is None:
        raise LabError("latency faults need the lab extra: pip install 'govnet[lab]'")
    names = []
    for ns in _uplink_namespaces(topology, node):
        name = f"delay-{ns.removeprefix(topology.prefix)}"
        procs.log_path(sdir, name).unlink(missing_ok=True)
        argv = [sys.executable, "-m", "govnet.lab.delayer", "--queue", str(QUEUE_NUM), "--delay-ms", str(ms)]
        pythonpath = str(Path(govnet.__file__).resolve().parent.parent)
        procs.start_process(name, ns, argv, sdir, env={"PYTHONPATH": pythonpath})
        names.append((ns, name))
    deadline = time.monotonic() + 10.0
    for ns, name in names:
        log = procs.log_path(sdir, name)
        while "ready" not in (log.read_text() if log.exists() else ""):
            if procs.process_pid(name, sdir) is None or time.monotonic() > deadline:
                raise LabError(f"latency delayer in {ns} did not start; see {log}")
            time.sleep(0.02)
        rule = _delay_rule()
        _iptables(ns, "-t", "mangle", "-A", rule[0], *rule[3:])


def _latency_off(topology: LabTopology, node: str, sdir: Path) -> None:
    for ns in _uplink_namespaces(topology, node):
        rule = _delay_rule()
        _iptables(ns, "-t", "mangle", "-D", rule[0], *rule[3:], tolerate=NO_SUCH)
        procs.stop_process(f"delay-{ns.removeprefix(topology.prefix)}", sdir)


def _leak_routes(topology: LabTopology, unit: str) -> list[tuple[str, str]]:
    """(namespace, route args) of the leaked /32s up the intranet and party trees."""
    node = topology.node(unit)
    out = []
    leaked: tuple[tuple[Vrf, IPv4Address], ...] = (
        ("intranet", node.address("party")),
        ("party", node.mgmt),
    )
    for vrf, addr in leaked:
        child = unit
        parent = node.parent
        while parent is not None:
            link = next(lk for lk in topology.uplinks(child) if lk.vrf == vrf)
            route = f"{addr}/32 via {link.b_addr.ip} dev {link.a_ifname}"
            out.append((topology.netns(parent, vrf), route))
            child, parent = parent, topology.node(parent).parent
    return out


def _leak_check(topology: LabTopology, unit: str) -> None:
    node = topology.node(unit)
    if node.role != "unit" or "party" not in node.vrfs:
        raise LabError(f"isolation-leak needs a unit on the party segment, not {unit}")


def _leak_on(topology: LabTopology, unit: str) -> None:
    _leak_check(topology, unit)
    node = topology.node(unit)
    g_ns, p_ns = topology.netns(unit), topology.netns(unit, "party")
    g_end, p_end = leak_addresses(topology, unit)
    ip_batch(
        [
            f"link add {LEAK_IFNAME} type veth peer name {LEAK_IFNAME} netns {p_ns}",
            f"addr replace {g_end} dev {LEAK_IFNAME}",
            f"link set {LEAK_IFNAME} up",
            f"route replace {topology.vrf_range('party')} via {p_end.ip} dev {LEAK_IFNAME} src {node.mgmt}",
        ],
        g_ns,
    )
    ip_batch(
        [
            f"addr replace {p_end} dev {LEAK_IFNAME}",
            f"link set {LEAK_IFNAME} up",
            f"route replace {topology.vrf_range('intranet')} via {g_end.ip} dev {LEAK_IFNAME} "
            f"src {node.address('party')}",
        ],
        p_ns,
    )
    for ns in (g_ns, p_ns):
        write_sysctl(ns, "net.ipv4.ip_forward", "1")
    for ns, route in _leak_routes(topology, unit):
        ip_batch([f"route replace {route}"], ns)


def _leak_off(topology: LabTopology, unit: str) -> None:
    _leak_check(topology, unit)
    for ns, route in _leak_routes(topology, unit):
        ip_batch([f"route del {route}"], ns, tolerate=NO_SUCH)
    ip_batch([f"link del {LEAK_IFNAME}"], topology.netns(unit), tolerate=NO_SUCH)
    for ns in (topology.netns(unit), topology.netns(unit, "party")):
        write_sysctl(ns, "net.ipv4.ip_forward", "0")


def _kind_name(kind: object) -> str:
    return str(kind).partition("=")[0]


def _record(sdir: Path, node: str, kind: str, add: bool) -> None:
    name = _kind_name(kind)
    faults = [f for f in state.read_faults(sdir) if not (f["node"] == node and _kind_name(f["kind"]) == name)]
    if add:
        faults.append({"node": node, "kind": kind})
    state.write_faults(sdir, faults)


def active(lab: str, state_root: Path | None = None) -> list[dict[str, Any]]:
    """Active faults as ``[{node, kind}]``."""
    return state.read_faults(state.state_dir(lab, state_root))


def apply(
    topology: LabTopology,
    node: str,
    kind: str,
    state_root: Path | None = None,
    *,
    hooks: Sequence[DeviceHook] = (),
) -> None:
    """Put fault ``kind`` on ``node``; re-applying replaces the same kind (e.g. a new loss)."""
    name, value = parse_kind(kind)
    target = topology.node(node)
    if target.role in ("core", "prober"):
        raise LabError(f"{node} is the {target.role}; fault an agg, a unit or the uplink")
    if name in healthsim.KINDS and target.role != "unit":
        raise LabError(f"{name} is a device-health fault: give a unit, not {node}")
    sdir = state.state_dir(topology.lab, state_root)
    if any(f["node"] == node and _kind_name(f["kind"]) == name for f in state.read_faults(sdir)):
        _clear(topology, node, name, sdir, hooks)
    _record(sdir, node, kind, add=True)
    if name in ("link-down", "device-down"):
        _set_links(held_down(topology, [{"node": node, "kind": name}]), up=False)
        if name == "device-down":
            if target.role == "unit":
                snmpd.stop(topology.lab, node, state_root)
            for hook in hooks:
                hook.stop(node)
    elif name == "loss" and value is not None:
        _loss_on(topology, node, value)
    elif name == "latency" and value is not None:
        _latency_on(topology, node, value, sdir)
    elif name == "isolation-leak":
        _leak_on(topology, node)
    elif name in healthsim.KINDS:
        _health(topology, node, name, sdir, on=True)


def _health(topology: LabTopology, node: str, name: str, sdir: Path, *, on: bool) -> None:
    del topology  # the agent folder is per unit name
    folder = snmpd.agent_dir(sdir, node)
    folder.mkdir(parents=True, exist_ok=True)
    healthsim.set_fault(folder, name, on)


def _clear(topology: LabTopology, node: str, name: str, sdir: Path, hooks: Sequence[DeviceHook]) -> None:
    _record(sdir, node, name, add=False)
    if name in ("link-down", "device-down"):
        # the kernel dropped the routes via the downed links: reconfigure those namespaces
        ends = held_down(topology, [{"node": node, "kind": name}])
        netns.configure(topology, sorted({ns for ns, _ in ends}), sdir.parent)
        for fault in state.read_faults(sdir):
            if fault["kind"] == "isolation-leak":
                for ns, route in _leak_routes(topology, str(fault["node"])):
                    ip_batch([f"route replace {route}"], ns, tolerate=HELD)
        if name == "device-down":
            lab = topology.lab
            if topology.node(node).role == "unit" and snmpd.configured(lab, node, sdir.parent):
                snmpd.restart(lab, node, sdir.parent)
            for hook in hooks:
                hook.start(node)
    elif name == "loss":
        _loss_off(topology, node)
    elif name == "latency":
        _latency_off(topology, node, sdir)
    elif name == "isolation-leak":
        _leak_off(topology, node)
    elif name in healthsim.KINDS:
        _health(topology, node, name, sdir, on=False)


def heal(
    topology: LabTopology, node: str, state_root: Path | None = None, *, hooks: Sequence[DeviceHook] = ()
) -> list[str]:
    """Remove every fault of ``node``; return the kinds that were active."""
    sdir = state.state_dir(topology.lab, state_root)
    mine = [str(f["kind"]) for f in state.read_faults(sdir) if f["node"] == node]
    for kind in mine:
        _clear(topology, node, parse_kind(kind)[0], sdir, hooks)
    return mine
