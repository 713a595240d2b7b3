"""The isolation matrix: from each vantage point, which inventory addresses must NOT answer.

Why a pure function of the inventory: isolation is a property of the address plan (the party
network rides the intranet's devices in its own VRF; the extranet is the carrier's network in
another VRF), so the negative targets follow from the inventory alone and change only when it
does. The rule, per segment the vantage sits on (``MATRIX``; a site may override it):

- from the **party** network: no unit's intranet address (intranet-only units *and* the intranet
  address of units on both networks), no extranet address, no device management address;
- from the **intranet**: no party address, no extranet address (management is in-band there);
- from the **extranet**: no intranet or party address, no management address.
"""

from __future__ import annotations

from collections.abc import Mapping
from ipaddress import IPv4Address
from typing import Any

from govnet.errors import ConfigError, Problem
from govnet.inventory.models import Inventory
from govnet.probes.base import Target
from govnet.probes.common import SEGMENTS, Vantage

MANAGEMENT = "management"
"""Pseudo-segment of device management addresses (``host``) that are no segment's address."""
KINDS = (*SEGMENTS, MANAGEMENT)
MATRIX: Mapping[str, tuple[str, ...]] = {
    "party": ("intranet", "extranet", MANAGEMENT),
    "intranet": ("party", "extranet"),
    "extranet": ("intranet", "party", MANAGEMENT),
}


def vantage_segment(inventory: Inventory, vantage: Vantage) -> str:
    """The segment ``vantage`` sits on: its own ``segment``, else the segment whose supernets hold its source."""
    if vantage.segment is not None:
        return vantage.segment
    if vantage.source is not None:
        source = IPv4Address(vantage.source)
        for name, plan in inventory.segments.items():
            if any(source in net for net in plan.supernets):
                return name
        if any(source in net for net in inventory.site.management):
            return "intranet"  # management lives in the intranet's (global) table
    raise ConfigError(
        Problem(
            f"source {vantage.source} is in no segment's supernets: say which segment it is on",
            field=f"vantages.{vantage.name}.segment",
        )
    )


def isolation_targets(
    inventory: Inventory, vantages: Mapping[str, Vantage], matrix: Mapping[Any, tuple[str, ...]] = MATRIX
) -> list[Target]:
    """Every (vantage, address) pair that must NOT answer, as targets of the ``isolation`` probe.

    Ordered by vantage, then unit (inventory order), then kind; one target per address and
    vantage (a unit's intranet address that is also its management address appears once, as
    ``intranet``). Each target names its vantage in ``params["vantage"]`` and carries its source.
    """
    targets: list[Target] = []
    for name, vantage in vantages.items():
        segment = vantage_segment(inventory, vantage)
        forbidden = matrix.get(segment, ())
        own = next((plan.supernets for name_, plan in inventory.segments.items() if name_ == segment), [])
        seen: set[str] = {vantage.source} if vantage.source else set()
        for unit in inventory.units:
            addresses: list[tuple[str, str]] = [
                (seg, str(m.address.ip)) for seg, m in unit.segments.items() if seg in forbidden
            ]
            if MANAGEMENT in forbidden:  # after the segments: a shared address is labelled by its segment
                addresses += [
                    (MANAGEMENT, str(d.host)) for d in unit.devices if not any(d.host in net for net in own)
                ]
            for kind, address in addresses:
                if address not in seen:
                    seen.add(address)
                    targets.append(
                        Target(unit.id, kind, address, source=vantage.source, params={"vantage": name})
                    )
    return targets
