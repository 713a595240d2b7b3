"""The ``health`` probe: CPU, memory, temperatures, fans, power supplies, optics and interface
errors of every unit, at the cost of one or two GETs per unit per cycle.

Per unit, discovery walks (GETBULK) ifName, ENTITY-MIB and the vendor's tables (``defs``) and
keeps a ``HealthPlan``: the cells to GET each cycle for the inventory's uplinks (every port with
``access_ports``). ``PlanCache`` decides when to walk again. v2c goes over the shared fast
socket (``snmp_fast``), v3 over the pysnmp engine, exactly as the ``snmp`` probe.

Target params: those of the ``snmp`` probe (``version``, ``community``, v3 user and keys),
``uplinks`` (interface names always polled), ``vendor`` (huawei, h3c or cisco, overriding the
sysObjectID), ``model`` / ``serial`` (the inventory's, compared with ENTITY-MIB).
"""

from __future__ import annotations

import asyncio
import dataclasses
import pickle
import threading
import time
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from govnet.osutil.forked import ChildFailed, in_child
from govnet.probes.base import ProbeResult, Target
from govnet.probes.health.cache import PlanCache
from govnet.probes.health.defs import IF_NAME, SYS_OBJECT_ID, SYS_UPTIME, Vendor, by_name, vendor_for
from govnet.probes.health.model import HealthPlan
from govnet.probes.health.plan import absent, discover, discovery_columns, read
from govnet.probes.health.readings import EMPTY_READINGS, DeviceHealth, Entity, shared
from govnet.probes.health.settings import HealthSettings
from govnet.probes.health.walk import Exchange, get_cells, walk
from govnet.probes.snmp.ber import Oid, Value
from govnet.probes.snmp.engine import V3_IN_FLIGHT, EngineClient
from govnet.probes.snmp.fast import SnmpError, V2cClient
from govnet.probes.snmp.plan import decode_text
from govnet.probes.snmp.settings import Access

PROBE = "health"
CHUNK = 512
FORGET_AFTER = 86400.0
"""Units no cycle has asked about for this long (inventory changed, shard moved) are forgotten."""
FORK_AT = 64
"""Units due for discovery from which a cycle walks them in a forked child (fewer: in process)."""


@dataclass(frozen=True, slots=True)
class HealthReading(ProbeResult):
    """The ``ProbeResult`` ``run`` gives the daemon, carrying the health (None: no answer)."""

    health: DeviceHealth | None = None


@dataclass(frozen=True, slots=True)
class HealthResult:
    """What the probe saw of one unit: the usual result, and the health when it answered."""

    result: ProbeResult
    health: DeviceHealth | None


