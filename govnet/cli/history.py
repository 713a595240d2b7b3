"""``govnet config show``, ``config diff --from/--to`` and ``config export-git``: the stored
backups as a history an engineer can read, compare and browse with git.

Secrets are masked in everything printed here as the plan review masks them (``mask_line``:
a community, a password hash become ``****``); the backups in the store keep the full text
(a restore must be byte-faithful). ``config backup``, ``history``, ``diff`` and ``drift`` live
with the rollout commands; ``ConfigGroup`` joins them to these (and gives ``diff`` its
``--from``/``--to``) without importing the rollout commands until one of them runs.
"""

from __future__ import annotations

import difflib
import inspect
import sqlite3
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from govnet.cli import complete
from govnet.cli.common import emit_json, inventory_option, json_option, state_option
from govnet.errors import GovnetError, InventoryError, UsageError
from govnet.inventory.loader import load
from govnet.inventory.models import Inventory
from govnet.state import history
from govnet.state.backups import Backup, get_blob
from govnet.state.db import connect

LIVE = "live"


class DiffTrouble(GovnetError):
    """``config diff --from/--to`` could not compare (exit 2, like diff(1): 1 means "differ")."""

    exit_code = 2


def mask_text(text: str) -> str:
    """A config with every secret value masked, line by line (``mask_line`` of the plan review)."""
    from govnet.rollout.review import mask_line  # noqa: PLC0415 - the review pulls in pydantic

    return "".join(mask_line(line) + end for line, end in _lines(text))


def _lines(text: str) -> list[tuple[str, str]]:
    return [(line.rstrip("\n"), "\n" if line.endswith("\n") else "") for line in text.splitlines(True)]


@dataclass(frozen=True)
class ArchivedUnit:
    """The unit a history command is about: its id, and its devices' platforms where the
    inventory still has it (a unit no longer in the inventory keeps its backups)."""

    unit: str
    platforms: dict[str, str]
    inventory: Inventory | None


def target(conn: sqlite3.Connection, inventory_path: Path, ident: str) -> ArchivedUnit:
    """``ident`` (a unit or node id or slug) as the inventory and the store know it."""
    try:
        inventory: Inventory | None = load(inventory_path).inventory
    except InventoryError:
        inventory = None  # a unit's backups stay readable while the inventory is being fixed
    element = inventory.element(ident) if inventory is not None else None
    if element is not None:
        return ArchivedUnit(element.id, {d.name: d.platform for d in element.devices}, inventory)
    if history.unit_backups(conn, ident) or history.audited_unit(conn, ident):
        return ArchivedUnit(ident, {}, inventory)
    if inventory is None:
        load(inventory_path)  # the inventory's own error says why the unit cannot be found
    raise GovnetError(f"unknown unit '{ident}' (not in the inventory {inventory_path}, no backup stored)")


def same_config(platform: str | None, old: str, new: str) -> bool:
    """Whether two texts of a device are the same config (its volatile lines aside)."""
    if old == new or platform is None:
        return old == new
    from govnet.devices.normalise import stable_text  # noqa: PLC0415 - device records, on use

    return stable_text(platform, old) == stable_text(platform, new)


def describe(conn: sqlite3.Connection, backup: Backup, found: list[Backup], platform: str | None) -> str:
    """``backup 12 (3f2a…) of DEV taken …, post-change in run R; changed by alice (run R, verified)``:
    who made the change the backup shows, from the audit trail (else: outside govnet)."""
    text = (
        f"backup {backup.id} ({backup.hash[:12]}) of {backup.device} taken {history.stamp(backup.taken)}, "
        f"{backup.reason}" + (f" in run {backup.run_id}" if backup.run_id else "")
    )
    earlier = [b for b in found if b.device == backup.device and b.taken < backup.taken]
    if earlier and same_config(platform, get_blob(conn, earlier[-1].hash), get_blob(conn, backup.hash)):
        return text + "; unchanged since the backup before"
    change = history.changed_by(
        conn, backup.unit, backup.device, earlier[-1].taken if earlier else 0.0, backup.taken
    )
    if not earlier:
        return f"{text}; the first backup of {backup.device}"
    who = f"by {change.user} (run {change.run_id}, {change.action})" if change else history.OUTSIDE
    return f"{text}; changed {who}"


