"""What a template sees: the inventory reduced to one device's point of view.

Templates stay declarative when the decisions are made here once: which segments the device
carries, which interface, VRF and route distinguisher each one gets, which uplink lands on it,
where syslog and NTP go. ``configs/README.md`` lists every variable; keep the two in step.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from ipaddress import IPv4Address, IPv4Interface, IPv4Network
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from govnet.inventory.models import SEGMENTS, Device, Inventory, Node, Unit, Uplink
from govnet.platforms import platform

KINDS: tuple[str, ...] = ("baseline", "intranet", "party", "extranet", "uplink")
"""Part kinds, in the order parts are rendered (VRFs before the uplink that uses one)."""

RD_FALLBACK_ASN = 64512
"""Route distinguishers are ``<site code>:<segment number>``; a site without code uses this."""

SNMP_GROUP = "GOVNET-RO"
_ZONE_NAMES = {"Asia/Shanghai": ("Beijing", "CST")}


@dataclass(frozen=True)
class SegmentView:
    """One segment as the device carries it (``segment`` in a segment template)."""

    name: str
    number: int
    vrf: str
    rd: str
    address: IPv4Interface
    interface: str
    vlan: int | None
    wave: int | None
    label: str
    """``intranet sz-x`` / ``extranet wave 2 sz-x`` / ``party loopback core-city``: descriptions."""
    supernets: tuple[IPv4Network, ...]
    others: tuple[IPv4Network, ...]
    """Supernets of the site's other segments (what the party isolation ACL denies)."""


@dataclass(frozen=True)
class UplinkView:
    """An interconnect leaving the city, with the VRF of its segment (``uplink``)."""

    id: str
    segment: str
    vrf: str
    interface: str
    local: IPv4Interface
    remote: IPv4Address
    vlan: int | None


@dataclass(frozen=True)
class TimeZone:
    """The site's standard time: VRP/Comware ``clock timezone NAME add 08:00:00``, IOS ``CST 8 0``."""

    name: str
    abbr: str
    sign: str
    offset: str
    hours: int
    minutes: int


def carried(element: Unit | Node, device: Device) -> list[str]:
    """The element's segments this device carries, in the site's segment order."""
    return [
        s for s in SEGMENTS if s in element.segments and (device.segments is None or s in device.segments)
    ]


def uplinks_on(inv: Inventory, element: Unit | Node, device: Device) -> list[Uplink]:
    """Uplinks landing on this device: its element is the uplink's node and it is the first
    device of that element carrying the uplink's segment."""
    out = []
    for uplink in inv.uplinks:
        if uplink.node != element.id:
            continue
        carriers = element.devices_on(uplink.segment)
        if carriers and carriers[0].name == device.name:
            out.append(uplink)
    return out


def route_distinguisher(inv: Inventory, segment: str) -> str:
    """``<site code>:<n>`` with n = 1 intranet, 2 party, 3 extranet: stable, and distinct per site.

    The six-digit administrative code fits the 4-byte-AS:number RD form every platform accepts.
    """
    base = int(inv.site.code) if inv.site.code else RD_FALLBACK_ASN
    return f"{base}:{SEGMENTS.index(segment) + 1}"


def timezone(name: str) -> TimeZone:
    """The standard (winter) offset of an IANA zone, in the forms the CLIs want.

    >>> timezone("Asia/Shanghai")
    TimeZone(name='Beijing', abbr='CST', sign='add', offset='08:00:00', hours=8, minutes=0)
    """
    try:
        zone = ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
        name = "UTC"
    moment = datetime(2024, 1, 15, tzinfo=zone)
    delta = moment.utcoffset()
    seconds = int(delta.total_seconds()) if delta is not None else 0
    sign = "add" if seconds >= 0 else "minus"
    hours, rest = divmod(abs(seconds), 3600)
    minutes = rest // 60
    city, abbr = _ZONE_NAMES.get(name, (name.rsplit("/", 1)[-1], moment.tzname() or "UTC"))
    signed = hours if seconds >= 0 else -hours
    return TimeZone(city, abbr, sign, f"{hours:02d}:{minutes:02d}:00", signed, minutes)


def service_hosts(inv: Inventory, field: str) -> list[IPv4Address]:
    """Syslog or NTP servers: the site's list (``site.syslog`` / ``site.ntp``), else the first host
    of the first management network (the network centre's service address)."""
    configured = inv.site.syslog if field == "syslog" else inv.site.ntp
    if configured:
        return [IPv4Address(str(a)) for a in configured]
    return [next(inv.site.management[0].hosts())]


def segment_view(inv: Inventory, element: Unit | Node, device: Device, segment: str) -> SegmentView:
    member = element.segments[segment]  # type: ignore[index]
    plan = inv.segments[segment]  # type: ignore[index]
    vrf = member.vrf or plan.vrf or segment.upper()
    number = SEGMENTS.index(segment) + 1
    if member.interface:
        interface = member.interface
    elif member.vlan is not None and isinstance(element, Unit):
        interface = f"{platform(device.platform).naming.vlan_interface}{member.vlan}"
    else:
        interface = f"{platform(device.platform).naming.loopback}{number}"
    is_loopback = interface.lower().startswith("loopback")
    words = [segment]
    if member.wave is not None:
        words.append(f"wave {member.wave}")
    if is_loopback:
        words.append("loopback")
    words.append(element.id)
    others = tuple(net for name, other in inv.segments.items() if name != segment for net in other.supernets)
    return SegmentView(
        name=segment,
        number=number,
        vrf=vrf,
        rd=route_distinguisher(inv, segment),
        address=member.address,
        interface=interface,
        vlan=None if is_loopback else member.vlan,
        wave=member.wave,
        label=" ".join(words),
        supernets=tuple(plan.supernets),
        others=others,
    )


def uplink_view(inv: Inventory, uplink: Uplink) -> UplinkView:
    plan = inv.segments.get(uplink.segment)
    vrf = plan.vrf if plan is not None and plan.vrf else uplink.segment.upper()
    return UplinkView(
        uplink.id, uplink.segment, vrf, uplink.interface, uplink.local, uplink.remote, uplink.vlan
    )


def base_context(inv: Inventory, element: Unit | Node, device: Device) -> dict[str, Any]:
    """Variables every template of this device gets (``secret`` and ``segment`` are added by
    the renderer)."""
    unit = element if isinstance(element, Unit) else None
    return {
        "inventory": inv,
        "site": inv.site,
        "element": element,
        "unit": unit,
        "node": element if isinstance(element, Node) else None,
        "owner": f"{'unit' if unit is not None else 'node'} {element.id}",
        "device": device,
        "platform": device.platform,
        "credentials": device.credentials,
        "snmp": device.snmp,
        "snmp_group": SNMP_GROUP,
        "agreement": unit.agreement if unit is not None else None,
        "registration": unit.registration if unit is not None else None,
        "management": list(inv.site.management),
        "syslog_hosts": service_hosts(inv, "syslog"),
        "ntp_servers": service_hosts(inv, "ntp"),
        "tz": timezone(inv.site.timezone),
        "acl": dict(platform(device.platform).naming.acls),
        "segments": {s: segment_view(inv, element, device, s) for s in carried(element, device)},
        "uplinks": [uplink_view(inv, u) for u in uplinks_on(inv, element, device)],
        "data": element.data,
    }
