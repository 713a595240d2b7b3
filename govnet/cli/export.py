"""``govnet export alertmanager``: an Alertmanager configuration derived from the inventory."""

from __future__ import annotations

from pathlib import Path

import click

from govnet.cli.common import inventory_option, load_inventory
from govnet.export import alertmanager
from govnet.inventory.models import Inventory
from govnet.osutil.files import write_atomically


@click.group("export")
def export_group() -> None:
    """Configuration for the monitoring stack, derived from the inventory."""


@export_group.command("alertmanager")
@inventory_option
@click.option(
    "--receiver-url",
    default=alertmanager.DEFAULT_WEBHOOK,
    show_default=True,
    help="Webhook every receiver posts to (the payload's `receiver` names segment and severity).",
)
@click.option("--email", "emails", multiple=True, metavar="ADDRESS", help="Also e-mail these (repeatable).")
@click.option("--smtp-smarthost", default="127.0.0.1:25", show_default=True, help="SMTP relay HOST:PORT.")
@click.option("--smtp-from", default="govnet-alerts@localhost", show_default=True, help="Sender address.")
@click.option(
    "--templates",
    "templates",
    multiple=True,
    metavar="GLOB",
    help=f"E-mail template files (default: {alertmanager.DEFAULT_TEMPLATES}, relative to the config; "
    "ship exporters/alertmanager/*.tmpl there).",
)
@click.option(
    "--out",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Write the configuration here (default: standard output).",
)
def alertmanager_cmd(
    inventory_path: Path,
    receiver_url: str,
    emails: tuple[str, ...],
    smtp_smarthost: str,
    smtp_from: str,
    templates: tuple[str, ...],
    out: Path | None,
) -> None:
    """Routes per segment and severity, receivers, and inhibition that follows the topology.

    An aggregation node going down raises one alert: the units behind it are inhibited (one
    inhibit rule per node, which is why this is generated). Check the result with
    `amtool check-config`.
    """
    alertmanager.check_url(receiver_url)
    inventory: Inventory = load_inventory(inventory_path).inventory
    options = alertmanager.Options(
        webhook_url=receiver_url,
        emails=emails,
        smtp_smarthost=smtp_smarthost,
        smtp_from=smtp_from,
        templates=templates or (alertmanager.DEFAULT_TEMPLATES,),
    )
    text = alertmanager.render(inventory, options, str(inventory_path))
    if out is None:
        click.echo(text, nl=False)
        return
    _write(out, text)
    written = alertmanager.config(inventory, options)
    click.echo(
        f"wrote {out}: {len(written['receivers'])} receivers, {len(written['inhibit_rules'])} inhibit rules",
        err=True,
    )


def _write(path: Path, text: str) -> None:
    """Replace ``path`` atomically: Alertmanager may reload it at any moment."""
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(path, text, mode=0o644)
