"""Plausible device-health tables for a lab unit, and the faults that change them.

The lab's snmpd is the stock net-snmp agent; it serves these tables through ``pass_persist``
(``healthagent``), laid out as a Huawei VRP switch lays them out (HUAWEI-ENTITY-EXTENT-MIB
state, optical and fan tables, ENTITY-MIB with the uplink port aliased to its ifIndex), so the
health probe reads them with the same definitions as a real device. ifInErrors of the uplink is
served the same way: the kernel's count plus what an ``errors`` fault adds.

Faults (``govnet lab fault UNIT KIND``): ``cpu-high`` (CPU 97%), ``optics-low`` (receive power
-28 dBm, under the -20 dBm low threshold), ``errors`` (uplink input errors rise 50/s). The
active ones live in the agent's folder (``health.json``: kind -> since, wall clock) which the
agent re-reads when it changes; nothing restarts, so sysUpTime keeps counting.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Mapping
from pathlib import Path

KINDS = ("optics-low", "cpu-high", "errors")
STATE_FILE = "health.json"
HW = "1.3.6.1.4.1.2011.5.25.31.1.1"
ENT = "1.3.6.1.2.1.47.1.1.1.1"
ALIAS = "1.3.6.1.2.1.47.1.3.2.1.2"
IF_IN_ERRORS = "1.3.6.1.2.1.2.2.1.14"
BOARD = 67108873
PORT = 67469518
CHASSIS = 16777216
MODEL = "S5720-28X-SI-AC"
"""The chassis every lab unit reports (the lab inventory declares it, with ``serial_of``)."""
ERRORS_PER_SECOND = 50
SUBTREES = (HW, "1.3.6.1.2.1.47", IF_IN_ERRORS)
"""What the agent registers with snmpd (``pass_persist`` per subtree)."""

Cell = tuple[str, str]  # pass_persist type, value


def serial_of(unit: str) -> str:
    """A stable made-up chassis serial per unit (the inventory may declare it).

    >>> serial_of("sz-caizheng") == serial_of("sz-caizheng"), len(serial_of("x"))
    (True, 20)
    """
    return "2102" + hashlib.sha256(unit.encode()).hexdigest()[:16].upper()


def faults_of(folder: Path) -> dict[str, float]:
    try:
        data = json.loads((folder / STATE_FILE).read_text())
    except (OSError, ValueError):
        return {}
    return {str(k): float(v) for k, v in data.items() if k in KINDS}


def set_fault(folder: Path, kind: str, on: bool) -> None:
    """Record (or clear) ``kind`` for the agent in ``folder``; written atomically."""
    faults = faults_of(folder)
    if on:
        faults[kind] = time.time()
    else:
        faults.pop(kind, None)
    temporary = folder / (STATE_FILE + ".tmp")
    temporary.write_text(json.dumps(faults))
    os.replace(temporary, folder / STATE_FILE)


def table(
    unit: str, uplink: int, kernel_errors: int, faults: Mapping[str, float], now: float
) -> dict[str, Cell]:
    """Every OID the agent serves (dotted, no leading dot) -> (type, value)."""
    cpu = 97 if "cpu-high" in faults else 12
    rx = -2800 if "optics-low" in faults else -520
    extra = int((now - faults["errors"]) * ERRORS_PER_SECOND) if "errors" in faults else 0
    cells: dict[str, Cell] = {
        f"{HW}.1.1.5.{BOARD}": ("integer", str(cpu)),
        f"{HW}.1.1.6.{BOARD}": ("integer", "95"),
        f"{HW}.1.1.7.{BOARD}": ("integer", "40"),
        f"{HW}.1.1.11.{BOARD}": ("integer", "41"),
        f"{HW}.3.1.8.{PORT}": ("integer", str(rx)),
        f"{HW}.3.1.9.{PORT}": ("integer", "-210"),
        f"{HW}.3.1.13.{PORT}": ("integer", "-2000"),
        f"{HW}.3.1.14.{PORT}": ("integer", "50"),
        f"{HW}.3.1.15.{PORT}": ("integer", "-800"),
        f"{HW}.3.1.16.{PORT}": ("integer", "100"),
        f"{HW}.10.1.7.0.0": ("integer", "1"),
        f"{ALIAS}.{PORT}.0": ("objectid", f".1.3.6.1.2.1.2.2.1.1.{uplink}"),
        f"{IF_IN_ERRORS}.{uplink}": ("counter", str((kernel_errors + extra) % 2**32)),
    }
    rows = (
        (CHASSIS, 3, 0, MODEL, MODEL, serial_of(unit)),
        (BOARD, 9, CHASSIS, "MPU Board 0", "ES5D2T28S000", ""),
        (PORT, 10, BOARD, "uplink", "", ""),
    )
    for index, cls, parent, name, model, serial in rows:
        for column, kind, value in (
            (2, "string", name),
            (4, "integer", str(parent)),
            (5, "integer", str(cls)),
            (7, "string", name),
            (8, "string", "VER.A" if serial else ""),
            (10, "string", "V200R019C10SPC500" if serial else ""),
            (11, "string", serial),
            (13, "string", model),
        ):
            cells[f"{ENT}.{column}.{index}"] = (kind, value)
    return cells


def key(oid: str) -> tuple[int, ...]:
    return tuple(int(arc) for arc in oid.strip(".").split(".") if arc)
