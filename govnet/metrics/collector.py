"""A prometheus-client ``Collector`` over a `Snapshot` of the daemon's view.

Names follow DESIGN.md (``govnet_unit_up``, ``govnet_probe_success``, …) and Prometheus
conventions (base units, ``_total`` for counters). Probe workers never touch metric objects.

Each probe kind has its own collector over its part of the snapshot (``govnet/probes/<kind>/``);
this one holds what is not a kind's: units, segments, compliance, rollouts, the daemon, and
``govnet_probe_success``, which every kind writes samples of (one family, one writer).

Cardinality is watched because one daemon may hold 10,000 units on three segments: per unit
and segment there is one series per fact, not one per possible value. ``govnet_unit_state``
carries the *current* state as a label (value 1; the series changes label on a transition) and
``govnet_unit_info`` is one series per unit (not per segment).

Families are built one at a time, each when the exposition asks for it: at 10,000 units a
family holds ~30,000 samples (~12 MB), and building them all first would hold ~270,000. Every
metric name is written out literally (tests and people grep this file for them).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, InfoMetricFamily
from prometheus_client.registry import Collector

from govnet import __version__
from govnet.metrics.view import Snapshot, availability

Family = GaugeMetricFamily | CounterMetricFamily | InfoMetricFamily
JOB = ["probe", "segment"]
UNIT_SEGMENT = ["segment", "unit"]


def collectors(snapshot: Snapshot) -> list[Collector]:
    """Every collector of the exposition: the daemon's own, then each probe kind's over its part."""
    kinds = snapshot.kinds
    return [
        ViewCollector(snapshot),
        *(kinds[name].collector(snapshot.parts[name], snapshot) for name in kinds),
    ]


class ViewCollector(Collector):
    """Units, segments, compliance, rollouts and the daemon itself; probe kinds have their own."""

    def __init__(self, snapshot: Snapshot) -> None:
        self.snapshot = snapshot

    def collect(self) -> Iterator[Family]:
        builders: list[Callable[[], Family]] = [
            self._build,
            self._unit_info,
            self._unit_up,
            self._unit_state,
            self._unit_since,
            self._path_hop,
            self._probe_success,
            *self._compliance(),
            *self._pending(),
        ]
        for build in builders:
            yield build()
        yield from self._segments()
        yield from self._rollouts()
        yield from self._daemon()  # a few samples each

    def _build(self) -> Family:
        snap = self.snapshot
        return InfoMetricFamily(
            "govnet_build",
            "govnet version and the site/shard this daemon watches",
            value={"version": __version__, "site": snap.site, "shard": snap.shard},
        )

    # -- units -------------------------------------------------------------------------------
    def _unit_info(self) -> Family:
        info = InfoMetricFamily(
            "govnet_unit",
            "Unit and node facts from the inventory, to join on (wave: its extranet migration wave)",
            labels=["unit", "name", "kind", "parent", "wave"],
        )
        described: set[str] = set()
        for entry in self.snapshot.entries:
            element = self.snapshot.inventory.element(entry.element)
            if element is None or entry.element in described:
                continue
            described.add(entry.element)
            extranet = element.segments.get("extranet")
            wave = "" if extranet is None or extranet.wave is None else str(extranet.wave)
            info.add_metric([element.id, element.name, element.kind, element.parent or "", wave], {})
        return info

    def _unit_up(self) -> Family:
        up = GaugeMetricFamily(
            "govnet_unit_up", "1 when the unit answers on the segment this cycle", labels=UNIT_SEGMENT
        )
        for entry in self.snapshot.entries:
            if entry.state != "unknown":
                up.add_metric([entry.segment, entry.element], 1.0 if entry.state == "up" else 0.0)
        return up

    def _unit_state(self) -> Family:
        state = GaugeMetricFamily(
            "govnet_unit_state",
            "Always 1; the state label is the unit's current state on the segment "
            "(up, down, unreachable: its parent is down, unknown)",
            labels=[*UNIT_SEGMENT, "state"],
        )
        for entry in self.snapshot.entries:
            state.add_metric([entry.segment, entry.element, entry.state], 1.0)
        return state

    def _unit_since(self) -> Family:
        since = GaugeMetricFamily(
            "govnet_unit_state_since_timestamp_seconds", "When the current state began", labels=UNIT_SEGMENT
        )
        for entry in self.snapshot.entries:
            since.add_metric([entry.segment, entry.element], entry.since)
        return since

    def _path_hop(self) -> Family:
        hop = GaugeMetricFamily(
            "govnet_unit_path_last_hop_info",
            "For a down unit: the last hop that still answers (path localisation)",
            labels=[*UNIT_SEGMENT, "hop", "hops"],
        )
        for entry in self.snapshot.entries:
            if entry.path_hop is not None:
                hop.add_metric([entry.segment, entry.element, entry.path_hop, str(entry.path_hops or 0)], 1.0)
        return hop

    # -- probes --------------------------------------------------------------------------
    def _probe_success(self) -> Family:
        """One family for every kind that has success samples (a family has one writer)."""
        success = GaugeMetricFamily(
            "govnet_probe_success",
            "1 when the probe succeeded in its last cycle",
            labels=["probe", *UNIT_SEGMENT],
        )
        snap = self.snapshot
        for name, kind in snap.kinds.items():
            for segment, unit, ok in kind.success(snap.parts[name], snap):
                success.add_metric([name, segment, unit], 1.0 if ok else 0.0)
        return success

    # -- configuration compliance (the drift check) ---------------------------------------
    def _compliance(self) -> list[Callable[[], Family]]:
        """Compliant per unit and segment scope (absent while unknown: never 1 for a unit that
        could not be read), drifted lines per category, when last checked, and the last attempt."""

        def compliant() -> Family:
            family = GaugeMetricFamily(
                "govnet_config_compliant",
                "1 when the unit's running config matches its intent for the segment (the drift check)",
                labels=UNIT_SEGMENT,
            )
            for unit, report in self.snapshot.compliance.reports.items():
                for segment in report.segments:
                    verdict = report.segment_compliant(segment)
                    if verdict is not None:
                        family.add_metric([segment, unit], 1.0 if verdict else 0.0)
            return family

        def drift_lines() -> Family:
            family = GaugeMetricFamily(
                "govnet_config_drift_lines",
                "Drifted lines (missing + extra) per category: security-baseline, party-isolation, access",
                labels=["unit", "kind"],
            )
            for unit, report in self.snapshot.compliance.reports.items():
                if report.state != "unknown":
                    for kind, (missing, extra) in report.categories.items():
                        family.add_metric([unit, kind], missing + extra)
            return family

        def last_check() -> Family:
            family = GaugeMetricFamily(
                "govnet_config_last_check_timestamp_seconds",
                "When the unit's running config was last read and compared with its intent",
                labels=["unit"],
            )
            for unit, at in self.snapshot.compliance.checked.items():
                family.add_metric([unit], at)
            return family

        def check_success() -> Family:
            family = GaugeMetricFamily(
                "govnet_config_check_success",
                "1 when the last drift check could read the unit's running config (0: unknown)",
                labels=["unit"],
            )
            for unit, report in self.snapshot.compliance.reports.items():
                family.add_metric([unit], 0.0 if report.state == "unknown" else 1.0)
            return family

        return [compliant, drift_lines, last_check, check_success]

    def _pending(self) -> list[Callable[[], Family]]:
        """Pending rollout, apart from drift: a part govnet has never applied to the unit is not
        yet built (no drift alert); per segment scope, and lines per category like the drift."""

        def pending() -> Family:
            family = GaugeMetricFamily(
                "govnet_config_pending",
                "1 when the unit's segment is not in place and govnet never applied it: pending rollout, not drift",
                labels=UNIT_SEGMENT,
            )
            for unit, report in self.snapshot.compliance.reports.items():
                if report.state != "unknown":
                    for segment in report.segments:
                        family.add_metric([segment, unit], 1.0 if report.segment_pending(segment) else 0.0)
            return family

        def pending_lines() -> Family:
            family = GaugeMetricFamily(
                "govnet_config_pending_lines",
                "Lines (missing + extra) per category in parts govnet has never applied: not yet built, not drift",
                labels=["unit", "kind"],
            )
            for unit, report in self.snapshot.compliance.reports.items():
                if report.state != "unknown":
                    for kind, (missing, extra) in report.pending_categories.items():
                        family.add_metric([unit, kind], missing + extra)
            return family

        return [pending, pending_lines]

    # -- segments and the daemon itself ----------------------------------------------------
    def _segments(self) -> tuple[Family, ...]:
        snap = self.snapshot
        ratio = GaugeMetricFamily(
            "govnet_segment_availability_ratio",
            "Share of the segment's units that are up",
            labels=["segment"],
        )
        units = GaugeMetricFamily(
            "govnet_segment_units", "Units of the segment per state", labels=["segment", "state"]
        )
        for segment in snap.inventory.segments:
            counts = snap.counts(segment)
            value = availability(counts)
            if value is not None:
                ratio.add_metric([segment], value)
            for state, count in counts.items():
                units.add_metric([segment, state], count)
        return ratio, units

    def _rollouts(self) -> tuple[Family, ...]:
        """The newest rollout run per segment and kind (apply / rollback): Grafana annotations.

        At most 3 segments × 2 kinds series each (× the unit results): the ``run`` label names
        the run the timestamps belong to, so an annotation can say which run it marks.
        """
        start = GaugeMetricFamily(
            "govnet_rollout_last_start_timestamp_seconds",
            "When the newest rollout run of this segment and kind started",
            labels=["segment", "kind", "run"],
        )
        end = GaugeMetricFamily(
            "govnet_rollout_last_end_timestamp_seconds",
            "When the newest rollout run of this segment and kind ended (absent while it runs)",
            labels=["segment", "kind", "run"],
        )
        running = GaugeMetricFamily(
            "govnet_rollout_running",
            "1 while a rollout run of this segment and kind is changing units",
            labels=["segment", "kind"],
        )
        units = GaugeMetricFamily(
            "govnet_rollout_units",
            "Units of the newest rollout run per result (pending: not finished)",
            labels=["segment", "kind", "result"],
        )
        for seen in self.snapshot.rollouts:
            start.add_metric([seen.segment, seen.kind, seen.run], seen.started)
            if seen.ended is not None:
                end.add_metric([seen.segment, seen.kind, seen.run], seen.ended)
            running.add_metric([seen.segment, seen.kind], 1.0 if seen.running else 0.0)
            for result, count in seen.units:
                units.add_metric([seen.segment, seen.kind, result], count)
        return start, end, running, units

    def _daemon(self) -> tuple[Family, ...]:
        snap = self.snapshot
        duration = GaugeMetricFamily(
            "govnet_probe_duration_seconds", "How long the last cycle took", labels=JOB
        )
        last = GaugeMetricFamily(
            "govnet_probe_last_cycle_timestamp_seconds", "When the last cycle finished", labels=JOB
        )
        targets = GaugeMetricFamily("govnet_probe_targets", "Targets in the last cycle", labels=JOB)
        cycles = CounterMetricFamily("govnet_probe_cycles", "Cycles run", labels=JOB)
        overruns = CounterMetricFamily(
            "govnet_probe_cycles_skipped",
            "Cycles skipped because the previous one was still running",
            labels=JOB,
        )
        for stat in snap.cycles:
            labels = [stat.probe, stat.segment]
            if stat.cycles:
                duration.add_metric(labels, stat.duration)
                last.add_metric(labels, stat.started + stat.duration)
            targets.add_metric(labels, stat.targets)
            cycles.add_metric(labels, stat.cycles)
            overruns.add_metric(labels, stat.overruns)
        traps = CounterMetricFamily("govnet_traps_received", "SNMP notifications received", labels=["kind"])
        for kind, count in snap.trapped.by_kind.items():
            traps.add_metric([kind], count)
        dropped = CounterMetricFamily(
            "govnet_traps_dropped", "Notifications dropped (storm limit, bad community)"
        )
        dropped.add_metric([], snap.counters.traps_dropped)
        polls = CounterMetricFamily(
            "govnet_snmp_trap_polls", "SNMP polls of a device made at once because it sent a trap"
        )
        polls.add_metric([], snap.trapped.polls)
        refused = GaugeMetricFamily(
            "govnet_targets_refused",
            "Targets not probed because they lie outside allowed_networks",
            labels=JOB,
        )
        for (probe, segment), count in snap.counters.refused.items():
            refused.add_metric([probe, segment], count)
        render = GaugeMetricFamily(
            "govnet_exposition_render_seconds",
            "How long rendering the previous /metrics exposition took (once per change, off the scrape)",
        )
        render.add_metric([], snap.render_seconds)
        units = GaugeMetricFamily("govnet_units_watched", "Units this daemon (shard) watches")
        units.add_metric([], len({e.element for e in snap.entries if e.is_unit}))
        tasks = GaugeMetricFamily(
            "govnet_daemon_tasks", "asyncio tasks alive in the daemon after its last cycle (leak watch)"
        )
        tasks.add_metric([], snap.counters.tasks)
        lag = GaugeMetricFamily(
            "govnet_daemon_loop_lag_seconds",
            "Worst lateness of the daemon's event loop over the last minute (blocked: cycles and scrapes wait)",
        )
        lag.add_metric([], snap.counters.loop_lag)
        reload_ok = GaugeMetricFamily(
            "govnet_config_last_reload_successful",
            "0 when the last SIGHUP reload was refused (the daemon runs on its previous config)",
        )
        reload_ok.add_metric([], 1.0 if snap.reload.ok else 0.0)
        reload_at = GaugeMetricFamily(
            "govnet_config_last_reload_success_timestamp_seconds",
            "When the running config was loaded (start or last applied reload)",
        )
        reload_at.add_metric([], snap.reload.at)
        return (
            duration,
            last,
            targets,
            cycles,
            overruns,
            traps,
            dropped,
            polls,
            refused,
            render,
            units,
            tasks,
            lag,
            reload_ok,
            reload_at,
        )
