"""Where a lab keeps what it must remember between commands: ``<root>/<lab>/``.

``lab.json`` (network, caller namespace, build stage) is written *before* anything touches the
kernel, so `netns.down` can undo a build that was killed at any point; ``faults.json`` lists the
active faults for `status`.  The default root is on tmpfs (``/run``), like the namespaces
themselves, so a reboot forgets both together.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from govnet.lab.topology import lab_prefix
from govnet.settings import settings


def state_dir(lab: str, root: Path | None = None) -> Path:
    lab_prefix(lab)  # validates the name before it becomes a path
    return (root or settings().lab_state) / lab


def _read(path: Path) -> Any:
    try:
        return json.loads(path.read_text())
    except (FileNotFoundError, NotADirectoryError):
        return None


def _write(path: Path, data: Any) -> None:
    """Write via a temporary file so a killed command never leaves half a JSON file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=True))
    tmp.replace(path)


def read_lab(sdir: Path) -> dict[str, Any] | None:
    data = _read(sdir / "lab.json")
    return data if isinstance(data, dict) else None


def write_lab(sdir: Path, data: dict[str, Any]) -> None:
    _write(sdir / "lab.json", data)


def read_faults(sdir: Path) -> list[dict[str, Any]]:
    data = _read(sdir / "faults.json")
    return [f for f in data if isinstance(f, dict)] if isinstance(data, list) else []


def write_faults(sdir: Path, faults: list[dict[str, Any]]) -> None:
    _write(sdir / "faults.json", faults)


def other_labs(sdir: Path) -> list[dict[str, Any]]:
    """``lab.json`` of every other lab under the same root."""
    out = []
    if sdir.parent.is_dir():
        for entry in sorted(sdir.parent.iterdir()):
            if entry != sdir and entry.is_dir():  # a plain file there is not a lab
                try:
                    data = read_lab(entry)
                except (OSError, ValueError):  # unreadable or half-written: not ours to judge
                    continue
                if data is not None:
                    out.append(data)
    return out
