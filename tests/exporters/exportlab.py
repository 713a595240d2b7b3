"""The lab twin and the daemon as the exporter tests use them: the daemon tests' kit
(tests.monitor.daemonkit), with the TCP service checks at lab speed too."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.monitor import daemonkit
from tests.monitor.daemonkit import DaemonProcess, free_port, govnet, lab_twin, require_lab, until

__all__ = ["DaemonProcess", "Lab", "free_port", "govnet", "lab_twin", "require_lab", "until"]
SPEED = {**daemonkit.SPEED, "tcp": 3}
"""Lab-speed intervals (seconds) of the daemon under test."""


class Lab(daemonkit.Lab):
    def daemon_config(self, directory: Path, speed: dict[str, int] | None = None, **changes: Any) -> Path:
        return super().daemon_config(directory, speed or SPEED, **changes)