@click.command("show")
@click.argument("unit", shell_complete=complete.units)
@click.option(
    "--at",
    "selector",
    metavar="BACKUP|TIME",
    shell_complete=complete.backups,
    help="A backup id or hash prefix, or a time (the backup in force then; a date: at its end). "
    "Default: the newest backup.",
)
@inventory_option
@state_option
@json_option
def show_cmd(unit: str, selector: str | None, inventory_path: Path, state_dir: Path, as_json: bool) -> None:
    """Print a stored backup of a unit's devices (secrets masked), the newest or the one --at.

    What it is, when it was taken and who changed it is one line per device on stderr, so that
    stdout is the configuration alone."""
    with connect(state_dir, create=False) as conn:
        chosen = target(conn, inventory_path, unit)
        found = history.unit_backups(conn, chosen.unit)
        picked = history.pick(found, selector, chosen.unit)
        shown = [
            (b, mask_text(get_blob(conn, b.hash)), describe(conn, b, found, chosen.platforms.get(b.device)))
            for b in picked.values()
        ]
    if as_json:
        emit_json(
            [
                {"unit": b.unit, "device": b.device, "backup": b.id, "hash": b.hash, "taken": b.taken}
                | {"reason": b.reason, "run": b.run_id, "about": about, "text": text}
                for b, text, about in shown
            ]
        )
        return
    for _, text, about in shown:
        click.echo(f"# {about}", err=True)
        click.echo(text, nl=not text.endswith("\n"))


@dataclass(frozen=True)
class Side:
    """One side of a comparison: a device's config and how the diff header names it."""

    label: str
    text: str


def _sides(
    conn: sqlite3.Connection,
    chosen: ArchivedUnit,
    selector: str,
    option: str,
    live: Callable[[], dict[str, str]],
) -> dict[str, Side]:
    if selector == LIVE:
        return {device: Side(f"{device} running (live)", text) for device, text in live().items()}
    found = history.unit_backups(conn, chosen.unit)
    return {
        device: Side(
            f"{device} backup {b.id} ({b.hash[:12]}, {history.stamp(b.taken)})", get_blob(conn, b.hash)
        )
        for device, b in history.pick(found, selector, chosen.unit, option).items()
    }


def diff_lines(platform: str | None, old: Side, new: Side) -> list[str]:
    """A unified diff of two configs without their volatile lines, secrets masked."""
    from govnet.devices.normalise import stable_text  # noqa: PLC0415 - device records, on use
    from govnet.rollout.review import mask_line  # noqa: PLC0415

    def stable(text: str) -> list[str]:
        return (stable_text(platform, text) if platform else text).splitlines()

    lines = difflib.unified_diff(stable(old.text), stable(new.text), old.label, new.label, lineterm="")
    return [
        line if line.startswith(("---", "+++", "@@")) else line[:1] + mask_line(line[1:]) for line in lines
    ]


def diff_stored(kwargs: dict[str, Any], start: str, end: str) -> None:
    """``config diff UNIT --from A --to B``: exit 1 when they differ, 0 when not, 2 on trouble."""
    try:
        with connect(kwargs["state_dir"], create=False) as conn:
            chosen = target(conn, kwargs["inventory_path"], kwargs["unit"])
            live = _live_reader(chosen, kwargs)
            old = _sides(conn, chosen, start, "--from", live)
            new = _sides(conn, chosen, end, "--to", live)
    except GovnetError as exc:
        raise DiffTrouble(list(exc.problems)) from None
    devices = [d for d in old if d in new]
    if not devices:
        raise DiffTrouble(
            f"--from '{start}' ({', '.join(old)}) and --to '{end}' ({', '.join(new)}) are not of the same device"
        )
    differs = False
    for device in devices:
        lines = diff_lines(chosen.platforms.get(device), old[device], new[device])
        differs = differs or bool(lines)
        click.echo("\n".join(lines) or f"{device}: no difference")
    if differs:
        sys.exit(1)


