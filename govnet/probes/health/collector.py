"""The health snapshot the daemon keeps, and the prometheus-client Collector that reads it.

Names follow Prometheus conventions and the existing ``govnet_`` ones: base units (ratio,
celsius, dBm, bits per second, seconds), ``_total`` on counters (added by the client), labels
``unit`` and ``ifname`` as in ``govnet_snmp_if_*``. Cardinality is bounded by the plan: only
polled interfaces (uplinks unless ``access_ports``) have interface and optics series; device
series are one per CPU, pool, sensor, fan or supply. Families are built when scraped.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, InfoMetricFamily
from prometheus_client.registry import Collector

from govnet.probes.health.defs import ENT_CLASS_CHASSIS
from govnet.probes.health.probe import HealthResult
from govnet.probes.health.readings import DeviceHealth, Optics

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

    def record(self, results: Sequence[HealthResult]) -> None:
        """The daemon's state update after a cycle: one call with the probe's results."""
        self.update([(item.result.target.unit, item.health) for item in results])

    def snapshot(self) -> Mapping[str, DeviceHealth]:
        with self._lock:
            return dict(self.devices)


class HealthCollector(Collector):
    """Reads a ``HealthState`` (or the daemon's immutable part: unit -> health) at scrape time."""

    def __init__(self, state: HealthState | Mapping[str, DeviceHealth]) -> None:
        self.state = state

    def collect(self) -> Iterator[Family]:
        state = self.state
        devices = state.snapshot() if isinstance(state, HealthState) else state
        for build in (_device_families, _optics_families, _interface_families):
            yield from build(devices)
        yield _device_info(devices)
        yield _entity_info(devices)
        yield _mismatch(devices)


def _device_families(devices: Mapping[str, DeviceHealth]) -> Iterator[Family]:
    """One series per unit and CPU, board or pool, sensor, fan, supply (every name literal)."""
    families = (
        (
            GaugeMetricFamily("govnet_device_cpu_ratio", "CPU utilisation (0-1)", labels=["unit", "entity"]),
            "cpu",
        ),
        (
            GaugeMetricFamily(
                "govnet_device_memory_ratio",
                "Memory utilisation (0-1) per board or pool",
                labels=["unit", "entity"],
            ),
            "memory",
        ),
        (
            GaugeMetricFamily(
                "govnet_device_temperature_celsius", "Temperature per sensor", labels=["unit", "sensor"]
            ),
            "temperature",
        ),
        (GaugeMetricFamily("govnet_device_fan_ok", "1 normal, 0 failed", labels=["unit", "fan"]), "fans"),
        (
            GaugeMetricFamily(
                "govnet_device_psu_ok", "1 normal, 0 failed (power supply)", labels=["unit", "psu"]
            ),
            "psus",
        ),
    )
    for family, attribute in families:
        for unit, health in sorted(devices.items()):
            values: Mapping[str, float] = getattr(health, attribute)
            for key, value in sorted(values.items()):
                family.add_metric([unit, key], value)
        yield family


def _optics_families(devices: Mapping[str, DeviceHealth]) -> Iterator[Family]:
    """Per polled interface with a transceiver reading: power and the transceiver's thresholds."""
    doc = "(dBm) of a polled interface's transceiver"
    families = (
        (GaugeMetricFamily("govnet_optics_rx_power_dbm", f"Receive power {doc}", labels=IF_LABELS), "rx_dbm"),
        (
            GaugeMetricFamily("govnet_optics_tx_power_dbm", f"Transmit power {doc}", labels=IF_LABELS),
            "tx_dbm",
        ),
        (
            GaugeMetricFamily("govnet_optics_rx_power_low_dbm", f"Low rx alarm {doc}", labels=IF_LABELS),
            "rx_low_dbm",
        ),
        (
            GaugeMetricFamily("govnet_optics_rx_power_high_dbm", f"High rx alarm {doc}", labels=IF_LABELS),
            "rx_high_dbm",
        ),
        (
            GaugeMetricFamily("govnet_optics_tx_power_low_dbm", f"Low tx alarm {doc}", labels=IF_LABELS),
            "tx_low_dbm",
        ),
        (
            GaugeMetricFamily("govnet_optics_tx_power_high_dbm", f"High tx alarm {doc}", labels=IF_LABELS),
            "tx_high_dbm",
        ),
    )
    rows = [(unit, health.optics) for unit, health in sorted(devices.items())]  # views: built once
    for family, attribute in families:
        assert hasattr(Optics, attribute)
        for unit, optics in rows:
            for optic in optics:
                value: float | None = getattr(optic, attribute)
                if value is not None:
                    family.add_metric([unit, optic.ifname], value)
        yield family


def _interface_families(devices: Mapping[str, DeviceHealth]) -> Iterator[Family]:
    """Counters per direction, speed and last change per polled interface."""
    directed = [*IF_LABELS, "direction"]
    counters = (
        (
            CounterMetricFamily("govnet_interface_errors", "ifInErrors / ifOutErrors", labels=directed),
            "errors",
        ),
        (
            CounterMetricFamily("govnet_interface_discards", "ifInDiscards / ifOutDiscards", labels=directed),
            "discards",
        ),
        (
            CounterMetricFamily(
                "govnet_interface_octets", "ifHCInOctets / ifHCOutOctets (for utilisation)", labels=directed
            ),
            "octets",
        ),
    )
    rows = [(unit, health.interfaces) for unit, health in sorted(devices.items())]  # views: built once
    for family, what in counters:
        for unit, interfaces in rows:
            for iface in interfaces:
                for direction in ("in", "out"):
                    if (value := iface.values.get(f"{direction}_{what}")) is not None:
                        family.add_metric([unit, iface.ifname, direction], value)
        yield family
    gauges = (
        (
            GaugeMetricFamily(
                "govnet_interface_speed_bytes_per_second",
                "ifHighSpeed in bytes/s (base unit)",
                labels=IF_LABELS,
            ),
            "high_speed",
            125000.0,
        ),
        (
            GaugeMetricFamily(
                "govnet_interface_last_change_uptime_seconds",
                "ifLastChange: the device's uptime at the interface's last state change",
                labels=IF_LABELS,
            ),
            "last_change",
            0.01,
        ),
    )
    for gauge, column, factor in gauges:
        for unit, interfaces in rows:
            for iface in interfaces:
                if column in iface.values:
                    gauge.add_metric([unit, iface.ifname], iface.values[column] * factor)
        yield gauge


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
