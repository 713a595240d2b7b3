"""``govnet lab``: the lab twin — simulated devices with real SSH, SNMP and faults, in namespaces."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import click

from govnet.cli.common import emit_json, inventory_option, json_option, table
from govnet.lab import twin
from govnet.lab.devsim.timing import PROFILES
from govnet.lab.site import DEFAULT_UNITS, MAX_UNITS

name_option = click.option(
    "--name",
    "lab_name",
    default="luohe",
    show_default=True,
    envvar="GOVNET_LAB",
    help="Lab name (1-8 of a-z, 0-9).",
)


@click.group("lab")
def lab_group() -> None:
    """The lab twin: the site scaled to N units, on this machine (needs root)."""


@lab_group.command("up")
@inventory_option
@name_option
@click.option(
    "--units",
    type=click.IntRange(1, MAX_UNITS),
    default=DEFAULT_UNITS,
    show_default=True,
    help="How many units (255 for the full city).",
)
@click.option(
    "--network",
    default="198.18.0.0/15",
    show_default=True,
    help="Lab address range: 198.18.0.0/15 or a part of it (at least a /17).",
)
@click.option(
    "--timing",
    type=click.Choice(sorted(PROFILES)),
    help="Devices take a real switch's time to log in, answer, show and save (field: ~1 s, tens of ms, seconds). Default: instant.",
)
@json_option
def up_cmd(
    inventory_path: Path, lab_name: str, units: int, network: str, timing: str | None, as_json: bool
) -> None:
    """Build the lab (idempotent): namespaces, devices, agents, its inventory and daemon config."""
    started = time.monotonic()
    info = twin.up(inventory_path, units=units, name=lab_name, network=network, timing=timing)
    if as_json:
        emit_json(info)
        return
    click.echo(f"lab {lab_name}: up with {len(info['units'])} units in {time.monotonic() - started:.1f} s")
    _summary(info)


def _summary(info: dict[str, Any]) -> None:
    click.echo(f"  inventory:     {info['inventory']}")
    click.echo(f"  daemon config: {info['daemon_config']}")
    click.echo(f"  known_hosts:   {info['known_hosts']}")
    click.echo(f"  network:       {info['network']} (reachable from this namespace only through the lab)")
    if info.get("timing"):
        click.echo(
            f"  timing:        {info['timing']} (devices take a real switch's time: govnet/lab/devsim/timing.py)"
        )
    click.echo(f"  try:           govnet inventory list --inventory {info['inventory']}")


@lab_group.command("status")
@name_option
@json_option
def status_cmd(lab_name: str, as_json: bool) -> None:
    """Units, addresses and active faults."""
    info = twin.status(lab_name)
    if as_json:
        emit_json(info)
        return
    if not info["units"]:
        click.echo(f"lab {lab_name}: not up")
        return
    click.echo(
        f"lab {lab_name}: {'up' if info['up'] else 'incomplete'}, {len(info['units'])} units, {info['namespaces']} namespaces"
    )
    _summary(info)
    faults: dict[str, list[str]] = {}
    for fault in info["faults"]:
        faults.setdefault(fault["unit"], []).append(fault["kind"])
    table(
        None,
        ["id", "host", "platform", "segments", "faults"],
        [
            [u["id"], u["host"], u["platform"], ",".join(u["segments"]), " ".join(faults.get(u["id"], []))]
            for u in info["units"]
        ],
    )
    for node, kinds in faults.items():
        if node not in {u["id"] for u in info["units"]}:
            click.echo(f"  {node}: {' '.join(kinds)}")


@lab_group.command("fault")
@click.argument("unit")
@click.argument("kind")
@name_option
@json_option
def fault_cmd(unit: str, kind: str, lab_name: str, as_json: bool) -> None:
    """Inject a fault: link-down, device-down, loss=PCT, latency=MS, ssh-drop, reject=PATTERN, ask=PATTERN, auth-fail, slow=MS, isolation-leak.

    UNIT is a unit id of the lab inventory, or an aggregation node id (faults there affect every unit behind it).
    """
    info = twin.fault(lab_name, unit, kind)
    if as_json:
        emit_json(info["faults"])
    else:
        click.echo(f"lab {lab_name}: {unit}: {kind}")


@lab_group.command("heal")
@click.argument("unit")
@name_option
def heal_cmd(unit: str, lab_name: str) -> None:
    """Remove every fault of a unit or node."""
    healed = twin.heal(lab_name, unit)
    click.echo(f"lab {lab_name}: {unit}: healed {', '.join(healed) if healed else '(no faults were active)'}")


@lab_group.command("down")
@name_option
def down_cmd(lab_name: str) -> None:
    """Remove every namespace, process, route and file of the lab (also after a killed up)."""
    started = time.monotonic()
    report = twin.down(lab_name)
    click.echo(
        f"lab {lab_name}: down in {time.monotonic() - started:.1f} s: {report.namespaces_removed} namespaces, "
        f"{report.processes_killed} processes removed"
    )
    for warning in report.warnings:
        click.echo(f"warning: {warning}", err=True)
