"""The status page's "Device health" section: the devices that need a look, in plain HTML.

Pure (a mapping of unit -> ``DeviceHealth`` in, an escaped HTML fragment out) so the daemon's
status page (``govnet/metrics/page.py``) can append it once the daemon holds a ``HealthState``.
The limits are the alert rules' (govnet-health.rules.yml) without their ``for`` durations: the
page shows the present, the alerts decide what is lasting.
"""

from __future__ import annotations

import html
from collections.abc import Iterator, Mapping

from govnet.probes.health.readings import DeviceHealth

CPU_HIGH = 0.9
TEMPERATURE_HIGH = 70.0


def problems(health: DeviceHealth) -> Iterator[str]:
    """One short line per thing wrong with the device now.

    >>> from govnet.probes.health.readings import Optics
    >>> list(problems(DeviceHealth("u", "huawei", cpu={"MPU": 0.97}, fans={"0.1": 0.0},
    ...     optics=(Optics("XGE0/0/1", -28.0, -2.0, -20.0, 0.5),))))
    ['CPU MPU 97%', 'fan 0.1 failed', 'XGE0/0/1 rx -28.0 dBm (low alarm -20.0)']
    """
    for name, ratio in health.cpu.items():
        if ratio > CPU_HIGH:
            yield f"CPU {name} {ratio:.0%}"
    for name, celsius in health.temperature.items():
        if celsius > TEMPERATURE_HIGH:
            yield f"{name} {celsius:g} °C"
    for kind, states in (("fan", health.fans), ("power supply", health.psus)):
        for name, ok in states.items():
            if not ok:
                yield f"{kind} {name} failed"
    yield from _optics(health)
    for name, differs in health.mismatches().items():
        if differs:
            yield f"installed {name} differs from the inventory"


def _optics(health: DeviceHealth) -> Iterator[str]:
    for o in health.optics:
        for direction, dbm, low in (("rx", o.rx_dbm, o.rx_low_dbm), ("tx", o.tx_dbm, o.tx_low_dbm)):
            if dbm is not None and low is not None and dbm < low:
                yield f"{o.ifname} {direction} {dbm} dBm (low alarm {low})"


def section(devices: Mapping[str, DeviceHealth]) -> str:
    """``<section>`` listing every device with a problem, or saying that none has one."""
    rows = []
    for unit in sorted(devices):
        found = list(problems(devices[unit]))
        if found:
            rows.append(f"<tr><td>{html.escape(unit)}</td><td>{html.escape('; '.join(found))}</td></tr>")
    head = f"<h2>Device health</h2><p>{len(devices)} devices polled, {len(rows)} with a problem.</p>"
    if not rows:
        return f'<section id="health">{head}</section>'
    table = "<table><tr><th>unit</th><th>problem</th></tr>" + "".join(rows) + "</table>"
    return f'<section id="health">{head}{table}</section>'
