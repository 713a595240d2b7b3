"""Putting a device back to a backup: the commands that turn ``current`` into ``backup``.

A backup is a complete configuration, so the remediation toward it manages everything (``full``):
sections and lines the rollout added are removed, changed ones set back, removed ones re-added.
That includes a disabling line the rollout added (``undo telnet server enable``, ``no ip http
server``): the backup did not show it, so restoring the backup puts the feature back to the
device's default, exactly as it was before the change. The device keeps its configuration in
its own canonical order, so the lines re-added land where they stood and the restored running
config is byte-identical to the backup (``rollback`` checks it).
"""

from __future__ import annotations

from govnet.devices.normalise import stable_text
from govnet.rollout.remediate import remediate


def restore_commands(platform: str, current: str, backup: str) -> list[str]:
    return remediate(platform, current, backup, full=True).commands


def same_config(platform: str, current: str, backup: str) -> bool:
    """Whether ``current`` is ``backup`` to the byte, volatile lines aside (a changed ``ntp
    clock-period`` or last-change stamp is not a difference)."""
    return current == backup or stable_text(platform, current) == stable_text(platform, backup)


def differences(platform: str, current: str, backup: str) -> int:
    """Lines by which ``current`` still differs from ``backup`` (order aside)."""
    left = remediate(platform, current, backup, full=True)
    return len(left.missing) + len(left.extra)
