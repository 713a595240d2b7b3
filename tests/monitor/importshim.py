"""The daemon, telling at its exit what it had imported: ``python -m tests.monitor.importshim FILE ARGS…``.

Runs ``python -m govnet.monitor ARGS…`` unchanged; when the process exits (SIGTERM → exit 0),
the names of the loaded modules are written to ``FILE``, one per line. What a daemon imports
stays in its memory for months (pysnmp alone is ~21 MB): tests/monitor/test_daemon_imports.py
reads this to prove that a site polled only over SNMPv2c never loads pysnmp.
"""

from __future__ import annotations

import atexit
import runpy
import sys
from pathlib import Path


def _write(out: Path) -> None:
    out.write_text("".join(f"{name}\n" for name in sorted(sys.modules)))


def main() -> None:
    atexit.register(_write, Path(sys.argv[1]))
    sys.argv = ["govnet.monitor", *sys.argv[2:]]
    runpy.run_module("govnet.monitor", run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
