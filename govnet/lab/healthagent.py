"""net-snmp ``pass_persist`` helper serving a lab unit's health tables (``healthsim``).

Run by the unit's snmpd (``pass_persist OID python -m govnet.lab.healthagent FOLDER UNIT``), in
the unit's namespace, so the uplink's ifIndex and error count are read from this namespace's
/sys. Protocol (snmpd(8) pass_persist): ``PING`` -> ``PONG``; ``get``/``getnext`` then an OID ->
the OID, its type and value on three lines, or ``NONE``; ``set`` is refused (read-only).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import TextIO

from govnet.lab import healthsim
from govnet.lab.topology import UPLINK_IFNAME


def _read_int(path: Path) -> int:
    try:
        return int(path.read_text().strip())
    except (OSError, ValueError):
        return 0


def current(folder: Path, unit: str) -> dict[str, healthsim.Cell]:
    net = Path("/sys/class/net") / UPLINK_IFNAME
    uplink = _read_int(net / "ifindex")
    errors = _read_int(net / "statistics" / "rx_errors")
    return healthsim.table(unit, uplink, errors, healthsim.faults_of(folder), time.time())


def answer(command: str, oid: str, cells: dict[str, healthsim.Cell], subtree: str) -> list[str]:
    """The reply lines for one request (``subtree``: the registration asked under).

    >>> cells = {"1.3.6.1.4.1.9.1.1": ("integer", "7"), "1.3.6.1.4.1.9.1.2": ("string", "x")}
    >>> answer("getnext", ".1.3.6.1.4.1.9", cells, "1.3.6.1.4.1.9")
    ['.1.3.6.1.4.1.9.1.1', 'integer', '7']
    >>> answer("get", ".1.3.6.1.4.1.9.1.3", cells, "1.3.6.1.4.1.9")
    ['NONE']
    """
    wanted = healthsim.key(oid)
    within = healthsim.key(subtree)
    ordered = sorted((healthsim.key(k), k) for k in cells if healthsim.key(k)[: len(within)] == within)
    if command == "get":
        hit = next((name for k, name in ordered if k == wanted), None)
    else:
        hit = next((name for k, name in ordered if k > wanted), None)
    if hit is None:
        return ["NONE"]
    kind, value = cells[hit]
    return ["." + hit, kind, value]


def serve(folder: Path, unit: str, subtree: str, stdin: TextIO, stdout: TextIO) -> None:
    while line := stdin.readline():
        command = line.strip()
        if command == "PING":
            stdout.write("PONG\n")
        elif command in ("get", "getnext"):
            oid = stdin.readline().strip()
            stdout.write("\n".join(answer(command, oid, current(folder, unit), subtree)) + "\n")
        elif command == "set":
            stdin.readline()
            stdin.readline()
            stdout.write("not-writable\n")
        stdout.flush()


def main(argv: list[str]) -> int:
    if len(argv) != 3:
        sys.stderr.write("usage: python -m govnet.lab.healthagent FOLDER UNIT SUBTREE\n")
        return 2
    serve(Path(argv[0]), argv[1], argv[2].strip("."), sys.stdin, sys.stdout)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
