"""Build, inspect and tear down a lab's namespaces, veths and routes.

Safety first: before anything else, `up` puts an ``unreachable <lab network>`` route (metric
4242) in the caller's namespace, and `down` removes it last, so a half-built or half-removed lab
can never send lab-addressed traffic out of a real interface.  The only way in is the lab's own
veth (``gvl-<lab>-h``), through a lower-metric route that dies with that veth.

Speed: namespaces and veths are made by one ``ip -batch`` in the caller (veth ends are created
directly in their namespaces), then one ``ip -n NS -batch`` per namespace, a few in parallel.
Everything the lab makes starts with ``gvl-<lab>-``, so `down` finds leftovers of a killed `up`
by name, and processes by the namespace they live in.
"""

from __future__ import annotations

import json
import shutil
import socket
import time
from dataclasses import asdict, dataclass, field
from ipaddress import IPv4Network
from pathlib import Path
from typing import Any, Literal

from govnet.errors import LabError
from govnet.lab import procs, routing, state
from govnet.lab.system import (
    current_netns_inode,
    ip_batch,
    ip_batches,
    list_netns,
    netns_exec,
    netns_inode,
    pids_by_netns,
    require_binary,
    require_privileges,
    run,
    write_sysctl,
)
from govnet.lab.topology import LAB_SPACE, LabTopology, lab_prefix
from govnet.osutil.netns import netns_path

Stage = Literal["guard", "namespaces", "links", "addresses"]
NO_SUCH = ("No such process", "Cannot find device", "No such file or directory")


@dataclass
class LabStatus:
    """What exists of a lab right now (kernel and state dir), for `govnet lab status`."""

    lab: str
    network: str | None
    stage: str | None
    namespaces: list[str]
    guard_route: bool
    host_link: bool
    processes: dict[str, int | None] = field(default_factory=dict)
    faults: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class DownReport:
    lab: str
    namespaces_removed: int
    processes_killed: int
    guard_removed: bool
    warnings: list[str] = field(default_factory=list)


def _link_exists(ifname: str) -> bool:
    try:
        socket.if_nametoindex(ifname)
    except OSError:
        return False
    return True


def _guard_routes() -> list[dict[str, Any]]:
    """``unreachable`` routes with the guard metric in the caller's main table."""
    out = json.loads(run(["ip", "-j", "route", "show", "type", "unreachable"]) or "[]")
    return [r for r in out if r.get("metric") == routing.GUARD_METRIC]


def _has_guard(network: str) -> bool:
    return any(_route_net(r) == IPv4Network(network) for r in _guard_routes())


def _route_net(route: dict[str, Any]) -> IPv4Network | None:
    dst = str(route.get("dst", ""))
    try:
        return IPv4Network(dst if "/" in dst else f"{dst}/32")
    except ValueError:  # "default" and the like
        return None


def _check_conflicts(topology: LabTopology, sdir: Path) -> None:
    """Refuse to share address space with another lab or with a real route of the caller."""
    net = topology.network
    for other in state.other_labs(sdir):
        other_net = IPv4Network(other["network"])
        if other_net.overlaps(net) and list_netns(lab_prefix(other["lab"])):
            raise LabError(f"lab {other['lab']} already uses {other_net}; pick another network")
    ours = {topology.host_link.ifname}
    for route in json.loads(run(["ip", "-j", "route", "show"]) or "[]"):
        dst = _route_net(route)
        if dst is None or not dst.subnet_of(net) or route.get("dev") in ours:
            continue
        if route.get("type") == "unreachable" and route.get("metric") == routing.GUARD_METRIC:
            continue
        raise LabError(
            f"the caller already routes {dst} (dev {route.get('dev')}); the lab network {net} must be unused"
        )


def up(
    topology: LabTopology, state_root: Path | None = None, *, stop_after: Stage | None = None
) -> LabStatus:
    """Build the lab, or repair it if it is (partly) up; links of faulted nodes stay down.

    ``stop_after`` stops after one stage, leaving a half-built lab (tests of `down`/safety).
    """
    require_privileges()
    require_binary("ip")
    sdir = state.state_dir(topology.lab, state_root)
    sdir.mkdir(parents=True, exist_ok=True)
    sdir.chmod(0o700)
    _check_conflicts(topology, sdir)
    previous = state.read_lab(sdir) or {}
    lab_info = {
        "lab": topology.lab,
        "network": str(topology.network),
        "caller_netns": current_netns_inode(),
        "host_ifname": topology.host_link.ifname,
        "stage": "building",
        "units": [u.name for u in topology.units()],
    }
    if previous.get("stage") == "up" and previous.get("caller_netns") != lab_info["caller_netns"]:
        raise LabError(f"lab {topology.lab} is up from another network namespace")
    state.write_lab(sdir, lab_info)
    run(["ip", "route", "replace", "unreachable", str(topology.network), "metric", str(routing.GUARD_METRIC)])
    if stop_after == "guard":
        return status(topology.lab, state_root)

    missing = [ns for ns in topology.namespaces() if not netns_path(ns).exists()]
    ip_batch([f"netns add {ns}" for ns in missing])
    if stop_after == "namespaces":
        return status(topology.lab, state_root)

    ip_batch(routing.veth_lines(topology))
    if stop_after == "links":
        return status(topology.lab, state_root)

    configure(topology, None, state_root)
    if stop_after == "addresses":
        return status(topology.lab, state_root)

    ip_batch(routing.host_lines(topology))
    lab_info["stage"] = "up"
    state.write_lab(sdir, lab_info)
    return status(topology.lab, state_root)


