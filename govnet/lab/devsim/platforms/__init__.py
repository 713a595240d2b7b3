"""Device personalities as data: one ``Personality`` record per vendor CLI.

Huawei VRP, H3C Comware and Cisco IOS differ in prompts, paging, the words that enter and
leave configuration mode, save dialogues, error texts, the negation keyword and which lines
open a sub-view; all of it is in the records below, used by the single ``shell.Shell`` and
``editor.ConfigEditor``. Adding a platform means adding a record, never a subclass.
"""

from __future__ import annotations

from govnet.errors import LabError
from govnet.lab.devsim.personality import Personality
from govnet.lab.devsim.platforms.cisco import CISCO_IOS
from govnet.lab.devsim.platforms.h3c import H3C_COMWARE
from govnet.lab.devsim.platforms.huawei import HUAWEI_VRP

PLATFORMS: dict[str, Personality] = {p.name: p for p in (HUAWEI_VRP, H3C_COMWARE, CISCO_IOS)}


def get_platform(name: str) -> Personality:
    """The personality called ``name``; a ``LabError`` names the known ones otherwise."""
    try:
        return PLATFORMS[name]
    except KeyError:
        known = ", ".join(sorted(PLATFORMS))
        raise LabError(f"unknown device platform {name!r} (known: {known})") from None
