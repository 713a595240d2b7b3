"""Cisco IOS (12.2/15 Catalyst access switches, ISR routers): every fact govnet knows of it.

Where each behaviour is recorded: govnet/devices/conformance.md."""

from __future__ import annotations

import re

from govnet.platforms.cli import CliRecord, Dialogue
from govnet.platforms.dialect import Dialect, pairs, rx
from govnet.platforms.record import Naming, Platform

# Running-config lines that change by themselves (``CliRecord.volatile``).
_VOLATILE = (
    r"^! Last configuration change at ",
    r"^! NVRAM config last updated at ",
    r"^! No configuration change since last restart",
    r"^ntp clock-period \d+$",
    r"^Current configuration : \d+ bytes$",
    r"^Load for five secs: ",  # terminal exec prompt timestamp
    r"^Time source is ",
)

_IOS_NAME = r"[^\s<>\[\]()#]+"
CLI = CliRecord(
    name="cisco_ios",
    device_type="cisco_ios",
    exec_prompt=rf"^{_IOS_NAME}>",
    privileged_prompt=rf"^{_IOS_NAME}#",
    config_prompt=rf"^{_IOS_NAME}\(config[^()\s]*\)#",
    paging_off="terminal length 0",
    config_enter="configure terminal",
    config_leave="end",
    show_running="show running-config",
    save="write memory",
    # Asked after an image upgrade, when NVRAM was written by another version (netmiko #1561).
    save_dialogue=(Dialogue(r"(?i:overwrite the previous nvram configuration)\s*\?\s*\[confirm\]", ""),),
    save_done=r"\[OK\]",
    error_patterns=(
        r"^% Invalid input.*$",
        r"^% Incomplete command.*$",
        r"^% Ambiguous command.*$",
        # Semantic errors, some without the "%" (napalm #1846, #1481; ansible cisco.ios #81, #216).
        r"^%\s?Error\b.*$",
        r"^%\s?Bad\b.*$",
        r"^Bad mask\b.*$",
        r"^(?i:command rejected)\b.*$",
        r"^%.*\boverlaps with\b.*$",
    ),
    running_preamble=(r"^Building configuration\.\.\.$", r"^$", r"^Current configuration : \d+ bytes$"),
    enable="enable",
    block_start=r"^banner (?:motd|login|exec|incoming) (?P<delim>\S)",
    logout="exit",
    line_dialogue=(
        # "no username X" (netmiko #1688, #2004): Enter confirms.
        Dialogue(r"(?i:do you want to continue)\s*\?\s*\[confirm\]", "", after=r"^no username \S+"),
        # Replacing or removing RSA keys (ntc-ansible #157).
        Dialogue(
            r"(?i:do you really want to (?:replace|remove) (?:them|these keys))\s*\?\s*\[yes/no\]:",
            "yes",
            after=r"^crypto key (?:generate|zeroize) rsa\b",
        ),
    ),
    volatile=_VOLATILE,
)

# ---------------------------------------------------------------- configuration language

DIALECT = Dialect(
    name="cisco_ios",
    hier="CISCO_IOS",
    negation="no",
    exit="exit",
    comments=("!",),
    trailer="end",
    noise=rx(r"^Building configuration", r"^Current configuration :", r"^exit-address-family$"),
    block=re.compile(r"^banner (?:motd|login|exec|incoming) (?P<delim>\S)"),
    sequence=(re.compile(r"^ip access-list "), re.compile(r"^\d+ (?=permit|deny|remark)")),
    views=(
        (re.compile(r"^address-family "), "exit-address-family"),
        *(
            (p, "exit")
            for p in rx(
                r"^interface \S+$", r"^vlan \d+$", r"^vrf definition ", r"^ip access-list ", r"^line "
            )
        ),
    ),
    owned=pairs(
        (r"^snmp-server (?:community|group|user) ", "baseline"),
        (r"^logging host ", "baseline"),
        (r"^ntp server ", "baseline"),
        (r"^ip access-list (?:standard|extended) GOVNET-PARTY", "party"),
        (r"^ip access-list (?:standard|extended) GOVNET-", "baseline"),
        (r"^ip route vrf .* name govnet-", "uplink"),
    ),
    shared=rx(r"^line "),
    keys=rx(
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
    replaces=rx(
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
    negations=pairs(
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
    rewrite=rx(r"^ip access-list "),
    resend=((re.compile(r"^vrf forwarding "), re.compile(r"^ip address ")),),
    write_only=((re.compile(r"^snmp-server user \S+ (\S+) "), r"^snmp-server group {0} "),),
)


PLATFORM = Platform(
    name="cisco_ios",
    cli=CLI,
    dialect=DIALECT,
    naming=Naming(
        vlan_interface="Vlan",
        loopback="Loopback",
        acls={"mgmt": "GOVNET-MGMT", "snmp": "GOVNET-SNMP", "party": "GOVNET-PARTY"},
    ),
)
