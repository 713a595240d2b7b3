"""The health probe's pure parts: the GETBULK walker, settings, the plan cache, the collector."""

from __future__ import annotations

import asyncio
import dataclasses
import pickle
import subprocess
from array import array
from collections.abc import Mapping, Sequence

import pytest
from prometheus_client import CollectorRegistry, generate_latest

from govnet.errors import ConfigError
from govnet.probes.health import HealthSettings
from govnet.probes.health import page as health_page
from govnet.probes.health.cache import PlanCache
from govnet.probes.health.collector import HealthCollector, HealthState
from govnet.probes.health.defs import VENDORS, Scale, convert
from govnet.probes.health.model import Cell, HealthPlan
from govnet.probes.health.probe import dump_plan, health_probe, load_plan
from govnet.probes.health.readings import DeviceHealth, Entity, InterfaceHealth, Optics, Packed
from govnet.probes.health.walk import walk
from govnet.probes.snmp.ber import Missing, Oid, Response, Value
from govnet.probes.snmp.fast import SnmpError
from tests.exporters import promkit

A = (1, 3, 6, 1, 9, 1)
B = (1, 3, 6, 1, 9, 2)


class Agent:
    """A GETBULK answerer over a sorted dict, with endOfMibView past the last OID."""

    def __init__(self, rows: dict[Oid, Value], repetitions: int) -> None:
        self.rows = dict(sorted(rows.items()))
        self.repetitions = repetitions
        self.requests: list[list[Oid]] = []

    def _next(self, oid: Oid) -> tuple[Oid, Value]:
        return next(((k, v) for k, v in self.rows.items() if k > oid), (oid, Missing.END_OF_MIB_VIEW))

    async def bulk(self, oids: Sequence[Oid]) -> Response:
        self.requests.append(list(oids))
        cursors = list(oids)
        varbinds: list[tuple[Oid, Value]] = []
        for _ in range(self.repetitions):
            for i, cursor in enumerate(cursors):
                oid, value = self._next(cursor)
                varbinds.append((oid, value))
                cursors[i] = oid
        return Response(1, 0, 0, varbinds)


def test_walk_takes_several_columns_per_request_and_stops_at_each_end() -> None:
    rows: dict[Oid, Value] = {(*A, i): i for i in range(1, 8)} | {(*B, 5): b"x", (*B, 6): b"y"}
    agent = Agent(rows, repetitions=3)
    table = asyncio.run(walk(agent.bulk, [A, B, (1, 3, 6, 1, 9, 3)]))
    assert table[A] == {(i,): i for i in range(1, 8)}
    assert table[B] == {(5,): b"x", (6,): b"y"}
    assert table[(1, 3, 6, 1, 9, 3)] == {}  # a table the agent lacks: empty, no error
    assert agent.requests[0] == [A, B, (1, 3, 6, 1, 9, 3)]
    assert agent.requests[1:] == [[(*A, 3)], [(*A, 6)]]  # the ended columns left the request


def test_walk_refuses_an_agent_that_goes_backwards() -> None:
    async def looping(oids: Sequence[Oid]) -> Response:
        return Response(1, 0, 0, [((*A, 2), 1), ((*A, 1), 1)])

    with pytest.raises(SnmpError, match="out of order"):
        asyncio.run(walk(looping, [A]))


