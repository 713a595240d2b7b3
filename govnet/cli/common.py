"""What every command shares: the inventory option, JSON output, tables, warnings."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click
from rich.console import Console
from rich.table import Table

from govnet.errors import Problem
from govnet.inventory.loader import Loaded, load
from govnet.settings import settings

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
    return Console(highlight=False, soft_wrap=False, width=None if sys.stdout.isatty() else 200)


def table(title: str | None, columns: list[str], rows: list[list[str]]) -> None:
    out = Table(title=title, show_lines=False, header_style="bold", box=None, pad_edge=False)
    for column in columns:
        out.add_column(column, overflow="fold")
    for row in rows:
        out.add_row(*row)
    console().print(out)


def state_option(func: F) -> F:
    return click.option(
        "--state",
        "state_dir",
        type=click.Path(path_type=Path, file_okay=False),
        default=lambda: settings().state,
        show_default="state/ or $GOVNET_STATE",
        help="Where runs, backups and the audit trail are kept (SQLite).",
    )(func)
