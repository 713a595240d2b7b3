"""The ``health`` kind: device health (CPU, memory, temperatures, fans, supplies, optics, uplink
errors, the installed model and serial) of every unit's device, on the management network.

Opt-in: the daemon runs it only when ``probes: {health: {...}}`` is in its config. Why not on by
default: discovery walks ENTITY-MIB and the vendor's tables on every device (tens of
GETBULKs each, a load older VRP5 / IOS 15 access switches feel) and holds a plan per unit, so a
city turns it on knowingly, once its SNMP views expose those tables. Once on, it polls each
device's *uplinks* only (the inventory's ``uplink`` and interconnects): ``access_ports: true``
adds every port, as the issue (#17) asks access ports to be off by default (cardinality).

A target is the ``snmp`` kind's device target plus ``uplinks``, ``vendor`` (from the platform)
and the inventory's ``model`` / ``serial`` (the mismatch check). The part is the health per unit
(a unit that did not answer has none: no stale values); its collector is ``HealthCollector``.
A linkDown/linkUp/coldStart/warmStart trap flags the unit for rediscovery (the daemon's trap
handler calls `HealthProbe.flag`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Any

from prometheus_client.registry import Collector

from govnet.probes.base import Probe, ProbeResult
from govnet.probes.health.collector import HealthCollector
from govnet.probes.health.defs import PLATFORM_VENDOR
from govnet.probes.health.probe import HealthProbe, HealthReading
from govnet.probes.health.readings import DeviceHealth
from govnet.probes.health.settings import HealthSettings
from govnet.probes.kind import DeviceFacts, Kind, Recorded, SnapshotView, UnitStates

HealthPart = Mapping[str, DeviceHealth]
"""unit -> its last health (read-only)."""
EMPTY: HealthPart = MappingProxyType({})


def device_params(device: DeviceFacts) -> Mapping[str, Any]:
    """The inventory's facts the probe needs (only those declared: an absent one is not checked)."""
    out: dict[str, Any] = {"uplinks": device.uplinks}
    if device.platform in PLATFORM_VENDOR:
        out["vendor"] = PLATFORM_VENDOR[device.platform]
    if device.model:
        out["model"] = device.model
    if device.serial:
        out["serial"] = device.serial
    return out


def record(
    part: HealthPart, segment: str, results: Sequence[ProbeResult], units: UnitStates
) -> Recorded[HealthPart]:
    devices = dict(part)
    for result in results:
        health = result.health if isinstance(result, HealthReading) else None
        if health is None:
            devices.pop(result.target.unit, None)
        else:
            devices[result.target.unit] = health
    return Recorded(MappingProxyType(devices))


def prune(part: HealthPart, keep: set[str]) -> HealthPart:
    return MappingProxyType({unit: health for unit, health in part.items() if unit in keep})


def collector(part: HealthPart, scope: SnapshotView) -> Collector:
    return HealthCollector(part)


def make(settings: HealthSettings) -> Probe:
    return HealthProbe(settings)


KIND: Kind[HealthSettings, HealthPart] = Kind(
    name="health",
    settings=HealthSettings,
    interval=60.0,
    make=make,
    targets="devices",
    empty=EMPTY,
    record=record,
    collector=collector,
    prune=prune,
    opt_in=True,
    device_params=device_params,
)
