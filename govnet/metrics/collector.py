"""A prometheus-client ``Collector`` over the daemon's view, read at scrape time.

Names follow DESIGN.md (``govnet_unit_up``, ``govnet_probe_success``, …) and Prometheus
conventions (base units, ``_total`` for counters). Probe workers never touch metric objects.
"""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, InfoMetricFamily
from prometheus_client.registry import Collector

from govnet import __version__
from govnet.inventory.models import Unit
from govnet.metrics.view import View
from govnet.monitor.state import STATES


class ViewCollector(Collector):
    def __init__(self, view: View) -> None:
        self.view = view

    def collect(self) -> Iterator[GaugeMetricFamily | CounterMetricFamily | InfoMetricFamily]:
        view = self.view
        yield InfoMetricFamily(
            "govnet_build",
            "govnet version and the site/shard this daemon watches",
            value={"version": __version__, "site": view.site, "shard": view.shard},
        )
        yield from self._units()
        yield from self._probes()
        yield from self._snmp()
        yield from self._segments()
        yield from self._daemon()

    def _units(self) -> Iterator[GaugeMetricFamily | InfoMetricFamily]:
        view = self.view
        info = InfoMetricFamily(
            "govnet_unit",
            "Unit and node facts from the inventory, to join on",
            labels=["segment", "unit", "name", "kind", "parent", "wave"],
        )
        up = GaugeMetricFamily(
            "govnet_unit_up", "1 when the unit answers on the segment this cycle", labels=["segment", "unit"]
        )
        state = GaugeMetricFamily(
            "govnet_unit_state",
            "1 for the unit's current state on the segment",
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
        for entry in view.tracker.entries.values():
            element = view.element(entry.element)
            if element is None:
                continue
            member = element.segments.get(entry.segment)  # type: ignore[call-overload]
            wave = str(member.wave) if member is not None and member.wave is not None else ""
            info.add_metric(
                [entry.segment, element.id, element.name, element.kind, element.parent or "", wave], {}
            )
            labels = [entry.segment, entry.element]
            if entry.state != "unknown":
                up.add_metric(labels, 1.0 if entry.state == "up" else 0.0)
            for name in STATES:
                state.add_metric([*labels, name], 1.0 if entry.state == name else 0.0)
            since.add_metric(labels, entry.since)
            if entry.path_hop is not None:
                hop.add_metric([*labels, entry.path_hop, str(entry.path_hops or 0)], 1.0)
        yield from (info, up, state, since, hop)

    def _probes(self) -> Iterator[GaugeMetricFamily]:
        view = self.view
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
        for (unit, segment), result in view.icmp.items():
            success.add_metric(["icmp", segment, unit], 1.0 if result.success else 0.0)
            if result.rtt_seconds is not None:
                rtt.add_metric([segment, unit], result.rtt_seconds)
            if result.loss_ratio is not None:
                loss.add_metric([segment, unit], result.loss_ratio)
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
        for (unit, segment, service), result in view.tcp.items():
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
        for (vantage, unit, segment), result in view.isolation.items():
            isolated.add_metric([vantage, segment, unit], 1.0 if result.success else 0.0)
        yield from (success, rtt, loss, connect, tcp_ok, isolated)

    def _snmp(self) -> Iterator[GaugeMetricFamily | CounterMetricFamily]:
        view = self.view
        oper = GaugeMetricFamily(
            "govnet_snmp_if_oper_status",
            "IF-MIB ifOperStatus (1 up, 2 down, …)",
            labels=["segment", "unit", "ifname"],
        )
        admin = GaugeMetricFamily(
            "govnet_snmp_if_admin_status",
            "IF-MIB ifAdminStatus (1 up, 2 down, 3 testing)",
            labels=["segment", "unit", "ifname"],
        )
        octets_in = CounterMetricFamily(
            "govnet_snmp_if_in_octets",
            "ifHCInOctets (ifInOctets without HC)",
            labels=["segment", "unit", "ifname"],
        )
        octets_out = CounterMetricFamily(
            "govnet_snmp_if_out_octets",
            "ifHCOutOctets (ifOutOctets without HC)",
            labels=["segment", "unit", "ifname"],
        )
        uptime = GaugeMetricFamily(
            "govnet_snmp_uptime_seconds", "sysUpTime: falls when the device reboots", labels=["unit"]
        )
        reboots = CounterMetricFamily(
            "govnet_device_reboots", "Reboots seen (sysUpTime went back, coldStart)", labels=["unit"]
        )
        success = GaugeMetricFamily(
            "govnet_snmp_success", "1 when the device answered SNMP in its last cycle", labels=["unit"]
        )
        for unit_id, result in view.snmp.items():
            success.add_metric([unit_id], 1.0 if result.success else 0.0)
            if result.uptime_seconds is not None:
                uptime.add_metric([unit_id], result.uptime_seconds)
            element = view.element(unit_id)
            segments = list(element.segments) if element is not None else []
            for segment in segments:
                for iface in result.interfaces:
                    labels = [segment, unit_id, iface.name]
                    oper.add_metric(labels, iface.oper_status)
                    if iface.admin_status is not None:
                        admin.add_metric(labels, iface.admin_status)
                    if iface.in_octets is not None:
                        octets_in.add_metric(labels, iface.in_octets)
                    if iface.out_octets is not None:
                        octets_out.add_metric(labels, iface.out_octets)
        for unit_id, count in view.reboots.items():
            reboots.add_metric([unit_id], count)
        yield from (success, oper, admin, octets_in, octets_out, uptime, reboots)

    def _segments(self) -> Iterator[GaugeMetricFamily]:
        view = self.view
        ratio = GaugeMetricFamily(
            "govnet_segment_availability_ratio",
            "Share of the segment's units that are up",
            labels=["segment"],
        )
        units = GaugeMetricFamily(
            "govnet_segment_units", "Units of the segment per state", labels=["segment", "state"]
        )
        for segment in view.inventory.segments:
            value = view.availability(segment)
            if value is not None:
                ratio.add_metric([segment], value)
            for state, count in view.tracker.counts(segment).items():
                units.add_metric([segment, state], count)
        yield from (ratio, units)

    def _daemon(self) -> Iterator[GaugeMetricFamily | CounterMetricFamily]:
        view = self.view
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
        for stat in view.cycles.values():
            labels = [stat.probe, stat.segment]
            if stat.cycles:
                duration.add_metric(labels, stat.duration)
                last.add_metric(labels, stat.started + stat.duration)
            targets.add_metric(labels, stat.targets)
            cycles.add_metric(labels, stat.cycles)
            overruns.add_metric(labels, stat.overruns)
        traps = CounterMetricFamily("govnet_traps_received", "SNMP notifications received", labels=["kind"])
        for kind, count in view.traps.items():
            traps.add_metric([kind], count)
        dropped = CounterMetricFamily(
            "govnet_traps_dropped", "Notifications dropped (storm limit, bad community)"
        )
        dropped.add_metric([], view.traps_dropped)
        refused = GaugeMetricFamily(
            "govnet_targets_refused",
            "Targets not probed because they lie outside allowed_networks",
            labels=["probe"],
        )
        for probe, count in view.refused.items():
            refused.add_metric([probe], count)
        units = GaugeMetricFamily("govnet_units_watched", "Units this daemon (shard) watches")
        units.add_metric(
            [],
            sum(
                1
                for e in view.tracker.entries.values()
                if e.is_unit and isinstance(view.element(e.element), Unit)
            ),
        )
        yield from (duration, last, targets, cycles, overruns, traps, dropped, refused, units)
