"""H3C Comware 5 and 7: every fact govnet knows of it (much of it shared with VRP, its origin).

Where each behaviour is recorded: govnet/devices/conformance.md."""

from __future__ import annotations

import re
from dataclasses import replace

from govnet.platforms import huawei_vrp
from govnet.platforms.cli import Dialogue
from govnet.platforms.dialect import Dialect, rx
from govnet.platforms.record import Naming, Platform

CLI = replace(
    huawei_vrp.CLI,
    name="h3c_comware",
    device_type="hp_comware",
    config_prompt=r"^(?:HRP_[MS]|RBM_[PS])?\[[^\s<>\[\]]+\]",
    paging_off="screen-length disable",
    # ``save force`` writes the next-startup file without the three-question dialogue of
    # ``save`` (which also differs between Comware releases).
    save="save force",
    save_dialogue=(),
    save_done=r"(?i)successfully",
    error_patterns=(
        r"^% Unrecognized command.*$",
        r"^% Incomplete command.*$",
        r"^% Too many parameters.*$",
        r"^% Wrong parameter.*$",
        r"^% Ambiguous command.*$",
    ),
    running_preamble=(),
    block_start=r"^header (?:motd|login|shell|legal|incoming) (?P<delim>\S)",
    line_dialogue=(
        Dialogue(
            r"(?i:continue)\s*\?" + huawei_vrp.YN,
            "y",
            after=r"^(?:undo local-user \S+(?: class \S+)?$|undo vlan |public-key local (?:create|destroy) )",
        ),
    ),
    login_dialogue=(
        # A Comware banner that waits for a key (HPE 1910/1920 and similar).
        Dialogue(r"(?i:press\s+y\s+or\s+enter\s+to\s+continue)[^\r\n]*", "y"),
    ),
    refused_prompts=(),
    volatile=(r"^ ?version \d+\.\d+\S*, \w+ \S+",),  # " version 7.1.070, Release 6328"
    hidden_defaults=(replace(huawei_vrp.TELNET_OFF, firmware=r"^ ?version 7\."),),
)

# ---------------------------------------------------------------- configuration language

DIALECT = Dialect(
    name="h3c_comware",
    hier="HP_COMWARE5",
    negation="undo",
    exit="quit",
    comments=("#",),
    trailer="return",
    noise=(),
    block=re.compile(r"^header (?:motd|login|shell|legal|incoming) (?P<delim>\S)"),
    sequence=None,
    views=huawei_vrp.DIALECT.views,
    owned=huawei_vrp.DIALECT.owned,
    shared=rx(r"^line "),
    keys=huawei_vrp.DIALECT.keys,
    replaces=huawei_vrp.DIALECT.replaces,
    negations=huawei_vrp.DIALECT.negations,
    rewrite=(),
    resend=huawei_vrp.DIALECT.resend,
    write_only=(),
)


PLATFORM = Platform(
    name="h3c_comware",
    cli=CLI,
    dialect=DIALECT,
    naming=Naming(vlan_interface="Vlan-interface", loopback="LoopBack", acls=huawei_vrp.PLATFORM.naming.acls),
)
