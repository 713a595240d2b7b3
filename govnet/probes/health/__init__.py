"""Device health over SNMP: the ``health`` probe kind (``kind.KIND``, in the daemon's registry).

- ``HealthSettings`` (``settings``: ``probes.health`` in the daemon config), ``HealthProbe``
  (``probe``), whose ``run`` gives the daemon ``HealthReading``s (a ``ProbeResult`` carrying the
  ``DeviceHealth``) and ``poll`` ``HealthResult``s; ``kind`` records them into the kind's part
  (unit -> health, immutable), read by ``HealthCollector`` at scrape time (``HealthState``: the
  same for a probe used on its own, as the bench and the snmpsim tests do);
- targets: the daemon's device targets plus ``uplinks``, ``vendor`` (``defs.PLATFORM_VENDOR``
  of the platform), ``model`` / ``serial`` (``kind.device_params``); a trap about a unit calls
  ``HealthProbe.flag`` (`govnet.monitor.traphandler`); the status page shows ``page.section``;
- ``defs`` holds the vendor tables as data, ``walk`` the GETBULK walker, ``plan`` / ``model``
  the pure discovery and reading, ``readings`` the compact ``DeviceHealth`` (a shared layout and
  arrays of numbers), ``cache`` when to walk again (plans kept pickled, identical ones once).
"""

from govnet.probes.health.collector import HealthCollector, HealthState
from govnet.probes.health.probe import PROBE, HealthProbe, HealthResult, health_probe
from govnet.probes.health.readings import DeviceHealth
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
