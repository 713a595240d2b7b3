"""Discovery (walked tables -> ``HealthPlan``) and reading (one cycle's GET answers -> ``DeviceHealth``).

Which rows are kept at discovery follows what each vendor's table means: a Huawei board whose
CPU threshold is 0 has no CPU; an H3C entity reporting CPU 0 is not a processor; a temperature
of 0 or a "no reading" marker is no sensor; optics are kept only on the polled interfaces
(uplinks, or every port with ``access_ports``), so cardinality follows the inventory.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

from govnet.probes.health.defs import (
    CLASS_FIELDS,
    ENT_ALIAS,
    ENT_CLASS_CHASSIS,
    ENT_PHYSICAL,
    IF_COLUMNS,
    SENSOR_CELSIUS,
    SENSOR_DBM,
    HealthField,
    Vendor,
    VendorColumn,
    as_field,
    convert,
    sensor_value,
)
from govnet.probes.health.model import (
    POLLED,
    THRESHOLDS,
    Cell,
    HealthPlan,
    _int,
    _text,
    entities,
    port_ifindex,
)
from govnet.probes.health.readings import EMPTY_EXPECTED, DeviceHealth, Entity, InterfaceHealth, Optics
from govnet.probes.health.walk import Table
from govnet.probes.snmp.ber import Missing, Oid, Value


def discovery_columns(vendor: Vendor | None) -> list[Oid]:
    """Every column discovery walks: ENTITY-MIB, the alias mapping and the vendor's tables."""
    columns = [*ENT_PHYSICAL.values(), ENT_ALIAS]
    if vendor is not None:
        columns += [c.oid for c in vendor.columns if c.oid not in columns]
    return columns


def discover(vendor: Vendor | None, table: Table, polled: Mapping[int, str]) -> HealthPlan:
    """The plan for a unit whose tables were walked; ``polled`` is ifIndex -> ifName to watch."""
    ents = entities(table)
    to_if = port_ifindex(table)
    kept = tuple(e for e in ents.values() if e.serial or e.cls == ENT_CLASS_CHASSIS)  # the asset list
    plan = HealthPlan(vendor, dict(polled), [], kept, {})
    if vendor is None:
        return plan
    names = _own_names(vendor, table)
    for column in vendor.columns:
        if column.field in POLLED and column.field is not HealthField.SENSOR_VALUE:
            for index, value in sorted(table.get(column.oid, {}).items()):
                label = _label(column, index, ents, to_if, polled, names)
                if label is not None and _keep(vendor, column, index, value, table):
                    plan.cells.append(Cell(column, index, label))
        elif column.field in THRESHOLDS:
            for index, value in table.get(column.oid, {}).items():
                label = _label(column, index, ents, to_if, polled, names)
                raw = _int(value)
                if label is not None and raw is not None and (dbm := convert(column.scale, raw)) is not None:
                    plan.thresholds.setdefault(label, {})[column.field] = dbm
        elif column.field is HealthField.ENTITY_STATE:
            plan.cells += _entity_states(column, table, ents)
        elif column.field is HealthField.SYSTEM_MODEL:
            plan.entities = _chassis_model(plan.entities, _text(table.get(column.oid, {}).get((0,), b"")))
    _discover_sensors(vendor, table, plan, ents, to_if, polled)
    return plan


def _entity_states(column: VendorColumn, table: Table, ents: Mapping[int, Entity]) -> list[Cell]:
    """An entity state column's rows of fans and power supplies (by entPhysicalClass), as FAN / PSU
    cells named after the entity; other classes' rows (boards, ports) are not watched here."""
    out = []
    for index, value in sorted(table.get(column.oid, {}).items()):
        entity = ents.get(index[0]) if len(index) == 1 else None
        field = CLASS_FIELDS.get(entity.cls) if entity is not None else None
        raw = _int(value)
        if (
            entity is not None
            and field is not None
            and raw is not None
            and convert(column.scale, raw) is not None
        ):
            out.append(
                Cell(as_field(column, field), index, entity.name or entity.descr or f"entity {index[0]}")
            )
    return out


def _chassis_model(kept: tuple[Entity, ...], model: str) -> tuple[Entity, ...]:
    """The chassis rows with ``model`` where entPhysicalModelName is empty (Huawei S-series leave
    it empty on every row: without this every real S5720 differs from its inventory model)."""
    if not model:
        return kept
    return tuple(replace(e, model=model) if e.cls == ENT_CLASS_CHASSIS and not e.model else e for e in kept)


def _own_names(vendor: Vendor, table: Table) -> dict[Oid, dict[Oid, str]]:
    """For ``own``-indexed tables: the table's entry OID -> row index -> its NAME column."""
    out: dict[Oid, dict[Oid, str]] = {}
    for column in vendor.of(HealthField.NAME):
        out[column.oid[:-1]] = {index: _text(v) for index, v in table.get(column.oid, {}).items()}
    return out


