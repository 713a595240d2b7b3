"""The daemon's bookkeeping without a network: state holding behind a failing parent, reboot
counting, SNMP engine renewal, the view's snapshot and prune, the collector's series and the
exporter's render-once-per-change cache.
"""

from __future__ import annotations

import asyncio
import dataclasses
import gzip

from govnet.inventory.loader import load
from govnet.metrics.http import Exporter
from govnet.metrics.page import render_page
from govnet.monitor.record import keep, prepare, record
from govnet.monitor.renewal import STUCK_AFTER, SnmpRenewal
from govnet.monitor.site import WatchedSite
from govnet.monitor.state import DaemonView, Tracker
from govnet.probes.base import InterfaceStatus, ProbeResult, Target
from govnet.probes.registry import default_kinds
from govnet.probes.snmp.kind import restarted
from tests.helpers import DATA, ROOT
from tests.monitor.daemonkit import Metrics

INVENTORY = load(DATA / "valid" / "minimal.yml").inventory
UNITS = ("sz-fagaiwei", "sz-caizheng", "zl-wanjin")


def cycle(t: Tracker, failing: set[str], segment: str = "party") -> list[tuple[str, str, str]]:
    for element, seg in list(t.entries):
        if seg == segment:
            t.observe(element, seg, element not in failing)
    return [(c.element, c.old, c.new) for c in t.resolve()]


def test_units_wait_for_a_parent_that_fails_a_cycle_later() -> None:
    t = Tracker(INVENTORY, 2)
    cycle(t, set())
    assert cycle(t, set(UNITS)) == []  # the fault came between the parent's echo and theirs
    assert cycle(t, {"core-city", *UNITS}) == []  # they would be down; the parent is failing: wait
    changes = cycle(t, {"core-city", *UNITS})
    assert ("core-city", "up", "down") in changes
    assert {(e, new) for e, _, new in changes if e != "core-city"} == {(u, "unreachable") for u in UNITS}


def test_a_unit_goes_down_once_its_failing_parent_recovers() -> None:
    t = Tracker(INVENTORY, 2)
    cycle(t, set())
    cycle(t, {"sz-caizheng"})
    assert cycle(t, {"core-city", "sz-caizheng"}) == []
    assert cycle(t, {"sz-caizheng"}) == [("sz-caizheng", "up", "down")]


def test_a_reload_keeps_what_the_tracker_knew() -> None:
    old = Tracker(INVENTORY, 2)
    cycle(old, set())
    cycle(old, {"sz-caizheng"})
    cycle(old, {"sz-caizheng"})
    new = Tracker(INVENTORY, 2, elements={"sz-caizheng", "zl-wanjin"})
    new.adopt(old)
    assert {(e, s): x.state for (e, s), x in new.entries.items() if s == "party"} == {
        ("core-city", "party"): "up",
        ("sz-caizheng", "party"): "down",
        ("zl-wanjin", "party"): "up",
    }


def view() -> DaemonView:
    site = WatchedSite.from_inventory(INVENTORY)
    return DaemonView(site, Tracker(site, 2), site.name, kinds=default_kinds())


def reboots(v: DaemonView) -> dict[str, int]:
    return {unit: n for unit, n in v.part("snmp").reboots.items() if n}


def snmp(unit: str, uptime: float | None, at: float, oper: int = 1, wall: float | None = None) -> ProbeResult:
    """A poll result made ``at`` seconds on the monotonic clock (``wall``: the wall clock, if it differs)."""
    target = Target(unit, "management", "10.40.10.12", 161)
    interfaces = (InterfaceStatus(7, "GigabitEthernet0/0/24", oper, 1, 10, 20),) if uptime is not None else ()
    return ProbeResult(
        "snmp",
        target,
        uptime is not None,
        uptime_seconds=uptime,
        interfaces=interfaces,
        at=at if wall is None else wall,
        clock=at,
    )


