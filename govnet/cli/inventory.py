"""``govnet inventory``: validate, list, show and count the site's units."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any, get_args

import click

from govnet.cli.common import emit_json, inventory_option, json_option, load_inventory, print_warnings, table
from govnet.errors import GovnetError, InventoryError
from govnet.inventory.merge import suggest
from govnet.inventory.models import SEGMENTS, Unit, UnitKind
from govnet.inventory.select import Shard, select

SEGMENT_CHOICE = click.Choice(SEGMENTS)


@click.group("inventory")
def inventory_group() -> None:
    """Validate and explore the inventory (units, segments, devices)."""


@inventory_group.command("validate")
@inventory_option
@json_option
@click.option("--strict", is_flag=True, help="Treat warnings (missing paperwork, …) as errors.")
def validate_cmd(inventory_path: Path, as_json: bool, strict: bool) -> None:
    """Check the inventory: schema, addresses, isolation, topology, references."""
    try:
        loaded = load_inventory(inventory_path)
    except InventoryError as exc:
        if as_json:
            emit_json({"valid": False, "errors": [_problem(p) for p in exc.problems], "warnings": []})
        raise
    inv = loaded.inventory
    failed = strict and bool(loaded.warnings)
    if as_json:
        emit_json(
            {
                "valid": not failed,
                "errors": [],
                "warnings": [_problem(p) for p in loaded.warnings],
                "units": len(inv.units),
                "nodes": len(inv.nodes),
                "segments": {s: len(inv.units_on(s)) for s in inv.segments},
            }
        )
    else:
        print_warnings(loaded.warnings)
        counts = ", ".join(f"{s} {len(inv.units_on(s))}" for s in inv.segments)
        click.echo(
            f"{inventory_path}: valid: {len(inv.units)} units ({counts}), {len(inv.nodes)} nodes, "
            f"{len(loaded.warnings)} warning(s)"
        )
    if failed:
        raise InventoryError(f"{len(loaded.warnings)} warning(s) and --strict given")


def _problem(p: Any) -> dict[str, Any]:
    return {"file": p.file, "line": p.line, "field": p.field, "message": p.message}


def _row(unit: Unit) -> dict[str, Any]:
    return {
        "id": unit.id,
        "name": unit.name,
        "slug": unit.slug,
        "kind": unit.kind,
        "parent": unit.parent,
        "segments": list(unit.segments),
        "host": str(unit.device.host),
        "platform": unit.device.platform,
        "groups": unit.groups,
        "wave": unit.segments["extranet"].wave if "extranet" in unit.segments else None,
    }


@inventory_group.command("list")
@inventory_option
@json_option
@click.option("--segment", type=SEGMENT_CHOICE, help="Only units on this segment.")
@click.option(
    "--group", "groups", multiple=True, help="Only units in this group (repeatable: all must match)."
)
@click.option("--kind", type=click.Choice(get_args(UnitKind)), help="Only units of this kind.")
@click.option("--wave", type=click.IntRange(1, 99), help="Only extranet units of this wave.")
@click.option("--shard", help="Only the units shard K of N owns (K/N).")
def list_cmd(
    inventory_path: Path,
    as_json: bool,
    segment: str | None,
    groups: tuple[str, ...],
    kind: str | None,
    wave: int | None,
    shard: str | None,
) -> None:
    """List units."""
    inv = load_inventory(inventory_path).inventory
    chosen = select(
        inv,
        segment=segment,
        groups=groups,
        kind=kind,
        wave=wave,
        shard=Shard.parse(shard) if shard else None,
    )
    rows = [_row(u) for u in chosen]
    if as_json:
        emit_json(rows)
        return
    table(
        None,
        ["id", "name", "kind", "parent", "segments", "platform", "host"],
        [
            [
                r["id"],
                r["name"],
                r["kind"],
                r["parent"] or "",
                ",".join(r["segments"]),
                r["platform"],
                r["host"],
            ]
            for r in rows
        ],
    )
    click.echo(f"{len(rows)} unit(s)", err=True)


@inventory_group.command("show")
@click.argument("unit_id", metavar="UNIT")
@inventory_option
@json_option
def show_cmd(unit_id: str, inventory_path: Path, as_json: bool) -> None:
    """Everything the inventory says about one unit or node (after groups and defaults)."""
    inv = load_inventory(inventory_path).inventory
    element = inv.element(unit_id)
    if element is None:
        known = [e.id for e in [*inv.nodes, *inv.units]]
        raise GovnetError(f"unknown unit '{unit_id}'{suggest(unit_id, known)}")
    data = element.model_dump(mode="json", exclude_defaults=False)
    data["type"] = "unit" if isinstance(element, Unit) else "node"
    data["path"] = [e.id for e in inv.parent_chain(element.id)]
    if as_json:
        emit_json(data)
        return
    click.echo(f"{element.id}  {element.name}  ({data['type']}, {element.kind})")
    click.echo(f"  slug: {element.slug}")
    click.echo(f"  path: {' -> '.join([element.id, *data['path']])}")
    for segment, member in element.segments.items():
        extra = "".join(
            f"  {k} {v}"
            for k, v in (("vlan", member.vlan), ("vrf", member.vrf), ("wave", member.wave))
            if v is not None
        )
        click.echo(f"  {segment}: {member.address}{extra}")
    for device in element.devices:
        model = f" {device.model}" if device.model else ""
        click.echo(
            f"  device {device.name}: {device.platform}{model} at {device.host}:{device.port} ({device.role})"
        )
    if isinstance(element, Unit):
        reg = element.registration
        agr = element.agreement
        click.echo(f"  registration: {f'{reg.number} ({reg.date})' if reg else 'MISSING'}")
        click.echo(f"  agreement: {f'signed {agr.signed} by {agr.signatory}' if agr else 'MISSING'}")
        for service in element.services:
            click.echo(f"  service {service.name}: tcp/{service.port} on {service.segment}")


@inventory_group.command("stats")
@inventory_option
@json_option
def stats_cmd(inventory_path: Path, as_json: bool) -> None:
    """Counts per segment, platform, kind, wave and parent, and paperwork missing."""
    loaded = load_inventory(inventory_path)
    inv = loaded.inventory
    devices = [d for e in [*inv.nodes, *inv.units] for d in e.devices]
    waves = Counter(str(u.segments["extranet"].wave) for u in inv.units_on("extranet"))
    data: dict[str, Any] = {
        "site": inv.site.name,
        "units": len(inv.units),
        "nodes": len(inv.nodes),
        "devices": len(devices),
        "segments": {
            s: {"units": len(inv.units_on(s)), "vrf": inv.segments[s].vrf}
            for s in SEGMENTS
            if s in inv.segments
        },
        "both_intranet_and_party": sum(1 for u in inv.units if {"intranet", "party"} <= set(u.segments)),
        "platforms": dict(sorted(Counter(d.platform for d in devices).items())),
        "kinds": dict(sorted(Counter(u.kind for u in inv.units).items())),
        "waves": dict(sorted(waves.items(), key=lambda kv: int(kv[0]))),
        "parents": dict(sorted(Counter(u.parent or "" for u in inv.units).items())),
        "paperwork_missing": {
            what: [u.id for u in inv.units if what in u.paperwork_missing]
            for what in ("registration", "agreement")
        },
        "uplinks": [u.id for u in inv.uplinks],
        "systems": [s.id for s in inv.systems],
        "warnings": len(loaded.warnings),
    }
    if as_json:
        emit_json(data)
        return
    click.echo(f"{data['site']}: {data['units']} units, {data['nodes']} nodes, {data['devices']} devices")
    for name, block in (
        ("segment", {k: v["units"] for k, v in data["segments"].items()}),
        ("platform", data["platforms"]),
        ("kind", data["kinds"]),
        ("extranet wave", data["waves"]),
        ("parent", data["parents"]),
    ):
        table(None, [name, "count"], [[str(k), str(v)] for k, v in block.items()])
        click.echo("")
    for what, ids in data["paperwork_missing"].items():
        click.echo(f"missing {what}: {len(ids)}" + (f" ({', '.join(ids)})" if ids else ""))
