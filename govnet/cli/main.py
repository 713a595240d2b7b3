"""Entry point: runs the click group and turns every error a user can cause into one line."""

from __future__ import annotations

import os
import sys

import click

from govnet import __version__
from govnet.cli.audit import audit_group
from govnet.cli.drift import drift_cmd
from govnet.cli.export import export_group
from govnet.cli.inventory import inventory_group
from govnet.cli.lab import lab_group
from govnet.cli.monitor import daemon_cmd, probe_cmd
from govnet.cli.report import report_group
from govnet.cli.rollout import config_group, rollout_group
from govnet.errors import GovnetError

EXIT_INTERNAL = 70


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="govnet")
def cli() -> None:
    """govnet: roll out and watch a city's government networks from one YAML inventory."""


cli.add_command(inventory_group)
cli.add_command(lab_group)
cli.add_command(rollout_group)
cli.add_command(config_group)
config_group.add_command(drift_cmd)
cli.add_command(audit_group)
cli.add_command(export_group)
cli.add_command(probe_cmd)
cli.add_command(daemon_cmd)
cli.add_command(report_group)


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
        if os.environ.get("GOVNET_DEBUG"):
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
