"""``govnet audit verify``: recompute the audit chain and report tampering."""

from __future__ import annotations

from pathlib import Path

import click

from govnet.cli.common import emit_json, json_option, state_option
from govnet.errors import Problem, StateError
from govnet.state import audit
from govnet.state.db import connect


@click.group("audit")
def audit_group() -> None:
    """The tamper-evident audit trail of every change govnet made."""


@audit_group.command("verify")
@state_option
@json_option
def verify_cmd(state_dir: Path, as_json: bool) -> None:
    """Check that no audit entry was edited, deleted or added outside govnet."""
    with connect(state_dir, create=False) as conn:
        verdict = audit.verify(conn, state_dir)
    if as_json:
        emit_json({"ok": verdict.ok, "entries": verdict.entries, "problems": verdict.problems})
    elif verdict.ok:
        click.echo(f"{state_dir}: audit trail intact ({verdict.entries} entries)")
    if not verdict.ok:
        raise StateError([Problem(f"{state_dir}: audit trail broken: {p}") for p in verdict.problems])