def test_a_reboot_behind_failed_polls_is_counted() -> None:
    v = view()
    record(v, "snmp", "management", [snmp("sz-caizheng", 1000.0, 0.0)])
    record(v, "snmp", "management", [snmp("sz-caizheng", None, 60.0)])  # rebooting: no answer
    record(v, "snmp", "management", [snmp("sz-caizheng", 30.0, 120.0)])
    record(v, "snmp", "management", [snmp("sz-caizheng", 90.0, 180.0)])
    assert reboots(v) == {"sz-caizheng": 1}


def test_a_cold_start_and_the_next_poll_count_one_reboot() -> None:
    v = view()
    record(v, "snmp", "management", [snmp("sz-caizheng", 1000.0, 0.0)])
    keep(v, "snmp", restarted(v.part("snmp"), "sz-caizheng", 0.5, 100.0, "coldStart"))
    assert reboots(v) == {"sz-caizheng": 1}
    record(v, "snmp", "management", [snmp("sz-caizheng", 3.0, 102.5)])
    assert reboots(v) == {"sz-caizheng": 1}
    assert [e["via"] for e in v.events if e["kind"] == "reboot"] == ["coldStart"]


def test_a_stepped_wall_clock_is_no_reboot() -> None:
    """NTP stepping the wall clock an hour forward (or back) between two polls changes nothing."""
    v = view()
    record(v, "snmp", "management", [snmp("sz-caizheng", 1000.0, 0.0, wall=1.7e9)])
    record(v, "snmp", "management", [snmp("sz-caizheng", 1030.0, 30.0, wall=1.7e9 + 3630)])
    record(v, "snmp", "management", [snmp("sz-caizheng", 1060.0, 60.0, wall=1.7e9 - 3540)])
    assert not reboots(v) and not [e for e in v.events if e["kind"] == "reboot"]


def test_the_first_poll_is_no_reboot() -> None:
    v = view()
    record(v, "snmp", "management", [snmp("sz-caizheng", 3.0, 0.0)])
    assert not reboots(v)


def test_the_snmp_probe_is_renewed_when_a_device_is_stuck_or_restarted() -> None:
    renewal = SnmpRenewal(gap=300)
    v3 = Target("sz-caizheng", "management", "10.40.10.12", 161, params={"version": "v3"})
    stuck = [ProbeResult("snmp", v3, False, "timeout: no answer from 10.40.10.12:161 after 2 × 1 s")]
    late = [ProbeResult("snmp", v3, False, "timeout: cycle deadline of 27 s reached")]
    for _ in range(STUCK_AFTER + 1):
        renewal.observe(late, lambda unit: True)
        renewal.observe([snmp("sz-caizheng", None, 0.0)], lambda unit: True)  # v2c: no engine
    assert not renewal.take()
    for _ in range(STUCK_AFTER - 1):
        renewal.observe(stuck, lambda unit: True)
    assert not renewal.take()
    renewal.observe(stuck, lambda unit: False)  # it does not answer ping either: not the engine
    renewal.observe(stuck, lambda unit: True)
    assert not renewal.take()
    for _ in range(STUCK_AFTER):
        renewal.observe(stuck, lambda unit: True)
    assert renewal.take() and not renewal.take()
    for _ in range(STUCK_AFTER):
        renewal.observe(stuck, lambda unit: True)
    assert not renewal.take(), "at most once per gap when no device said it restarted"
    renewal.restarted()
    assert renewal.take()


def filled() -> DaemonView:
    v = view()
    results = [
        ProbeResult("icmp", Target(u, "party", "10.112.0.1"), True, rtt_seconds=0.001, loss_ratio=0.0, at=1.0)
        for u in ("core-city", *UNITS)
    ]
    record(v, "icmp", "party", results)
    record(v, "snmp", "management", [snmp("sz-caizheng", 100.0, 1.0)])
    return v


