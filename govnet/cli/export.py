"""``govnet export alertmanager``: an Alertmanager configuration derived from the inventory."""

from __future__ import annotations

from pathlib import Path

import click

from govnet.cli.common import inventory_option, load_inventory
from govnet.errors import UsageError
from govnet.export import alertmanager, contacts
from govnet.inventory.models import Inventory
from govnet.osutil.files import write_atomically
from govnet.secrets import SecretResolver


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
    "--bridge-url",
    default=contacts.DEFAULT_BRIDGE,
    show_default=True,
    help="govnet alert-bridge, which posts to the contacts' DingTalk robots and SMS gateways.",
)
@click.option(
    "--bridge-token-file",
    metavar="PATH",
    help="File with the bridge's bearer token (alert-bridge --token file:PATH); Alertmanager reads it.",
)
@click.option(
    "--wechat-api-url",
    default=None,
    metavar="URL",
    help="WeChat Work API (default: Alertmanager's, https://qyapi.weixin.qq.com/cgi-bin/).",
)
@click.option(
    "--out",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Write the configuration here (default: standard output; mode 0600 when it holds a secret).",
)
def alertmanager_cmd(
    inventory_path: Path,
    receiver_url: str,
    emails: tuple[str, ...],
    smtp_smarthost: str,
    smtp_from: str,
    templates: tuple[str, ...],
    bridge_url: str,
    bridge_token_file: str | None,
    wechat_api_url: str | None,
    out: Path | None,
) -> None:
    """Routes per segment and severity, receivers, and inhibition that follows the topology.

    An aggregation node going down raises one alert: the units behind it are inhibited (one
    inhibit rule per node, which is why this is generated). Check the result with
    `amtool check-config`.

    The inventory's contacts get their own receivers (WeChat Work, e-mail, and DingTalk / SMS
    through `govnet alert-bridge`), reached by their units' alerts as well as the on-call.
    """
    alertmanager.check_url(receiver_url)
    inventory: Inventory = load_inventory(inventory_path).inventory
    options = alertmanager.ExportOptions(
        webhook_url=receiver_url,
        emails=emails,
        smtp_smarthost=smtp_smarthost,
        smtp_from=smtp_from,
        templates=templates or (alertmanager.DEFAULT_TEMPLATES,),
        bridge_url=bridge_url,
        wechat_api_url=wechat_api_url,
        bridge_token_file=bridge_token_file,
    )
    secret = contacts.wechat_secrets(inventory)
    if secret and out is None:
        raise UsageError(
            f"contact {secret[0]}: its WeChat Work secret goes into the configuration "
            "(Alertmanager reads it nowhere else): write it with --out FILE (mode 0600), not to the terminal"
        )
    resolve = SecretResolver().resolve
    text = alertmanager.render(inventory, options, str(inventory_path), resolve)
    if out is None:
        click.echo(text, nl=False)
        return
    _write(out, text, 0o600 if secret else 0o644)
    written = alertmanager.config(inventory, options, resolve)
    click.echo(
        f"wrote {out}: {len(written['receivers'])} receivers, {len(written['inhibit_rules'])} inhibit rules",
        err=True,
    )


def _write(path: Path, text: str, mode: int) -> None:
    """Replace ``path`` atomically: Alertmanager may reload it at any moment."""
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(path, text, mode=mode)
