"""Atomic file replacement: a reader sees the old content or the new, never half of it.

Plan files, the lab's private inventory and keys, the simulator's config store and faults file,
the Alertmanager config: other processes (a CLI, Alertmanager reloading, an engineer's ``cat``)
read them while govnet writes. A temporary file in the same folder, created private (0600 by
``mkstemp``) and renamed over the target, gives that; a failed write leaves the old file and no
temporary one behind.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path


def write_atomically(path: Path, text: str, mode: int = 0o600) -> None:
    """Replace ``path`` with ``text`` (UTF-8), readable per ``mode`` (private by default)."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
