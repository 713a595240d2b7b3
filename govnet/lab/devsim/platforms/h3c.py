"""H3C Comware 7: VRP-like views, one-space-indented global lines, ``save force``,
``screen-length disable``, ``%``-prefixed errors. Derived from the VRP record."""

from __future__ import annotations

import re
from dataclasses import replace

from govnet.lab.devsim.personality import Action, DialogStep, Errors, ExecCommand, Saving
from govnet.lab.devsim.platforms.huawei import HUAWEI_VRP
from govnet.lab.devsim.platforms.vocabulary import patterns, rules

H3C_COMWARE = replace(
    HUAWEI_VRP,
    name="h3c_comware",
    prompts=replace(
        HUAWEI_VRP.prompts,
        login_notice=(
            "*" * 78 + "\n"
            "* Copyright (c) 2004-2021 New H3C Technologies Co., Ltd. All rights reserved.*\n"
            "* Without the owner's prior written consent,                                 *\n"
            "* no decompiling or reverse-engineering shall be allowed.                    *\n" + "*" * 78
        ),
        config_notice="System View: return to User View with Ctrl+Z.",
    ),
    paging=replace(HUAWEI_VRP.paging, off_notice=""),
    errors=Errors(
        unknown="% Unrecognized command found at '^' position.",
        incomplete="% Incomplete command found at '^' position.",
        ambiguous="% Ambiguous command found at '^' position.",
    ),
    syntax=replace(
        HUAWEI_VRP.syntax,
        top_leaf_indent=" ",
        bare_keywords=frozenset({"shutdown", "snmp-agent"}),
        sections=rules(
            (r"^interface (\S+)$", "interface", "{1}"),
            (r"^ip vpn-instance (\S+)$", "bgp-vpn", "bgp-default-{1}", "bgp"),
            (r"^ip vpn-instance (\S+)$", "vpn-instance", "vpn-instance-{1}"),
            (r"^address-family (ipv4|ipv6)$", "vpn-af", "{parent}-{1}", "vpn-instance"),
            (r"^address-family ipv4 unicast$", "bgp-af", "{parent}-ipv4", "bgp"),
            (r"^address-family ipv4 unicast$", "bgp-af", "{parent}-ipv4", "bgp-vpn"),
            (r"^acl (?:basic|number) (2\d{3})$", "acl", "acl-ipv4-basic-{1}"),
            (r"^acl (?:advanced|number) (3\d{3})$", "acl", "acl-ipv4-adv-{1}"),
            (r"^local-user (\S+) class network$", "luser", "luser-network-{1}"),
            (r"^local-user (\S+)(?: class manage)?$", "luser", "luser-manage-{1}"),
            (r"^line (vty|con|aux) (\d+) (\d+)$", "line", "line-{1}{2}-{3}"),
            (r"^line (vty|con|aux) (\d+)$", "line", "line-{1}{2}"),
            (r"^user-interface (vty|con|aux) (\d+) (\d+)$", "line", "ui-{1}{2}-{3}"),
            (r"^ospf (\d+)(?: .*)?$", "ospf", "ospf-{1}"),
            (r"^area (\S+)$", "ospf-area", "{parent}-area-{1}", "ospf"),
            (r"^bgp (\d+)$", "bgp", "bgp-default"),
            (r"^vlan (\d+)$", "vlan", "vlan{1}"),
            (r"^radius scheme (\S+)$", "radius", "radius-{1}"),
            (r"^domain (\S+)$", "isp", "isp-{1}"),
        ),
        global_prefixes=(
            "sysname ",
            "ip route-static ",
            "snmp-agent ",
            "ntp-service ",
            "info-center ",
            "header ",
            "ssh server ",
            "clock timezone ",
            "password-recovery ",
            "telnet server ",
            "dns ",
        ),
        replace_rules=(
            *HUAWEI_VRP.syntax.replace_rules,
            *patterns(r"^(port link-mode) ", r"^(password) ", r"^(user-role) "),
        ),
        kept_negations=patterns(
            r"^undo (telnet|http|ftp|info-center|ntp-service|snmp-agent|ssh|dhcp|lldp"
            r"|password-recovery|ip http|ip https)\b",
        ),
        block_start=re.compile(r"^header (?:motd|login|shell|legal|incoming) (?P<delim>\S)"),
        interface_types=(
            "GigabitEthernet",
            "Ten-GigabitEthernet",
            "FortyGigE",
            "Bridge-Aggregation",
            "Route-Aggregation",
            "LoopBack",
            "Vlan-interface",
            "NULL",
            "Tunnel",
            "M-GigabitEthernet",
        ),
        interface_aliases=(
            ("GE", "GigabitEthernet"),
            ("XGE", "Ten-GigabitEthernet"),
            ("BAGG", "Bridge-Aggregation"),
            ("RAGG", "Route-Aggregation"),
        ),
    ),
    saving=Saving(
        dialog=(
            DialogStep("The current configuration will be written to the device. Are you sure? [Y/N]:"),
            DialogStep(
                "Please input the file name(*.cfg)[flash:/startup.cfg]\n"
                "(To leave the existing filename unchanged, press the enter key):",
                yes_no=False,
            ),
            DialogStep("flash:/startup.cfg exists, overwrite? [Y/N]:"),
        ),
        done=(
            "Validating file. Please wait...",
            "Saved the current configuration to mainboard device successfully.",
        ),
        cancelled="Configuration is not saved!",
    ),
    exec_commands=(
        ExecCommand(("display", "current-configuration"), Action.SHOW_RUNNING),
        ExecCommand(("display", "saved-configuration"), Action.SHOW_STARTUP),
        ExecCommand(("display", "version"), Action.SHOW_VERSION),
        ExecCommand(("display", "this"), Action.SHOW_THIS),
        ExecCommand(("screen-length", "disable"), Action.PAGING_OFF),
        ExecCommand(("undo", "screen-length", "disable"), Action.PAGING_ON),
        ExecCommand(("system-view",), Action.CONFIG),
        ExecCommand(("save", "force"), Action.SAVE_NOW),
        ExecCommand(("save",), Action.SAVE),
        ExecCommand(("quit",), Action.LOGOUT),
    ),
    running_preamble=(),
    version_text=(
        "H3C Comware Software, Version 7.1.070, Release 6328\n"
        "Copyright (c) 2004-2021 New H3C Technologies Co., Ltd. All rights reserved.\n"
        "H3C S6520X-30QC-EI uptime is {uptime}\n"
        "Last reboot reason : User reboot\n"
        "\n"
        "Boot image: flash:/s6520x-cmw710-boot-r6328.bin\n"
        "System image: flash:/s6520x-cmw710-system-r6328.bin"
    ),
    ssh_version="Comware-7.1.070",
    hidden_defaults=("undo telnet server enable",),  # telnet is off by default
)
