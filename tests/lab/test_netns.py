"""The lab's topology plan (pure) and its namespaces, routes, safety guard and teardown (root)."""

from __future__ import annotations

import doctest
import errno
import os
import signal
import socket
import subprocess
import sys
import time
from ipaddress import IPv4Address, IPv4Network
from pathlib import Path
from typing import Any

import pytest

from govnet.errors import LabError
from govnet.lab import kfaults, netns, procs, routing, topology
from govnet.lab.system import list_netns
from govnet.lab.topology import LabNode, build_tree
from govnet.osutil.netns import in_netns
from tests.lab.netkit import LAB_NETWORK, ROWS, SPARE_NETWORK

# -- the plan (no root needed) -------------------------------------------------------------


def test_doctests() -> None:
    for module in (topology, kfaults):
        assert doctest.testmod(module).failed == 0


def test_addresses_are_deterministic_unique_and_inside_the_lab_network() -> None:
    a = build_tree("x", ROWS, network=LAB_NETWORK)
    b = build_tree("x", list(ROWS), network=LAB_NETWORK)
    assert a == b
    seen: set[IPv4Address] = set()
    for node in a.nodes:
        for _, addr in node.addresses:
            assert addr in IPv4Network(LAB_NETWORK) and addr not in seen
            seen.add(addr)
    for link in a.links:
        for end in (link.a_addr, link.b_addr):
            assert end.ip in IPv4Network(LAB_NETWORK) and end.ip not in seen
            seen.add(end.ip)
        assert len(link.a_ifname) <= 15 and len(link.b_ifname) <= 15
    assert len(a.host_link.ifname) <= 15


def test_tree_shape_and_namespaces() -> None:
    t = build_tree("x", ROWS)
    assert t.node("u4").vrfs == ("intranet", "party")  # management lives in the global ns
    assert [u.name for u in t.units_behind("a0")] == ["u0", "u2", "u4"]
    assert t.netns("u0", "extranet") == "gvl-x-u0-x"
    assert t.netns("prov", "party") == "gvl-x-prov-p"
    assert "gvl-x-probe" in t.namespaces()
    with pytest.raises(LabError):
        t.netns("u4", "extranet")


def test_routes_stay_inside_the_lab_and_there_is_no_default_route() -> None:
    t = build_tree("x", ROWS, network=LAB_NETWORK)
    for route in routing.routes(t):
        assert route.dest.subnet_of(t.network)
    for lines in routing.netns_lines(t).values():
        assert not any(" default" in line or "0.0.0.0/0" in line for line in lines)


@pytest.mark.parametrize(
    ("rows", "network", "message"),
    [
        (ROWS, "10.0.0.0/16", "outside 198.18.0.0/15"),
        (ROWS, "198.19.0.0/20", "too small"),
        ([("u1", "a0", ["internet"])], "198.18.0.0/15", "segments"),
        ([("u1", "a0", ["party"]), ("u1", "a0", ["party"])], "198.18.0.0/15", "twice"),
        ([("Bad-Name", "a0", ["party"])], "198.18.0.0/15", "node name"),
        ([(f"u{i}", "a0", ["party"]) for i in range(257)], "198.18.0.0/15", "at most"),
    ],
)
def test_bad_trees_are_refused(rows: list[tuple[str, str, list[str]]], network: str, message: str) -> None:
    with pytest.raises(LabError, match=message):
        build_tree("x", rows, network=network)


def test_addresses_outside_the_lab_are_refused() -> None:
    t = build_tree("x", ROWS)
    rogue = LabNode("evil", "unit", ("intranet",), (("intranet", IPv4Address("8.8.8.8")),))
    with pytest.raises(LabError, match="outside the lab network"):
        topology.LabTopology(t.lab, t.network, (*t.nodes, rogue), t.links, t.prober, t.host_link)
    with pytest.raises(LabError, match="lab name"):
        build_tree("Bad_Lab", ROWS)


# -- the kernel (root) ------------------------------------------------------------------------


def _leftovers(lab: str, root: Path, network: str) -> list[str]:
    found = [f"netns {n}" for n in list_netns(f"gvl-{lab}-")]
    routes = subprocess.run(
        ["ip", "route", "show", "table", "all"], capture_output=True, text=True, check=True
    ).stdout
    net = IPv4Network(network)
    for line in routes.splitlines():
        if f"gvl-{lab}" in line or any(_overlaps(word, net) for word in line.split()):
            found.append(f"route {line}")
    ps = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True, check=True).stdout
    found += [f"process {p}" for p in ps.splitlines() if f"gvl-{lab}-" in p or str(root) in p]
    if (root / lab).exists():
        found.append(f"state {root / lab}")
    return found