def test_one_series_per_fact_and_a_prune_removes_them() -> None:
    v = filled()
    exporter = Exporter(v, lambda: (True, "ok"))
    m = Metrics.parse(exporter.render_now().plain().decode())
    assert m.get1("govnet_unit_up", segment="party", unit="sz-caizheng") == 1.0
    assert m.select("govnet_unit_state", unit="sz-caizheng") == [
        ({"segment": "intranet", "unit": "sz-caizheng", "state": "unknown"}, 1.0),  # not probed yet
        ({"segment": "party", "unit": "sz-caizheng", "state": "up"}, 1.0),
    ]
    assert len(m.select("govnet_unit_info", unit="sz-caizheng")) == 1  # per unit, not per segment
    opers = m.select("govnet_snmp_if_oper_status", unit="sz-caizheng")
    assert {ls["segment"] for ls, _ in opers} == {"intranet", "party"}
    assert len(m.select("govnet_snmp_if_in_octets_total", unit="sz-caizheng")) == 1
    assert m.get1("govnet_units_watched") == 3
    v.tracker = Tracker(INVENTORY, 2, elements={"sz-fagaiwei"})
    v.prune({e for e, _ in v.tracker.entries})
    v.touch()
    m = Metrics.parse(exporter.render_now().plain().decode())
    assert not m.select("govnet_icmp_rtt_seconds", unit="sz-caizheng")
    assert not m.select("govnet_snmp_if_oper_status", unit="sz-caizheng")
    assert m.get1("govnet_units_watched") == 1


def test_scrapes_never_render_and_a_change_renders_once() -> None:
    async def scenario() -> tuple[int, int, bytes, bytes]:
        v = filled()
        exporter = Exporter(v, lambda: (True, "ok"), min_gap=0.01)
        server = await exporter.serve("127.0.0.1", 0)
        try:
            first = exporter.renders
            for _ in range(20):
                exporter.exposition(want_gzip=True)
            scraped = exporter.renders - first
            v.touch()
            v.touch()
            for _ in range(100):  # bounded wait for the background render
                if exporter.rendered.version == v.version:
                    break
                await asyncio.sleep(0.01)
            return scraped, exporter.renders - first, exporter.exposition(False), exporter.exposition(True)
        finally:
            server.close()
            await exporter.close()

    scraped, after_change, plain, zipped = asyncio.run(scenario())
    assert scraped == 0
    assert after_change == 1
    assert gzip.decompress(zipped) == plain


def test_reboot_counters_start_at_zero_for_every_snmp_device() -> None:
    """``increase(govnet_device_reboots_total[…])`` needs the series before the first reboot."""
    v = view()
    prepare(
        v,
        {
            ("snmp", "management"): [
                Target(u, "management", "10.40.10.12", 161) for u in ("sz-caizheng", "zl-wanjin")
            ]
        },
    )
    exporter = Exporter(v, lambda: (True, "ok"))
    m = Metrics.parse(exporter.render_now().plain().decode())
    assert m.get1("govnet_device_reboots_total", unit="sz-caizheng") == 0.0
    assert m.get1("govnet_device_reboots_total", unit="zl-wanjin") == 0.0
    assert m.get1("govnet_device_reboots_total", unit="sz-fagaiwei") is None  # no SNMP: no counter
    record(v, "snmp", "management", [snmp("sz-caizheng", 1000.0, 0.0)])
    record(v, "snmp", "management", [snmp("sz-caizheng", 5.0, 60.0)])
    prepare(
        v,
        {
            ("snmp", "management"): [
                Target(u, "management", "10.40.10.12", 161) for u in ("sz-caizheng", "zl-wanjin")
            ]
        },
    )  # a reload: counts kept, not reset
    v.touch()
    m = Metrics.parse(exporter.render_now().plain().decode())
    assert m.get1("govnet_device_reboots_total", unit="sz-caizheng") == 1.0
    assert m.get1("govnet_device_reboots_total", unit="zl-wanjin") == 0.0


