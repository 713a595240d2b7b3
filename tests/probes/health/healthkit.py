"""Health-table recordings for snmpsim, written as rows here and saved sorted at fixture time.

Real devices (``REAL``): built from the fact files in ``tests/data/health-devices/``, which
transcribe, fact by fact with their OID and source, what public LibreNMS recordings of a Huawei
S5720, an HPE/H3C Comware 7 switch and a Cisco C9300 hold in their health tables — values,
"no reading" markers and all, including the tables those devices do not have.

Synthetic devices (``RECORDINGS``), kept for what no real recording here shows: a fan or power
supply failing (Huawei hwFanStatus/hwPwrStatus, H3C fanError/psuError, CISCO-ENVMON critical and
notPresent), H3C alarm thresholds in tenths of µW, a Cisco transceiver's ENTITY-SENSOR-MIB dBm
sensors and their entSensorThresholdTable (critical over major), CISCO-PROCESS-MIB and
CISCO-MEMORY-POOL-MIB, interface error counters, and an inventory mismatch. They are laid out as
the vendors' MIBs lay them out, with values (and serial numbers) made up for the test. The
shared IF-MIB-only recordings in ``../shared/data/snmprec`` are devices with no health table.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

Row = tuple[str, str, str]  # OID, snmprec type, value

ENT = "1.3.6.1.2.1.47.1.1.1.1"
ALIAS = "1.3.6.1.2.1.47.1.3.2.1.2"
IFX = "1.3.6.1.2.1.31.1.1.1"
IFT = "1.3.6.1.2.1.2.2.1"


def system(object_id: str, uptime: int) -> list[Row]:
    return [
        ("1.3.6.1.2.1.1.1.0", "4", "test device"),
        ("1.3.6.1.2.1.1.2.0", "6", object_id),
        ("1.3.6.1.2.1.1.3.0", "67", str(uptime)),
    ]


def interface(
    index: int, name: str, errors: tuple[int, int, int, int], octets: tuple[int, int], mbps: int
) -> list[Row]:
    """ifName, ifLastChange, in/out discards and errors, HC octets, ifHighSpeed of one interface."""
    in_discards, in_errors, out_discards, out_errors = errors
    return [
        (f"{IFX}.1.{index}", "4", name),
        (f"{IFT}.9.{index}", "67", "12345"),
        (f"{IFT}.13.{index}", "65", str(in_discards)),
        (f"{IFT}.14.{index}", "65", str(in_errors)),
        (f"{IFT}.19.{index}", "65", str(out_discards)),
        (f"{IFT}.20.{index}", "65", str(out_errors)),
        (f"{IFX}.6.{index}", "70", str(octets[0])),
        (f"{IFX}.10.{index}", "70", str(octets[1])),
        (f"{IFX}.15.{index}", "66", str(mbps)),
    ]


def entity(index: int, cls: int, name: str, model: str = "", serial: str = "", parent: int = 0) -> list[Row]:
    return [
        (f"{ENT}.2.{index}", "4", name),
        (f"{ENT}.4.{index}", "2", str(parent)),
        (f"{ENT}.5.{index}", "2", str(cls)),
        (f"{ENT}.7.{index}", "4", name),
        (f"{ENT}.8.{index}", "4", "VER.B" if serial else ""),
        (f"{ENT}.10.{index}", "4", "V200R010C00SPC600" if serial else ""),
        (f"{ENT}.11.{index}", "4", serial),
        (f"{ENT}.13.{index}", "4", model),
    ]


def alias(entity_index: int, ifindex: int) -> Row:
    return (f"{ALIAS}.{entity_index}.0", "6", f"1.3.6.1.2.1.2.2.1.1.{ifindex}")


HW = "1.3.6.1.4.1.2011.5.25.31.1.1"


def huawei() -> list[Row]:
    rows = system("1.3.6.1.4.1.2011.2.23.291", 28156805)
    rows += interface(6, "GigabitEthernet0/0/1", (0, 0, 0, 0), (10, 20), 1000)
    rows += interface(54, "XGigabitEthernet0/0/1", (3, 17, 1, 2), (123456789012, 98765432109), 10000)
    rows += interface(55, "XGigabitEthernet0/0/2", (0, 0, 0, 0), (5, 6), 10000)
    rows += entity(16777216, 3, "S5720-56C-PWR-EI-AC", "S5720-56C-PWR-EI-AC", "2102350DLS10H3000123")
    rows += entity(67108867, 9, "S5720-56C-PWR-EI-AC 0", parent=16777216)
    rows += entity(67108873, 9, "MPU Board 0", "ES5D2T56C001", "021TLQ10H3000456", parent=16777216)
    rows += entity(67469518, 10, "XGigabitEthernet0/0/1", parent=67108873)
    rows += entity(67469582, 10, "XGigabitEthernet0/0/2", parent=67108873)
    rows += entity(67469454, 10, "GigabitEthernet0/0/48", parent=67108873)
    rows += [alias(67469518, 54), alias(67469582, 55), alias(67469454, 53)]
    for index, (cpu, threshold, memory, temperature) in {
        67108867: (0, 0, 0, 0),
        67108873: (8, 95, 47, 38),
    }.items():
        rows += [
            (f"{HW}.1.1.5.{index}", "2", str(cpu)),
            (f"{HW}.1.1.6.{index}", "2", str(threshold)),
            (f"{HW}.1.1.7.{index}", "2", str(memory)),
            (f"{HW}.1.1.11.{index}", "2", str(temperature)),
        ]
    optics = {67469518: (-734, -221), 67469582: (2147483647, 2147483647), 67469454: (-500, -300)}
    for index, (rx, tx) in optics.items():
        rows += [(f"{HW}.3.1.8.{index}", "2", str(rx)), (f"{HW}.3.1.9.{index}", "2", str(tx))]
        for column, limit in ((13, -2000), (14, 50), (15, -800), (16, 100)):
            rows.append((f"{HW}.3.1.{column}.{index}", "2", str(limit)))
    rows += [(f"{HW}.10.1.7.0.0", "2", "1"), (f"{HW}.10.1.7.0.1", "2", "2")]
    # hwEntityPwrState per slot.supply: supply, notSupply, sleep, unknown (no reading)
    rows += [(f"{HW}.18.1.6.0.{n}", "2", str(state)) for n, state in ((1, 1), (2, 2), (3, 3), (4, 4))]
    return rows


H3C_STATE = "1.3.6.1.4.1.25506.2.6.1.1.1.1"
H3C_XCVR = "1.3.6.1.4.1.25506.2.70.1.1.1"


def h3c() -> list[Row]:
    rows = system("1.3.6.1.4.1.25506.11.1.172", 4300000)
    rows += interface(1, "Ten-GigabitEthernet1/0/1", (0, 0, 0, 0), (1, 2), 10000)
    rows += interface(49, "FortyGigE1/0/49", (0, 4, 0, 0), (77, 88), 40000)
    rows += entity(2, 3, "HPE FF 5700", "JG896A", "CN12345678")
    rows += entity(8, 9, "Board 1", parent=2)
    rows += entity(20, 7, "Fan 1", parent=2) + entity(21, 7, "Fan 2", parent=2)
    rows += entity(30, 6, "Power Supply 1", parent=2) + entity(31, 6, "Power Supply 2", parent=2)
    rows += entity(32, 6, "Power Supply 3", parent=2)
    # hh3cEntityExtErrorStatus: board normal (not watched), fans normal / fanError(41), supplies
    # normal / psuError(51) / entityAbsent(4): an empty bay, no reading
    states = {8: 2, 20: 2, 21: 41, 30: 2, 31: 51, 32: 4}
    rows += [(f"{H3C_STATE}.19.{index}", "2", str(state)) for index, state in states.items()]
    rows += [
        (f"{H3C_STATE}.6.2", "2", "0"),
        (f"{H3C_STATE}.6.8", "2", "12"),
        (f"{H3C_STATE}.8.2", "2", "0"),
        (f"{H3C_STATE}.8.8", "2", "63"),
        (f"{H3C_STATE}.12.2", "2", "0"),
        (f"{H3C_STATE}.12.8", "2", "41"),
    ]
    for index, (tx, rx) in {1: (-215, -1250), 49: (2147483647, 2147483647)}.items():
        rows += [(f"{H3C_XCVR}.9.{index}", "2", str(tx)), (f"{H3C_XCVR}.12.{index}", "2", str(rx))]
        for column, limit in ((30, 15849), (31, 1259), (34, 12589), (35, 316)):
            rows.append((f"{H3C_XCVR}.{column}.{index}", "2", str(limit)))
    return rows


CISCO_ENV = "1.3.6.1.4.1.9.9.13.1"
SENSOR = "1.3.6.1.2.1.99.1.1.1"
CISCO_SENSOR = "1.3.6.1.4.1.9.9.91.1.1.1.1"
CISCO_THRESHOLD = "1.3.6.1.4.1.9.9.91.1.2.1.1"


def cisco() -> list[Row]:
    rows = system("1.3.6.1.4.1.9.1.2494", 862114)
    rows += interface(9, "Te1/1/1", (0, 0, 5, 0), (1000, 2000), 10000)
    rows += interface(10, "Te1/1/2", (0, 0, 0, 0), (0, 0), 10000)
    rows += entity(1000, 3, "Switch 1", "C9300-48P", "FOC0000X0AB")
    rows += entity(1064, 10, "TenGigabitEthernet1/1/1", parent=1000)
    rows += entity(1065, 9, "SFP-10GBase-LR", "SFP-10G-LR", "AVD0000ABCD", parent=1064)
    rows += entity(1066, 8, "Te1/1/1 Receive Power Sensor", parent=1065)
    rows += entity(1067, 8, "Te1/1/1 Transmit Power Sensor", parent=1065)
    rows += entity(1068, 8, "Te1/1/1 Module Temperature Sensor", parent=1065)
    rows += entity(1070, 10, "TenGigabitEthernet1/1/2", parent=1000)
    rows += entity(1071, 8, "Te1/1/2 Receive Power Sensor", parent=1070)
    rows += [alias(1064, 9), alias(1070, 10)]
    rows += [("1.3.6.1.4.1.9.9.109.1.1.1.1.8.1000", "66", "7")]
    for index, (name, used, free) in {1: ("Processor", 300000000, 700000000), 2: ("lsmpi_io", 3, 1)}.items():
        rows += [
            (f"1.3.6.1.4.1.9.9.48.1.1.1.2.{index}", "4", name),
            (f"1.3.6.1.4.1.9.9.48.1.1.1.5.{index}", "66", str(used)),
            (f"1.3.6.1.4.1.9.9.48.1.1.1.6.{index}", "66", str(free)),
        ]
    rows += [
        (f"{CISCO_ENV}.3.1.2.1008", "4", "Switch 1 - Inlet Temp Sensor"),
        (f"{CISCO_ENV}.3.1.3.1008", "66", "31"),
        (f"{CISCO_ENV}.4.1.2.1016", "4", "Switch 1 - FAN 1"),
        (f"{CISCO_ENV}.4.1.3.1016", "2", "1"),
        (f"{CISCO_ENV}.5.1.2.1013", "4", "Switch 1 - Power Supply A"),
        (f"{CISCO_ENV}.5.1.2.1014", "4", "Switch 1 - Power Supply B"),
        (f"{CISCO_ENV}.5.1.3.1013", "2", "3"),
        (f"{CISCO_ENV}.5.1.3.1014", "2", "5"),
    ]
    for index, (kind, precision, value) in {
        1066: (14, 1, -52),
        1067: (14, 1, -23),
        1068: (8, 1, 330),
        1071: (14, 1, -99),
    }.items():
        rows += [
            (f"{SENSOR}.1.{index}", "2", str(kind)),
            (f"{SENSOR}.2.{index}", "2", "9"),
            (f"{SENSOR}.3.{index}", "2", str(precision)),
            (f"{SENSOR}.4.{index}", "2", str(value)),
            (f"{CISCO_SENSOR}.2.{index}", "2", "9"),
            (f"{CISCO_SENSOR}.3.{index}", "2", str(precision)),
        ]
    # entSensorThresholdTable of Te1/1/1's receive (1066) and transmit (1067) power, tenths of dBm:
    # (severity, relation, value); critical wins over major, minor is a warning, rx low is major only
    thresholds = {
        1066: [(30, 4, 5), (10, 4, 0), (20, 2, -144), (10, 2, -140)],
        1067: [(30, 4, 5), (20, 4, 2), (30, 2, -82), (20, 1, -80), (10, 2, -75)],
    }
    for index, rows_of in thresholds.items():
        for n, (severity, relation, value) in enumerate(rows_of, start=1):
            rows += [
                (f"{CISCO_THRESHOLD}.2.{index}.{n}", "2", str(severity)),
                (f"{CISCO_THRESHOLD}.3.{index}.{n}", "2", str(relation)),
                (f"{CISCO_THRESHOLD}.4.{index}.{n}", "2", str(value)),
            ]
    return rows


RECORDINGS = {"health_huawei": huawei, "health_h3c": h3c, "health_cisco": cisco}


def _key(row: Row) -> tuple[int, ...]:
    return tuple(int(arc) for arc in row[0].split("."))


FACTS = Path(__file__).resolve().parents[2] / "data" / "health-devices"
REAL = sorted(FACTS.glob("*.yml"))
"""One fact file per real device; its ``community`` names the recording built from it."""


def facts(path: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(path.read_text())
    return loaded


def fact_rows(device: dict[str, Any]) -> list[Row]:
    """The snmprec rows of a fact file: every group's column OID + row index, its type, its value.
    Indexes and values must be YAML integers or strings (``1062.0`` unquoted would be a float)."""
    rows = []
    for group in device["facts"]:
        for index, value in group["rows"].items():
            if not all(isinstance(v, (int, str)) for v in (index, value)):
                raise ValueError(f"{group['what']}: quote index/value {index!r}: {value!r}")
            rows.append((f"{group['oid']}.{index}", str(group["type"]), str(value)))
    return rows


def write(folder: Path) -> None:
    """``folder/<community>.snmprec`` for every recording, rows sorted by OID as snmpsim needs."""
    folder.mkdir(parents=True, exist_ok=True)
    recordings = {name: rows() for name, rows in RECORDINGS.items()}
    recordings |= {(device := facts(path))["community"]: fact_rows(device) for path in REAL}
    for community, rows in recordings.items():
        lines = [f"{oid}|{kind}|{value}" for oid, kind, value in sorted(rows, key=_key)]
        (folder / f"{community}.snmprec").write_text("\n".join(lines) + "\n")