def _overlaps(word: str, net: IPv4Network) -> bool:
    try:
        return IPv4Network(word, strict=False).overlaps(net)
    except ValueError:
        return False


def _udp_refused(addr: IPv4Address) -> bool:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        sock.sendto(b"x", (str(addr), 9))
    except OSError as exc:
        return exc.errno in (errno.EHOSTUNREACH, errno.ENETUNREACH)
    finally:
        sock.close()
    return False


def test_healthy_lab_answers_everywhere(lab: Any, kit: Any) -> None:
    t = lab.topology
    for unit in t.units():
        for vrf in unit.vrfs:
            addr = unit.address(vrf)
            assert kit.ping(addr, wait=2).received == 1, f"caller → {unit.name} {vrf} {addr}"
            assert kit.ping(addr, ns=lab.prober, src=t.prober_address(vrf)).received == 1
    assert kit.ping(t.node("prov").address("party"), ns=lab.prober).received == 1
    route = subprocess.run(
        ["ip", "route", "get", str(t.node("u0").mgmt)], capture_output=True, text=True, check=True
    ).stdout
    assert f"dev {t.host_link.ifname}" in route


def test_up_again_is_a_no_op(lab: Any, kit: Any) -> None:
    before = netns.status(lab.topology.lab, lab.root)
    after = netns.up(lab.topology, lab.root)
    assert after.namespaces == before.namespaces and after.stage == "up"
    assert all(pid is not None for pid in after.processes.values())
    assert kit.ping(lab.topology.node("u3").mgmt).received == 1


def test_lab_namespaces_have_no_route_out(lab: Any, kit: Any) -> None:
    for ns in (lab.ns("u1"), lab.ns("core"), lab.prober):
        routes = subprocess.run(
            ["ip", "-n", ns, "route", "show", "table", "all"], capture_output=True, text=True, check=True
        ).stdout
        assert "default" not in routes
        assert not kit.ping("192.0.2.1", ns=ns).received


@pytest.mark.parametrize("stage", ["guard", "namespaces", "links", "addresses"])
def test_half_built_lab_refuses_lab_traffic_locally_and_down_cleans_up(
    tmp_path: Path, stage: netns.Stage, kit: Any
) -> None:
    kit.require_lab(("ip", "ping"))
    t = build_tree(kit.unique_lab(), ROWS[:2], network=SPARE_NETWORK)
    target = t.node("u1").mgmt
    try:
        status = netns.up(t, tmp_path, stop_after=stage)
        assert status.guard_route
        assert _udp_refused(target), "a lab address must be refused while the lab is half up"
        result = kit.ping(target)
        assert result.received == 0 and "No route to host" in result.output
    finally:
        netns.down(t.lab, tmp_path)
    assert _leftovers(t.lab, tmp_path, SPARE_NETWORK) == []
    assert _udp_refused(target) or not _routes_to(target)


def _routes_to(addr: IPv4Address) -> bool:
    out = subprocess.run(["ip", "route", "get", str(addr)], capture_output=True, text=True, check=False)
    return out.returncode == 0 and "gvl-" in out.stdout


def test_missing_unit_namespace_is_answered_inside_the_lab_and_up_repairs(tmp_path: Path, kit: Any) -> None:
    kit.require_lab(("ip", "ping"))
    t = build_tree(kit.unique_lab(), ROWS[:3], network=SPARE_NETWORK)
    try:
        netns.up(t, tmp_path)
        unit = t.node("u2")
        assert kit.ping(unit.mgmt).received == 1
        subprocess.run(["ip", "netns", "del", t.netns("u2")], check=True)
        # the kernel tears a deleted namespace's interfaces down in its own time (a workqueue), so
        # the unit may still answer for a moment: ask again until it is gone, within a bound
        deadline = time.monotonic() + 15
        result = kit.ping(unit.mgmt, wait=2)
        while result.received and time.monotonic() < deadline:
            time.sleep(0.2)
            result = kit.ping(unit.mgmt, wait=2)
        assert result.received == 0
        # the agg's unreachable route answers: the packet never left the lab
        assert "Unreachable" in result.output
        netns.up(t, tmp_path)
        assert kit.ping(unit.mgmt, wait=2).received == 1
    finally:
        netns.down(t.lab, tmp_path)
    assert _leftovers(t.lab, tmp_path, SPARE_NETWORK) == []