def test_snmp_success_is_a_probe_success_per_segment_and_tasks_are_exported() -> None:
    v = filled()
    v.counters = dataclasses.replace(v.counters, tasks=7)
    m = Metrics.parse(Exporter(v, lambda: (True, "ok")).render_now().plain().decode())
    assert {
        ls["segment"] for ls, _ in m.select("govnet_probe_success", probe="snmp", unit="sz-caizheng")
    } == {
        "intranet",
        "party",
    }
    assert m.get1("govnet_probe_success", probe="snmp", segment="party", unit="sz-caizheng") == 1.0
    assert m.get1("govnet_daemon_tasks") == 7.0


def test_the_provincial_uplink_is_polled_on_the_core() -> None:
    """GovnetProvincialUplinkDown reads core-city GigabitEthernet3/0/1: the daemon must poll it
    although the core device lists only its trunks (the shipped inventory, built, never probed)."""
    shipped = load(ROOT / "inventory").inventory
    (uplink,) = [u for u in shipped.uplinks if u.id == "province-party"]
    core = WatchedSite.from_inventory(shipped).element(uplink.node)
    assert core is not None and uplink.node == "core-city"
    assert "GigabitEthernet3/0/1" in core.interfaces
    assert core.interfaces[: len(shipped.nodes[0].device.interfaces)] == tuple(
        shipped.nodes[0].device.interfaces
    )
    rules = (ROOT / "exporters" / "prometheus" / "govnet.rules.yml").read_text()
    assert 'unit="core-city", ifname="GigabitEthernet3/0/1"' in rules


def test_a_target_never_sent_to_keeps_its_state() -> None:
    """A cycle that ran out of time before sending to some targets says nothing about them."""
    v = view()

    def icmp(unit: str, answered: bool | None) -> ProbeResult:
        target = Target(unit, "party", "10.112.0.1")
        if answered is None:
            return ProbeResult("icmp", target, False, "not sent before the deadline")
        return ProbeResult("icmp", target, answered, sent=3, received=3 * answered, loss_ratio=1.0 - answered)

    units = ("core-city", *UNITS)
    record(v, "icmp", "party", [icmp(u, True) for u in units])
    for _ in range(3):
        changes = record(v, "icmp", "party", [icmp(u, None if u == "sz-caizheng" else True) for u in units])
        assert changes == []
    entry = v.tracker.get("sz-caizheng", "party")
    assert entry is not None and entry.state == "up" and entry.failures == 0
    record(v, "icmp", "party", [icmp(u, u != "sz-caizheng") for u in units])
    changes = record(v, "icmp", "party", [icmp(u, u != "sz-caizheng") for u in units])
    assert [(c.element, c.new) for c in changes] == [("sz-caizheng", "down")], "a real failure still counts"


def test_an_isolation_check_that_could_not_run_is_no_breach() -> None:
    v = filled()
    target = Target("sz-caizheng", "intranet", "10.40.10.12", params={"vantage": "party-core"})
    record(v, "isolation", "party", [ProbeResult("isolation", target, True, "isolated", at=1.0)])
    exporter = Exporter(v, lambda: (True, "ok"))

    def seen() -> tuple[list[tuple[dict[str, str], float]], str]:
        v.touch()
        page = render_page(v)
        return Metrics.parse(exporter.render_now().plain().decode()).select("govnet_isolation_ok"), page

    (ok, page) = seen()
    assert [value for _, value in ok] == [1.0] and "isolation holds (1 checks)" in page
    not_run = ProbeResult(
        "isolation", target, False, "not probed: timeout: cycle deadline of 3 s reached", at=2.0
    )
    record(v, "isolation", "party", [not_run])
    (ok, page) = seen()
    assert ok == [] and "BREACHED" not in page and "1 not run this cycle" not in page
    assert v.events[-1]["kind"] == "isolation-unchecked"
    answered = ProbeResult(
        "isolation", target, False, "BREACH: 10.40.10.12 answered from vantage party-core", at=3.0
    )
    record(v, "isolation", "party", [answered])
    (ok, page) = seen()
    assert [value for _, value in ok] == [0.0] and "ISOLATION BREACHED: 1 check(s) answered" in page
