"""``govnet alert-bridge``: Alertmanager webhooks to the contacts' DingTalk robots and SMS gateways."""

from __future__ import annotations

import logging
import signal
import sys
import threading
from pathlib import Path

import click

from govnet.cli.common import inventory_option, load_inventory
from govnet.errors import ConfigError, GovnetError, UsageError
from govnet.inventory.models import check_secret_ref
from govnet.notify.bridge import Bridge, serve
from govnet.notify.channels import Policy
from govnet.secrets import SecretResolver

LOG = logging.getLogger("govnet.notify")


def _listen(_ctx: click.Context, _param: click.Parameter, value: str) -> tuple[str, int]:
    host, sep, port = value.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 <= int(port) < 65536:
        raise UsageError(f"--listen: write HOST:PORT (e.g. 127.0.0.1:9432), got {value!r}")
    return host.strip("[]"), int(port)


def _bearer(resolver: SecretResolver, reference: str) -> str:
    try:
        check_secret_ref(reference)
    except ValueError:
        raise UsageError(
            "--token: write a reference, env:NAME or file:PATH (never the token itself)"
        ) from None
    try:
        return resolver.resolve(reference)
    except GovnetError as exc:
        raise ConfigError(f"--token: {exc}") from None


@click.command("alert-bridge")
@inventory_option
@click.option(
    "--listen",
    default="127.0.0.1:9432",
    show_default=True,
    callback=_listen,
    help="Address for Alertmanager's webhooks (the export's --bridge-url; port 0: any free port).",
)
@click.option(
    "--timeout", type=click.FloatRange(0.1, 60), default=5.0, show_default=True, help="Seconds per post."
)
@click.option(
    "--attempts",
    type=click.IntRange(1, 10),
    default=3,
    show_default=True,
    help="Posts per delivery, at most.",
)
@click.option(
    "--token",
    metavar="REF",
    help="Require this bearer token (env:NAME or file:PATH; the export's --bridge-token-file).",
)
def alert_bridge_cmd(
    inventory_path: Path, listen: tuple[str, int], timeout: float, attempts: int, token: str | None
) -> None:
    """Deliver alerts to the contacts' DingTalk robots and SMS gateways.

    Alertmanager posts a contact's notifications to /notify/CONTACT (see `govnet export
    alertmanager --bridge-url`); the bridge signs and posts them to the contact's DingTalk robot
    (markdown) and SMS gateway (plain JSON), retrying what may pass, and logs one line per delivery.
    SIGHUP reads the inventory's contacts again (a bad inventory is logged and the contacts
    in use are kept).
    """
    inventory = load_inventory(inventory_path).inventory
    resolver = SecretResolver()
    bearer = _bearer(resolver, token) if token is not None else None
    bridge = Bridge(inventory, resolver, Policy(timeout=timeout, attempts=attempts), token=bearer)
    logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    try:
        server = serve(bridge, *listen)
    except OSError as exc:
        raise UsageError(f"--listen {listen[0]}:{listen[1]}: {exc.strerror or exc}") from None
    click.echo(
        f"alert-bridge: listening on http://{listen[0]}:{server.server_address[1]}/notify/CONTACT "
        f"for {len(bridge.targets)} contact(s)",
        err=True,
    )
    _run_until_stopped(bridge, inventory_path)
    server.shutdown()
    server.server_close()


def _run_until_stopped(bridge: Bridge, inventory_path: Path) -> None:
    """Wait for SIGINT/SIGTERM; on SIGHUP read the inventory's contacts again."""
    stop, hup = threading.Event(), threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())

    def on_hup(*_: object) -> None:
        hup.set()
        stop.set()

    signal.signal(signal.SIGHUP, on_hup)
    while True:
        stop.wait()
        if not hup.is_set():
            return
        hup.clear()
        stop.clear()
        _reload(bridge, inventory_path)


def _reload(bridge: Bridge, inventory_path: Path) -> None:
    """One log line either way; a bad inventory leaves the contacts in use as they were."""
    try:
        bridge.reload(load_inventory(inventory_path).inventory)
    except GovnetError as exc:
        LOG.error(
            "reload failed, keeping %d contact(s): %s", len(bridge.targets), bridge.resolver.mask(str(exc))
        )
        return
    LOG.info("reloaded: %d contact(s)", len(bridge.targets))