def test_down_after_a_killed_up(tmp_path: Path, kit: Any) -> None:
    kit.require_lab(("ip",))
    rows = [(f"k{i}", f"a{i % 3}", ["intranet", "party", "extranet"]) for i in range(60)]
    t = build_tree(kit.unique_lab(), rows, network=SPARE_NETWORK)
    code = (
        "import sys; from pathlib import Path; from govnet.lab import netns, topology\n"
        f"t = topology.build_tree({t.lab!r}, {rows!r}, network={SPARE_NETWORK!r})\n"
        f"netns.up(t, Path({str(tmp_path)!r}))\n"
    )
    child = subprocess.Popen([sys.executable, "-c", code])
    deadline = time.monotonic() + 20
    while not list_netns(f"gvl-{t.lab}-") and child.poll() is None:
        assert time.monotonic() < deadline
        time.sleep(0.005)
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    try:
        assert netns.status(t.lab, tmp_path).guard_route
    finally:
        netns.down(t.lab, tmp_path)
    assert _leftovers(t.lab, tmp_path, SPARE_NETWORK) == []


def test_down_leaves_nothing_behind(tmp_path: Path, kit: Any) -> None:
    kit.require_lab(("ip", "ping"))
    t = build_tree(kit.unique_lab(), ROWS, network=SPARE_NETWORK)
    netns.up(t, tmp_path)
    sdir = tmp_path / t.lab
    procs.start_process("sleeper", t.netns("u1"), ["sleep", "300"], sdir)
    report = netns.down(t.lab, tmp_path)
    assert report.guard_removed and report.processes_killed == 1
    assert _leftovers(t.lab, tmp_path, SPARE_NETWORK) == []
    assert not (sdir / "pids").exists()
    assert netns.down(t.lab, tmp_path).namespaces_removed == 0  # idempotent


def test_process_helpers_escalate_to_sigkill(lab: Any, kit: Any) -> None:
    sdir = lab.root / lab.topology.lab
    script = "trap '' TERM; echo started; while :; do sleep 0.1; done"
    pid = procs.start_process("stubborn", lab.ns("u0"), ["sh", "-c", script], sdir)
    assert procs.process_pid("stubborn", sdir) == pid
    assert procs.start_process("stubborn", lab.ns("u0"), ["true"], sdir) == pid
    log = procs.log_path(sdir, "stubborn")
    deadline = time.monotonic() + 5
    while "started" not in log.read_text():  # the TERM trap is set once it prints
        assert time.monotonic() < deadline
        time.sleep(0.01)
    started = time.monotonic()
    assert procs.stop_process("stubborn", sdir, timeout=0.5)
    assert time.monotonic() - started >= 0.5
    assert procs.process_pid("stubborn", sdir) is None
    assert not (sdir / "pids" / "stubborn.pid").exists()


def test_in_netns_opens_sockets_in_the_namespace(lab: Any, kit: Any) -> None:
    inode = in_netns(lab.ns("u1"), lambda: os.stat("/proc/thread-self/ns/net").st_ino)
    assert inode == os.stat(f"/run/netns/{lab.ns('u1')}").st_ino
    assert "uplink" in netns.run_in(lab.ns("u1"), ["ip", "-o", "link"])
    with pytest.raises(LabError, match="does not exist"):
        in_netns("gvl-none-such", lambda: None)


def test_without_privileges_up_says_so_in_one_line(tmp_path: Path, kit: Any) -> None:
    kit.require_lab(("setpriv",))
    code = (
        "from govnet.lab import netns, topology\n"
        "from govnet.errors import LabError\n"
        "try:\n"
        "    netns.up(topology.build_tree('np', [('u1','a1',['party'])]))\n"
        "except LabError as e:\n"
        "    print(e)\n"
    )
    out = subprocess.run(
        ["setpriv", "--inh-caps=-all", "--bounding-set=-all", sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=False,
        cwd=Path(__file__).parents[2],
    )
    assert out.stdout.strip().startswith("the lab needs root"), out.stdout + out.stderr