def _label(
    column: VendorColumn,
    index: Oid,
    ents: Mapping[int, object],
    to_if: Mapping[int, int],
    polled: Mapping[int, str],
    names: Mapping[Oid, Mapping[Oid, str]],
) -> str | None:
    """The row's name, or None when the row is not watched (an optic on an unpolled port)."""
    if column.index == "ifindex":
        return polled.get(index[0]) if len(index) == 1 else None
    if column.index == "port":
        ifindex = to_if.get(index[0]) if len(index) == 1 else None
        return polled.get(ifindex) if ifindex is not None else None
    if column.index == "entity" and len(index) == 1:
        entity = ents.get(index[0])
        name = getattr(entity, "name", "") or getattr(entity, "descr", "")
        return name or f"entity {index[0]}"
    own = names.get(column.oid[:-1], {}).get(index, "")
    return own or ".".join(map(str, index))


def _keep(vendor: Vendor, column: VendorColumn, index: Oid, value: Value, table: Table) -> bool:
    raw = _int(value)
    if raw is None or convert(column.scale, raw) is None:
        return False
    if column.field in (HealthField.CPU, HealthField.MEMORY) and column.index == "entity":
        gate = vendor.of(HealthField.CPU_THRESHOLD)
        if gate:  # Huawei: only boards with a CPU threshold have a CPU
            return (_int(table.get(gate[0].oid, {}).get(index)) or 0) > 0
        return raw != 0  # H3C: non-processor entities report 0
    if column.field is HealthField.TEMPERATURE:
        return raw != 0
    return True


def _discover_sensors(
    vendor: Vendor,
    table: Table,
    plan: HealthPlan,
    ents: Mapping[int, object],
    to_if: Mapping[int, int],
    polled: Mapping[int, str],
) -> None:
    """ENTITY-SENSOR-MIB rows that are temperatures (named by entity) or optical power on a
    polled port (Cisco names them "... Receive Power Sensor" / "... Transmit Power Sensor")."""
    value_columns = vendor.of(HealthField.SENSOR_VALUE)
    if not value_columns:
        return
    meta = {
        f: vendor.of(f)[0].oid
        for f in (HealthField.SENSOR_TYPE, HealthField.SENSOR_SCALE, HealthField.SENSOR_PRECISION)
    }
    optical: dict[int, tuple[str, str]] = {}
    for index, kind in table.get(meta[HealthField.SENSOR_TYPE], {}).items():
        if len(index) != 1 or _int(kind) not in (SENSOR_CELSIUS, SENSOR_DBM):
            continue
        entity = index[0]
        scale = _int(table.get(meta[HealthField.SENSOR_SCALE], {}).get(index)) or 9
        precision = _int(table.get(meta[HealthField.SENSOR_PRECISION], {}).get(index)) or 0
        name = getattr(ents.get(entity), "name", "") or f"entity {entity}"
        ifindex = to_if.get(entity)
        if ifindex is not None and ifindex not in polled:
            continue  # a transceiver's sensor on a port nobody polls
        if kind == SENSOR_DBM:
            if ifindex is None:
                continue
            direction = "tx" if any(w in name.lower() for w in ("transmit", " tx")) else "rx"
            label = f"{polled[ifindex]}|{direction}"
            optical[entity] = (polled[ifindex], direction)
        else:
            label = name
        plan.sensors[entity] = (int(kind), scale, precision)  # type: ignore[arg-type]
        plan.cells.append(Cell(value_columns[0], index, label))
    _sensor_thresholds(vendor, table, plan, optical)


ALARM_RANK = {30: 2, 20: 1}
"""entSensorThresholdSeverity critical(30), else major(20), is the alarm (minor(10): a warning)."""
LIMITS = {
    ("rx", True): HealthField.RX_LOW,
    ("rx", False): HealthField.RX_HIGH,
    ("tx", True): HealthField.TX_LOW,
    ("tx", False): HealthField.TX_HIGH,
}


