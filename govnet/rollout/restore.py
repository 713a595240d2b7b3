"""Putting a device back to a backup: the commands that turn ``current`` into ``backup``.

A backup is a complete configuration, so the remediation toward it manages everything (``full``):
sections and lines the rollout added are removed, changed ones set back, removed ones re-added.
One exception, on purpose: a pure negation the rollout added (``undo telnet server enable``,
``no ip http server``) is kept. Negating it would switch an insecure default-off service *on*,
which the backup never asked for; the device simply did not show the default.
"""

from __future__ import annotations

from govnet.render.platforms import dialect
from govnet.rollout.remediate import remediate


def kept_negations(platform: str, current: str, backup: str) -> list[str]:
    """Top-level pure negations present now and absent from the backup (left in place)."""
    prefix = dialect(platform).negation + " "
    before = {line.strip() for line in backup.splitlines()}
    return [
        line
        for line in current.splitlines()
        if line.strip().startswith(prefix) and line.strip() not in before
    ]


def _without(text: str, lines: list[str]) -> str:
    drop = set(lines)
    return "".join(line + "\n" for line in text.splitlines() if line not in drop)


def restore_commands(platform: str, current: str, backup: str) -> list[str]:
    kept = kept_negations(platform, current, backup)
    return remediate(platform, _without(current, kept), backup, full=True).commands


def differences(platform: str, current: str, backup: str) -> int:
    """Lines by which ``current`` still differs from ``backup`` (order and kept negations aside)."""
    kept = kept_negations(platform, current, backup)
    left = remediate(platform, _without(current, kept), backup, full=True)
    return len(left.missing) + len(left.extra)
