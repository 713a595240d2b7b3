"""The health snapshot the daemon keeps, and the prometheus-client Collector that reads it.

Names follow Prometheus conventions and the existing ``govnet_`` ones: base units (ratio,
celsius, dBm, bits per second, seconds), ``_total`` on counters (added by the client), labels
``unit`` and ``ifname`` as in ``govnet_snmp_if_*``. Cardinality is bounded by the plan: only
polled interfaces (uplinks unless ``access_ports``) have interface and optics series; device
series are one per CPU, pool, sensor, fan or supply. Families are built when scraped.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, InfoMetricFamily
from prometheus_client.registry import Collector

from govnet.probes.health.defs import ENT_CLASS_CHASSIS
from govnet.probes.health.model import DeviceHealth, Optics

Family = GaugeMetricFamily | CounterMetricFamily | InfoMetricFamily
IF_LABELS = ["unit", "ifname"]


@dataclass(slots=True)
class HealthState:
    """unit -> its last health; a unit that stopped answering keeps no stale values."""

    devices: dict[str, DeviceHealth] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def update(self, results: Sequence[tuple[str, DeviceHealth | None]]) -> None:
        with self._lock:
            for unit, health in results:
                if health is None:
                    self.devices.pop(unit, None)
                else:
                    self.devices[unit] = health

    def snapshot(self) -> Mapping[str, DeviceHealth]:
        with self._lock:
            return dict(self.devices)


class HealthCollector(Collector):
    """Reads a ``HealthState`` at scrape time."""

    def __init__(self, state: HealthState) -> None:
        self.state = state

    def collect(self) -> Iterator[Family]:
        devices = self.state.snapshot()
        builders: list[Callable[[Mapping[str, DeviceHealth]], Family]] = [
            _per_name("govnet_device_cpu_ratio", "CPU utilisation (0-1) per processor", "cpu", "entity"),
            _per_name(
                "govnet_device_memory_ratio", "Memory utilisation (0-1) per board or pool", "memory", "entity"
            ),
            _per_name("govnet_device_temperature_celsius", "Temperature per sensor", "temperature", "sensor"),
            _per_name("govnet_device_fan_ok", "1 when the fan reports normal, 0 when failed", "fans", "fan"),
            _per_name(
                "govnet_device_psu_ok", "1 when the power supply reports normal, 0 when failed", "psus", "psu"
            ),
            *_optics_families(),
            *_interface_families(),
            _device_info,
            _entity_info,
            _mismatch,
        ]
        for build in builders:
            yield build(devices)


def _per_name(
    name: str, doc: str, attribute: str, label: str
) -> Callable[[Mapping[str, DeviceHealth]], Family]:
    def build(devices: Mapping[str, DeviceHealth]) -> Family:
        family = GaugeMetricFamily(name, doc, labels=["unit", label])
        for unit, health in sorted(devices.items()):
            values: Mapping[str, float] = getattr(health, attribute)
            for key, value in sorted(values.items()):
                family.add_metric([unit, key], value)
        return family

    return build


OPTICS = (
    ("govnet_optics_rx_power_dbm", "Received optical power", "rx_dbm"),
    ("govnet_optics_tx_power_dbm", "Transmitted optical power", "tx_dbm"),
    ("govnet_optics_rx_power_low_dbm", "The transceiver's low receive-power alarm threshold", "rx_low_dbm"),
    (
        "govnet_optics_rx_power_high_dbm",
        "The transceiver's high receive-power alarm threshold",
        "rx_high_dbm",
    ),
    ("govnet_optics_tx_power_low_dbm", "The transceiver's low transmit-power alarm threshold", "tx_low_dbm"),
    (
        "govnet_optics_tx_power_high_dbm",
        "The transceiver's high transmit-power alarm threshold",
        "tx_high_dbm",
    ),
)


def _optics_families() -> list[Callable[[Mapping[str, DeviceHealth]], Family]]:
    def family_of(name: str, doc: str, attribute: str) -> Callable[[Mapping[str, DeviceHealth]], Family]:
        def build(devices: Mapping[str, DeviceHealth]) -> Family:
            family = GaugeMetricFamily(
                name, f"{doc} (dBm) of a polled interface's transceiver", labels=IF_LABELS
            )
            for unit, health in sorted(devices.items()):
                for optic in health.optics:
                    value: float | None = getattr(optic, attribute)
                    if value is not None:
                        family.add_metric([unit, optic.ifname], value)
            return family

        return build

    assert all(hasattr(Optics, attribute) for _, _, attribute in OPTICS)
    return [family_of(*spec) for spec in OPTICS]


def _interface_families() -> list[Callable[[Mapping[str, DeviceHealth]], Family]]:
    def counter(
        name: str, doc: str, columns: dict[str, str]
    ) -> Callable[[Mapping[str, DeviceHealth]], Family]:
        def build(devices: Mapping[str, DeviceHealth]) -> Family:
            family = CounterMetricFamily(name, doc, labels=[*IF_LABELS, "direction"])
            for unit, health in sorted(devices.items()):
                for iface in health.interfaces:
                    for direction, column in columns.items():
                        if column in iface.values:
                            family.add_metric([unit, iface.ifname, direction], iface.values[column])
            return family

        return build

    def gauge(
        name: str, doc: str, column: str, factor: float
    ) -> Callable[[Mapping[str, DeviceHealth]], Family]:
        def build(devices: Mapping[str, DeviceHealth]) -> Family:
            family = GaugeMetricFamily(name, doc, labels=IF_LABELS)
            for unit, health in sorted(devices.items()):
                for iface in health.interfaces:
                    if column in iface.values:
                        family.add_metric([unit, iface.ifname], iface.values[column] * factor)
            return family

        return build

    return [
        counter(
            "govnet_interface_errors",
            "IF-MIB ifInErrors / ifOutErrors",
            {"in": "in_errors", "out": "out_errors"},
        ),
        counter(
            "govnet_interface_discards",
            "IF-MIB ifInDiscards / ifOutDiscards",
            {"in": "in_discards", "out": "out_discards"},
        ),
        counter(
            "govnet_interface_octets",
            "IF-MIB ifHCInOctets / ifHCOutOctets of a polled interface (for utilisation)",
            {"in": "in_octets", "out": "out_octets"},
        ),
        gauge(
            "govnet_interface_speed_bytes_per_second",
            "IF-MIB ifHighSpeed, in bytes/s (promtool: base unit)",
            "high_speed",
            125000.0,
        ),
        gauge(
            "govnet_interface_last_change_uptime_seconds",
            "IF-MIB ifLastChange: the device's uptime at the interface's last state change",
            "last_change",
            0.01,
        ),
    ]


def _device_info(devices: Mapping[str, DeviceHealth]) -> Family:
    info = InfoMetricFamily(
        "govnet_device",
        "The chassis ENTITY-MIB reports (the first one of a stack): model, serial, revisions",
        labels=["unit"],
    )
    for unit, health in sorted(devices.items()):
        chassis = next((e for e in health.entities if e.cls == ENT_CLASS_CHASSIS), None)
        if chassis is not None:
            info.add_metric(
                [unit],
                {
                    "model": chassis.model or chassis.descr,
                    "serial": chassis.serial,
                    "hw_rev": chassis.hw_rev,
                    "sw_rev": chassis.sw_rev,
                    "vendor": health.vendor,
                },
            )
    return info


def _entity_info(devices: Mapping[str, DeviceHealth]) -> Family:
    info = InfoMetricFamily(
        "govnet_device_entity",
        "Every installed part with a serial number (ENTITY-MIB): the asset list",
        labels=["unit", "entity"],
    )
    for unit, health in sorted(devices.items()):
        for e in health.entities:
            if e.serial:
                info.add_metric(
                    [unit, str(e.index)],
                    {
                        "name": e.name,
                        "model": e.model,
                        "serial": e.serial,
                        "hw_rev": e.hw_rev,
                        "sw_rev": e.sw_rev,
                    },
                )
    return info


def _mismatch(devices: Mapping[str, DeviceHealth]) -> Family:
    family = GaugeMetricFamily(
        "govnet_device_inventory_mismatch",
        "1 when the installed chassis' model or serial differs from the inventory's (per field declared)",
        labels=["unit", "field"],
    )
    for unit, health in sorted(devices.items()):
        for name, differs in sorted(health.mismatches().items()):
            family.add_metric([unit, name], 1.0 if differs else 0.0)
    return family