def _sensor_thresholds(
    vendor: Vendor, table: Table, plan: HealthPlan, optical: Mapping[int, tuple[str, str]]
) -> None:
    """Cisco transceivers' alarm thresholds (CISCO-ENTITY-SENSOR-MIB entSensorThresholdTable) of
    the polled ports' optical sensors: per port and direction, the critical threshold (the major
    one without it) whose relation is less (low alarm) or greater (high alarm)."""
    fields = (
        HealthField.THRESHOLD_SEVERITY,
        HealthField.THRESHOLD_RELATION,
        HealthField.THRESHOLD_VALUE,
        HealthField.THRESHOLD_SCALE,
        HealthField.THRESHOLD_PRECISION,
    )
    columns = [vendor.of(f) for f in fields]
    if not all(columns) or not optical:
        return
    severity, relation, value, scales, precisions = (table.get(c[0].oid, {}) for c in columns)
    best: dict[tuple[str, HealthField], tuple[int, float]] = {}
    for index, raw in value.items():
        rank = ALARM_RANK.get(_int(severity.get(index)) or 0)
        rel, number = _int(relation.get(index)), _int(raw)
        if (
            len(index) != 2
            or index[0] not in optical
            or rank is None
            or number is None
            or rel not in (1, 2, 3, 4)
        ):
            continue
        ifname, direction = optical[index[0]]
        scale = _int(scales.get(index[:1])) or 9
        dbm = round(sensor_value(number, scale, _int(precisions.get(index[:1])) or 0), 3)
        key = (ifname, LIMITS[(direction, rel in (1, 2))])
        if key not in best or rank > best[key][0]:
            best[key] = (rank, dbm)
    for (ifname, field), (_, dbm) in best.items():
        plan.thresholds.setdefault(ifname, {})[field] = dbm


def read(
    plan: HealthPlan, unit: str, values: Mapping[Oid, Value], expected: Mapping[str, str]
) -> DeviceHealth:
    """One cycle's answers (OID -> value) as the device's health."""
    groups: dict[HealthField, dict[str, float]] = {f: {} for f in POLLED}
    optics: dict[str, dict[str, float]] = {}
    pools: dict[str, dict[HealthField, float]] = {}
    for cell in plan.cells:
        raw = _int(values.get(cell.oid))
        if raw is None:
            continue
        f = cell.column.field
        if f is HealthField.SENSOR_VALUE:
            kind, scale, precision = plan.sensors[cell.index[0]]
            reading = round(sensor_value(raw, scale, precision), 3)
            if kind == SENSOR_DBM:
                ifname, _, direction = cell.label.rpartition("|")
                optics.setdefault(ifname, {})[direction] = reading
            else:
                groups[HealthField.TEMPERATURE][cell.label] = reading
            continue
        converted = convert(cell.column.scale, raw)
        if converted is None:
            continue
        if f in (HealthField.RX_POWER, HealthField.TX_POWER):
            optics.setdefault(cell.label, {})["rx" if f is HealthField.RX_POWER else "tx"] = converted
        elif f in (HealthField.MEMORY_USED, HealthField.MEMORY_FREE):
            pools.setdefault(cell.label, {})[f] = converted
        else:
            groups[f][cell.label] = converted
    for pool, parts in pools.items():
        total = parts.get(HealthField.MEMORY_USED, 0.0) + parts.get(HealthField.MEMORY_FREE, 0.0)
        if HealthField.MEMORY_USED in parts and total > 0:
            groups[HealthField.MEMORY][pool] = round(parts[HealthField.MEMORY_USED] / total, 4)
    return DeviceHealth(
        unit,
        plan.vendor.name if plan.vendor else "",
        cpu=groups[HealthField.CPU],
        memory=groups[HealthField.MEMORY],
        temperature=groups[HealthField.TEMPERATURE],
        fans=groups[HealthField.FAN],
        psus=groups[HealthField.PSU],
        optics=_optics(plan, optics),
        interfaces=_interfaces(plan, values),
        entities=plan.entities,
        expected=expected or EMPTY_EXPECTED,
    )


def _optics(plan: HealthPlan, readings: Mapping[str, Mapping[str, float]]) -> tuple[Optics, ...]:
    out = []
    for ifname in sorted(readings):
        limits = plan.thresholds.get(ifname, {})
        out.append(
            Optics(
                ifname,
                readings[ifname].get("rx"),
                readings[ifname].get("tx"),
                limits.get(HealthField.RX_LOW),
                limits.get(HealthField.RX_HIGH),
                limits.get(HealthField.TX_LOW),
                limits.get(HealthField.TX_HIGH),
            )
        )
    return tuple(out)


def _interfaces(plan: HealthPlan, values: Mapping[Oid, Value]) -> tuple[InterfaceHealth, ...]:
    out = []
    for index, name in sorted(plan.interfaces.items()):
        row = {}
        for column, oid in IF_COLUMNS.items():
            raw = _int(values.get((*oid, index)))
            if raw is not None:
                row[column] = raw
        if row:
            out.append(InterfaceHealth(name, row))
    return tuple(out)


def absent(values: Mapping[Oid, Value], oids: Sequence[Oid]) -> list[Oid]:
    """The polled OIDs the agent no longer has (a module pulled, an interface gone)."""
    return [oid for oid in oids if isinstance(values.get(oid), Missing)]
