"""Real-device behaviours a simulated device can be given, by name (``DeviceSpec.quirks``).

The simulator is only as useful as it is unkind: each name here reproduces one behaviour of
real Huawei VRP, H3C Comware or Cisco IOS devices recorded in public (netmiko's drivers and
issues, NAPALM, scrapli, ntc-templates' captured outputs); ``govnet/devices/conformance.md`` names the
record, the reproduction, govnet's handling and the test of each. A quirk that does not apply
to a device's platform is ignored by that platform's shell.
"""

from __future__ import annotations

from collections.abc import Iterable

from govnet.errors import LabError
from govnet.lab.devsim import field

QUIRKS: dict[str, str] = {
    **field.QUIRKS,  # dialogues, VRP8 prompts, the vty input buffer (field.py)
    "volatile-lines": "the running config shows text that changes by itself: IOS last-change/NVRAM "
    "stamps and ntp clock-period, a VRP AR's [V200R…] first line and command timestamp",
    "hides-defaults": "lines equal to the device's default (undo telnet server enable) are never "
    "shown: typing one removes its contrary line and stores nothing",
}
"""Name → one line saying what the device does."""


def check_quirks(names: Iterable[str], where: str = "spec") -> tuple[str, ...]:
    """``names`` as a tuple, every one known; a ``LabError`` names the first unknown one."""
    found = tuple(names)
    for name in found:
        if name not in QUIRKS:
            known = ", ".join(sorted(QUIRKS)) or "none"
            raise LabError(f"{where}: unknown quirk {name!r} (known: {known})")
    return found
