"""The inventory's data model: one site, its three segments, its topology and its units.

Everything is frozen and strict (unknown keys are errors). The loader feeds these models
with YAML that keeps line marks, so a validation error always points at ``FILE:LINE``.
Secrets never appear here, only *references* to them (``env:NAME`` or ``file:PATH``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from functools import cached_property
from ipaddress import IPv4Address, IPv4Interface, IPv4Network
from typing import Annotated, Any, Literal, Protocol, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BeforeValidator,
    Field,
    field_validator,
    model_validator,
)

from govnet import sshalgs
from govnet.platforms import NAMES
from govnet.strict import Strict

SEGMENTS: tuple[str, ...] = ("intranet", "party", "extranet")
PLATFORMS: tuple[str, ...] = NAMES

SegmentName = Literal["intranet", "party", "extranet"]
Platform = Literal["huawei_vrp", "h3c_comware", "cisco_ios"]
"""The platform names as a type (one per record of ``govnet.platforms``; a test checks they agree)."""
UnitKind = Literal[
    "city-office",  # 市委/市政府/人大/政协 offices
    "party-organ",  # 市委 departments (组织部, 宣传部, …)
    "bureau",  # government bureaus and commissions
    "agency",  # vertically managed or affiliated agencies, centres
    "judicial",  # court, procuratorate
    "mass-org",  # trade union, youth league, women's federation, …
    "district",  # 区委 / 区政府
    "county",  # 县委 / 县政府
    "township",  # 乡镇 / 街道 party committees and governments
]
NodeKind = Literal["core", "aggregation", "carrier"]
DeviceRole = Literal["access", "cpe", "core", "aggregation", "firewall", "router"]

ID_RE = r"^[a-z][a-z0-9-]{0,46}[a-z0-9]$"
SLUG_RE = r"^[a-z0-9]+(-[a-z0-9]+)*$"
HOSTNAME_RE = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$"
SERIAL_RE = r"^[A-Za-z0-9][A-Za-z0-9_./-]{0,63}$"
VRF_RE = r"^[A-Za-z][A-Za-z0-9_-]{0,30}$"
SECRET_REF_RE = re.compile(r"^(env:[A-Za-z_][A-Za-z0-9_]*|file:\S+)$")


def check_secret_ref(value: str) -> str:
    """Secrets live outside the inventory; only a reference to them is accepted.

    >>> check_secret_ref("env:GOVNET_SSH_PASSWORD")
    'env:GOVNET_SSH_PASSWORD'
    >>> check_secret_ref("hunter2")
    Traceback (most recent call last):
    ...
    ValueError: plaintext secret refused; write a reference: env:VARIABLE or file:PATH
    """
    if not SECRET_REF_RE.match(value):
        raise ValueError("plaintext secret refused; write a reference: env:VARIABLE or file:PATH")
    return value


def check_timezone(value: str) -> str:
    """An IANA timezone this machine knows (reports show their times in it).

    >>> check_timezone("Asia/Shanghai")
    'Asia/Shanghai'
    >>> check_timezone("Beijing")
    Traceback (most recent call last):
    ...
    ValueError: unknown timezone 'Beijing' (write an IANA name such as Asia/Shanghai)
    """
    try:
        ZoneInfo(value)
    except (ValueError, ZoneInfoNotFoundError):
        raise ValueError(f"unknown timezone {value!r} (write an IANA name such as Asia/Shanghai)") from None
    return value


def text_only(value: Any) -> Any:
    """Addresses are written as text: YAML would otherwise turn ``168430092`` into 10.10.10.12."""
    if not isinstance(value, str):
        raise ValueError("write the address as text, e.g. 10.41.0.1 or 10.111.1.1/24")
    return value


SecretRef = Annotated[str, AfterValidator(check_secret_ref)]
Address = Annotated[IPv4Address, BeforeValidator(text_only)]
Interface = Annotated[IPv4Interface, BeforeValidator(text_only)]
Network = Annotated[IPv4Network, BeforeValidator(text_only)]
Id = Annotated[str, Field(pattern=ID_RE)]
Slug = Annotated[str, Field(pattern=SLUG_RE, max_length=40)]
Text = Annotated[str, Field(min_length=1, max_length=200)]
Vlan = Annotated[int, Field(ge=1, le=4094)]
Port = Annotated[int, Field(ge=1, le=65535)]
Wave = Annotated[int, Field(ge=1, le=99)]
ContactIds = Annotated[list[Annotated[str, Field(pattern=ID_RE)]], Field(min_length=1)]
"""The contacts (ids of the top-level ``contacts:`` section) who hear about a site, segment or element."""


class VlanRange(Strict):
    first: Vlan
    last: Vlan


class SegmentPlan(Strict):
    """Address plan of one segment: where its addresses come from, and its VRF."""

    description: Text
    supernets: list[Network] = Field(min_length=1)
    vrf: Annotated[str, Field(pattern=VRF_RE)] | None = None
    vlans: VlanRange | None = None
    interconnect: list[Network] = []
    """Networks outside the city's plan that a segment may still name (e.g. the province's side)."""
    contacts: ContactIds | None = None
    """Who hears about every alert on this segment (e.g. the party network's security officer)."""


class Site(Strict):
    name: Text
    slug: Slug
    code: Annotated[str, Field(pattern=r"^[0-9]{6}$")] | None = None
    operator: Text
    management: list[Network] = Field(min_length=1)
    timezone: Annotated[str, AfterValidator(check_timezone)] = "Asia/Shanghai"
    """IANA name; reports and the contacts' messages show times in it."""
    syslog: list[Address] = []
    """Syslog servers every device logs to (default: the first host of the first management network)."""
    ntp: list[Address] = []
    """NTP servers every device syncs with (same default)."""
    contacts: ContactIds | None = None
    """Who hears about every alert of the site (besides the on-call, who always does)."""


class Credentials(Strict):
    username: Annotated[str, Field(pattern=r"^[A-Za-z0-9_.@-]{1,64}$")]
    password: SecretRef
    enable: SecretRef | None = None


class SnmpV2c(Strict):
    version: Literal["v2c"]
    community: SecretRef


class SnmpV3(Strict):
    version: Literal["v3"]
    user: Annotated[str, Field(pattern=r"^[A-Za-z0-9_.-]{1,32}$")]
    auth_protocol: Literal["sha", "sha256", "md5"] = "sha"
    auth_key: SecretRef
    priv_protocol: Literal["aes", "aes256", "des"] = "aes"
    priv_key: SecretRef


Snmp = Annotated[SnmpV2c | SnmpV3, Field(discriminator="version")]


def _algorithm_names(kind: sshalgs.Kind) -> AfterValidator:
    def check(names: list[str]) -> list[str]:
        unknown = sshalgs.unknown_names(kind, names)
        if unknown:
            known = ", ".join(sshalgs.KNOWN[kind])
            raise ValueError(f"unknown {sshalgs.WORDS[kind]} {', '.join(unknown)} (known: {known})")
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValueError(f"{', '.join(twice)} listed twice")
        return names

    return AfterValidator(check)


AlgorithmList = Annotated[list[str], Field(min_length=1)]


class SshSettings(Strict):
    """The SSH algorithms offered to a device (``govnet/sshalgs.py``): a profile, and lists
    that replace the profile's list of their kind."""

    profile: Literal["modern", "legacy"] = "modern"
    kex: Annotated[AlgorithmList, _algorithm_names("kex")] | None = None
    host_key_algorithms: Annotated[AlgorithmList, _algorithm_names("host_key_algorithms")] | None = None
    ciphers: Annotated[AlgorithmList, _algorithm_names("ciphers")] | None = None
    macs: Annotated[AlgorithmList, _algorithm_names("macs")] | None = None

    def algorithms(self) -> sshalgs.Algorithms:
        lists: dict[sshalgs.Kind, list[str] | None] = {
            "kex": self.kex,
            "host_key_algorithms": self.host_key_algorithms,
            "ciphers": self.ciphers,
            "macs": self.macs,
        }
        return sshalgs.algorithms(self.profile, lists)


class Device(Strict):
    """A managed device of a unit or node: what rollouts log into and probes poll."""

    name: Annotated[str, Field(pattern=HOSTNAME_RE)]
    role: DeviceRole = "access"
    platform: Platform
    host: Address
    port: Port = 22
    model: Text | None = None
    """The model installed (compared with ENTITY-MIB by the health probe when set)."""
    serial: Annotated[str, Field(pattern=SERIAL_RE)] | None = None
    """The chassis serial number installed (the health probe alerts when the device reports another)."""
    segments: list[SegmentName] | None = None
    """Segments this device carries; None means all of its owner's segments."""
    credentials: Credentials
    snmp: Snmp | None = None
    interfaces: list[Text] = []
    """Interfaces whose oper status is monitored."""
    uplink: Text | None = None
    """The interface toward the parent node."""
    ssh: SshSettings = SshSettings()
    """SSH algorithms offered at login (``profile: legacy`` for IOS 15 / VRP5 switches)."""


class Membership(Strict):
    """A unit's (or node's) place on one segment."""

    address: Interface
    vlan: Vlan | None = None
    vrf: Annotated[str, Field(pattern=VRF_RE)] | None = None
    wave: Wave | None = None
    interface: Text | None = None


class Registration(Strict):
    """Application-system registration (备案) the city requires before connecting."""

    number: Text
    date: date
    systems: list[Text] = []


class Agreement(Strict):
    """The signed security-responsibility agreement (安全责任书)."""

    signed: date
    signatory: Text
    expires: date | None = None


class Service(Strict):
    """A TCP service of the unit that is checked, not only pinged."""

    name: Annotated[str, Field(pattern=SLUG_RE)]
    port: Port
    segment: SegmentName
    host: Address | None = None


class Element(Strict):
    """What nodes and units share: identity, place in the topology, segments, devices."""

    id: Id
    name: Text
    slug: Slug
    parent: Id | None = None
    groups: list[Annotated[str, Field(pattern=SLUG_RE)]] = []
    segments: dict[SegmentName, Membership] = {}
    devices: list[Device] = Field(min_length=1)
    data: dict[str, Any] = {}
    """Free template variables."""
    contacts: ContactIds | None = None
    """Who hears about this element's alerts and those of everything behind it (see contacts.py)."""

    @property
    def device(self) -> Device:
        """The primary device (the first listed)."""
        return self.devices[0]

    def devices_on(self, segment: str) -> list[Device]:
        return [d for d in self.devices if d.segments is None or segment in d.segments]


class Node(Element):
    """Infrastructure: the city core, district/county aggregation, the carrier's edge."""

    kind: NodeKind


class Unit(Element):
    """A connected government unit (单位)."""

    kind: UnitKind
    registration: Registration | None = None
    agreement: Agreement | None = None
    services: list[Service] = []
    contact: Text | None = None
    """The unit's contact person as paperwork (free text); alerts go to ``contacts``."""

    @property
    def paperwork_missing(self) -> list[str]:
        return [
            w for w, v in (("registration", self.registration), ("agreement", self.agreement)) if v is None
        ]


class Uplink(Strict):
    """An interconnect leaving the city, e.g. to the provincial party network (省委党务网)."""

    id: Id
    name: Text
    segment: SegmentName
    node: Id
    interface: Text
    local: Interface
    remote: Address
    vlan: Vlan | None = None
    provider: Text
    bandwidth_mbps: Annotated[int, Field(ge=1)] | None = None


class SystemService(Strict):
    name: Annotated[str, Field(pattern=SLUG_RE)]
    port: Port


class System(Strict):
    """An application system shared between agencies (e.g. enterprise basic information)."""

    id: Id
    name: Text
    agency: Id
    segment: SegmentName
    host: Address
    services: list[SystemService] = Field(min_length=1)
    consumers: list[Id] = []


URL_RE = re.compile(r"^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?(/[^\s?#]*)?$")


def check_url(value: str) -> str:
    """An http(s) endpoint without query or fragment: a token in a query string would be a
    secret written in the inventory (DingTalk's ``access_token`` goes in ``token:``).

    >>> check_url("https://oapi.dingtalk.com/robot/send")
    'https://oapi.dingtalk.com/robot/send'
    >>> check_url("https://oapi.dingtalk.com/robot/send?access_token=abc")
    Traceback (most recent call last):
    ...
    ValueError: must be an http:// or https:// URL without ?query (a token goes in token:, as a reference)
    """
    if len(value) > 500 or not URL_RE.match(value):
        raise ValueError(
            "must be an http:// or https:// URL without ?query (a token goes in token:, as a reference)"
        )
    return value


Url = Annotated[str, AfterValidator(check_url)]
EMAIL_RE = re.compile(r"^[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}$")
MOBILE_RE = re.compile(r"^\+?[0-9]{5,15}$")


def _matching(pattern: re.Pattern[str], message: str) -> AfterValidator:
    def check(value: str) -> str:
        if len(value) > 200 or not pattern.match(value):
            raise ValueError(message)
        return value

    return AfterValidator(check)


Email = Annotated[str, _matching(EMAIL_RE, "not an e-mail address (user@domain.tld)")]
Mobile = Annotated[
    str, _matching(MOBILE_RE, "not a phone number (digits only, + allowed first, 5-15 of them)")
]
WeChatUsers = Annotated[str, Field(pattern=r"^(@all|[A-Za-z0-9_.@-]+(\|[A-Za-z0-9_.@-]+)*)$")]
WeChatParties = Annotated[str, Field(pattern=r"^[0-9]+(\|[0-9]+)*$")]


class WeChat(Strict):
    """A WeChat Work (企业微信) application that messages people; Alertmanager's own
    ``wechat_configs`` sends it. The application's secret is a reference, like every secret."""

    corp_id: Annotated[str, Field(pattern=r"^[A-Za-z0-9]{1,64}$")]
    agent_id: Annotated[int, Field(ge=1)]
    secret: SecretRef
    to_user: WeChatUsers | None = None
    to_party: WeChatParties | None = None

    @model_validator(mode="after")
    def _one_addressee(self) -> WeChat:
        if (self.to_user is None) == (self.to_party is None):
            raise ValueError("name exactly one of to_user or to_party")
        return self


class DingTalk(Strict):
    """A DingTalk (钉钉) group robot; govnet's alert bridge posts to it, signed with ``secret``.
    ``url`` is the robot endpoint without its ``access_token``, which is a secret (``token``)."""

    url: Url = "https://oapi.dingtalk.com/robot/send"
    token: SecretRef
    secret: SecretRef


class Sms(Strict):
    """A local SMS gateway (a bridge to the carrier's SMS service) taking plain JSON."""

    url: Url
    numbers: list[Mobile] = Field(min_length=1)
    token: SecretRef | None = None
    """Sent as ``Authorization: Bearer`` when the gateway asks for one."""


class Contact(Strict):
    """Someone who reads alerts, and where: one or more channels."""

    name: Text
    wechat: WeChat | None = None
    email: Email | None = None
    dingtalk: DingTalk | None = None
    sms: Sms | None = None

    @model_validator(mode="after")
    def _a_channel(self) -> Contact:
        if not self.channels:
            raise ValueError("a contact needs at least one channel: wechat, email, dingtalk or sms")
        return self

    @property
    def channels(self) -> list[str]:
        return [c for c in ("wechat", "email", "dingtalk", "sms") if getattr(self, c) is not None]


class Inventory(Strict):
    """A whole site, after groups and defaults have been applied."""

    site: Site
    segments: dict[SegmentName, SegmentPlan] = Field(min_length=1)
    contacts: dict[Id, Contact] = {}
    nodes: list[Node] = []
    units: list[Unit] = []
    uplinks: list[Uplink] = []
    systems: list[System] = []
    group_names: list[str] = []

    @field_validator("units")
    @classmethod
    def _units_present(cls, units: list[Unit]) -> list[Unit]:
        if not units:
            raise ValueError("the inventory has no units")
        return units

    @cached_property
    def _index(self) -> dict[str, Node | Unit]:
        index: dict[str, Node | Unit] = {}
        elements: list[Node | Unit] = [*self.nodes, *self.units]
        for element in elements:
            index.setdefault(element.id, element)
        return index

    def element(self, ident: str) -> Node | Unit | None:
        """A node or unit by id (or by slug for convenience)."""
        found = self._index.get(ident)
        if found is None:
            found = next((e for e in self._index.values() if e.slug == ident), None)
        return found

    def unit(self, ident: str) -> Unit | None:
        found = self.element(ident)
        return found if isinstance(found, Unit) else None

    def units_on(self, segment: str) -> list[Unit]:
        return [u for u in self.units if segment in u.segments]

    def parent_chain(self, ident: str) -> list[Node | Unit]:
        """The elements above ``ident``, nearest first (cycles are stopped, not followed)."""
        return chain_above(self._index, ident)


class Parented(Protocol):
    """Anything with a parent's id: an inventory element, or the daemon's compact copy of one."""

    @property
    def parent(self) -> str | None: ...


_E = TypeVar("_E", bound=Parented)


def chain_above(index: Mapping[str, _E], ident: str) -> list[_E]:
    """The elements above ``ident`` in ``index`` (id → element), nearest first; a cycle is
    stopped, not followed, and an unknown parent ends the chain.

    >>> from types import SimpleNamespace as El
    >>> index = {"u": El(id="u", parent="a"), "a": El(id="a", parent="c"), "c": El(id="c", parent="u")}
    >>> [e.id for e in chain_above(index, "u")], chain_above(index, "x")
    (['a', 'c'], [])
    """
    chain: list[_E] = []
    seen = {ident}
    current = index.get(ident)
    while current is not None and current.parent is not None and current.parent not in seen:
        seen.add(current.parent)
        current = index.get(current.parent)
        if current is not None:
            chain.append(current)
    return chain
