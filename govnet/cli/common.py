"""What every command shares: the inventory option, JSON output, tables, warnings."""

from __future__ import annotations

import json
import shutil
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from govnet.cli import plaintable
from govnet.errors import Problem
from govnet.inventory.loader import Loaded, load
from govnet.settings import settings

if TYPE_CHECKING:  # rich only for the tables plaintable leaves to it (~40 ms to import)
    from rich.console import Console

F = TypeVar("F", bound=Callable[..., Any])


def inventory_option(func: F) -> F:
    return click.option(
        "--inventory",
        "inventory_path",
        type=click.Path(path_type=Path),
        default=lambda: settings().inventory,
        show_default="inventory/ or $GOVNET_INVENTORY",
        help="Inventory file or folder of YAML files.",
    )(func)


def json_option(func: F) -> F:
    return click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")(func)


def load_inventory(path: Path, *, quiet_warnings: bool = True) -> Loaded:
    loaded = load(path)
    if not quiet_warnings:
        print_warnings(loaded.warnings)
    return loaded


def print_warnings(warnings: list[Problem]) -> None:
    for warning in warnings:
        click.echo(f"warning: {warning}", err=True)


def emit_json(data: Any) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


def console() -> Console:
    from rich.console import Console  # noqa: PLC0415

    return Console(highlight=False, soft_wrap=False, width=None if sys.stdout.isatty() else 200)


def table(title: str | None, columns: list[str], rows: list[list[str]]) -> None:
    """Print a table: laid out by plaintable when it can, by rich otherwise (the same text)."""
    terminal = sys.stdout.isatty()
    lines = None if title else plaintable.render(columns, rows, _width(terminal))
    if lines is not None:
        if terminal:
            lines[0] = click.style(lines[0], bold=True)
        click.echo("\n".join(lines))
        return
    from rich.table import Table  # noqa: PLC0415

    out = Table(title=title, show_lines=False, header_style="bold", box=None, pad_edge=False)
    for column in columns:
        out.add_column(column, overflow="fold")
    for row in rows:
        out.add_row(*row)
    console().print(out)


def _width(terminal: bool) -> int:
    return shutil.get_terminal_size().columns if terminal else 200


def state_option(func: F) -> F:
    return click.option(
        "--state",
        "state_dir",
        type=click.Path(path_type=Path, file_okay=False),
        default=lambda: settings().state,
        show_default="state/ or $GOVNET_STATE",
        help="Where runs, backups and the audit trail are kept (SQLite).",
    )(func)
