"""``govnet --help`` answers without importing the commands (issue #15: it took ~1 s)."""

from __future__ import annotations

import subprocess
import sys

import click

from govnet.cli.main import COMMANDS, SUMMARIES, cli
from tests.helpers import ROOT

HEAVY = ("netmiko", "paramiko", "pysnmp", "scapy", "govnet.cli.rollout", "govnet.cli.monitor")


def test_help_lists_every_command_without_importing_them() -> None:
    probe = (
        "import sys, contextlib, io\n"
        "from govnet.cli.main import run\n"
        "with contextlib.redirect_stdout(io.StringIO()) as out:\n"
        "    code = run(['--help'])\n"
        f"heavy = sorted(m for m in sys.modules if m.startswith({HEAVY!r}))\n"
        "print(code, heavy)\n"
        "print(out.getvalue())\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True)
    first, _, listing = done.stdout.partition("\n")
    assert first == "0 []", first
    for name in COMMANDS:
        assert f"  {name} " in listing


def test_each_summary_is_its_commands_own_first_paragraph() -> None:
    ctx = click.Context(cli)
    assert set(SUMMARIES) == set(COMMANDS)
    for name in COMMANDS:
        command = cli.get_command(ctx, name)
        assert command is not None
        own = " ".join((command.help or "").split("\n\n")[0].split())
        assert SUMMARIES[name] == own, name
