"""Each kernel fault changes what ping and snmpget really observe, and heal restores it."""

from __future__ import annotations

import importlib.util
import subprocess
import time
from typing import Any

import pytest

from govnet.errors import LabError
from govnet.lab import kfaults, netns, procs, snmpd

UP, DOWN = "1", "2"


def wait_for(condition: Any, timeout: float = 10.0, step: float = 0.1) -> bool:
    """Poll ``condition()`` until true or ``timeout``; the last value."""
    deadline = time.monotonic() + timeout
    while not (ok := condition()) and time.monotonic() < deadline:
        time.sleep(step)
    return bool(ok)


def iptables_rules(ns: str, table: str) -> str:
    return subprocess.run(
        ["ip", "netns", "exec", ns, "iptables-legacy", "-t", table, "-S"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout


@pytest.mark.parametrize(
    ("kind", "message"),
    [
        ("loss", "needs a number"),
        ("loss=0", "1..100"),
        ("latency=x", "needs a number"),
        ("ssh-drop", "not a kernel fault"),
        ("link-down=3", "takes no value"),
    ],
)
def test_bad_fault_kinds_are_refused(kind: str, message: str) -> None:
    with pytest.raises(LabError, match=message):
        kfaults.parse_kind(kind)


def test_core_and_prober_cannot_be_faulted(healthy: Any) -> None:
    for node in ("core", "probe"):
        with pytest.raises(LabError, match="fault an agg"):
            kfaults.apply(healthy.topology, node, "link-down", healthy.root)


def test_party_and_intranet_are_isolated_until_a_leak(healthy: Any, kit: Any) -> None:
    t, prober = healthy.topology, healthy.prober
    party_src, intranet_src = t.prober_address("party"), t.prober_address("intranet")
    u0, u1 = t.node("u0"), t.node("u1")

    def party_reaches_intranet() -> bool:
        return bool(kit.ping(u0.mgmt, ns=prober, src=party_src).received == 1)

    def intranet_reaches_party() -> bool:
        return bool(kit.ping(u0.address("party"), ns=prober, src=intranet_src).received == 1)

    def unit_party_reaches_other_unit() -> bool:
        return bool(kit.ping(u1.mgmt, ns=healthy.ns("u0", "party")).received == 1)

    assert kit.ping(u0.address("party"), ns=prober, src=party_src).received == 1
    assert kit.ping(u0.mgmt, ns=prober, src=intranet_src).received == 1
    checks = (party_reaches_intranet, intranet_reaches_party, unit_party_reaches_other_unit)
    assert not any(check() for check in checks)

    kfaults.apply(t, "u0", "isolation-leak", healthy.root)
    assert all(check() for check in checks)
    assert netns.status(t.lab, healthy.root).faults == [{"node": "u0", "kind": "isolation-leak"}]

    assert kfaults.heal(t, "u0", healthy.root) == ["isolation-leak"]
    assert not any(check() for check in checks)
    assert netns.status(t.lab, healthy.root).faults == []


def test_link_down_on_a_unit(healthy: Any, kit: Any) -> None:
    t = healthy.topology
    unit = t.node("u1")
    uplink = kit.ifindex(healthy.ns("u1"), "uplink")
    oper = f"{snmpd.IF_OPER_STATUS}.{uplink}"
    kfaults.apply(t, "u1", "link-down", healthy.root)
    for vrf in unit.vrfs:
        assert kit.ping(unit.address(vrf)).received == 0
    assert kit.snmpget(unit.mgmt, oper) is None  # the management path is gone too
    # the device's own console still sees its agent: IF-MIB reads the uplink down
    assert wait_for(lambda: kit.snmpget(unit.mgmt, oper, ns=healthy.ns("u1")) == DOWN)
    assert kit.ping(t.node("u5").mgmt).received == 1  # its neighbour is fine

    kfaults.heal(t, "u1", healthy.root)
    for vrf in unit.vrfs:
        assert kit.ping(unit.address(vrf), wait=2).received == 1
    assert wait_for(lambda: kit.snmpget(unit.mgmt, oper) == UP)
    # taking a link down flushed its permanent neighbour entries; the heal put them back
    for vrf in unit.vrfs:
        assert "PERMANENT" in neighbours(healthy.ns("u1", vrf), "uplink")
        assert "PERMANENT" in neighbours(healthy.ns("a1", vrf), "dn-u1")


def neighbours(ns: str, dev: str) -> str:
    argv = ["ip", "-n", ns, "neigh", "show", "dev", dev]
    return subprocess.run(argv, capture_output=True, text=True, check=True).stdout


def test_link_down_on_an_agg_cuts_every_unit_behind_it(healthy: Any, kit: Any) -> None:
    t = healthy.topology
    behind = [u.name for u in t.units_behind("a0")]
    kfaults.apply(t, "a0", "link-down", healthy.root)
    for unit in t.units():
        answered = kit.ping(unit.mgmt).received == 1
        assert answered == (unit.name not in behind), unit.name
    kfaults.heal(t, "a0", healthy.root)
    assert all(kit.ping(u.mgmt, wait=2).received == 1 for u in t.units())


def test_device_down_stops_links_agent_and_hooks(healthy: Any, kit: Any) -> None:
    t = healthy.topology
    calls: list[tuple[str, str]] = []

    class Hook:
        def stop(self, node: str) -> None:
            calls.append(("stop", node))

        def start(self, node: str) -> None:
            calls.append(("start", node))

    sdir = healthy.root / t.lab
    unit = t.node("u5")
    kfaults.apply(t, "u5", "device-down", healthy.root, hooks=[Hook()])
    assert kit.ping(unit.mgmt).received == 0
    assert procs.process_pid(snmpd.agent_name("u5"), sdir) is None
    assert calls == [("stop", "u5")]
    kfaults.heal(t, "u5", healthy.root, hooks=[Hook()])
    assert calls == [("stop", "u5"), ("start", "u5")]
    assert kit.ping(unit.mgmt, wait=2).received == 1
    assert kit.snmpget(unit.mgmt, snmpd.SYS_NAME, timeout=2) == '"u5"'


def test_loss(healthy: Any, kit: Any) -> None:
    t = healthy.topology
    unit = t.node("u2")
    kfaults.apply(t, "u2", "loss=100", healthy.root)
    assert kit.ping(unit.mgmt, count=20, interval=0.01, wait=0.5).received == 0
    kfaults.apply(t, "u2", "loss=50", healthy.root)  # replaces loss=100
    result = kit.ping(unit.address("party"), count=40, interval=0.01, wait=0.5)
    assert 0.1 <= result.loss <= 0.9, result.output
    assert kfaults.active(t.lab, healthy.root) == [{"node": "u2", "kind": "loss=50"}]
    kfaults.heal(t, "u2", healthy.root)
    assert kit.ping(unit.mgmt, count=10, interval=0.01).received == 10
    assert "GVL-LOSS" not in iptables_rules(healthy.ns("u2"), "filter")


@pytest.mark.parametrize("node", ["u3", "a1"])
def test_latency(healthy: Any, kit: Any, node: str) -> None:
    if importlib.util.find_spec("netfilterqueue") is None:
        kit.skip_or_fail("the Python package netfilterqueue is not installed")
    t = healthy.topology
    units = t.units_behind(node)
    kfaults.apply(t, node, "latency=200", healthy.root)
    for unit in units:
        result = kit.ping(unit.mgmt, count=2, wait=3)
        assert result.received == 2 and min(result.rtts) >= 200.0, result.output
    kfaults.heal(t, node, healthy.root)
    sdir = healthy.root / t.lab
    assert not [n for n in procs.recorded(sdir) if n.startswith("delay-")]
    assert "NFQUEUE" not in iptables_rules(healthy.ns(node), "mangle")
    assert all(kit.ping(u.mgmt).received == 1 for u in units)
