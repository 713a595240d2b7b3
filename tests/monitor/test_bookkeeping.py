"""The daemon's own bookkeeping (counters, traps, reload status, drift check, cycle records) is immutable and
replaced whole by its one writer, so a snapshot shares it without a copy: a snapshot taken before
a change still shows what it saw, and the exposition reads the same numbers the writers left."""

from __future__ import annotations

import dataclasses

from prometheus_client.parser import text_string_to_metric_families

from govnet.compliance.check import DeviceCheck, UnitReport
from govnet.metrics.http import render
from govnet.metrics.view import ReloadStatus, TrapTally
from govnet.monitor.drift import DriftJob
from tests.monitor.test_daemon_units import view


def report(unit: str, state: str, checked: float) -> UnitReport:
    device = DeviceCheck(unit, f"{unit}-sw", "huawei_vrp", state, checked)  # type: ignore[arg-type]
    return UnitReport(unit, ("intranet",), (device,))


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def test_a_snapshot_keeps_the_bookkeeping_it_saw_while_the_writers_replace_it() -> None:
    v = view()
    unit = next(iter(v.inventory.units)).id  # type: ignore[attr-defined]
    before = v.snapshot()
    v.counters = dataclasses.replace(v.counters, tasks=9, refused={("icmp", "intranet"): 2})
    v.trapped = v.trapped.received("linkDown").received("linkDown").polled()
    v.reload = ReloadStatus(False, 5.0)
    DriftJob.record(v, [report(unit, "drifted", 100.0)])
    after = v.snapshot()
    assert (before.counters.tasks, dict(before.counters.refused), before.trapped) == (0, {}, TrapTally())
    assert before.reload.ok and not before.compliance.reports
    assert after.counters is v.counters and after.trapped is v.trapped and after.compliance is v.compliance
    assert (after.counters.tasks, dict(after.trapped.by_kind), after.trapped.polls) == (9, {"linkDown": 2}, 1)
    assert after.compliance.reports[unit].state == "drifted"
    assert v.events[0]["kind"] == "compliance"


def test_an_unreadable_unit_keeps_its_last_checked_time_and_a_pruned_one_goes() -> None:
    v = view()
    units = [u.id for u in v.inventory.units][:2]  # type: ignore[attr-defined]
    DriftJob.record(v, [report(units[0], "compliant", 100.0), report(units[1], "compliant", 100.0)])
    DriftJob.record(v, [report(units[0], "unknown", 0.0)])
    assert v.compliance.reports[units[0]].state == "unknown"
    assert dict(v.compliance.checked) == {units[0]: 100.0, units[1]: 100.0}
    v.prune({units[1]})
    assert set(v.compliance.reports) == set(v.compliance.checked) == {units[1]}


def test_the_exposition_shows_what_the_writers_left() -> None:
    v = view()
    v.counters = dataclasses.replace(v.counters, tasks=7, loop_lag=0.25, traps_dropped=3)
    v.counters = dataclasses.replace(v.counters, refused={("icmp", "intranet"): 2})
    v.trapped = v.trapped.received("linkUp").polled().polled()
    v.reload = ReloadStatus(False, 42.0)
    got = samples(render(v.snapshot()).plain().decode())
    assert got[("govnet_daemon_tasks", ())] == 7
    assert got[("govnet_daemon_loop_lag_seconds", ())] == 0.25
    assert got[("govnet_traps_dropped_total", ())] == 3
    assert got[("govnet_traps_received_total", (("kind", "linkUp"),))] == 1
    assert got[("govnet_snmp_trap_polls_total", ())] == 2
    assert got[("govnet_targets_refused", (("probe", "icmp"), ("segment", "intranet")))] == 2
    assert got[("govnet_config_last_reload_successful", ())] == 0
    assert got[("govnet_config_last_reload_success_timestamp_seconds", ())] == 42.0


def test_cycle_records_are_replaced_not_changed() -> None:
    v = view()
    v.set_cycle(v.cycle("icmp", "party").finished(1000.0, 2.5, 50.0, targets=10, failures=1))
    before = v.snapshot()
    v.set_cycle(v.cycle("icmp", "party").overrun())
    v.set_cycle(v.cycle("icmp", "party").finished(1010.0, 3.0, 60.0, targets=10, failures=0))
    after = v.snapshot()
    (seen,) = before.cycles
    assert (seen.cycles, seen.overruns, seen.failures, seen.duration) == (1, 0, 1, 2.5)
    (now,) = after.cycles
    assert now is v.cycle("icmp", "party")
    assert (now.cycles, now.overruns, now.failures, now.started) == (2, 1, 0, 1010.0)
    got = samples(render(after).plain().decode())
    job = (("probe", "icmp"), ("segment", "party"))
    assert got[("govnet_probe_cycles_total", job)] == 2
    assert got[("govnet_probe_cycles_skipped_total", job)] == 1
    assert got[("govnet_probe_last_cycle_timestamp_seconds", job)] == 1013.0
