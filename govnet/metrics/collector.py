"""A prometheus-client ``Collector`` over a `Snapshot` of the daemon's view.

Names follow DESIGN.md (``govnet_unit_up``, ``govnet_probe_success``, …) and Prometheus
conventions (base units, ``_total`` for counters). Probe workers never touch metric objects.

Cardinality is watched because one daemon may hold 10,000 units on three segments: per unit
and segment there is one series per fact, not one per possible value. ``govnet_unit_state``
carries the *current* state as a label (value 1; the series changes label on a transition),
``govnet_unit_info`` is one series per unit (not per segment), and the device-level SNMP facts
(admin status, octet counters, uptime) are per unit and interface; only
``govnet_snmp_if_oper_status`` repeats per segment, as DESIGN.md names it.
"""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, InfoMetricFamily
from prometheus_client.registry import Collector

from govnet import __version__
from govnet.metrics.view import Snapshot, availability

Family = GaugeMetricFamily | CounterMetricFamily | InfoMetricFamily


class ViewCollector(Collector):
    def __init__(self, snapshot: Snapshot) -> None:
        self.snapshot = snapshot

    def collect(self) -> Iterator[Family]:
        snap = self.snapshot
        yield InfoMetricFamily(
            "govnet_build",
            "govnet version and the site/shard this daemon watches",
            value={"version": __version__, "site": snap.site, "shard": snap.shard},
        )
        yield from self._units()
        yield from self._probes()
        yield from self._snmp()
        yield from self._segments()
        yield from self._daemon()

    def _units(self) -> Iterator[Family]:
        snap = self.snapshot
        info = InfoMetricFamily(
            "govnet_unit",
            "Unit and node facts from the inventory, to join on (wave: its extranet migration wave)",
            labels=["unit", "name", "kind", "parent", "wave"],
        )
        up = GaugeMetricFamily(
            "govnet_unit_up", "1 when the unit answers on the segment this cycle", labels=["segment", "unit"]
        )
        state = GaugeMetricFamily(
            "govnet_unit_state",
            "Always 1; the state label is the unit's current state on the segment "
            "(up, down, unreachable: its parent is down, unknown)",
            labels=["segment", "unit", "state"],
        )
        since = GaugeMetricFamily(
            "govnet_unit_state_since_timestamp_seconds",
            "When the current state began",
            labels=["segment", "unit"],
        )
        hop = GaugeMetricFamily(
            "govnet_unit_path_last_hop_info",
            "For a down unit: the last hop that still answers (path localisation)",
            labels=["segment", "unit", "hop", "hops"],
        )
        described: set[str] = set()
        for entry in snap.entries:
            if entry.element not in described:
                described.add(entry.element)
                element = snap.inventory.element(entry.element)
                if element is not None:
                    extranet = element.segments.get("extranet")
                    wave = "" if extranet is None or extranet.wave is None else str(extranet.wave)
                    info.add_metric([element.id, element.name, element.kind, element.parent or "", wave], {})
            labels = [entry.segment, entry.element]
            if entry.state != "unknown":
                up.add_metric(labels, 1.0 if entry.state == "up" else 0.0)
            state.add_metric([*labels, entry.state], 1.0)
            since.add_metric(labels, entry.since)
            if entry.path_hop is not None:
                hop.add_metric([*labels, entry.path_hop, str(entry.path_hops or 0)], 1.0)
        yield from (info, up, state, since, hop)

    def _probes(self) -> Iterator[Family]:
        snap = self.snapshot
        success = GaugeMetricFamily(
            "govnet_probe_success",
            "1 when the probe succeeded in its last cycle",
            labels=["probe", "segment", "unit"],
        )
        rtt = GaugeMetricFamily(
            "govnet_icmp_rtt_seconds",
            "Mean ICMP round-trip time of the last cycle",
            labels=["segment", "unit"],
        )
        loss = GaugeMetricFamily(
            "govnet_icmp_packet_loss_ratio",
            "Share of echo requests unanswered (0..1)",
            labels=["segment", "unit"],
        )
        for entry in snap.entries:
            if entry.answered is None:
                continue  # not probed (yet)
            success.add_metric(["icmp", entry.segment, entry.element], 1.0 if entry.answered else 0.0)
            if entry.rtt is not None:
                rtt.add_metric([entry.segment, entry.element], entry.rtt)
            if entry.loss is not None:
                loss.add_metric([entry.segment, entry.element], entry.loss)
        connect = GaugeMetricFamily(
            "govnet_tcp_connect_seconds",
            "TCP connect time of a service check",
            labels=["segment", "unit", "service"],
        )
        tcp_ok = GaugeMetricFamily(
            "govnet_tcp_success",
            "1 when the service accepted a TCP connection",
            labels=["segment", "unit", "service"],
        )
        tcp_any: dict[tuple[str, str], bool] = {}
        for (unit, segment, service), result in snap.tcp.items():
            tcp_ok.add_metric([segment, unit, service], 1.0 if result.success else 0.0)
            if result.rtt_seconds is not None:
                connect.add_metric([segment, unit, service], result.rtt_seconds)
            tcp_any[(unit, segment)] = tcp_any.get((unit, segment), True) and result.success
        for (unit, segment), ok in tcp_any.items():
            success.add_metric(["tcp", segment, unit], 1.0 if ok else 0.0)
        isolated = GaugeMetricFamily(
            "govnet_isolation_ok",
            "1 while the target does NOT answer from the vantage point (isolation holds)",
            labels=["vantage", "segment", "unit"],
        )
        for (vantage, unit, segment), result in snap.isolation.items():
            isolated.add_metric([vantage, segment, unit], 1.0 if result.success else 0.0)
        yield from (success, rtt, loss, connect, tcp_ok, isolated)

    def _snmp(self) -> Iterator[Family]:
        snap = self.snapshot
        oper = GaugeMetricFamily(
            "govnet_snmp_if_oper_status",
            "IF-MIB ifOperStatus (1 up, 2 down, …) of a monitored interface, per segment the unit is on",
            labels=["segment", "unit", "ifname"],
        )
        admin = GaugeMetricFamily(
            "govnet_snmp_if_admin_status",
            "IF-MIB ifAdminStatus (1 up, 2 down, 3 testing)",
            labels=["unit", "ifname"],
        )
        octets_in = CounterMetricFamily(
            "govnet_snmp_if_in_octets",
            "ifHCInOctets (ifInOctets without HC)",
            labels=["unit", "ifname"],
        )
        octets_out = CounterMetricFamily(
            "govnet_snmp_if_out_octets",
            "ifHCOutOctets (ifOutOctets without HC)",
            labels=["unit", "ifname"],
        )
        uptime = GaugeMetricFamily(
            "govnet_snmp_uptime_seconds", "sysUpTime: falls when the device reboots", labels=["unit"]
        )
        reboots = CounterMetricFamily(
            "govnet_device_reboots", "Reboots seen (sysUpTime went back, coldStart)", labels=["unit"]
        )
        success = GaugeMetricFamily(
            "govnet_snmp_success", "1 when the device answered SNMP in its last poll", labels=["unit"]
        )
        for unit_id, result in snap.snmp.items():
            success.add_metric([unit_id], 1.0 if result.success else 0.0)
            if result.uptime_seconds is not None:
                uptime.add_metric([unit_id], result.uptime_seconds)
            element = snap.inventory.element(unit_id)
            segments = list(element.segments) if element is not None else []
            for iface in result.interfaces:
                for segment in segments:
                    oper.add_metric([segment, unit_id, iface.name], iface.oper_status)
                labels = [unit_id, iface.name]
                if iface.admin_status is not None:
                    admin.add_metric(labels, iface.admin_status)
                if iface.in_octets is not None:
                    octets_in.add_metric(labels, iface.in_octets)
                if iface.out_octets is not None:
                    octets_out.add_metric(labels, iface.out_octets)
        for unit_id, count in snap.reboots.items():
            reboots.add_metric([unit_id], count)
        yield from (success, oper, admin, octets_in, octets_out, uptime, reboots)

    def _segments(self) -> Iterator[Family]:
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
        yield from (ratio, units)

    def _daemon(self) -> Iterator[Family]:
        snap = self.snapshot
        duration = GaugeMetricFamily(
            "govnet_probe_duration_seconds", "How long the last cycle took", labels=["probe", "segment"]
        )
        last = GaugeMetricFamily(
            "govnet_probe_last_cycle_timestamp_seconds",
            "When the last cycle finished",
            labels=["probe", "segment"],
        )
        targets = GaugeMetricFamily(
            "govnet_probe_targets", "Targets in the last cycle", labels=["probe", "segment"]
        )
        cycles = CounterMetricFamily("govnet_probe_cycles", "Cycles run", labels=["probe", "segment"])
        overruns = CounterMetricFamily(
            "govnet_probe_cycles_skipped",
            "Cycles skipped because the previous one was still running",
            labels=["probe", "segment"],
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
        for kind, count in snap.traps.items():
            traps.add_metric([kind], count)
        dropped = CounterMetricFamily(
            "govnet_traps_dropped", "Notifications dropped (storm limit, bad community)"
        )
        dropped.add_metric([], snap.traps_dropped)
        polls = CounterMetricFamily(
            "govnet_snmp_trap_polls", "SNMP polls of a device made at once because it sent a trap"
        )
        polls.add_metric([], snap.trap_polls)
        refused = GaugeMetricFamily(
            "govnet_targets_refused",
            "Targets not probed because they lie outside allowed_networks",
            labels=["probe"],
        )
        for probe, count in snap.refused.items():
            refused.add_metric([probe], count)
        render = GaugeMetricFamily(
            "govnet_exposition_render_seconds",
            "How long rendering the previous /metrics exposition took (once per change, off the scrape)",
        )
        render.add_metric([], snap.render_seconds)
        units = GaugeMetricFamily("govnet_units_watched", "Units this daemon (shard) watches")
        units.add_metric([], len({e.element for e in snap.entries if e.is_unit}))
        yield from (duration, last, targets, cycles, overruns, traps, dropped, polls, refused, render, units)
