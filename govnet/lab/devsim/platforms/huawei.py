"""Huawei VRP (AR routers, S switches): ``<NAME>`` / ``[NAME]`` prompts, ``undo``, ``save`` with
its [Y/N] question, ``screen-length 0 temporary-disable``."""

from __future__ import annotations

import re

from govnet.lab.devsim.personality import (
    Action,
    DialogStep,
    Errors,
    ExecCommand,
    Paging,
    Personality,
    Prompts,
    Saving,
    Syntax,
)
from govnet.lab.devsim.platforms.vocabulary import (
    COMMON_KEYWORDS,
    VRP_H3C_KEYWORDS,
    patterns,
    rules,
)

HUAWEI_VRP = Personality(
    name="huawei_vrp",
    prompts=Prompts(
        user="<{name}>",
        privileged="<{name}>",
        config="[{name}]",
        view="[{name}-{view}]",
        starts_privileged=True,
        login_notice=(
            "Info: The max number of VTY users is 10, and the number\n"
            "      of current VTY users on line is 1.\n"
            "      The current login time is {now}."
        ),
        config_notice="Enter system view, return user view with Ctrl+Z.",
    ),
    paging=Paging(
        more="  ---- More ----",
        erase="\x1b[16D                \x1b[16D",
        off_notice="Info: The configuration takes effect on the current user terminal interface only.",
    ),
    errors=Errors(
        unknown="Error: Unrecognized command found at '^' position.",
        incomplete="Error: Incomplete command found at '^' position.",
        ambiguous="Error: Ambiguous command found at '^' position.",
    ),
    syntax=Syntax(
        negation="undo",
        exit_one="quit",
        exit_all="return",
        extra_exits=frozenset(),
        comment_prefixes=("#", "!"),
        separator="#",
        trailer="return",
        top_leaf_indent="",
        exec_prefix=None,
        exec_words=frozenset({"display", "save"}),
        hostname_keyword="sysname",
        keywords=COMMON_KEYWORDS | VRP_H3C_KEYWORDS,
        bare_keywords=frozenset({"aaa", "shutdown", "snmp-agent", "ipv4-family", "ipv6-family"}),
        sections=rules(
            (r"^interface (\S+)$", "interface", "{1}"),
            (r"^ip vpn-instance (\S+)$", "vpn-instance", "vpn-instance-{1}"),
            (r"^ipv4-family$", "vpn-af", "{parent}-af-ipv4", "vpn-instance"),
            (r"^ipv6-family$", "vpn-af", "{parent}-af-ipv6", "vpn-instance"),
            (r"^acl (?:number )?(2\d{3})$", "acl", "acl-basic-{1}"),
            (r"^acl (?:number )?(3\d{3})$", "acl", "acl-adv-{1}"),
            (r"^acl name (\S+)(?: advance)?$", "acl", "acl-adv-{1}"),
            (r"^aaa$", "aaa", "aaa"),
            (r"^authentication-scheme (\S+)$", "aaa-sub", "aaa-authen-{1}", "aaa"),
            (r"^authorization-scheme (\S+)$", "aaa-sub", "aaa-author-{1}", "aaa"),
            (r"^accounting-scheme (\S+)$", "aaa-sub", "aaa-accounting-{1}", "aaa"),
            (r"^domain (\S+)$", "aaa-sub", "aaa-domain-{1}", "aaa"),
            (r"^user-interface (vty|con|console) (\d+) (\d+)$", "ui", "ui-{1}{2}-{3}"),
            (r"^user-interface (vty|con|console) (\d+)$", "ui", "ui-{1}{2}"),
            (r"^ospf (\d+)(?: .*)?$", "ospf", "ospf-{1}"),
            (r"^area (\S+)$", "ospf-area", "{parent}-area-{1}", "ospf"),
            (r"^bgp (\d+)$", "bgp", "bgp"),
            (r"^ipv4-family vpn-instance (\S+)$", "bgp-af", "bgp-{1}", "bgp"),
            (r"^ipv4-family unicast$", "bgp-af", "bgp-af-ipv4", "bgp"),
            (r"^vlan (\d+)$", "vlan", "vlan{1}"),
            (r"^rip (\d+)(?: .*)?$", "rip", "rip-{1}"),
            (r"^route-policy (\S+) (?:permit|deny) node (\d+)$", "route-policy", "route-policy"),
        ),
        global_prefixes=(
            "sysname ",
            "ip route-static ",
            "snmp-agent ",
            "ntp-service ",
            "info-center ",
            "header ",
            "stelnet ",
            "ssh user ",
            "ssh server ",
            "clock timezone ",
            "vlan batch ",
            "dns ",
        ),
        replace_rules=patterns(
            r"^(description) ",
            r"^(sysname) ",
            r"^(ip address) (?!.* sub$)",
            r"^(ip binding vpn-instance) ",
            r"^(route-distinguisher) ",
            r"^(authentication-mode) ",
            r"^(user privilege) ",
            r"^(protocol inbound) ",
            r"^(clock timezone) ",
            r"^(port link-type) ",
            r"^(port default vlan) ",
            r"^(link-protocol) ",
            r"^(mtu) ",
            r"^(idle-timeout) ",
            r"^(local-user \S+ password) ",
            r"^(local-user \S+ privilege level) ",
            r"^(local-user \S+ service-type) ",
            r"^(header (?:login|shell)) ",
            r"^(rule \d+) ",
            r"^(snmp-agent sys-info (?:location|contact)) ",
        ),
        kept_negations=patterns(
            r"^undo (telnet|http|ftp|info-center|ntp-service|snmp-agent|stelnet|ssh|dhcp|lldp)\b",
        ),
        block_start=re.compile(r"^header (?:login|shell) information (?P<delim>\S)"),
        interface_types=(
            "GigabitEthernet",
            "XGigabitEthernet",
            "Ethernet",
            "Eth-Trunk",
            "LoopBack",
            "Vlanif",
            "NULL",
            "Tunnel",
            "Virtual-Template",
            "MEth",
        ),
        interface_aliases=(("GE", "GigabitEthernet"), ("XGE", "XGigabitEthernet")),
    ),
    saving=Saving(
        dialog=(
            DialogStep(
                "Warning: The current configuration will be written to the device. "
                "Are you sure to continue? [Y/N]:"
            ),
        ),
        done=(
            "Now saving the current configuration to the slot 0.",
            "Info: Save the configuration successfully.",
        ),
    ),
    exec_commands=(
        ExecCommand(("display", "current-configuration"), Action.SHOW_RUNNING),
        ExecCommand(("display", "saved-configuration"), Action.SHOW_STARTUP),
        ExecCommand(("display", "version"), Action.SHOW_VERSION),
        ExecCommand(("display", "this"), Action.SHOW_THIS),
        ExecCommand(("screen-length",), Action.PAGING_SET, takes_args=True),
        ExecCommand(("undo", "screen-length"), Action.PAGING_ON, takes_args=True),
        ExecCommand(("system-view",), Action.CONFIG),
        ExecCommand(("save",), Action.SAVE),
        ExecCommand(("quit",), Action.LOGOUT),
    ),
    running_preamble=("!Software Version V200R019C10SPC500",),
    version_text=(
        "Huawei Versatile Routing Platform Software\n"
        "VRP (R) software, Version 5.170 (AR6300 V300R019C10SPC500)\n"
        "Copyright (C) 2011-2020 HUAWEI TECH CO., LTD\n"
        "Huawei AR6300 Router uptime is {uptime}\n"
        "BKP 0 version information:\n"
        "1. PCB      Version  : AR01BAK2A VER.B\n"
        "2. If Supporting PoE : No\n"
        "3. Board    Type     : AR6300\n"
        "4. MPU Slot Quantity : 2\n"
        "5. LPU Slot Quantity : 8"
    ),
    ssh_version="HUAWEI-1.5",
    hidden_defaults=("undo telnet server enable",),  # telnet is off by default
)
