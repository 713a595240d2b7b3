"""Shell completion of what only govnet knows: unit ids, run ids and plan files.

click completes commands, options and choices by itself when the shell sets
``_GOVNET_COMPLETE`` (``bash_source``/``zsh_source``/``fish_source`` print the script; README,
"Shell completion"). These functions complete the arguments click cannot know: unit and node
ids from the inventory the command line names (``--inventory``, else the default), run ids
from the state store (read-only, newest first) and plan files. A completion runs on every Tab
press: it must be quick and must never print a traceback, so anything that goes wrong (an
inventory that does not load, no store) is simply no completion.

``attach`` gives these completions to every command's parameter of a known name (``unit``,
``units``, ``run_id``, ``plan_path``), so the commands need not each name them.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
from click.shell_completion import CompletionItem

from govnet.settings import settings

PLAN_SUFFIXES = (".plan", ".plan.json")
RUNS_SHOWN = 50


def _option(ctx: click.Context, name: str, default: Callable[[], Path | str]) -> Path:
    """An option's value as typed on the command line so far, from this or a parent context."""
    while ctx is not None:
        value = ctx.params.get(name)
        if value is not None:
            return Path(value)
        ctx = ctx.parent  # type: ignore[assignment]
    return Path(default())


def units(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[CompletionItem]:
    """Unit and node ids of the inventory, starting with ``incomplete``.

    Read from the YAML alone (libyaml), not validated: loading the models costs ~1 s of imports
    and validation per Tab press; the command itself validates what it is given."""
    try:
        found = _elements(_option(ctx, "inventory_path", lambda: settings().inventory))
        return [CompletionItem(ident, help=name) for ident, name in found if ident.startswith(incomplete)]
    except Exception:  # noqa: BLE001 (a bad inventory, or anything else: no completion, no traceback)
        return []


def _elements(path: Path) -> list[tuple[str, str]]:
    """``(id, name)`` of every unit and node in the inventory's files."""
    import yaml  # noqa: PLC0415 - only when completing a unit

    from govnet.inventory.merge import inventory_files  # noqa: PLC0415

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    found: list[tuple[str, str]] = []
    for file in inventory_files(path):
        data = yaml.load(file.read_text(encoding="utf-8"), Loader=loader)  # noqa: S506 - a safe loader
        if not isinstance(data, dict):
            continue
        for key in ("units", "nodes"):
            for element in data.get(key) or []:
                if isinstance(element, dict) and isinstance(element.get("id"), str):
                    found.append((element["id"], str(element.get("name", ""))))
    return found


def runs(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[CompletionItem]:
    """Run ids of the state store, newest first, with their kind and status."""
    try:
        from govnet.state.db import db_path  # noqa: PLC0415 - only when completing a run

        path = db_path(_option(ctx, "state_dir", lambda: settings().state))
        if not path.exists():
            return []
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=1.0)
        try:
            rows = conn.execute(
                "SELECT id, kind, status FROM runs WHERE id LIKE ? ORDER BY created DESC LIMIT ?",
                (incomplete.replace("%", "") + "%", RUNS_SHOWN),
            ).fetchall()
        finally:
            conn.close()
        return [CompletionItem(run, help=f"{kind}, {status}") for run, kind, status in rows]
    except Exception:  # noqa: BLE001 (no store, a locked or foreign file: no completion)
        return []


def backups(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[CompletionItem]:
    """Hash prefixes of the unit's backups (newest first, with when and why each was taken), and
    ``live`` where the option takes it (``--from``/``--to``)."""
    try:
        from govnet.state.db import db_path  # noqa: PLC0415 - only when completing a backup
        from govnet.state.history import stamp  # noqa: PLC0415

        path = db_path(_option(ctx, "state_dir", lambda: settings().state))
        # with the option's value still to come, click leaves the unit among the unparsed args
        unit = ctx.params.get("unit") or next((a for a in ctx.args if not a.startswith("-")), None)
        found: list[CompletionItem] = []
        if unit and path.exists():
            conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=1.0)
            try:
                rows = conn.execute(
                    "SELECT hash, taken, reason, device FROM backups WHERE unit=? ORDER BY taken DESC, id DESC",
                    (unit,),
                ).fetchall()
            finally:
                conn.close()
            seen = {
                digest[:12]: f"{device} {stamp(taken)} {reason}"
                for digest, taken, reason, device in reversed(rows)
            }
            found = [
                CompletionItem(h, help=why) for h, why in reversed(seen.items()) if h.startswith(incomplete)
            ]
        if param.name in ("start", "end") and "live".startswith(incomplete):
            found.append(CompletionItem("live", help="the running config, read now"))
        return found
    except Exception:  # noqa: BLE001 (no store, a locked or foreign file: no completion)
        return []


def plans(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[CompletionItem]:
    """Plan files (``*.plan``) and folders under what is typed; else the shell's own file completion."""
    try:
        folder, _, stem = incomplete.rpartition("/")
        base = Path(folder or ".")
        found = []
        for entry in sorted(base.iterdir()):
            if not entry.name.startswith(stem) or (entry.name.startswith(".") and not stem.startswith(".")):
                continue
            shown = f"{folder}/{entry.name}" if folder else entry.name
            if entry.is_dir():
                found.append(CompletionItem(shown + "/", type="plain"))
            elif entry.name.endswith(PLAN_SUFFIXES):
                found.append(CompletionItem(shown, type="plain"))
        if any(not item.value.endswith("/") for item in found):
            return found
    except OSError:
        pass
    return [CompletionItem(incomplete, type="file")]


BY_NAME: dict[str, Callable[[click.Context, click.Parameter, str], list[CompletionItem]]] = {
    "unit": units,
    "units": units,
    "unit_id": units,
    "run_id": runs,
    "plan_path": plans,
}
"""Parameter names (as the commands spell them) and how they complete."""


def attach(command: Any) -> None:
    """Give every parameter of ``command`` and its subcommands named in ``BY_NAME`` its completion
    (a parameter that already has one keeps it)."""
    stack = [command]
    while stack:
        current = stack.pop()
        for param in getattr(current, "params", []):
            how = BY_NAME.get(param.name or "")
            if how is not None and param._custom_shell_complete is None:
                param._custom_shell_complete = how
        stack.extend(getattr(current, "commands", {}).values())