class HealthProbe:
    """Polls device health; one instance serves every segment's targets."""

    name = PROBE

    def __init__(self, settings: HealthSettings | None = None, fork_at: int | None = FORK_AT) -> None:
        self.settings = settings or HealthSettings()
        self.fork_at = fork_at
        """Discover this many due units or more in a forked child (None: never)."""
        self._v2c = V2cClient(self.settings.max_in_flight)
        self._v3 = EngineClient(min(self.settings.max_in_flight, V3_IN_FLIGHT))
        self.plans: PlanCache[StoredPlan] = PlanCache(self.settings.rediscover_seconds)
        """Each unit's plan, pickled (`dump_plan`): ~0.7 KB against ~7 KB of live objects."""

    async def run(self, targets: Sequence[Target], timeout: float) -> list[ProbeResult]:
        return [item.result for item in await self.poll(targets, timeout)]

    async def poll(self, targets: Sequence[Target], timeout: float) -> list[HealthResult]:
        """One ``HealthResult`` per target, in order, within ``timeout`` s.

        Targets run ``CHUNK`` at a time: 10,000 tasks at once (each with its discovery tables)
        would leave tens of MB fragmented behind for no speed gained past ``max_in_flight``."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + max(0.0, timeout - 0.01)
        await self._discover_forked(targets, deadline - loop.time())
        out: list[HealthResult] = []
        for start in range(0, len(targets), CHUNK):
            out += await self._chunk(targets[start : start + CHUNK], deadline - loop.time(), timeout)
        self.plans.prune(time.monotonic(), FORGET_AFTER)
        return out

    async def _chunk(self, targets: Sequence[Target], left: float, timeout: float) -> list[HealthResult]:
        tasks = [asyncio.ensure_future(self._one(target)) for target in targets]
        try:
            if tasks and left > 0:
                await asyncio.wait(tasks, timeout=left)
        finally:
            pending = [task for task in tasks if not task.done()]
            for task in pending:
                task.cancel()
            if pending:
                await asyncio.wait(pending)
        return [
            task.result()
            if not task.cancelled()
            else HealthResult(ProbeResult(PROBE, t, False, f"timeout: cycle deadline of {timeout:g} s"), None)
            for t, task in zip(targets, tasks, strict=True)
        ]

    async def _discover_forked(self, targets: Sequence[Target], budget: float) -> None:
        """Walk the units due for discovery in a forked child, keeping only the plans it hands back.

        Why: at 10,000 units the walks allocate ~100 MB of short-lived tables and tasks that
        CPython's allocator keeps once touched (the daemon's RSS would stay there), for ~20 MB
        of plans. The child discovers them exactly as this process would (a fresh probe with the
        same settings, its own sockets) and exits; a child that fails or overruns leaves them
        to this cycle's in-process discovery, as before."""
        now = time.monotonic()
        due = [t for t in targets if self.plans.reason(t.unit + "|" + t.address, now, None) is not None]
        if self.fork_at is None or len(due) < self.fork_at or budget <= 1.0:
            return
        settings = self.settings
        try:
            data = await in_child(
                lambda: _discover_bytes(settings, due, budget * 0.7), budget * 0.85, "health discovery"
            )
        except (ChildFailed, TimeoutError, OSError):
            return
        found: dict[str, tuple[StoredPlan, int | None]] = pickle.loads(data)  # noqa: S301 - our own child's
        now = time.monotonic()
        for key, (plan, uptime) in found.items():
            self.plans.store(key, share(plan), now, uptime)

    def flag(self, unit: str, address: str, why: str) -> None:
        """A trap about the unit (linkUp/Down, coldStart, entity change): walk again next cycle."""
        self.plans.flag(unit + "|" + address, why)

    async def close(self) -> None:
        self._v2c.close()
        self._v3.close()

    async def _one(self, target: Target) -> HealthResult:
        try:
            access = Access.from_params(target.params)
        except ValueError as exc:
            return HealthResult(ProbeResult(PROBE, target, False, f"bad SNMP params: {exc}"), None)
        exchange = self._exchange(target, access)
        try:
            health, note = await self._cycle(target, exchange)
        except SnmpError as exc:
            return HealthResult(ProbeResult(PROBE, target, False, str(exc), sent=exchange.sent), None)
        result = HealthReading(
            PROBE,
            target,
            True,
            note,
            sent=exchange.sent,
            received=exchange.answered,
            values=EMPTY_READINGS,  # not a new empty dict per unit and cycle
            health=health,
        )
        return HealthResult(result, health)

    def _exchange(self, target: Target, access: Access) -> Exchange:
        s = self.settings
        address = (target.address, target.port or 161)
        if access.community is not None:
            return Exchange(
                address,
                s.timeout,
                s.retries,
                s.max_repetitions,
                self._v2c,
                access.community,
                source=target.source,
            )
        return Exchange(
            address, s.timeout, s.retries, s.max_repetitions, v3=self._v3, credentials=access.credentials
        )

    async def _cycle(self, target: Target, exchange: Exchange) -> tuple[DeviceHealth, str]:
        key = target.unit + "|" + target.address
        stored = self.plans.get(key, time.monotonic())
        plan = load_plan(stored) if stored is not None else None
        known = len(plan.templates) if plan is not None else 0
        exchange.templates = plan.templates if plan is not None else None
        oids = [SYS_UPTIME, *(plan.oids() if plan is not None else [])]
        values = await get_cells(exchange.get, oids, self.settings.max_varbinds)
        uptime = _uptime(values)
        why = self.plans.reason(key, time.monotonic(), uptime)
        if plan is not None and why is None and (gone := absent(values, oids[1:])):
            why = f"{len(gone)} polled cell(s) vanished"
        if plan is None or why is not None:
            plan = await self._discover(target, exchange)
            exchange.templates = plan.templates
            values = await get_cells(exchange.get, [SYS_UPTIME, *plan.oids()], self.settings.max_varbinds)
            plan.unsupported.update(absent(values, plan.oids()))
            self.plans.store(key, dump_plan(plan), time.monotonic(), uptime)
        else:
            self.plans.seen(key, uptime)
            if len(plan.templates) != known:  # a GET encoded for the first time: keep it
                self.plans.replace(key, dump_plan(plan))
        expected = {k: str(target.params[k]) for k in ("model", "serial") if target.params.get(k)}
        note = f"tables rediscovered: {why}" if why and why != "first poll" else ""
        return read(plan, target.unit, values, expected), note

    async def _discover(self, target: Target, exchange: Exchange) -> HealthPlan:
        budget = self.settings.walk_seconds
        vendor = _vendor(target.params)
        if vendor is None and "vendor" not in target.params:
            found = await get_cells(exchange.get, [SYS_OBJECT_ID], 1)
            oid = found.get(SYS_OBJECT_ID)
            vendor = vendor_for(oid if isinstance(oid, tuple) else None)
        names = (await walk(exchange.bulk, [IF_NAME], budget))[IF_NAME]
        polled = _polled(names, target.params, self.settings.access_ports)
        tables = await walk(exchange.bulk, discovery_columns(vendor), budget)
        return discover(vendor, tables, polled)


