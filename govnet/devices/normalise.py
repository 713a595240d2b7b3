"""What a running config says, without what a device prints that is not configuration.

Two device habits make a running config look different when nothing was changed:

* **volatile lines** (``CliRecord.volatile``) change by themselves: IOS rewrites ``ntp
  clock-period`` as NTP disciplines the clock and stamps ``! Last configuration change at …``
  / ``! NVRAM config last updated at …`` comments; VRP prints its version (``[V200R…]`` on AR
  routers, ``!Software Version …``), ``!Last configuration was updated at …`` on VRP8, and a
  timestamp line before the output when command timestamps are on. A plan's recorded hash went
  stale between ``plan`` and ``apply`` for no change at all, and a restore tried to ``undo`` a
  timestamp. ``stable_text`` drops them before every hash and comparison; backups keep the
  device's full text (a restore must be byte-faithful).
* **hidden defaults** (``CliRecord.hidden_defaults``): a device shows only what differs
  from its defaults, so an intended line that sets a default (``undo telnet server enable``
  where telnet is off by default) never appears. ``satisfied_defaults`` names the intended lines
  that are nonetheless in force: absent, with no contrary line (``telnet server enable``) shown,
  on a firmware that has that default.
"""

from __future__ import annotations

import re

from govnet.platforms import cli_record
from govnet.platforms.cli import CliRecord, HiddenDefault


def _record(platform: CliRecord | str) -> CliRecord:
    return cli_record(platform) if isinstance(platform, str) else platform


def stable_text(platform: CliRecord | str, text: str) -> str:
    """``text`` without the platform's volatile lines (matched on the whole line, ``\\r`` gone).

    >>> stable_text("cisco_ios", "!\\n! Last configuration change at 10:00:01 UTC Mon May 6 2024 by "
    ...     "admin\\n!\\nhostname R1\\nntp clock-period 17179860\\nntp server 10.0.0.1\\nend\\n")
    '!\\n!\\nhostname R1\\nntp server 10.0.0.1\\nend\\n'
    >>> stable_text("huawei_vrp", "2024-05-06 10:00:01.123+08:00\\n[V200R019C10SPC500]\\n#\\nsysname A\\n")
    '#\\nsysname A\\n'
    >>> stable_text("h3c_comware", "#\\n version 7.1.070, Release 6328\\n#\\n sysname A\\n")
    '#\\n#\\n sysname A\\n'
    """
    patterns = _record(platform).volatile_re
    if not patterns:
        return text
    lines = text.split("\n")
    kept = [line for line in lines if not any(p.match(line.rstrip("\r")) for p in patterns)]
    return text if len(kept) == len(lines) else "\n".join(kept)


def satisfied_defaults(platform: CliRecord | str, running: str, intended: list[str]) -> set[str]:
    """The top-level ``intended`` lines in force on a device showing ``running`` only because
    they are its defaults: a hidden default of the platform, absent from ``running``, with no
    contrary line there, and ``running`` on a firmware with that default.

    >>> running = "#\\n version 7.1.070, Release 6328\\n#\\n sysname A\\n"
    >>> sorted(satisfied_defaults("h3c_comware", running, ["undo telnet server enable", "sysname A"]))
    ['undo telnet server enable']
    >>> satisfied_defaults("h3c_comware", running + " telnet server enable\\n", ["undo telnet server enable"])
    set()
    >>> satisfied_defaults("h3c_comware", "#\\n version 5.20, Release 2222\\n#\\n", ["undo telnet server enable"])
    set()
    """
    record = _record(platform)
    if not record.hidden_defaults:
        return set()
    shown = {line.strip() for line in running.split("\n") if line.strip()}
    found = set()
    for default in record.hidden_defaults:
        if default.line in intended and default.line not in shown and _holds(default, running):
            found.add(default.line)
    return found


def _holds(default: HiddenDefault, running: str) -> bool:
    """Nothing contrary is shown, and the firmware (when it matters) is one with the default."""
    if re.search(default.contrary, running, re.M):
        return False
    return default.firmware is None or re.search(default.firmware, running, re.M) is not None
