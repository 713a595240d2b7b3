"""Cisco IOS: ``>`` / ``#`` / ``(config)#`` prompts, ``enable`` secret, ``no``, ``write memory``,
``terminal length 0``, ``% Invalid input detected at '^' marker.``"""

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
from govnet.lab.devsim.platforms.vocabulary import CISCO_KEYWORDS, COMMON_KEYWORDS, patterns, rules

CISCO_IOS = Personality(
    name="cisco_ios",
    prompts=Prompts(
        user="{name}>",
        privileged="{name}#",
        config="{name}(config)#",
        view="{name}({view})#",
        starts_privileged=False,
        config_notice="Enter configuration commands, one per line.  End with CNTL/Z.",
    ),
    paging=Paging(more=" --More-- ", erase="\b" * 10 + " " * 10 + "\b" * 10),
    errors=Errors(
        unknown="% Invalid input detected at '^' marker.",
        incomplete="% Incomplete command.",
        ambiguous='% Ambiguous command:  "{line}"',
        blank_line_after=True,
    ),
    syntax=Syntax(
        negation="no",
        exit_one="exit",
        exit_all="end",
        extra_exits=frozenset({"exit-address-family"}),
        comment_prefixes=("!",),
        separator="!",
        trailer="end",
        top_leaf_indent="",
        exec_prefix="do",
        exec_words=frozenset(),
        hostname_keyword="hostname",
        keywords=COMMON_KEYWORDS | CISCO_KEYWORDS,
        bare_keywords=frozenset({"shutdown", "archive", "control-plane", "exit-address-family"}),
        sections=rules(
            (r"^interface (\S+)$", "interface", "config-if"),
            (r"^vrf definition (\S+)$", "vrf", "config-vrf"),
            (r"^ip vrf (?!forwarding\b)(\S+)$", "vrf", "config-vrf"),
            (r"^address-family (?:ipv4|ipv6)(?: unicast)?$", "vrf-af", "config-vrf-af", "vrf"),
            (r"^ip access-list extended (\S+)$", "acl", "config-ext-nacl"),
            (r"^ip access-list standard (\S+)$", "acl", "config-std-nacl"),
            (r"^line (?:vty|con|console|aux) \d+(?: \d+)?$", "line", "config-line"),
            (r"^router (?:ospf|eigrp|rip)(?: \d+)?(?: vrf \S+)?$", "router", "config-router"),
            (r"^router bgp (\d+)$", "router", "config-router"),
            (
                r"^address-family ipv4(?: unicast)?(?: vrf (\S+))?$",
                "router-af",
                "config-router-af",
                "router",
            ),
            (r"^vlan (\d+)$", "vlan", "config-vlan"),
            (r"^class-map(?: match-(?:any|all))? (\S+)$", "cmap", "config-cmap"),
            (r"^policy-map (\S+)$", "pmap", "config-pmap"),
            (r"^class (\S+)$", "pmap-c", "config-pmap-c", "pmap"),
            (r"^route-map (\S+)(?: (?:permit|deny))?(?: \d+)?$", "route-map", "config-route-map"),
            (r"^key chain (\S+)$", "keychain", "config-keychain"),
            (r"^archive$", "archive", "config-archive"),
            (r"^control-plane$", "cp", "config-cp"),
        ),
        global_prefixes=(
            "hostname ",
            "ip route ",
            "ip domain",
            "ip name-server ",
            "ip http ",
            "ip ssh ",
            "ip access-list ",
            "access-list ",
            "snmp-server ",
            "ntp ",
            "logging ",
            "username ",
            "enable ",
            "service ",
            "banner ",
            "clock ",
            "aaa ",
            "cdp run",
            "lldp run",
            "boot ",
            "version ",
        ),
        replace_rules=patterns(
            r"^(description) ",
            r"^(hostname) ",
            r"^(ip address) (?!.* secondary$)",
            r"^(vrf forwarding) ",
            r"^(ip vrf forwarding) ",
            r"^(rd) ",
            r"^(enable secret) ",
            r"^(clock timezone) ",
            r"^(transport input) ",
            r"^(exec-timeout) ",
            r"^(switchport mode) ",
            r"^(switchport access vlan) ",
            r"^(mtu) ",
            r"^(speed) ",
            r"^(duplex) ",
            r"^(bandwidth) ",
            r"^(router-id) ",
            r"^(privilege level) ",
            r"^(snmp-server (?:location|contact)) ",
            r"^(username \S+) ",
            r"^(ip domain[ -]name) ",
            r"^(logging buffered) ",
            r"^(version) ",
            r"^(banner (?:motd|login|exec|incoming)) ",
            r"^(\d+) ",
        ),
        kept_negations=patterns(
            r"^no (service|ip http|ip domain|ip source-route|ip bootp|ip finger|cdp run|lldp run"
            r"|logging console|ip redirects|ip unreachables|ip proxy-arp|mop enabled)\b",
        ),
        block_start=re.compile(r"^banner (?:motd|login|exec|incoming) (?P<delim>\S)"),
        block_notice="Enter TEXT message.  End with the character '{delim}'.",
        interface_types=(
            "GigabitEthernet",
            "FastEthernet",
            "TenGigabitEthernet",
            "Ethernet",
            "Loopback",
            "Vlan",
            "Port-channel",
            "Tunnel",
            "Null",
            "Serial",
        ),
    ),
    saving=Saving(
        dialog=(),
        done=("Building configuration...", "[OK]"),
        copy_dialog=(DialogStep("Destination filename [startup-config]? ", yes_no=False),),
    ),
    exec_commands=(
        ExecCommand(("enable",), Action.ENABLE),
        ExecCommand(("disable",), Action.DISABLE, privileged=True),
        ExecCommand(("configure", "terminal"), Action.CONFIG, privileged=True),
        ExecCommand(("terminal", "length"), Action.PAGING_SET, takes_args=True),
        ExecCommand(("terminal", "width"), Action.WIDTH, takes_args=True),
        ExecCommand(("show", "running-config"), Action.SHOW_RUNNING, privileged=True),
        ExecCommand(("show", "startup-config"), Action.SHOW_STARTUP, privileged=True),
        ExecCommand(("show", "version"), Action.SHOW_VERSION),
        ExecCommand(("write", "memory"), Action.SAVE_NOW, privileged=True),
        ExecCommand(("write",), Action.SAVE_NOW, privileged=True),
        ExecCommand(("copy", "running-config", "startup-config"), Action.COPY_RUN_START, privileged=True),
        ExecCommand(("exit",), Action.LOGOUT),
        ExecCommand(("logout",), Action.LOGOUT),
    ),
    running_preamble=("Building configuration...", "", "Current configuration : {size} bytes"),
    version_text=(
        "Cisco IOS Software, C2900 Software (C2900-UNIVERSALK9-M), Version 15.7(3)M5, "
        "RELEASE SOFTWARE (fc1)\n"
        "Technical Support: http://www.cisco.com/techsupport\n"
        "Copyright (c) 1986-2019 by Cisco Systems, Inc.\n"
        "\n"
        "ROM: System Bootstrap, Version 15.0(1r)M16, RELEASE SOFTWARE (fc1)\n"
        "\n"
        "{name} uptime is {uptime}\n"
        'System image file is "flash0:c2900-universalk9-mz.SPA.157-3.M5.bin"\n'
        "\n"
        "Cisco CISCO2911/K9 (revision 1.0) with 491520K/32768K bytes of memory.\n"
        "3 Gigabit Ethernet interfaces\n"
        "Configuration register is 0x2102"
    ),
    ssh_version="Cisco-1.25",
)
