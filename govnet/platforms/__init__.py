"""The platforms govnet drives, one record each (``govnet/platforms/<platform>.py``).

Every platform fact lives in its vendor's module: the CLI a session drives (prompts, dialogues,
error forms, volatile lines, hidden defaults), the configuration language remediation speaks,
and the names the templates use. Adding a platform is one module and one line below.
"""

from __future__ import annotations

from govnet.errors import DeviceError
from govnet.platforms import cisco_ios, h3c_comware, huawei_vrp
from govnet.platforms.cli import CliRecord
from govnet.platforms.dialect import Dialect
from govnet.platforms.record import Naming, Platform

PLATFORMS: dict[str, Platform] = {
    p.name: p for p in (huawei_vrp.PLATFORM, h3c_comware.PLATFORM, cisco_ios.PLATFORM)
}
NAMES: tuple[str, ...] = tuple(PLATFORMS)
"""The inventory's platform names, in the order govnet lists them."""


def platform(name: str) -> Platform:
    """The record of an inventory platform name; a ``DeviceError`` lists the known ones.

    >>> platform("cisco_ios").comment
    '!'
    >>> platform("junos")
    Traceback (most recent call last):
    ...
    govnet.errors.DeviceError: unknown platform 'junos' (known: huawei_vrp, h3c_comware, cisco_ios)
    """
    try:
        return PLATFORMS[name]
    except KeyError:
        raise DeviceError(f"unknown platform {name!r} (known: {', '.join(PLATFORMS)})") from None


def cli_record(name: str) -> CliRecord:
    """The CLI part of ``name``'s record (what a session reads)."""
    return platform(name).cli


def dialect(name: str) -> Dialect:
    """The configuration language of ``name`` (what remediation reads)."""
    return platform(name).dialect


__all__ = [
    "NAMES",
    "PLATFORMS",
    "CliRecord",
    "Dialect",
    "Naming",
    "Platform",
    "cli_record",
    "dialect",
    "platform",
]