def _uses(line: str, ifname: str) -> bool:
    """Whether a batch line brings ``ifname`` up or routes or resolves via it.

    Routes fail while the link is down; neighbour entries are kept off it until it comes back
    (taking a link down flushes even permanent entries, so the heal adds them again).
    """
    words = line.split()
    if line == f"link set {ifname} up":
        return True
    return words[0] in ("route", "neigh") and "dev" in words and words[words.index("dev") + 1] == ifname


def configure(
    topology: LabTopology, namespaces: list[str] | None = None, state_root: Path | None = None
) -> None:
    """(Re)apply addresses, links and routes of ``namespaces`` (default all), idempotently.

    Links that active faults hold down stay down; everything else is brought back, including
    the routes the kernel dropped when a link went down.
    """
    sdir = state.state_dir(topology.lab, state_root)
    held = routing.held_down(topology, state.read_faults(sdir))
    per_ns = routing.netns_lines(topology)
    if namespaces is not None:
        per_ns = {ns: per_ns[ns] for ns in namespaces}
    for ns, ifname in held:
        if ns in per_ns:
            per_ns[ns] = [line for line in per_ns[ns] if not _uses(line, ifname)]
    ip_batches(per_ns)
    for ns in routing.forwarding_namespaces(topology):
        if ns in per_ns:
            write_sysctl(ns, "net.ipv4.ip_forward", "1")


def status(lab: str, state_root: Path | None = None) -> LabStatus:
    """What exists now: namespaces, guard, caller veth, recorded processes, active faults."""
    sdir = state.state_dir(lab, state_root)
    info = state.read_lab(sdir) or {}
    network = info.get("network")
    return LabStatus(
        lab=lab,
        network=network,
        stage=info.get("stage"),
        namespaces=list_netns(lab_prefix(lab)),
        guard_route=bool(network) and _has_guard(str(network)),
        host_link=_link_exists(f"{lab_prefix(lab)}h"),
        processes={name: procs.process_pid(name, sdir) for name in procs.recorded(sdir)},
        faults=state.read_faults(sdir),
    )


def _guards_to_remove(lab: str, sdir: Path, info: dict[str, Any] | None) -> list[IPv4Network]:
    """Our guard; without a ``lab.json`` (state lost), stray guards once no lab is left at all."""
    claimed = {IPv4Network(o["network"]) for o in state.other_labs(sdir) if list_netns(lab_prefix(o["lab"]))}
    if info is not None:
        net = IPv4Network(info["network"])
        return [] if net in claimed else [net]
    if list_netns("gvl-"):  # some lab (maybe of another state root) may still need its guard
        return []
    found = [_route_net(r) for r in _guard_routes()]
    return [n for n in found if n is not None and n.subnet_of(LAB_SPACE) and n not in claimed]


def _kill_lab_processes(names: list[str], sdir: Path) -> int:
    """Stop every process living in the lab's namespaces or recorded in its pid files."""
    inodes = [i for i in (netns_inode(ns) for ns in names) if i is not None]
    pids = sorted({p for ps in pids_by_netns(inodes).values() for p in ps})
    for name in procs.recorded(sdir):
        pid = procs.process_pid(name, sdir)
        if pid is not None and pid not in pids:
            pids.append(pid)
    if pids:
        procs.kill_pids(pids)
    return len(pids)


def down(lab: str, state_root: Path | None = None, *, timeout: float = 10.0) -> DownReport:
    """Remove everything of ``lab``: processes, namespaces, caller veth and route, guard, state.

    Works from any stage of a killed `up`: leftovers are found by name prefix and namespace.
    """
    require_privileges()
    require_binary("ip")
    prefix = lab_prefix(lab)
    sdir = state.state_dir(lab, state_root)
    info = state.read_lab(sdir)
    report = DownReport(lab, 0, 0, False)
    foreign = info is not None and info.get("caller_netns") != current_netns_inode()
    if foreign:
        report.warnings.append(
            "lab was built from another network namespace; its guard route there is left in place"
        )

    host_if = f"{prefix}h"
    deadline = time.monotonic() + timeout
    while True:
        # repeat: an `ip` of a killed `up` may still be adding namespaces for a moment
        names = list_netns(prefix)
        killed = _kill_lab_processes(names, sdir)
        report.processes_killed += killed
        if _link_exists(host_if):
            run(["ip", "link", "del", host_if], tolerate=NO_SUCH)
        ip_batch([f"netns del {ns}" for ns in names], tolerate=NO_SUCH)
        report.namespaces_removed += len(names)
        if not names and not killed and not _link_exists(host_if):
            break
        if time.monotonic() > deadline:
            left = ", ".join(list_netns(prefix)) or host_if
            raise LabError(f"lab {lab}: could not remove {left}")

    for net in [] if foreign else _guards_to_remove(lab, sdir, info):
        run(
            ["ip", "route", "del", "unreachable", str(net), "metric", str(routing.GUARD_METRIC)],
            tolerate=NO_SUCH,
        )
        report.guard_removed = True
    shutil.rmtree(sdir, ignore_errors=True)
    return report


def run_in(netns: str, argv: list[str], *, timeout: float = 60.0) -> str:
    """Run a command inside a lab namespace (``ip netns exec``); its stdout, or `LabError`."""
    return run(netns_exec(netns, argv), timeout=timeout)


def set_link(netns: str, ifname: str, up_: bool) -> None:
    """Set one interface of a lab namespace up or down (e.g. a unit's ``lan0`` port)."""
    run(["ip", "-n", netns, "link", "set", ifname, "up" if up_ else "down"])
