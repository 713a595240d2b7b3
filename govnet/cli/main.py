"""Entry point: runs the click group and turns every error a user can cause into one line."""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from click.shell_completion import CompletionItem

from govnet import __version__
from govnet.errors import GovnetError
from govnet.settings import settings

EXIT_INTERNAL = 70

COMMANDS = {
    "inventory": "govnet.cli.inventory:inventory_group",
    "lab": "govnet.cli.lab:lab_group",
    "rollout": "govnet.cli.rollout:rollout_group",
    "config": "govnet.cli.history:config_group",
    "audit": "govnet.cli.audit:audit_group",
    "export": "govnet.cli.export:export_group",
    "alert-bridge": "govnet.cli.bridge:alert_bridge_cmd",
    "probe": "govnet.cli.monitor:probe_cmd",
    "daemon": "govnet.cli.monitor:daemon_cmd",
    "report": "govnet.cli.report:report_group",
}
"""Each command and where it lives: imported when it runs, so that `govnet inventory …` does not
pay for netmiko, the device simulator or pysnmp (the whole CLI takes seconds to import)."""


LAB_EXTRA = ("asyncssh", "netfilterqueue")
"""The modules of pyproject.toml's ``lab`` extra: a production install goes without them."""


SUMMARIES = {
    "alert-bridge": "Deliver alerts to the contacts' DingTalk robots and SMS gateways.",
    "audit": "The tamper-evident audit trail of every change govnet made.",
    "config": "Device configurations: backups, their history, and the difference from the intent.",
    "daemon": "Probe on a schedule and export metrics (/metrics), health (/healthz) and a status page (/).",
    "export": "Configuration for the monitoring stack, derived from the inventory.",
    "inventory": "Validate and explore the inventory (units, segments, devices).",
    "lab": "The lab twin: the site scaled to N units, on this machine (needs root).",
    "probe": "Run one ICMP cycle and print every unit's state (up, down, unreachable, unknown).",
    "report": "Availability and construction reports, from Prometheus and the rollout state.",
    "rollout": "Plan, apply, watch, resume and roll back configuration rollouts.",
}
"""What ``govnet --help`` lists, without importing every command (a test keeps each equal to
the first paragraph of its command's own help): importing them all for the listing took ~1 s."""


class LazyGroup(click.Group):
    """The top-level group: its commands are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        with formatter.section("Commands"):
            formatter.write_dl([(name, SUMMARIES[name]) for name in self.list_commands(ctx)])

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        where = COMMANDS.get(cmd_name)
        if where is None:
            return None
        if cmd_name == "lab" and any(importlib.util.find_spec(m) is None for m in LAB_EXTRA):
            raise GovnetError("govnet lab needs the lab extra: pip install 'govnet[lab]'")
        module, _, attr = where.partition(":")
        command: Any = getattr(importlib.import_module(module), attr)
        from govnet.cli.complete import attach  # noqa: PLC0415 - not needed by --help

        attach(command)  # unit ids, run ids and plan files complete on Tab
        return command  # type: ignore[no-any-return]

    def shell_complete(self, ctx: click.Context, incomplete: str) -> list[CompletionItem]:
        """The commands' names and summaries without importing them (Tab must be quick)."""
        from click.shell_completion import CompletionItem  # noqa: PLC0415 - only on Tab

        names = [n for n in self.list_commands(ctx) if n.startswith(incomplete)]
        return [CompletionItem(n, help=SUMMARIES[n]) for n in names] + click.Command.shell_complete(
            self, ctx, incomplete
        )


@click.group(
    cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100}
)
@click.version_option(__version__, prog_name="govnet")
def cli() -> None:
    """govnet: roll out and watch a city's government networks from one YAML inventory."""


def main(argv: list[str] | None = None) -> int:
    """Run govnet; return (and exit with) 0 ok, 1 bad input, 2 usage, 70 internal error."""
    code = run(argv)
    sys.exit(code)


def run(argv: list[str] | None = None) -> int:
    try:
        result = cli.main(args=argv, prog_name="govnet", standalone_mode=False)
        return result if isinstance(result, int) else 0
    except GovnetError as exc:
        for line in exc.lines():
            click.echo(f"govnet: {line}" if not _has_place(line) else line, err=True)
        return exc.exit_code
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.Abort:
        click.echo("govnet: aborted", err=True)
        return 130
    except click.ClickException as exc:
        ctx_help = " (see --help)" if isinstance(exc, click.UsageError) else ""
        click.echo(f"govnet: {exc.format_message()}{ctx_help}", err=True)
        return exc.exit_code
    except KeyboardInterrupt:
        click.echo("govnet: interrupted", err=True)
        return 130
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except Exception as exc:
        if settings().debug:
            raise
        click.echo(
            f"govnet: internal error ({type(exc).__name__}: {exc}); this is a bug in govnet: "
            "rerun with GOVNET_DEBUG=1 for the traceback and report it",
            err=True,
        )
        return EXIT_INTERNAL


def _has_place(line: str) -> bool:
    """Lines that already start with ``FILE:LINE:`` are printed as they are."""
    head = line.split(": ", 1)[0]
    return ":" in head or head.endswith((".yml", ".yaml", ".json"))
