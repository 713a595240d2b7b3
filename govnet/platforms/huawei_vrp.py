"""Huawei VRP5 (S-series switches, AR routers): every fact govnet knows of it.

Where each behaviour is recorded: govnet/devices/conformance.md."""

from __future__ import annotations

import re
from dataclasses import replace

from govnet.platforms.cli import CliRecord, Dialogue, HiddenDefault
from govnet.platforms.dialect import Dialect, pairs, rx
from govnet.platforms.record import Naming, Platform

# Running-config lines that change by themselves (``CliRecord.volatile``; where each is
# recorded: govnet/devices/conformance.md).
_VOLATILE = (
    r"^\[V\d{3}R\d{3}\w*\]$",  # AR routers' first line: [V200R007C00SPC600]
    r"^!Software Version ",
    r"^!Last configuration was (?:updated|saved) at ",  # VRP8
    r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(?:\.\d+)? ?(?:[+-]\d{2}:\d{2})?$",  # command timestamp
)
# Telnet is off by default on VRP V200R010 and later and on Comware 7 (Comware 5 had it on, and
# shows ``undo telnet server enable``): a disabled telnet server is shown by nothing.
TELNET_OFF = HiddenDefault("undo telnet server enable", r"^\s*telnet server enable\b")
_TELNET_OFF_FIRMWARE = r"^(?:\[|!Software Version )V(?:200R(?:01\d|0[2-9]\d)|[3-9]\d\dR)"
"""VRP V200R010 or later (V300R…): seen only where the version line reaches the text (AR's
``[V200R…]``; the session drops ``!Software Version``), so elsewhere the line must show."""


YN = r"\s*\[[Yy]/[Nn]\]:?"
"""VRP and Comware ask ``[Y/N]``, ``[Y/N]:`` and, on some releases, ``[y/n]`` (netmiko #986)."""

VRP_SAVE = (
    Dialogue(r"(?i:continue)\s*\?" + YN, "y"),
    # A router with two flash cards asks again for the slave board (napalm-huawei-vrp #18).
    Dialogue(r"(?i:save the configuration to slave)[^\r\n]*\?" + YN, "y"),
    Dialogue(r"(?i:exists,\s*overwrite)\s*\?" + YN, "y"),
    Dialogue(r"(?i:please input the file name)[^\r\n]*:", ""),
)

CLI = CliRecord(
    name="huawei_vrp",
    device_type="huawei",
    exec_prompt=r"^(?:HRP_[MS]|RBM_[PS])?<[^\s<>\[\]]+>",
    privileged_prompt=r"^(?:HRP_[MS]|RBM_[PS])?<[^\s<>\[\]]+>",
    config_prompt=r"^(?:HRP_[MS]|RBM_[PS])?\[(?![~*])[^\s<>\[\]]+\]",
    paging_off="screen-length 0 temporary",
    config_enter="system-view",
    config_leave="return",
    show_running="display current-configuration",
    save="save",
    save_dialogue=VRP_SAVE,
    save_done=r"(?i)successfully",
    error_patterns=(r"^Error\s*:.*$",),
    running_preamble=(r"^!Software Version ",),
    block_start=r"^header (?:login|shell) information (?P<delim>\S)",
    line_dialogue=(
        Dialogue(
            r"(?i:continue)\s*\?" + YN,
            "y",
            after=r"^(?:undo local-user \S+$|undo ssh user |undo snmp-agent$|rsa local-key-pair )",
        ),
    ),
    login_dialogue=(
        # Password expiry / first login (netmiko #1776, #1505): "N" keeps the password.
        Dialogue(r"(?i:change now)\s*\?" + YN, "n"),
        # Newer VRP5 asks to re-save a configuration file with weak ciphers (netmiko's huawei
        # driver): govnet saves only as part of a rollout, so it declines here.
        Dialogue(r"(?i:security risks? in the configuration file)[^\r\n]*" + YN, "n"),
    ),
    refused_prompts=(
        (
            r"^(?:HRP_[MS]|RBM_[PS])?\[[~*][^\s<>\[\]]+\]",
            "the device runs Huawei VRP8 (two-stage configuration, prompt [~NAME], changes need "
            "'commit'); platform huawei_vrp drives VRP5 only and VRP8 is not supported yet: "
            "nothing was changed",
        ),
    ),
    volatile=_VOLATILE,
    hidden_defaults=(replace(TELNET_OFF, firmware=_TELNET_OFF_FIRMWARE),),
)

# ---------------------------------------------------------------- configuration language

VRP_LIKE_KEYS = (
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
VRP_LIKE_REPLACES = (
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
VRP_LIKE_NEGATIONS = (
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
VRP_LIKE_OWNED = (
    (r"^snmp-agent (?:community|group|usm-user|sys-info version) ", "baseline"),
    (r"^info-center loghost ", "baseline"),
    (r"^ntp-service unicast-server ", "baseline"),
    (r"^acl (?:number |basic )?299\d$", "baseline"),
    (r"^acl (?:number |advanced )?399\d$", "party"),
    (r"^ip route-static vpn-instance .* description govnet-", "uplink"),
)
VRP_LIKE_VIEWS = (
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

DIALECT = Dialect(
    name="huawei_vrp",
    hier="HUAWEI_VRP",
    negation="undo",
    exit="quit",
    comments=("#", "!"),
    trailer="return",
    noise=(),
    block=re.compile(r"^header (?:login|shell) information (?P<delim>\S)"),
    sequence=None,
    views=tuple((p, "quit") for p in rx(*VRP_LIKE_VIEWS)),
    owned=pairs(*VRP_LIKE_OWNED),
    shared=rx(r"^aaa$", r"^user-interface "),
    keys=rx(*VRP_LIKE_KEYS),
    replaces=rx(*VRP_LIKE_REPLACES),
    negations=pairs(*VRP_LIKE_NEGATIONS),
    rewrite=(),
    resend=((re.compile(r"^ip binding vpn-instance "), re.compile(r"^ip address ")),),
    write_only=(),
)


PLATFORM = Platform(
    name="huawei_vrp",
    cli=CLI,
    dialect=DIALECT,
    naming=Naming(
        vlan_interface="Vlanif", loopback="LoopBack", acls={"mgmt": 2990, "snmp": 2991, "party": 3990}
    ),
)