def _live_reader(chosen: ArchivedUnit, kwargs: dict[str, Any]) -> Callable[[], dict[str, str]]:
    """Reads the unit's devices now (``--from/--to live``), once however often it is asked."""
    texts: dict[str, str] = {}

    def read() -> dict[str, str]:
        if texts:
            return texts
        from govnet.rollout.context import Context, default_known_hosts  # noqa: PLC0415 - SSH, on use

        inventory_path: Path = kwargs["inventory_path"]
        element = chosen.inventory.element(chosen.unit) if chosen.inventory else None
        if element is None or chosen.inventory is None:
            raise GovnetError(f"{chosen.unit}: not in the inventory {inventory_path}: cannot read it live")
        known = kwargs.get("known_hosts") or default_known_hosts(inventory_path)
        ctx = Context(inventory_path, chosen.inventory, kwargs["templates"], kwargs["state_dir"], known)
        for device in element.devices:
            with ctx.session(device) as session:
                texts[device.name] = session.running_config()
        return texts

    return read


FROM_TO_HELP = (
    "\n\nWith --from A --to B, the difference between two stored backups of the unit instead (each "
    "a backup id, a hash prefix, a time meaning the backup in force then, or 'live' for the running "
    "config now); secrets masked; exits 1 when they differ, 0 when not, 2 when they cannot be compared."
)


def diff_with_history(original: click.Command) -> click.Command:
    """``config diff`` with ``--from``/``--to``; without them, the original command runs as it was."""
    callback = original.callback
    assert callback is not None

    def run(**kwargs: Any) -> Any:
        start, end = kwargs.pop("start"), kwargs.pop("end")
        if start is None and end is None:
            return callback(**kwargs)
        if start is None or end is None:
            raise UsageError("--from and --to go together (config diff UNIT --from A --to B)")
        if kwargs.get("live"):
            raise UsageError("--live compares with the intent; with --from/--to, name 'live' as one side")
        diff_stored(kwargs, start, end)
        return None

    options = [
        click.Option(
            ["--from", "start"],
            metavar="BACKUP|TIME|live",
            help="The old side (with --to).",
            shell_complete=complete.backups,
        ),
        click.Option(
            ["--to", "end"],
            metavar="BACKUP|TIME|live",
            help="The new side (with --from).",
            shell_complete=complete.backups,
        ),
    ]
    return click.Command(
        "diff",
        params=[*original.params, *options],
        callback=run,
        help=inspect.cleandoc(original.help or "") + FROM_TO_HELP,
        short_help=original.short_help,
    )


@click.command("export-git")
@click.argument("folder", metavar="DIR", type=click.Path(path_type=Path, file_okay=False))
@inventory_option
@state_option
@click.option(
    "--branch",
    default="main",
    show_default=True,
    help="Branch to commit to (a new repository starts on it; an existing one must have it checked out).",
)
@json_option
def export_git_cmd(folder: Path, inventory_path: Path, state_dir: Path, branch: str, as_json: bool) -> None:
    """Export every stored backup to a Git repository in DIR: one file per device, one commit
    per change in time order, its author who changed it (from the audit trail), its date the
    backup's; secrets masked. Run again, it adds only the backups since."""
    from govnet.report.gitexport import export  # noqa: PLC0415 - device records, on use

    try:
        inventory: Inventory | None = load(inventory_path).inventory
    except InventoryError:
        inventory = None  # platforms are only needed to leave volatile lines out
    elements = [*inventory.nodes, *inventory.units] if inventory is not None else []
    platforms = {d.name: d.platform for e in elements for d in e.devices}
    with connect(state_dir, create=False) as conn:
        done = export(conn, folder, platforms, branch)
    if as_json:
        emit_json(done.as_dict())
    else:
        click.echo(done.describe(folder))


class ConfigGroup(click.Group):
    """``govnet config``: ``show`` and ``export-git`` are here; ``backup``, ``history``, ``diff``
    and ``drift`` live with the rollout commands (``govnet.cli.rollout``, ``govnet.cli.drift``),
    which import netmiko and the rollout engine (~1 s): imported only when one of them is run or
    listed, so that ``config show`` and its completion stay quick."""

    def _others(self) -> click.Group:
        from govnet.cli.drift import config_with_drift  # noqa: PLC0415 - the rollout commands, on use

        return config_with_drift()

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*self.commands, *self._others().commands})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.commands:
            return self.commands[cmd_name]
        found = self._others().get_command(ctx, cmd_name)
        if found is not None and cmd_name == "diff":
            found = self.commands["diff"] = diff_with_history(found)
        complete.attach(found)
        return found


@click.group("config", cls=ConfigGroup)
def config_group() -> None:
    """Device configurations: backups, their history, and the difference from the intent."""


config_group.add_command(show_cmd)
config_group.add_command(export_git_cmd)