def test_walk_is_bounded_in_requests() -> None:
    count = 0

    async def endless(oids: Sequence[Oid]) -> Response:
        nonlocal count
        count += 1
        return Response(1, 0, 0, [((*A, count), count)])

    with pytest.raises(SnmpError, match="did not end"):
        asyncio.run(walk(endless, [A]))


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"timeout": 0}, "timeout: must be a number from 0.001 to 3600, not 0"),
        ({"max_repetitions": 1000}, "max_repetitions: must be an integer from 1 to 200, not 1000"),
        ({"acess_ports": True}, "acess_ports: unknown health setting(s): acess_ports"),
        (
            {"access_ports": "sometimes"},
            "access_ports: input should be a valid boolean, unable to interpret input",
        ),
    ],
)
def test_bad_settings_are_one_clear_line(settings: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        HealthSettings.parse(settings)
    assert str(caught.value).splitlines() == [message]


def test_the_probe_is_built_from_its_settings() -> None:
    probe = health_probe({"access_ports": True})
    assert getattr(probe, "settings").access_ports is True  # noqa: B009


def test_every_vendor_column_is_unique_and_scaled() -> None:
    for vendor in VENDORS:
        oids = [c.oid for c in vendor.columns]
        assert len(oids) == len(set(oids)), vendor.name
        assert all(c.index in ("entity", "port", "ifindex", "own") for c in vendor.columns)
    assert convert(Scale.UW_OR_DBM_X100, 2147483647) is None
    assert convert(Scale.STATE_OK, 5) is None  # notPresent: an empty bay, not a failure


def test_plan_cache_rediscovers_after_a_trap_only_once() -> None:
    cache: PlanCache[str] = PlanCache(interval=0)
    cache.store("a", "p1", 0.0, 100)
    assert cache.reason("a", 10_000.0, 200) is None  # interval 0: never on a schedule
    cache.flag("a", "trap coldStart")
    assert cache.reason("a", 1.0, 200) == "trap coldStart"
    cache.store("a", "p2", 2.0, 200)
    assert cache.reason("a", 3.0, 300) is None
    cache.forget(set())
    assert len(cache) == 0


@dataclasses.dataclass(frozen=True)
class Plain:
    """A unit's readings as dicts and tuples, as ``DeviceHealth`` held them before it was packed:
    the reference the packed form must expose exactly (the collector and the page read either)."""

    unit: str
    vendor: str
    cpu: Mapping[str, float] = dataclasses.field(default_factory=dict)
    memory: Mapping[str, float] = dataclasses.field(default_factory=dict)
    temperature: Mapping[str, float] = dataclasses.field(default_factory=dict)
    fans: Mapping[str, float] = dataclasses.field(default_factory=dict)
    psus: Mapping[str, float] = dataclasses.field(default_factory=dict)
    optics: tuple[Optics, ...] = ()
    interfaces: tuple[InterfaceHealth, ...] = ()
    entities: tuple[Entity, ...] = ()
    expected: Mapping[str, str] = dataclasses.field(default_factory=dict)

    def mismatches(self) -> dict[str, bool]:
        return self.packed().mismatches()

    def packed(self) -> DeviceHealth:
        fields = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        return DeviceHealth(**fields)


CHASSIS = Entity(1, "chassis", "S5720", 3, "S5720-56C", "SN1", "VER.B", "V200")


def plain_sample() -> Plain:
    return Plain(
        "sw-1",
        "huawei",
        cpu={"MPU": 0.5},
        memory={"MPU": 0.25},
        temperature={"MPU": 40.0},
        fans={"0.0": 1.0},
        psus={"PSU 1": 0.0},
        optics=(Optics("XGE0/0/1", -7.5, -2.0, -20.0, 0.5, -8.0, 1.0),),
        interfaces=(InterfaceHealth("XGE0/0/1", {"in_errors": 3, "out_errors": 0, "high_speed": 10000}),),
        entities=(CHASSIS,),
        expected={"model": "S5720-56C", "serial": "SN2"},
    )


def sample() -> DeviceHealth:
    return plain_sample().packed()


@pytest.mark.lab
def test_exposition_passes_promtool_check_metrics() -> None:
    state = HealthState()
    state.update([("sw-1", sample())])
    registry = CollectorRegistry()
    registry.register(HealthCollector(state))
    text = generate_latest(registry)
    promtool = subprocess.run(
        [promkit.promtool(), "check", "metrics"], input=text, capture_output=True, check=False
    )
    assert promtool.returncode == 0, promtool.stdout + promtool.stderr
    exposition = text.decode()
    assert 'govnet_device_inventory_mismatch{field="serial",unit="sw-1"} 1.0' in exposition
    assert 'govnet_device_inventory_mismatch{field="model",unit="sw-1"} 0.0' in exposition
    assert 'govnet_interface_speed_bytes_per_second{ifname="XGE0/0/1",unit="sw-1"} 1.25e+09' in exposition
    state.update([("sw-1", None)])
    assert "sw-1" not in generate_latest(registry).decode()  # a silent unit keeps no stale values


def test_status_page_section_lists_devices_with_a_problem_escaped() -> None:
    bad = sample()  # PSU failed, serial differs
    good = DeviceHealth("sw-2", "h3c", cpu={"Board 1": 0.1})
    text = health_page.section({"sw-<1>": bad, "sw-2": good})
    assert "2 devices polled, 1 with a problem." in text
    assert "<td>sw-&lt;1&gt;</td>" in text and "sw-2" not in text.split("</p>", 1)[1]
    assert "power supply PSU 1 failed; installed serial differs from the inventory" in text
    assert "with a problem." in health_page.section({}) and "<table>" not in health_page.section({})


def plain_samples() -> dict[str, Plain]:
    """Units whose layouts differ: groups of several labels, optics with readings missing, counters
    at 2**64 - 1, values no array holds (an int reading, a negative Integer32), nothing at all."""
    top = 2**64 - 1
    wide = Plain(
        "sw-2",
        "h3c",
        cpu={"Board 1": 0.1, "Board 2": 0.97},
        temperature={"Board 1": 41.0, "Board 2": 75.5, "PSU": 30.0},
        psus={"PSU 1": 1.0, "PSU 2": 0.0},
        optics=(
            Optics("GE1/0/49", -30.5, None, -20.0),
            Optics("GE1/0/50", None, -2.5, None, None, -9.0, 1.5),
        ),
        interfaces=(
            InterfaceHealth("GE1/0/49", {"in_octets": top, "out_octets": 0, "last_change": 12}),
            InterfaceHealth("GE1/0/50", {"in_errors": 7, "high_speed": 1000}),
        ),
        entities=(CHASSIS, Entity(9, "PSU 1", "", 6, "PSR150", "SN9", "", "")),
    )
    odd = Plain(
        "sw-3",
        "cisco",
        fans={"Fan 1": 1},  # an int: kept exactly, not as an array
        interfaces=(InterfaceHealth("Gi0/1", {"last_change": -5, "in_errors": 1}),),
    )
    return {"sw-1": plain_sample(), "sw-2": wide, "sw-3": odd, "sw-4": Plain("sw-4", "")}


def render(devices: Mapping[str, DeviceHealth | Plain]) -> bytes:
    registry = CollectorRegistry()
    registry.register(HealthCollector(devices))  # type: ignore[arg-type]  # Plain reads like DeviceHealth
    return generate_latest(registry)


def test_packed_readings_expose_exactly_what_dicts_do() -> None:
    plain = plain_samples()
    compact = {unit: health.packed() for unit, health in plain.items()}
    assert render(compact) == render(plain)
    assert health_page.section(compact) == health_page.section(plain)  # type: ignore[arg-type]
    for unit, health in compact.items():
        reference = plain[unit]
        assert (health.unit, health.vendor, health.entities) == (
            reference.unit,
            reference.vendor,
            reference.entities,
        )
        assert health.optics == reference.optics and health.interfaces == reference.interfaces
        for group in ("cpu", "memory", "temperature", "fans", "psus"):
            assert dict(getattr(health, group)) == getattr(reference, group), (unit, group)
        assert pickle.loads(pickle.dumps(health)) == health
    wide = compact["sw-2"]
    assert isinstance(wide.readings, array) and isinstance(wide.counters, array)
    assert wide.interfaces[0].values["in_octets"] == 2**64 - 1  # counters stay exact
    assert compact["sw-3"].fans["Fan 1"] == 1 and type(compact["sw-3"].fans["Fan 1"]) is int
    with pytest.raises(KeyError):
        wide.cpu["no such board"]


def test_units_of_one_layout_share_every_name() -> None:
    first = dataclasses.replace(plain_sample(), unit="a" + str(len("x"))).packed()
    second = dataclasses.replace(plain_sample(), unit="b", cpu={"MP" + "U": 0.75}).packed()
    assert first.layout is second.layout  # labels, names and which readings: once per layout
    assert pickle.loads(pickle.dumps(second)).layout is first.layout
    assert second.cpu == {"MPU": 0.75} and first.cpu == {"MPU": 0.5}
    other = dataclasses.replace(plain_sample(), unit="c", cpu={"LPU " + str(len("x")): 0.1}).packed()
    assert other.layout is not first.layout and next(iter(other.cpu)) == "LPU 1"
    assert isinstance(first.cpu, Packed) and pickle.loads(pickle.dumps(first.cpu)) == first.cpu


def test_a_reloaded_plan_shares_its_strings_between_units() -> None:
    column = VENDORS[0].columns[0]
    plan = HealthPlan(
        VENDORS[0],
        {2: "XGE0/0/1"},
        [Cell(column, (7,), "MPU " + "Board 0")],
        (Entity(1, "chassis", "S5720", 3, "S5720-" + "56C", "SN1", "VER.B", "V200"),),
        {},
    )
    first, second = load_plan(dump_plan(plan)), load_plan(dump_plan(plan))
    assert first.cells == plan.cells and first.entities == plan.entities
    assert first.cells[0].label is second.cells[0].label
    stored = dump_plan(plan)
    assert load_plan(stored).entities is load_plan(stored).entities  # kept live: each cycle shares them
    assert dump_plan(dataclasses.replace(plan, entities=())).blob is stored.blob  # identical plans: one blob
    one, two = (load_plan(pickle.loads(pickle.dumps(stored))) for _ in range(2))  # from a forked discovery
    assert one.entities == plan.entities and one.entities[0].model is two.entities[0].model
