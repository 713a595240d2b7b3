"""``govnet probe`` (one cycle, printed) and ``govnet daemon`` (scheduler + exporter)."""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from pathlib import Path

import click
from pydantic import ValidationError

from govnet.cli.common import emit_json, inventory_option, json_option, load_inventory, table
from govnet.errors import UsageError
from govnet.inventory.models import SEGMENTS
from govnet.inventory.select import Shard
from govnet.monitor import once
from govnet.monitor.config import DaemonConfig, load_config


def _shard(_ctx: click.Context, _param: click.Parameter, value: str | None) -> Shard | None:
    return Shard.parse(value) if value else None


shard_option = click.option(
    "--shard",
    metavar="K/N",
    callback=_shard,
    help="Only shard K of N's units (rendezvous hashing on the unit id; overrides the config's shard:).",
)


@click.command("probe")
@inventory_option
@click.option("--segment", type=click.Choice(SEGMENTS), help="Only this segment (default: all).")
@click.option(
    "--config",
    "config_path",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Daemon config: its inventory, allowed_networks and ICMP settings.",
)
@click.option(
    "--allow",
    "allow",
    multiple=True,
    metavar="CIDR",
    help="Networks that may be probed (default: the lab's, 127.0.0.0/8 and 198.18.0.0/15).",
)
@shard_option
@json_option
def probe_cmd(
    inventory_path: Path,
    segment: str | None,
    config_path: Path | None,
    allow: tuple[str, ...],
    shard: Shard | None,
    as_json: bool,
) -> None:
    """Run one ICMP cycle and print every unit's state (up, down, unreachable, unknown)."""
    if config_path is not None:
        config = load_config(config_path, shard)
        inventory = load_inventory(config.inventory).inventory
    else:
        inventory = load_inventory(inventory_path).inventory
        try:
            config = DaemonConfig.model_validate(
                {
                    "inventory": str(inventory_path),
                    "allowed_networks": list(allow) or once.LAB_NETWORKS,
                    "shard": str(shard) if shard else None,
                }
            )
        except ValidationError as exc:
            first = exc.errors()[0]
            raise UsageError(f"--allow: {str(first['msg']).removeprefix('Value error, ')}") from None
    segments: list[str] = [segment] if segment else [s for s in SEGMENTS if s in inventory.segments]
    rows, refused = once.run(config, inventory, segments)
    if refused:
        click.echo(f"warning: {refused} address(es) outside allowed_networks were not probed", err=True)
    if as_json:
        emit_json(
            [
                {k: r[k] for k in ("unit", "segment", "state", "loss_ratio", "rtt_seconds", "detail", "node")}
                for r in rows
            ]
        )
        return
    table(
        None,
        ["unit", "segment", "state", "loss", "rtt ms", "detail"],
        [
            [
                r["unit"],
                r["segment"],
                r["state"],
                "" if r["loss_ratio"] is None else f"{r['loss_ratio']:.0%}",
                "" if r["rtt_seconds"] is None else f"{r['rtt_seconds'] * 1000:.2f}",
                r["detail"],
            ]
            for r in rows
        ],
    )


@click.command("daemon")
@click.option(
    "--config",
    "config_path",
    required=True,
    type=click.Path(path_type=Path, dir_okay=False),
    help="Daemon config (YAML).",
)
@click.option("--log-level", default="INFO", type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR"]))
@click.option(
    "--check", is_flag=True, help="Validate the config, inventory, secrets and probe settings, then exit."
)
@shard_option
@click.option(
    "--web.config.file",
    "web_config",
    type=click.Path(path_type=Path, dir_okay=False),
    metavar="FILE",
    help="Prometheus exporter-toolkit web configuration: TLS and basic auth for /metrics and the "
    "status page (overrides the config's web_config_file:).",
)
def daemon_cmd(
    config_path: Path, log_level: str, check: bool, shard: Shard | None, web_config: Path | None
) -> None:
    """Probe on a schedule and export metrics (/metrics), health (/healthz) and a status page (/)."""
    if not check:
        # The long-running daemon becomes `python -m govnet.monitor` (same PID): it must not carry
        # the rest of the CLI's imports (see govnet/monitor/__main__.py).
        sys.stdout.flush()
        sys.stderr.flush()
        argv = [
            sys.executable,
            "-m",
            "govnet.monitor",
            "--config",
            str(config_path),
            "--log-level",
            log_level,
            *(["--shard", str(shard)] if shard else []),
            *(["--web.config.file", str(web_config)] if web_config else []),
        ]
        # /proc/self/exe: the interpreter already running, even when its path is not one this
        # user may walk (an unprivileged daemon under a root-owned Python install); argv[0]
        # keeps sys.executable so a virtualenv stays in force.
        exe = "/proc/self/exe" if os.path.exists("/proc/self/exe") else sys.executable
        os.execv(exe, argv)  # noqa: S606 - our own interpreter, a fixed argv
    from govnet.metrics.webconfig import exposure  # noqa: PLC0415
    from govnet.monitor.daemon import Daemon  # noqa: PLC0415 (APScheduler only when needed)
    from govnet.secrets import SecretResolver  # noqa: PLC0415

    logging.basicConfig(level=log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for noisy in ("apscheduler", "pysnmp", "asyncio"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    daemon = Daemon(config_path, SecretResolver().resolve, shard, web_config=web_config)
    refused = asyncio.run(daemon.check())
    for job, addresses in refused.items():
        click.echo(
            f"warning: {job}: {len(addresses)} target(s) outside allowed_networks will not be probed: "
            + ", ".join(addresses[:5])
            + (" …" if len(addresses) > 5 else ""),
            err=True,
        )
    shown = daemon.config.shard_spec
    web = daemon.web
    warning = exposure(daemon.config.listen_address()[0], web)
    if warning:
        click.echo(f"warning: {warning}", err=True)
    guarded = (
        f", {web.scheme}{f' with {len(web.users)} user(s)' if web.users else ''} ({web.path})"
        if web.path
        else ""
    )
    click.echo(
        f"{config_path}: valid: {len(daemon.owned)} units{f' (shard {shown})' if shown else ''}, jobs {', '.join('/'.join(j) for j in daemon.jobs())}{guarded}"
    )
