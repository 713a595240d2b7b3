"""What govnet knows of each platform's configuration language, as data.

A ``Dialect`` says how a configuration is displayed (separators, trailer, banners, preamble) and
how to change it safely: which lines govnet owns, which lines a rendered line claims on the
device, which commands the device overwrites in place (no negation needed), how to remove a
line, which sections must be rewritten whole, and which lines the device never shows.
``govnet.rollout.remediate`` applies these rules on top of hier_config; see its docstring for
the managed scope they define.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


def _rx(*patterns: str) -> tuple[re.Pattern[str], ...]:
    return tuple(re.compile(p) for p in patterns)


def _pairs(*pairs: tuple[str, str]) -> tuple[tuple[re.Pattern[str], str], ...]:
    return tuple((re.compile(p), s) for p, s in pairs)


@dataclass(frozen=True)
class Dialect:
    """One platform's display syntax and remediation rule set (all patterns match a line's text
    without indentation; ``keys`` and ``replaces`` apply to the text without its negation)."""

    name: str
    hier: str
    """hier_config ``Platform`` member used for diffing."""
    negation: str
    exit: str
    comments: tuple[str, ...]
    trailer: str
    noise: tuple[re.Pattern[str], ...]
    """Display lines that are not configuration (preamble, IOS's exit-address-family)."""
    block: re.Pattern[str] | None
    """A banner opener; its ``delim`` group closes it (maybe on a later line)."""
    sequence: tuple[re.Pattern[str], re.Pattern[str]] | None
    """(section header, prefix): entry numbers dropped inside such sections (IOS ACLs)."""
    views: tuple[tuple[re.Pattern[str], str], ...]
    """Headers that open a view even with no sub-lines, with the word that leaves it."""
    owned: tuple[tuple[re.Pattern[str], str], ...]
    """Top-level lines govnet owns outright (removed when not intended), with their kind."""
    shared: tuple[re.Pattern[str], ...]
    """Sections govnet only contributes lines to; the rest of their body is the operator's."""
    keys: tuple[re.Pattern[str], ...]
    """A line claims the device's lines with the same key (the pattern's groups)."""
    replaces: tuple[re.Pattern[str], ...]
    """Keys whose new value overwrites the old on the device: no negation is sent."""
    negations: tuple[tuple[re.Pattern[str], str], ...]
    """How to remove a line: ``re.sub`` replacement giving the text after the negation word."""
    rewrite: tuple[re.Pattern[str], ...]
    """Ordered sections (entry order matters): any difference rewrites them whole."""
    resend: tuple[tuple[re.Pattern[str], re.Pattern[str]], ...]
    """(trigger, lines): changing a trigger line wipes those lines on the device; send them again."""
    write_only: tuple[tuple[re.Pattern[str], str], ...]
    """Lines the device accepts but never shows, with the anchor (format over the groups) whose
    absence means they must be sent."""


_VRP_LIKE_KEYS = (
    r"^(description) ",
    r"^(ip address) (?!.* sub$)",
    r"^(ip binding vpn-instance) ",
    r"^(route-distinguisher) ",
    r"^(sysname) ",
    r"^(clock timezone) ",
    r"^(header (?:login|shell)) ",
    r"^(authentication-mode) ",
    r"^(protocol inbound) ",
    r"^(idle-timeout) ",
    r"^(rule \d+) ",
    r"^(port link-type) ",
    r"^(port (?:default|access) vlan) ",
    r"^(acl) \S+ (inbound|outbound)$",
    r"^(traffic-filter) (inbound|outbound) ",
    r"^(packet-filter) \S+ (inbound|outbound)$",
    r"^(snmp-agent sys-info version) ",
    r"^(ip route-static vpn-instance \S+ \S+ \S+) ",
    r"^(local-user \S+ (?:password|privilege level|service-type)) ",
    r"^(password) ",
    r"^(ssh server acl) ",
)
_VRP_LIKE_REPLACES = (
    r"^(description) ",
    r"^(ip address) (?!.* sub$)",
    r"^(sysname) ",
    r"^(clock timezone) ",
    r"^(header (?:login|shell)) ",
    r"^(authentication-mode) ",
    r"^(protocol inbound) ",
    r"^(idle-timeout) ",
    r"^(rule \d+) ",
    r"^(port link-type) ",
    r"^(port default vlan) ",
    r"^(local-user \S+ (?:password|privilege level|service-type)) ",
    r"^(password) ",
)
_VRP_LIKE_NEGATIONS = (
    (r"^description .*", "description"),
    (r"^sysname .*", "sysname"),
    (r"^rule (\d+) .*", r"rule \1"),
    (r"^route-distinguisher .*", "route-distinguisher"),
    (r"^header (login|shell) .*", r"header \1"),
    (r"^local-user (\S+) .*", r"local-user \1"),
    (r"^password .*", "password"),
    (r"^traffic-filter (inbound|outbound) .*", r"traffic-filter \1"),
    (r"^snmp-agent community (read|write) (?:cipher |simple )?(\S+).*", r"snmp-agent community \1 cipher \2"),
    (r"^snmp-agent usm-user v3 (\S+) .*", r"snmp-agent usm-user v3 \1"),
    (
        r"^snmp-agent group v3 (\S+) (privacy|authentication|noauthentication)\b.*",
        r"snmp-agent group v3 \1 \2",
    ),
    (r"^info-center loghost (\S+) .*", r"info-center loghost \1"),
    (r"^ntp-service unicast-server (\S+) .*", r"ntp-service unicast-server \1"),
    (r"^ip route-static (.*?) description .*", r"ip route-static \1"),
)
_VRP_LIKE_OWNED = (
    (r"^snmp-agent (?:community|group|usm-user|sys-info version) ", "baseline"),
    (r"^info-center loghost ", "baseline"),
    (r"^ntp-service unicast-server ", "baseline"),
    (r"^acl (?:number |basic )?299\d$", "baseline"),
    (r"^acl (?:number |advanced )?399\d$", "party"),
    (r"^ip route-static vpn-instance .* description govnet-", "uplink"),
)
_VRP_LIKE_VIEWS = (
    r"^interface \S+$",
    r"^vlan \d+$",
    r"^ip vpn-instance \S+$",
    r"^ipv4-family$",
    r"^acl (?:number |basic |advanced )?\d+$",
    r"^aaa$",
    r"^user-interface ",
    r"^line ",
    r"^local-user \S+ class \S+$",
)

HUAWEI_VRP = Dialect(
    name="huawei_vrp",
    hier="HUAWEI_VRP",
    negation="undo",
    exit="quit",
    comments=("#", "!"),
    trailer="return",
    noise=(),
    block=re.compile(r"^header (?:login|shell) information (?P<delim>\S)"),
    sequence=None,
    views=tuple((p, "quit") for p in _rx(*_VRP_LIKE_VIEWS)),
    owned=_pairs(*_VRP_LIKE_OWNED),
    shared=_rx(r"^aaa$", r"^user-interface "),
    keys=_rx(*_VRP_LIKE_KEYS),
    replaces=_rx(*_VRP_LIKE_REPLACES),
    negations=_pairs(*_VRP_LIKE_NEGATIONS),
    rewrite=(),
    resend=((re.compile(r"^ip binding vpn-instance "), re.compile(r"^ip address ")),),
    write_only=(),
)

H3C_COMWARE = Dialect(
    name="h3c_comware",
    hier="HP_COMWARE5",
    negation="undo",
    exit="quit",
    comments=("#",),
    trailer="return",
    noise=(),
    block=re.compile(r"^header (?:motd|login|shell|legal|incoming) (?P<delim>\S)"),
    sequence=None,
    views=HUAWEI_VRP.views,
    owned=HUAWEI_VRP.owned,
    shared=_rx(r"^line "),
    keys=HUAWEI_VRP.keys,
    replaces=HUAWEI_VRP.replaces,
    negations=HUAWEI_VRP.negations,
    rewrite=(),
    resend=HUAWEI_VRP.resend,
    write_only=(),
)

CISCO_IOS = Dialect(
    name="cisco_ios",
    hier="CISCO_IOS",
    negation="no",
    exit="exit",
    comments=("!",),
    trailer="end",
    noise=_rx(r"^Building configuration", r"^Current configuration :", r"^exit-address-family$"),
    block=re.compile(r"^banner (?:motd|login|exec|incoming) (?P<delim>\S)"),
    sequence=(re.compile(r"^ip access-list "), re.compile(r"^\d+ (?=permit|deny|remark)")),
    views=(
        (re.compile(r"^address-family "), "exit-address-family"),
        *(
            (p, "exit")
            for p in _rx(
                r"^interface \S+$", r"^vlan \d+$", r"^vrf definition ", r"^ip access-list ", r"^line "
            )
        ),
    ),
    owned=_pairs(
        (r"^snmp-server (?:community|group|user) ", "baseline"),
        (r"^logging host ", "baseline"),
        (r"^ntp server ", "baseline"),
        (r"^ip access-list (?:standard|extended) GOVNET-PARTY", "party"),
        (r"^ip access-list (?:standard|extended) GOVNET-", "baseline"),
        (r"^ip route vrf .* name govnet-", "uplink"),
    ),
    shared=_rx(r"^line "),
    keys=_rx(
        r"^(description) ",
        r"^(ip address) (?!.* secondary$)",
        r"^(vrf forwarding) ",
        r"^(rd) ",
        r"^(hostname) ",
        r"^(clock timezone) ",
        r"^(banner motd) ",
        r"^(username \S+) ",
        r"^(enable secret) ",
        r"^(transport input) ",
        r"^(exec-timeout) ",
        r"^(login)\b",
        r"^(access-class) \S+ (in|out)$",
        r"^(ip access-group) \S+ (in|out)$",
        r"^(switchport mode) ",
        r"^(switchport access vlan) ",
        r"^(ip route vrf \S+ \S+ \S+) ",
    ),
    replaces=_rx(
        r"^(description) ",
        r"^(ip address) (?!.* secondary$)",
        r"^(vrf forwarding) ",
        r"^(hostname) ",
        r"^(clock timezone) ",
        r"^(banner motd) ",
        r"^(username \S+) ",
        r"^(enable secret) ",
        r"^(transport input) ",
        r"^(exec-timeout) ",
        r"^(switchport mode) ",
        r"^(switchport access vlan) ",
    ),
    negations=_pairs(
        (r"^description .*", "description"),
        (r"^hostname .*", "hostname"),
        (r"^username (\S+) .*", r"username \1"),
        (r"^enable secret .*", "enable secret"),
        (r"^banner (\S+) .*", r"banner \1"),
        (r"^snmp-server community (\S+) .*", r"snmp-server community \1"),
        (r"^snmp-server group (\S+) (v\S+) (\S+).*", r"snmp-server group \1 \2 \3"),
        (r"^snmp-server user (\S+) (\S+) (v\S+) .*", r"snmp-server user \1 \2 \3"),
        (r"^logging host (\S+) .*", r"logging host \1"),
        (r"^ntp server (\S+) .*", r"ntp server \1"),
        (r"^ip route (.*?) name .*", r"ip route \1"),
    ),
    rewrite=_rx(r"^ip access-list "),
    resend=((re.compile(r"^vrf forwarding "), re.compile(r"^ip address ")),),
    write_only=((re.compile(r"^snmp-server user \S+ (\S+) "), r"^snmp-server group {0} "),),
)

DIALECTS: dict[str, Dialect] = {d.name: d for d in (HUAWEI_VRP, H3C_COMWARE, CISCO_IOS)}


def dialect(platform: str) -> Dialect:
    """The rule set of ``platform``; a ``ValueError`` names the known ones otherwise."""
    try:
        return DIALECTS[platform]
    except KeyError:
        raise ValueError(f"unknown platform {platform!r} (known: {', '.join(sorted(DIALECTS))})") from None
