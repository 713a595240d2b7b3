"""Timing profiles: how long a real switch takes to log in, answer a line, show and save.

The simulator answers at once; real devices do not, and a rollout's wall time on real devices is
mostly their waiting, not govnet's work. A profile (``DeviceSpec.timing``) names per-platform
delays the shell plays with ``asyncio.sleep`` (never blocking the loop that serves every device):

- ``login``: after authentication, before the banner and first prompt;
- ``answer``: before answering each line typed at a prompt (exec or configuration);
- ``show``: before printing the running configuration, ``show`` + ``show_per_kb`` × its size;
- ``save``: before a save reports completion (the device writes its flash).

``field`` holds figures of the order reported for real devices in public records (read
2026-12; none of their text is copied here):

- login ~1 s: a Cisco switch printing its prompt ~1 s after the welcome text, which made
  netmiko raise its post-login delay (https://github.com/ktbyers/netmiko/pull/363); netmiko's own
  ``banner_timeout`` default (the wait for the SSH server's banner) went to 15 s
  (https://github.com/ktbyers/netmiko/pull/1380). A device connect through netmiko measured at
  4.8 s (https://github.com/ktbyers/netmiko/issues/1351), taken as the ``worst`` profile's login.
- answer 20-30 ms per line: netmiko's fast-mode measurements on IOS, a 10-line ACL in 2.8 s and a
  100-line one in 4.5 s, ~19 ms per extra line with netmiko's own work included
  (https://github.com/ktbyers/netmiko/pull/857). No per-line figure was found for VRP or
  Comware; 30 ms is an assumption (×1.5 IOS). ``worst``: a 255-line ACL in 30 s with a
  pipelined sender, ~120 ms per line (https://github.com/ktbyers/netmiko/pull/843).
- show: no clean public figure; the records are of timeouts, e.g. a Huawei
  ``display current-configuration`` cut short at a 5 s timeout and complete at 60 s
  (https://github.com/rconfig/rConfig-templates/issues/49). 0.3 s + 0.05 s/KB is an assumption
  that keeps a lab's ~5 KB configurations well under a second.
- save, several seconds: netmiko waits up to 100 s for a save on both Huawei (``save_config``
  in netmiko 4.8 ``huawei/huawei.py``, whose docstring shows VRP printing that saving may take
  several minutes) and Cisco (``cisco_base_connection.py``), raised from 10 s because IOS saves
  outran it (https://github.com/ktbyers/netmiko/issues/2334, /pull/2830); an IOS
  ``write memory`` of ~15 s (https://github.com/ktbyers/netmiko/issues/2058), a 25 s save
  (/issues/2843), a Comware 5 ``save safely force`` of 40-45 s (/issues/248). ``field``
  takes 5 s for VRP and Comware and 3 s for IOS; ``worst`` 45 s.

With ``field``, the full-city rollout (238 devices, concurrency 50) takes 1.07× the floor its
concurrency allows: waves × the slowest device's own time (``bench/README.md``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from govnet.errors import LabError

Moment = Literal["login", "answer", "show", "save"]


@dataclass(frozen=True)
class Delays:
    """Seconds one platform takes, per moment (see the module docstring)."""

    login: float = 0.0
    answer: float = 0.0
    show: float = 0.0
    show_per_kb: float = 0.0
    save: float = 0.0

    def of(self, moment: Moment, size: int = 0) -> float:
        """The delay of ``moment``; ``size`` (bytes) counts for ``show`` only.

        >>> Delays(show=0.3, show_per_kb=0.05).of("show", 4096)
        0.5
        """
        if moment == "show":
            return self.show + self.show_per_kb * size / 1024
        value: float = getattr(self, moment)
        return value


@dataclass(frozen=True)
class Timing:
    """A named profile: delays per platform (``default`` for a platform not listed)."""

    name: str
    platforms: Mapping[str, Delays]
    default: Delays

    def delays(self, platform: str) -> Delays:
        return self.platforms.get(platform, self.default)


_VRP = Delays(login=1.0, answer=0.03, show=0.3, show_per_kb=0.05, save=5.0)
PROFILES: dict[str, Timing] = {
    "instant": Timing("instant", {}, Delays()),
    "field": Timing(
        "field",
        {
            "huawei_vrp": _VRP,
            "h3c_comware": _VRP,
            "cisco_ios": Delays(login=1.0, answer=0.02, show=0.3, show_per_kb=0.05, save=3.0),
        },
        _VRP,
    ),
    "worst": Timing("worst", {}, Delays(login=4.8, answer=0.12, show=1.0, show_per_kb=0.2, save=45.0)),
}
"""Name → profile. ``instant`` is the simulator without a profile."""


def check_timing(name: str | None, where: str = "spec") -> str | None:
    """``name`` if it is a known profile (or ``None``); a ``LabError`` names the known ones.

    >>> check_timing("field")
    'field'
    >>> check_timing("slowish")
    Traceback (most recent call last):
    ...
    govnet.errors.LabError: spec: unknown timing profile 'slowish' (known: field, instant, worst)
    """
    if name is not None and name not in PROFILES:
        raise LabError(f"{where}: unknown timing profile {name!r} (known: {', '.join(sorted(PROFILES))})")
    return name


class Pacing:
    """One session's delays: ``await pacing.pause("answer")`` where the device would take its time."""

    def __init__(self, profile: str | None, platform: str) -> None:
        self.delays = PROFILES[profile].delays(platform) if profile is not None else None

    async def pause(self, moment: Moment, size: int = 0) -> None:
        if self.delays is None:
            return
        seconds = self.delays.of(moment, size)
        if seconds > 0:
            await asyncio.sleep(seconds)
