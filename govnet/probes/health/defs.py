"""What to read for device health, per vendor, as data: OIDs, how each value scales, its unit.

Why data and not code: a new vendor (or a vendor MIB revision) is a new table here, reviewed
against the MIB, while the walker, the join to ENTITY-MIB and the metrics stay the same. Every
OID below was checked against the vendor's MIB (column numbers of the table's SEQUENCE) and
against LibreNMS' discovery definitions for the same objects; the scaling notes say where the
vendors disagree with themselves.

Index kinds: ``entity`` rows are keyed by entPhysicalIndex (named by entPhysicalName), ``port``
rows by the entPhysicalIndex of a port (joined through entAliasMappingTable, or up the
entPhysicalContainedIn chain, to an ifIndex), ``ifindex`` rows by ifIndex, ``own`` rows by the
table's own index (a fan, a memory pool) and named by the ``NAME`` column of the same table
(a scalar such as hwEntitySystemModel is ``own`` too: its one row has index 0).
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass
from typing import Any

from govnet.probes.snmp.ber import Oid, parse_oid

INVALID = frozenset((2147483647, 2147483646, -2147483648, 65535))
"""Values vendors use for "no reading" (no module plugged, sensor absent)."""
HW_NO_MODULE = -1
"""Huawei hwOpticalModuleInfoTable: every numeric column of a port without a transceiver reads -1
(the S5720 in LibreNMS' ``vrp_5720.snmprec``); as hundredths of dBm it would be a plausible -0.01."""
NOT_PRESENT = 5
"""CISCO-ENVMON-MIB CiscoEnvMonState notPresent: an empty power-supply bay is not a failure."""


class HealthField(enum.StrEnum):
    """What a column measures; the snapshot has one place for each."""

    CPU = "cpu"
    MEMORY = "memory"
    MEMORY_USED = "memory_used"
    MEMORY_FREE = "memory_free"
    TEMPERATURE = "temperature"
    FAN = "fan"
    PSU = "psu"
    RX_POWER = "rx_power"
    TX_POWER = "tx_power"
    RX_LOW = "rx_low"
    RX_HIGH = "rx_high"
    TX_LOW = "tx_low"
    TX_HIGH = "tx_high"
    CPU_THRESHOLD = "cpu_threshold"
    """Huawei: a board without a CPU has threshold 0 (used at discovery only)."""
    SYSTEM_MODEL = "system_model"
    """Huawei: the model (hwEntitySystemModel.0), which entPhysicalModelName leaves empty; the
    chassis' model at discovery, so the inventory check compares like with like."""
    NAME = "name"
    SENSOR_TYPE = "sensor_type"
    SENSOR_SCALE = "sensor_scale"
    SENSOR_PRECISION = "sensor_precision"
    SENSOR_VALUE = "sensor_value"
    ENTITY_STATE = "entity_state"
    THRESHOLD_SCALE = "threshold_scale"
    THRESHOLD_PRECISION = "threshold_precision"
    THRESHOLD_SEVERITY = "threshold_severity"
    THRESHOLD_RELATION = "threshold_relation"
    THRESHOLD_VALUE = "threshold_value"
    """Cisco: a sensor's alarm thresholds (CISCO-ENTITY-SENSOR-MIB), read at discovery only."""
    """H3C: every entity's error status; discovery keeps fans' and power supplies' as FAN / PSU."""


class Scale(enum.StrEnum):
    """How a raw integer becomes a value in the metric's base unit."""

    PERCENT = "percent"  # 0-100 -> ratio 0-1
    CELSIUS = "celsius"  # whole degrees
    DBM_X100 = "dbm_x100"  # hundredths of dBm
    UW_OR_DBM_X100 = "uw_or_dbm_x100"  # Huawei: > 0 is µW, <= 0 is hundredths of dBm, -1 no module
    HW_DBM_X100 = "hw_dbm_x100"  # Huawei thresholds: hundredths of dBm, -1 no module
    TENTH_UW = "tenth_uw"  # H3C thresholds: tenths of µW -> dBm
    STATE_OK = "state_ok"  # CISCO-ENVMON / Huawei: 1 normal -> 1.0, 5 notPresent -> None, else 0.0
    SUPPLY_STATE = "supply_state"  # Huawei hwEntityPwrState: supply 1 / sleep 3 -> 1.0, notSupply 2 -> 0.0
    ERROR_STATUS = "error_status"  # H3C: normal 2 -> 1.0, notSupported 1 / entityAbsent 4 -> None, else 0.0
    BYTES = "bytes"
    RAW = "raw"


HW_OPTICAL_SCALES = frozenset((Scale.UW_OR_DBM_X100, Scale.HW_DBM_X100))
"""The scales of Huawei's optical columns, where ``HW_NO_MODULE`` means no reading."""


@dataclass(frozen=True, slots=True)
class VendorColumn:
    field: HealthField
    oid: Oid
    scale: Scale
    index: str  # "entity", "port", "ifindex" or "own"

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickled as its number in this module's tables, unpickled as the module's own column:
        each unit's plan is kept pickled (`govnet.probes.health.probe.dump_plan`) and would
        otherwise carry copies of its cells' columns."""
        number = _NUMBER.get(self)
        if number is None:
            return (VendorColumn, (self.field, self.oid, self.scale, self.index))
        return (_column_at, (number,))


_KNOWN: list[VendorColumn] = []
_NUMBER: dict[VendorColumn, int] = {}


def _column_at(number: int) -> VendorColumn:
    return _KNOWN[number]


def _c(field: HealthField, oid: str, scale: Scale, index: str = "entity") -> VendorColumn:
    return _known(VendorColumn(field, parse_oid(oid), scale, index))


def _known(column: VendorColumn) -> VendorColumn:
    if column not in _NUMBER:
        _NUMBER[column] = len(_KNOWN)
        _KNOWN.append(column)
    return _KNOWN[_NUMBER[column]]


def as_field(column: VendorColumn, field: HealthField) -> VendorColumn:
    """The same column read as ``field`` (an H3C error status as a fan's or a supply's state)."""
    return _known(VendorColumn(field, column.oid, column.scale, column.index))


@dataclass(frozen=True, slots=True)
class Vendor:
    name: str
    enterprise: Oid
    """sysObjectID prefix that selects this vendor."""
    columns: tuple[VendorColumn, ...]

    def of(self, *fields: HealthField) -> tuple[VendorColumn, ...]:
        return tuple(c for c in self.columns if c.field in fields)

    def __reduce__(self) -> tuple[Any, ...]:
        """Unpickled as the module's vendor of that name (see ``VendorColumn.__reduce__``)."""
        if by_name(self.name) is self:
            return (by_name, (self.name,))
        return (Vendor, (self.name, self.enterprise, self.columns))


HW_STATE = "1.3.6.1.4.1.2011.5.25.31.1.1.1.1"  # HUAWEI-ENTITY-EXTENT-MIB hwEntityStateEntry
HW_OPTICAL = "1.3.6.1.4.1.2011.5.25.31.1.1.3.1"  # hwOpticalModuleInfoEntry (entPhysicalIndex of the port)
HW_FAN = "1.3.6.1.4.1.2011.5.25.31.1.1.10.1"  # hwFanStatusEntry (slot.fan)
HW_PWR = "1.3.6.1.4.1.2011.5.25.31.1.1.18.1"  # hwPwrStatusEntry (hwEntityPwrSlot.hwEntityPwrSn)
HW_MODEL = "1.3.6.1.4.1.2011.5.25.31.6.5"  # hwEntitySystemModel, a scalar
HUAWEI = Vendor(
    "huawei",
    parse_oid("1.3.6.1.4.1.2011"),
    (
        _c(HealthField.CPU, f"{HW_STATE}.5", Scale.PERCENT),  # hwEntityCpuUsage
        _c(HealthField.CPU_THRESHOLD, f"{HW_STATE}.6", Scale.RAW),  # hwEntityCpuUsageThreshold
        _c(HealthField.MEMORY, f"{HW_STATE}.7", Scale.PERCENT),  # hwEntityMemUsage
        _c(HealthField.TEMPERATURE, f"{HW_STATE}.11", Scale.CELSIUS),  # hwEntityTemperature
        _c(HealthField.RX_POWER, f"{HW_OPTICAL}.8", Scale.UW_OR_DBM_X100, "port"),  # hwEntityOpticalRxPower
        _c(HealthField.TX_POWER, f"{HW_OPTICAL}.9", Scale.UW_OR_DBM_X100, "port"),  # hwEntityOpticalTxPower
        # hwEntityOpticalRx/TxLow/HighThreshold (hundredths of dBm)
        _c(HealthField.RX_LOW, f"{HW_OPTICAL}.13", Scale.HW_DBM_X100, "port"),
        _c(HealthField.RX_HIGH, f"{HW_OPTICAL}.14", Scale.HW_DBM_X100, "port"),
        _c(HealthField.TX_LOW, f"{HW_OPTICAL}.15", Scale.HW_DBM_X100, "port"),
        _c(HealthField.TX_HIGH, f"{HW_OPTICAL}.16", Scale.HW_DBM_X100, "port"),
        _c(HealthField.FAN, f"{HW_FAN}.7", Scale.STATE_OK, "own"),  # hwEntityFanState: 1 normal, 2 abnormal
        _c(HealthField.PSU, f"{HW_PWR}.6", Scale.SUPPLY_STATE, "own"),  # hwEntityPwrState
        _c(HealthField.SYSTEM_MODEL, HW_MODEL, Scale.RAW, "own"),  # hwEntitySystemModel (.0)
    ),
)

H3C_STATE = "1.3.6.1.4.1.25506.2.6.1.1.1.1"  # HH3C-ENTITY-EXT-MIB hh3cEntityExtStateEntry
H3C_XCVR = "1.3.6.1.4.1.25506.2.70.1.1.1"  # HH3C-TRANSCEIVER-INFO-MIB hh3cTransceiverInfoEntry (ifIndex)
H3C = Vendor(
    "h3c",
    parse_oid("1.3.6.1.4.1.25506"),
    (
        _c(HealthField.CPU, f"{H3C_STATE}.6", Scale.PERCENT),  # hh3cEntityExtCpuUsage
        _c(HealthField.MEMORY, f"{H3C_STATE}.8", Scale.PERCENT),  # hh3cEntityExtMemUsage
        _c(HealthField.TEMPERATURE, f"{H3C_STATE}.12", Scale.CELSIUS),  # hh3cEntityExtTemperature
        _c(HealthField.ENTITY_STATE, f"{H3C_STATE}.19", Scale.ERROR_STATUS),  # hh3cEntityExtErrorStatus
        _c(HealthField.TX_POWER, f"{H3C_XCVR}.9", Scale.DBM_X100, "ifindex"),  # hh3cTransceiverCurTXPower
        _c(HealthField.RX_POWER, f"{H3C_XCVR}.12", Scale.DBM_X100, "ifindex"),  # hh3cTransceiverCurRXPower
        # hh3cTransceiverMax/MinTX/RXPower (hundredths of dBm): the limits where a transceiver
        # has no alarm columns (the Comware 7 recording has columns 1-17 only); listed first so
        # that the alarm thresholds below, where present, replace them
        _c(HealthField.TX_HIGH, f"{H3C_XCVR}.10", Scale.DBM_X100, "ifindex"),  # hh3cTransceiverMaxTXPower
        _c(HealthField.TX_LOW, f"{H3C_XCVR}.11", Scale.DBM_X100, "ifindex"),  # hh3cTransceiverMinTXPower
        _c(HealthField.RX_HIGH, f"{H3C_XCVR}.13", Scale.DBM_X100, "ifindex"),  # hh3cTransceiverMaxRXPower
        _c(HealthField.RX_LOW, f"{H3C_XCVR}.14", Scale.DBM_X100, "ifindex"),  # hh3cTransceiverMinRXPower
        _c(HealthField.TX_HIGH, f"{H3C_XCVR}.30", Scale.TENTH_UW, "ifindex"),  # hh3cTransceiverPwrOutHiAlarm
        _c(HealthField.TX_LOW, f"{H3C_XCVR}.31", Scale.TENTH_UW, "ifindex"),  # hh3cTransceiverPwrOutLoAlarm
        _c(HealthField.RX_HIGH, f"{H3C_XCVR}.34", Scale.TENTH_UW, "ifindex"),  # hh3cTransceiverRcvPwrHiAlarm
        _c(HealthField.RX_LOW, f"{H3C_XCVR}.35", Scale.TENTH_UW, "ifindex"),  # hh3cTransceiverRcvPwrLoAlarm
    ),
)

CISCO_CPU = "1.3.6.1.4.1.9.9.109.1.1.1.1"  # CISCO-PROCESS-MIB cpmCPUTotalEntry
CISCO_POOL = "1.3.6.1.4.1.9.9.48.1.1.1"  # CISCO-MEMORY-POOL-MIB ciscoMemoryPoolEntry
CISCO_ENV = "1.3.6.1.4.1.9.9.13.1"  # CISCO-ENVMON-MIB ciscoEnvMonObjects
ENT_SENSOR = "1.3.6.1.2.1.99.1.1.1"  # ENTITY-SENSOR-MIB entPhySensorEntry (entPhysicalIndex)
CISCO_SENSOR = "1.3.6.1.4.1.9.9.91.1.1.1.1"  # CISCO-ENTITY-SENSOR-MIB entSensorValueEntry (entPhysicalIndex)
CISCO_THRESHOLD = "1.3.6.1.4.1.9.9.91.1.2.1.1"  # entSensorThresholdEntry (entPhysicalIndex.thresholdIndex)
CISCO = Vendor(
    "cisco",
    parse_oid("1.3.6.1.4.1.9"),
    (
        _c(HealthField.CPU, f"{CISCO_CPU}.8", Scale.PERCENT, "own"),  # cpmCPUTotal5minRev
        _c(HealthField.NAME, f"{CISCO_POOL}.2", Scale.RAW, "own"),  # ciscoMemoryPoolName
        _c(HealthField.MEMORY_USED, f"{CISCO_POOL}.5", Scale.BYTES, "own"),  # ciscoMemoryPoolUsed
        _c(HealthField.MEMORY_FREE, f"{CISCO_POOL}.6", Scale.BYTES, "own"),  # ciscoMemoryPoolFree
        _c(HealthField.NAME, f"{CISCO_ENV}.3.1.2", Scale.RAW, "own"),  # ciscoEnvMonTemperatureStatusDescr
        _c(HealthField.TEMPERATURE, f"{CISCO_ENV}.3.1.3", Scale.CELSIUS, "own"),  # ...TemperatureStatusValue
        _c(HealthField.NAME, f"{CISCO_ENV}.4.1.2", Scale.RAW, "own"),  # ciscoEnvMonFanStatusDescr
        _c(HealthField.FAN, f"{CISCO_ENV}.4.1.3", Scale.STATE_OK, "own"),  # ciscoEnvMonFanState: 1 normal
        _c(HealthField.NAME, f"{CISCO_ENV}.5.1.2", Scale.RAW, "own"),  # ciscoEnvMonSupplyStatusDescr
        _c(HealthField.PSU, f"{CISCO_ENV}.5.1.3", Scale.STATE_OK, "own"),  # ciscoEnvMonSupplyState: 1 normal
        _c(HealthField.SENSOR_TYPE, f"{ENT_SENSOR}.1", Scale.RAW),  # entPhySensorType: 8 celsius, 14 dBm
        _c(HealthField.SENSOR_SCALE, f"{ENT_SENSOR}.2", Scale.RAW),  # entPhySensorScale: 8 milli, 9 units
        _c(HealthField.SENSOR_PRECISION, f"{ENT_SENSOR}.3", Scale.RAW),  # entPhySensorPrecision
        _c(HealthField.SENSOR_VALUE, f"{ENT_SENSOR}.4", Scale.RAW),  # entPhySensorValue
        _c(HealthField.THRESHOLD_SCALE, f"{CISCO_SENSOR}.2", Scale.RAW),  # entSensorScale
        _c(HealthField.THRESHOLD_PRECISION, f"{CISCO_SENSOR}.3", Scale.RAW),  # entSensorPrecision
        # entSensorThresholdSeverity: minor 10, major 20, critical 30
        _c(HealthField.THRESHOLD_SEVERITY, f"{CISCO_THRESHOLD}.2", Scale.RAW, "own"),
        # entSensorThresholdRelation: lessThan 1, lessOrEqual 2, greaterThan 3, greaterOrEqual 4, ...
        _c(HealthField.THRESHOLD_RELATION, f"{CISCO_THRESHOLD}.3", Scale.RAW, "own"),
        # entSensorThresholdValue: in the units (scale, precision) of entSensorValue
        _c(HealthField.THRESHOLD_VALUE, f"{CISCO_THRESHOLD}.4", Scale.RAW, "own"),
    ),
)

VENDORS = (HUAWEI, H3C, CISCO)
PLATFORM_VENDOR = {"huawei_vrp": "huawei", "h3c_comware": "h3c", "cisco_ios": "cisco"}
"""The inventory's ``platform`` -> the ``vendor`` target param (sysObjectID decides without it)."""

SENSOR_DBM = 14
SENSOR_CELSIUS = 8

# IF-MIB (ifTable 1.3.6.1.2.1.2.2.1, ifXTable 1.3.6.1.2.1.31.1.1.1), per polled interface
IF_COLUMNS: dict[str, Oid] = {
    "last_change": parse_oid("1.3.6.1.2.1.2.2.1.9"),  # ifLastChange (TimeTicks of sysUpTime)
    "in_discards": parse_oid("1.3.6.1.2.1.2.2.1.13"),
    "in_errors": parse_oid("1.3.6.1.2.1.2.2.1.14"),
    "out_discards": parse_oid("1.3.6.1.2.1.2.2.1.19"),
    "out_errors": parse_oid("1.3.6.1.2.1.2.2.1.20"),
    "in_octets": parse_oid("1.3.6.1.2.1.31.1.1.1.6"),  # ifHCInOctets
    "out_octets": parse_oid("1.3.6.1.2.1.31.1.1.1.10"),  # ifHCOutOctets
    "high_speed": parse_oid("1.3.6.1.2.1.31.1.1.1.15"),  # ifHighSpeed (Mbit/s)
}
IF_NAME = parse_oid("1.3.6.1.2.1.31.1.1.1.1")
IF_ALIAS = parse_oid("1.3.6.1.2.1.31.1.1.1.18")
SYS_OBJECT_ID = parse_oid("1.3.6.1.2.1.1.2.0")
SYS_UPTIME = parse_oid("1.3.6.1.2.1.1.3.0")

# ENTITY-MIB entPhysicalEntry 1.3.6.1.2.1.47.1.1.1.1 and entAliasMappingIdentifier
ENT_PHYSICAL: dict[str, Oid] = {
    "descr": parse_oid("1.3.6.1.2.1.47.1.1.1.1.2"),
    "contained_in": parse_oid("1.3.6.1.2.1.47.1.1.1.1.4"),
    "class": parse_oid("1.3.6.1.2.1.47.1.1.1.1.5"),
    "name": parse_oid("1.3.6.1.2.1.47.1.1.1.1.7"),
    "hw_rev": parse_oid("1.3.6.1.2.1.47.1.1.1.1.8"),
    "sw_rev": parse_oid("1.3.6.1.2.1.47.1.1.1.1.10"),
    "serial": parse_oid("1.3.6.1.2.1.47.1.1.1.1.11"),
    "model": parse_oid("1.3.6.1.2.1.47.1.1.1.1.13"),
}
ENT_ALIAS = parse_oid("1.3.6.1.2.1.47.1.3.2.1.2")
ENT_CLASS_CHASSIS = 3
CLASS_FIELDS = {6: HealthField.PSU, 7: HealthField.FAN}
"""entPhysicalClass powerSupply(6) and fan(7): where an entity's state (ENTITY_STATE) goes."""


def vendor_for(sys_object_id: Oid | None) -> Vendor | None:
    """The vendor whose enterprise prefix sysObjectID starts with (None: IF/ENTITY-MIB only).

    >>> vendor_for(parse_oid("1.3.6.1.4.1.2011.2.23.291")).name
    'huawei'
    >>> vendor_for(parse_oid("1.3.6.1.4.1.8072.3.2.10")) is None
    True
    """
    if sys_object_id is None:
        return None
    for vendor in VENDORS:
        if sys_object_id[: len(vendor.enterprise)] == vendor.enterprise:
            return vendor
    return None


def by_name(name: str) -> Vendor | None:
    return next((v for v in VENDORS if v.name == name), None)


def convert(scale: Scale, raw: int) -> float | None:
    """A raw reading in the metric's base unit; None when it means "no reading".

    >>> convert(Scale.PERCENT, 37), convert(Scale.DBM_X100, -734), convert(Scale.DBM_X100, 2147483647)
    (0.37, -7.34, None)
    >>> convert(Scale.UW_OR_DBM_X100, 1000), convert(Scale.UW_OR_DBM_X100, -250)
    (0.0, -2.5)
    >>> convert(Scale.UW_OR_DBM_X100, -1), convert(Scale.HW_DBM_X100, -1), convert(Scale.DBM_X100, -1)
    (None, None, -0.01)
    >>> convert(Scale.TENTH_UW, 316), convert(Scale.STATE_OK, 1), convert(Scale.STATE_OK, 3)
    (-15.0, 1.0, 0.0)
    >>> [convert(Scale.SUPPLY_STATE, raw) for raw in (1, 2, 3, 4)]   # supply, notSupply, sleep, unknown
    [1.0, 0.0, 1.0, None]
    >>> [convert(Scale.ERROR_STATUS, raw) for raw in (1, 2, 4, 41, 51)]
    [None, 1.0, None, 0.0, 0.0]
    """
    if (raw in INVALID and scale is not Scale.BYTES) or (raw == HW_NO_MODULE and scale in HW_OPTICAL_SCALES):
        return None
    if scale in (Scale.PERCENT, Scale.DBM_X100, Scale.HW_DBM_X100):
        return raw / 100
    if scale is Scale.UW_OR_DBM_X100:
        return _uw_to_dbm(raw) if raw > 0 else raw / 100
    if scale is Scale.TENTH_UW:
        return _uw_to_dbm(raw / 10) if raw > 0 else None
    if scale in (Scale.STATE_OK, Scale.SUPPLY_STATE, Scale.ERROR_STATUS):
        return _state(scale, raw)
    return float(raw)


def _state(scale: Scale, raw: int) -> float | None:
    """1.0 working, 0.0 failed, None no reading (an empty bay, an unknown state)."""
    if scale is Scale.SUPPLY_STATE:  # a sleeping supply is a standby by design, not a failure
        return {1: 1.0, 2: 0.0, 3: 1.0}.get(raw)
    if scale is Scale.ERROR_STATUS:  # fanError 41, psuError 51, rpsError 61, ...: failed
        return {1: None, 2: 1.0, 4: None}.get(raw, 0.0)
    return None if raw == NOT_PRESENT else 1.0 if raw == 1 else 0.0


def _uw_to_dbm(microwatts: float) -> float:
    return round(10 * math.log10(microwatts / 1000), 2)


def sensor_value(raw: int, scale: int, precision: int) -> float:
    """ENTITY-SENSOR-MIB: value × 10^(3·(scale − 9)) / 10^precision (scale 9 = units).

    >>> sensor_value(-2345, 9, 3), sensor_value(41, 9, 0)
    (-2.345, 41.0)
    """
    return raw * 10.0 ** (3 * (scale - 9)) / 10.0**precision
