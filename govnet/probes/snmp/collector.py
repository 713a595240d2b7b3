"""The ``snmp`` kind's metrics, read from its part at scrape time.

Device-level facts (admin status, octet counters, uptime) are per unit and interface; only
``govnet_snmp_if_oper_status`` repeats per segment, as DESIGN.md names it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from govnet.probes.base import InterfaceStatus
from govnet.probes.kind import SnapshotView
from govnet.probes.snmp.part import SnmpPart

Family = GaugeMetricFamily | CounterMetricFamily
DEVICE_INTERFACE = ["unit", "ifname"]


class SnmpCollector(Collector):
    def __init__(self, part: SnmpPart, scope: SnapshotView) -> None:
        self.part = part
        self.scope = scope

    def collect(self) -> Iterator[Family]:
        """One family at a time, each filled when the exposition asks for it."""
        for build in (
            self._success,
            self._oper_status,
            *self._interface_facts(),
            self._uptime,
            self._reboots,
        ):
            yield build()

    def _success(self) -> Family:
        family = GaugeMetricFamily(
            "govnet_snmp_success", "1 when the device answered SNMP in its last poll", labels=["unit"]
        )
        for unit, seen in self.part.seen.items():
            family.add_metric([unit], 1.0 if seen.success else 0.0)
        return family

    def _oper_status(self) -> Family:
        oper = GaugeMetricFamily(
            "govnet_snmp_if_oper_status",
            "IF-MIB ifOperStatus (1 up, 2 down, …) of a monitored interface, per segment the unit is on",
            labels=["segment", "unit", "ifname"],
        )
        for unit, seen in self.part.seen.items():
            for segment in self.scope.segments_of(unit):
                for iface in seen.interfaces:
                    oper.add_metric([segment, unit, iface.name], iface.oper_status)
        return oper

    def _interface_facts(self) -> list[Callable[[], Family]]:
        """Per unit and interface, one family a fact; an interface whose agent lacks it has no sample."""

        def fact(family: Family, value: Callable[[InterfaceStatus], int | None]) -> Callable[[], Family]:
            def build() -> Family:
                for unit, seen in self.part.seen.items():
                    for iface in seen.interfaces:
                        if (measured := value(iface)) is not None:
                            family.add_metric([unit, iface.name], measured)
                return family

            return build

        return [
            fact(
                GaugeMetricFamily(
                    "govnet_snmp_if_admin_status",
                    "IF-MIB ifAdminStatus (1 up, 2 down, 3 testing)",
                    labels=DEVICE_INTERFACE,
                ),
                lambda iface: iface.admin_status,
            ),
            fact(
                CounterMetricFamily(
                    "govnet_snmp_if_in_octets",
                    "ifHCInOctets (ifInOctets without HC)",
                    labels=DEVICE_INTERFACE,
                ),
                lambda iface: iface.in_octets,
            ),
            fact(
                CounterMetricFamily(
                    "govnet_snmp_if_out_octets",
                    "ifHCOutOctets (ifOutOctets without HC)",
                    labels=DEVICE_INTERFACE,
                ),
                lambda iface: iface.out_octets,
            ),
        ]

    def _uptime(self) -> Family:
        uptime = GaugeMetricFamily(
            "govnet_snmp_uptime_seconds", "sysUpTime: falls when the device reboots", labels=["unit"]
        )
        for unit, seen in self.part.seen.items():
            if seen.uptime_seconds is not None:
                uptime.add_metric([unit], seen.uptime_seconds)
        return uptime

    def _reboots(self) -> Family:
        reboots = CounterMetricFamily(
            "govnet_device_reboots", "Reboots seen (sysUpTime went back, coldStart)", labels=["unit"]
        )
        for unit, count in self.part.reboots.items():
            reboots.add_metric([unit], count)
        return reboots
