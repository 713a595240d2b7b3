"""Every ``GOVNET_*`` environment variable govnet reads, in one place.

Read when asked, never at import: a test (or a command run in-process) that sets a variable sees
it at the next call. An empty ``GOVNET_KNOWN_HOSTS``, ``GOVNET_ALERTMANAGER_URL`` or ``GOVNET_DEBUG``
counts as unset; the others are taken as they are.

| variable | default | what reads it |
|---|---|---|
| ``GOVNET_INVENTORY`` | ``inventory`` | ``--inventory`` of every command (`govnet.cli.common`); ``rollout apply`` takes the plan's own inventory while this is the default |
| ``GOVNET_STATE`` | ``state`` | ``--state`` (runs, backups, audit trail) |
| ``GOVNET_TEMPLATES`` | ``configs`` when the working directory has one, else the templates govnet ships (`govnet.resources`) | ``--templates`` of ``rollout`` and ``config`` commands |
| ``GOVNET_KNOWN_HOSTS`` | beside the inventory, else ``~/.ssh/known_hosts`` | device host keys (`govnet.rollout.context.default_known_hosts`) |
| ``GOVNET_PROMETHEUS`` | ``http://127.0.0.1:9090`` | ``report --prometheus`` (`govnet.report.prometheus`) |
| ``GOVNET_ALERTMANAGER_URL`` | none: no silences | ``rollout apply/rollback --alertmanager`` (`govnet.export.silences`) |
| ``GOVNET_LAB_STATE`` | ``/run/govnet-lab`` | where ``govnet lab`` keeps its state (`govnet.lab.state`) |
| ``GOVNET_DEBUG`` | off | any value: an internal error raises with its traceback (`govnet.cli.main`, ``python -m govnet.monitor``) |

Secrets referenced as ``env:NAME`` in the inventory or daemon config are not settings: they are
resolved by `govnet.secrets.SecretResolver`, whatever their name.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from govnet.resources import default_templates

DEFAULT_INVENTORY = "inventory"
DEFAULT_STATE = "state"
DEFAULT_TEMPLATES = "configs"
DEFAULT_PROMETHEUS = "http://127.0.0.1:9090"
DEFAULT_LAB_STATE = "/run/govnet-lab"


@dataclass(frozen=True, slots=True)
class Settings:
    inventory: str = DEFAULT_INVENTORY
    state: str = DEFAULT_STATE
    templates: str = DEFAULT_TEMPLATES
    known_hosts: Path | None = None
    prometheus: str = DEFAULT_PROMETHEUS
    alertmanager_url: str | None = None
    lab_state: Path = Path(DEFAULT_LAB_STATE)
    debug: bool = False

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> Settings:
        """
        >>> Settings.from_env({"GOVNET_STATE": "/var/lib/govnet", "GOVNET_DEBUG": "1"}).state
        '/var/lib/govnet'
        >>> Settings.from_env({"GOVNET_KNOWN_HOSTS": ""}).known_hosts is None
        True
        """

        def get(name: str, default: str) -> str:
            return environ.get(f"GOVNET_{name}", default)

        known_hosts = get("KNOWN_HOSTS", "")
        return cls(
            inventory=get("INVENTORY", DEFAULT_INVENTORY),
            state=get("STATE", DEFAULT_STATE),
            templates=get("TEMPLATES", default_templates(DEFAULT_TEMPLATES)),
            known_hosts=Path(known_hosts) if known_hosts else None,
            prometheus=get("PROMETHEUS", DEFAULT_PROMETHEUS),
            alertmanager_url=get("ALERTMANAGER_URL", "") or None,
            lab_state=Path(get("LAB_STATE", DEFAULT_LAB_STATE)),
            debug=bool(get("DEBUG", "")),
        )


def settings() -> Settings:
    """The settings as the environment says now."""
    return Settings.from_env(os.environ)
