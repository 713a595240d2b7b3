"""The ``volatile-lines`` quirk: running-config text that changes by itself, as devices print it.

Cisco IOS stamps ``! Last configuration change at … by …`` (every change in configuration mode)
and ``! NVRAM config last updated at … by …`` (every save) under the preamble, and rewrites
``ntp clock-period N`` as NTP disciplines the clock; Huawei AR routers print their version as the
first line (``[V200R019C10SPC500]``, instead of ``!Software Version …``), and a VRP with command
timestamps on prints the time before the output. Here the clock period moves at every read, so
two reads of an unchanged device never show the same text (a real one drifts more slowly).
"""

from __future__ import annotations

import itertools
import time

VRP_VERSION = "[V200R019C10SPC500]"
_READS = itertools.count(1)


def _ios_stamp(at: float) -> str:
    return time.strftime("%H:%M:%S UTC %a %b %d %Y", time.gmtime(at))


def volatile_text(platform: str, text: str, changed: float, saved: float | None) -> str:
    """``text`` (the device's displayed running config) as a device with this quirk shows it.

    >>> shown = volatile_text("cisco_ios", "!\\nhostname R1\\n!\\nend\\n", 0.0, None)
    >>> shown.splitlines()[:2], shown.splitlines()[-2].startswith("ntp clock-period ")
    (['!', '! Last configuration change at 00:00:00 UTC Thu Jan 01 1970 by admin'], True)
    >>> volatile_text("huawei_vrp", "#\\nsysname A\\n", 0.0, None).splitlines()[1:]
    ['[V200R019C10SPC500]', '#', 'sysname A']
    """
    read = next(_READS)
    lines = text.rstrip("\n").split("\n")
    if platform == "cisco_ios":
        stamps = [f"! Last configuration change at {_ios_stamp(changed)} by admin"]
        if saved is not None:
            stamps.append(f"! NVRAM config last updated at {_ios_stamp(saved)} by admin")
        period = f"ntp clock-period {17179860 + read % 1000}"
        ntp = next((i for i, line in enumerate(lines) if line.startswith("ntp ")), len(lines) - 1)
        lines = [lines[0], *stamps, "!", *lines[1:ntp], period, *lines[ntp:]]
    elif platform == "huawei_vrp":
        now = time.time()
        millis = (int(now * 1000) + read) % 1000  # two reads in one millisecond differ too
        stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(now)) + f".{millis:03d}+08:00"
        lines = [stamp, VRP_VERSION, *lines]
    return "\n".join(lines) + "\n"
