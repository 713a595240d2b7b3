"""Device health over SNMP: the pieces a probe kind is made of.

- ``HealthSettings`` (settings model, ``settings``), ``HealthProbe`` / ``health_probe`` (the probe
  and its registered factory, ``probe``), ``HealthState`` (the snapshot part the daemon updates
  from ``HealthResult``s) and ``HealthCollector`` (the Collector reading it at scrape time);
- ``defs`` holds the vendor tables as data, ``walk`` the GETBULK walker, ``plan`` / ``model``
  the pure discovery and reading, ``cache`` when to walk again.
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
