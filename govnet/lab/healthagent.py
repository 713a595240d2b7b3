"""net-snmp ``pass_persist`` helper serving a lab unit's health tables (written by ``healthsim``).

Run by the unit's snmpd (``pass_persist OID python -m govnet.lab.healthagent FOLDER UNIT SUBTREE``),
in the unit's namespace, so the uplink's ifIndex and error count are read from this namespace's
/sys. Protocol (snmpd(8) pass_persist): ``PING`` -> ``PONG``; ``get``/``getnext`` then an OID ->
the OID, its type and value on three lines, or ``NONE``; ``set`` is refused (read-only).

Why the tables come from a file (``health-tables.json``, written by ``govnet lab`` when it starts
the agent) and not from ``healthsim`` itself: snmpd starts one helper per registered subtree and
unit, up to a thousand in a full-city lab, and ``healthsim`` takes its column OIDs from the health
probe's definitions, whose import costs ~45 MB per process. This module imports only the stdlib
and stays ~14 MB. The file holds every cell (``{uplink}`` standing for the uplink's ifIndex) and,
per fault kind, the cells that fault overrides; ``errors`` is computed here (the kernel's count
plus 50/s since the fault began), so nothing restarts when a fault is applied or healed.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from govnet.lab.topology import UPLINK_IFNAME

KINDS = ("optics-low", "cpu-high", "errors")
STATE_FILE = "health.json"
"""Active faults of the unit: kind -> since (wall clock), written by ``healthsim.set_fault``."""
TABLES_FILE = "health-tables.json"
UPLINK = "{uplink}"
"""Placeholder in the tables' OIDs and values for the uplink's ifIndex (known only in the namespace)."""
ERRORS_PER_SECOND = 50

Cell = tuple[str, str]  # pass_persist type, value


@dataclass(frozen=True)
class Tables:
    """What one unit's agent serves: cells, what each fault kind overrides, where its errors go."""

    cells: Mapping[str, Cell]
    faults: Mapping[str, Mapping[str, Cell]] = field(default_factory=dict)
    errors: str = ""
    """The ifInErrors column (dotted): the uplink's row is served as kernel count + the fault's."""

    def as_json(self) -> dict[str, Any]:
        return {"cells": self.cells, "faults": self.faults, "errors": self.errors}

    @staticmethod
    def from_json(data: Mapping[str, Any]) -> Tables:
        def cells(raw: Mapping[str, Any]) -> dict[str, Cell]:
            return {str(oid): (str(kind), str(value)) for oid, (kind, value) in raw.items()}

        faults = {str(kind): cells(over) for kind, over in data.get("faults", {}).items()}
        return Tables(cells(data.get("cells", {})), faults, str(data.get("errors", "")))


EMPTY = Tables({})
_loaded: dict[Path, tuple[int, Tables]] = {}


def load_tables(folder: Path) -> Tables:
    """The unit's tables, re-read only when the file changed (a ``lab up`` that repairs the lab)."""
    path = folder / TABLES_FILE
    try:
        stamp = path.stat().st_mtime_ns
    except OSError:
        return EMPTY
    cached = _loaded.get(path)
    if cached is not None and cached[0] == stamp:
        return cached[1]
    try:
        tables = Tables.from_json(json.loads(path.read_text()))
    except (OSError, ValueError, TypeError):
        return EMPTY
    _loaded[path] = (stamp, tables)
    return tables


def faults_of(folder: Path) -> dict[str, float]:
    try:
        data = json.loads((folder / STATE_FILE).read_text())
    except (OSError, ValueError):
        return {}
    return {str(k): float(v) for k, v in data.items() if k in KINDS}


def table(
    tables: Tables, uplink: int, kernel_errors: int, faults: Mapping[str, float], now: float
) -> dict[str, Cell]:
    """Every OID served right now (dotted, no leading dot) -> (type, value).

    >>> t = Tables({"1.9.{uplink}": ("integer", "12")}, {"cpu-high": {"1.9.{uplink}": ("integer", "97")}}, "1.14")
    >>> table(t, 5, 10, {}, 100.0)
    {'1.9.5': ('integer', '12'), '1.14.5': ('counter', '10')}
    >>> table(t, 5, 10, {"cpu-high": 90.0, "errors": 98.0}, 100.0)
    {'1.9.5': ('integer', '97'), '1.14.5': ('counter', '110')}
    """
    cells = dict(tables.cells)
    for kind in faults:
        cells.update(tables.faults.get(kind, {}))
    here = str(uplink)
    out = {
        oid.replace(UPLINK, here): (kind, value.replace(UPLINK, here)) for oid, (kind, value) in cells.items()
    }
    if tables.errors:
        extra = int((now - faults["errors"]) * ERRORS_PER_SECOND) if "errors" in faults else 0
        out[f"{tables.errors}.{uplink}"] = ("counter", str((kernel_errors + extra) % 2**32))
    return out


def _read_int(path: Path) -> int:
    try:
        return int(path.read_text().strip())
    except (OSError, ValueError):
        return 0


def current(folder: Path) -> dict[str, Cell]:
    net = Path("/sys/class/net") / UPLINK_IFNAME
    uplink = _read_int(net / "ifindex")
    errors = _read_int(net / "statistics" / "rx_errors")
    return table(load_tables(folder), uplink, errors, faults_of(folder), time.time())


def key(oid: str) -> tuple[int, ...]:
    return tuple(int(arc) for arc in oid.strip(".").split(".") if arc)


def answer(command: str, oid: str, cells: dict[str, Cell], subtree: str) -> list[str]:
    """The reply lines for one request (``subtree``: the registration asked under).

    >>> cells = {"1.3.6.1.4.1.9.1.1": ("integer", "7"), "1.3.6.1.4.1.9.1.2": ("string", "x")}
    >>> answer("getnext", ".1.3.6.1.4.1.9", cells, "1.3.6.1.4.1.9")
    ['.1.3.6.1.4.1.9.1.1', 'integer', '7']
    >>> answer("get", ".1.3.6.1.4.1.9.1.3", cells, "1.3.6.1.4.1.9")
    ['NONE']
    """
    wanted = key(oid)
    within = key(subtree)
    ordered = sorted((key(k), k) for k in cells if key(k)[: len(within)] == within)
    if command == "get":
        hit = next((name for k, name in ordered if k == wanted), None)
    else:
        hit = next((name for k, name in ordered if k > wanted), None)
    if hit is None:
        return ["NONE"]
    kind, value = cells[hit]
    return ["." + hit, kind, value]


def serve(folder: Path, subtree: str, stdin: TextIO, stdout: TextIO) -> None:
    while line := stdin.readline():
        command = line.strip()
        if command == "PING":
            stdout.write("PONG\n")
        elif command in ("get", "getnext"):
            oid = stdin.readline().strip()
            stdout.write("\n".join(answer(command, oid, current(folder), subtree)) + "\n")
        elif command == "set":
            stdin.readline()
            stdin.readline()
            stdout.write("not-writable\n")
        stdout.flush()


def main(argv: list[str]) -> int:
    if len(argv) != 3:
        sys.stderr.write("usage: python -m govnet.lab.healthagent FOLDER UNIT SUBTREE\n")
        return 2
    serve(Path(argv[0]), argv[2].strip("."), sys.stdin, sys.stdout)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
