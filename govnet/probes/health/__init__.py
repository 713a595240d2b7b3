"""Device health over SNMP: the pieces a probe kind is made of.

- ``HealthSettings`` (settings model, ``settings``), ``HealthProbe`` / ``health_probe`` (the probe
  and its registered factory, ``probe``), ``HealthState`` (the snapshot part the daemon updates
  from ``HealthResult``s) and ``HealthCollector`` (the Collector reading it at scrape time);
- wiring it as a kind: settings ``HealthSettings.parse(mapping)``; probe ``health_probe(settings)``
  (``REGISTRY["health"]``), whose ``poll(targets, timeout)`` returns ``HealthResult``s; state
  update ``HealthState.record(results)``; snapshot part ``HealthState.snapshot()``; Collector
  ``HealthCollector(state)`` registered next to the daemon's own. Targets: one per unit (not per
  segment), params as the snmp probe's plus ``uplinks`` (the inventory's uplink interface names),
  ``vendor`` (``defs.PLATFORM_VENDOR[device.platform]``),
  ``model`` / ``serial`` (the device's inventory fields). A trap (linkUp/Down, coldStart) about a
  unit: ``probe.flag(unit, address, why)``.
- ``defs`` holds the vendor tables as data, ``walk`` the GETBULK walker, ``plan`` / ``model``
  the pure discovery and reading, ``cache`` when to walk again, ``page`` the status page section.
"""

from govnet.probes.health.collector import HealthCollector, HealthState
from govnet.probes.health.model import DeviceHealth
from govnet.probes.health.probe import PROBE, HealthProbe, HealthResult, health_probe
from govnet.probes.health.settings import HealthSettings

__all__ = [
    "PROBE",
    "DeviceHealth",
    "HealthCollector",
    "HealthProbe",
    "HealthResult",
    "HealthSettings",
    "HealthState",
    "health_probe",
]
