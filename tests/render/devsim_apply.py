"""The lab simulator's configuration tree as the "device" for remediation tests.

``apply`` feeds commands through ``ConfigEditor`` exactly as the simulated CLI would (section
headers enter views, the exit words leave them) and returns the configuration as the device
displays it: secrets in cipher form, IOS SNMP users hidden.
"""

from __future__ import annotations

from collections.abc import Iterable

from govnet.lab.devsim.cipher import conceal_tree
from govnet.lab.devsim.config import parse_config, render_config
from govnet.lab.devsim.editor import ConfigEditor, LineVerdict
from govnet.lab.devsim.platforms import get_platform
from govnet.render.secrets import substitute

SECRETS = {
    "env:GOVNET_SSH_PASSWORD": "Ssh-Pass-1",
    "env:GOVNET_ENABLE_SECRET": "Enable-2",
    "env:GOVNET_SNMP_AUTH_KEY": "Auth-Key-3",
    "env:GOVNET_SNMP_PRIV_KEY": "Priv-Key-4",
    "file:/etc/govnet/snmp-priv": "Priv-File-5",
}


def resolve(ref: str) -> str:
    return SECRETS.get(ref, f"Other-{sum(map(ord, ref))}")


def apply(platform: str, running: str, commands: Iterable[str]) -> str:
    """``running`` after the device received ``commands``; a rejected command fails the test."""
    personality = get_platform(platform)
    root = conceal_tree(parse_config(running, personality), platform)
    editor = ConfigEditor(root, personality)
    syntax = personality.syntax
    for command in substitute(list(commands), resolve):
        text = command.strip()
        if text == syntax.exit_one or text in syntax.extra_exits:
            editor.exit_one()
            continue
        outcome = editor.apply(text)
        assert outcome.verdict is LineVerdict.OK, f"{platform} rejected {command!r}: {outcome.verdict}"
    return render_config(root, personality)