class StoredPlan(NamedTuple):
    """A plan as the cache keeps it: pickled and compressed, but for its entities, kept live.

    Why the entities apart: they end up in every cycle's readings (the asset list, the mismatch
    check); live once per unit, each cycle's ``DeviceHealth`` refers to the same ones, where a
    reloaded copy per cycle made a new set per unit and cycle (two alive while a cycle replaces
    the last)."""

    blob: bytes
    entities: tuple[Entity, ...]


def dump_plan(plan: HealthPlan) -> StoredPlan:
    """A plan as the cache keeps it. Why pickled: a plan is ~100 small objects (cells, entities,
    thresholds, encoded GETs), ~7 KB live and ~0.7 KB pickled (vendor tables by reference); at
    10,000 units that is ~60 MB of the daemon's RSS. Loading one costs ~30 µs per unit and cycle.
    Compressed (zlib level 1): the OID tuples of cells and the encoded GET repeat long prefixes."""
    rest = dataclasses.replace(plan, entities=())
    blob = zlib.compress(pickle.dumps(rest, protocol=pickle.HIGHEST_PROTOCOL), 1)
    return share(StoredPlan(blob, plan.entities))


def share(stored: StoredPlan) -> StoredPlan:
    """``stored`` with its blob the one already kept for an identical plan, if any. Why: units of
    one model with the same uplink, thresholds and community have byte-identical plans (but for
    their entities, kept apart); 10,000 of them then keep a few blobs, not 10,000."""
    return StoredPlan(shared(stored.blob), stored.entities)


def load_plan(stored: StoredPlan) -> HealthPlan:
    plan = pickle.loads(zlib.decompress(stored.blob))  # noqa: S301 - written by dump_plan in this process or its child
    assert isinstance(plan, HealthPlan)
    plan.entities = stored.entities
    return plan


def _vendor(params: Mapping[str, Any]) -> Vendor | None:
    name = params.get("vendor")
    return by_name(str(name)) if name else None


def _uptime(values: Mapping[Oid, Value]) -> int | None:
    value = values.get(SYS_UPTIME)
    return value if isinstance(value, int) else None


def _polled(names: Mapping[Oid, Value], params: Mapping[str, Any], access_ports: bool) -> dict[int, str]:
    """ifIndex -> ifName of the interfaces to poll: the uplinks, or all with ``access_ports``."""
    uplinks = set(params.get("uplinks") or ())
    out: dict[int, str] = {}
    for index, value in names.items():
        name = decode_text(value) if isinstance(value, bytes) else ""
        if len(index) == 1 and name and (access_ports or name in uplinks):
            out[index[0]] = name
    return out


def _discover_bytes(settings: HealthSettings, targets: Sequence[Target], budget: float) -> bytes:
    """In the forked child: one cycle of a fresh probe over ``targets``; its plans, pickled.

    The fork happened inside the parent's running event loop, so the child's own loop runs in a
    thread of its own (this thread still counts as running the parent's)."""
    out: list[bytes] = []

    async def discover() -> dict[str, tuple[StoredPlan, int | None]]:
        probe = HealthProbe(settings, fork_at=None)
        try:
            await probe.poll(targets, budget)
        finally:
            await probe.close()
        return probe.plans.plans()

    def run() -> None:
        out.append(pickle.dumps(asyncio.run(discover()), protocol=pickle.HIGHEST_PROTOCOL))

    thread = threading.Thread(target=run, name="health-discovery")
    thread.start()
    thread.join()
    if not out:
        raise RuntimeError("health discovery failed in the child")
    return out[0]


def health_probe(settings: Mapping[str, Any]) -> HealthProbe:
    """``HealthProbe(HealthSettings.parse(settings))``."""
    return HealthProbe(HealthSettings.parse(settings))
