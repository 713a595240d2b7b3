"""The ``snmp`` probe: every unit's uptime and interface status, one GET per unit per cycle.

What it reports: ``ProbeResult.uptime_seconds`` (sysUpTime, so the monitor can see reboots) and
``ProbeResult.interfaces`` (ifOperStatus, ifAdminStatus, octet counters, ifHighSpeed, ifAlias
of the interfaces named in ``Target.params["interfaces"]``, or of all of them).

How it stays cheap: the name → ifIndex map and the set of columns each interface really has
are learned once per unit (GETBULK walk of ifName, ifDescr when needed, then one trial GET
that falls back to 32-bit counters where the HC ones are missing) and cached in a ``RequestPlan``.
A steady-state cycle is then one prepared GET PDU per unit (more only past ``max_varbinds``).
The plan is rebuilt when sysUpTime goes backwards (the unit rebooted, ifIndex may have moved),
when a polled OID vanishes (noSuchInstance), when the target's params change, and every
``rediscover_seconds``.

Transports: SNMPv2c goes through ``govnet.probes.snmp.fast`` (hand-encoded BER on one UDP socket, several
thousand requests/s on one core); SNMPv3 through one pysnmp engine (``govnet.probes.snmp.engine``), because
USM must not be re-implemented. A timeout, an authentication failure or a broken agent is a
``ProbeResult`` with ``success=False`` and a ``detail``; credentials never appear in one.

Target params: ``version`` (``v2c`` default, or ``v3``), ``community`` (v2c), ``user``,
``auth_protocol`` (md5, sha, sha224, sha256, sha384, sha512), ``auth_key``, ``priv_protocol``
(des, 3des, aes, aes192, aes256, aes192-blumenthal, aes256-blumenthal), ``priv_key`` (v3), and
``interfaces`` (names; empty = all). Settings: see ``SnmpSettings``. Result ``values``:
``pdus`` (GETs in this unit's plan) and ``discovered`` (1 when the plan was (re)built this cycle).
Limits: v3 ignores ``Target.source``. An agent whose engine ID *changes* (a replaced device, a
reset agent) times out once: the timeout makes the engine forget the old ID and the next poll
discovers the new one (`EngineClient.forget_agent`).
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from govnet.probes.base import ProbeResult, Target
from govnet.probes.snmp.ber import GET, GETBULK, Missing, Oid, Response, Value, request_template
from govnet.probes.snmp.engine import V3_IN_FLIGHT, EngineClient, UsmCredentials
from govnet.probes.snmp.fast import Address, SnmpError, V2cClient
from govnet.probes.snmp.plan import (
    COLUMNS,
    IF_DESCR,
    IF_NAME,
    SHARED,
    Pdu,
    RequestPlan,
    Slot,
    absent,
    candidate_cells,
    decode_text,
    interface_statuses,
    read_answers,
    select_interfaces,
)
from govnet.probes.snmp.settings import Access, SnmpSettings

__all__ = ["PROBE", "Access", "SnmpProbe", "SnmpSettings"]

PROBE = "snmp"
TOO_BIG = 1
ERROR_STATUS = {1: "tooBig", 2: "noSuchName", 3: "badValue", 4: "readOnly", 5: "genErr", 6: "noAccess"}
MAX_WALK_REQUESTS = 1000
"""A walk that has not ended after this many GETBULKs is a looping agent, not a big table."""
FORGET_AFTER = 86400.0
"""Units no cycle has asked about for this long (inventory changed, shard moved) are forgotten."""


class _Session:
    """One unit's requests in one cycle: where to send them, and their count and round trips."""

    def __init__(self, address: Address, settings: SnmpSettings) -> None:
        self.address = address
        self.settings = settings
        self.sent = 0
        self.answered = 0
        self.rtt_total = 0.0

    async def get(self, pdu: Pdu) -> Response:
        raise NotImplementedError

    async def bulk(self, oid: Oid) -> Response:
        raise NotImplementedError

    def _count(self, exchange: tuple[Response, float]) -> Response:
        self.answered += 1
        self.rtt_total += exchange[1]
        return exchange[0]


class _V2cSession(_Session):
    def __init__(
        self,
        client: V2cClient,
        community: bytes,
        address: Address,
        settings: SnmpSettings,
        source: str | None,
    ) -> None:
        super().__init__(address, settings)
        self.client, self.community, self.source = client, community, source

    async def get(self, pdu: Pdu) -> Response:
        if pdu.template is None:  # once per plan; units alike share one encoded GET
            community, oids = self.community, tuple(pdu.oids)
            pdu.template = SHARED.keyed((community, oids), lambda: request_template(community, GET, oids))
        self.sent += 1
        s = self.settings
        return self._count(
            await self.client.request(self.address, pdu.template, s.timeout, s.retries, self.source)
        )

    async def bulk(self, oid: Oid) -> Response:
        s = self.settings
        template = request_template(self.community, GETBULK, [oid], 0, s.max_repetitions)
        self.sent += 1
        return self._count(
            await self.client.request(self.address, template, s.timeout, s.retries, self.source)
        )


class _V3Session(_Session):
    def __init__(
        self, client: EngineClient, credentials: UsmCredentials, address: Address, settings: SnmpSettings
    ) -> None:
        super().__init__(address, settings)
        self.client, self.credentials = client, credentials

    async def get(self, pdu: Pdu) -> Response:
        self.sent += 1
        s = self.settings
        return self._count(
            await self.client.request(self.credentials, self.address, pdu.oids, s.timeout, s.retries)
        )

    async def bulk(self, oid: Oid) -> Response:
        self.sent += 1
        s = self.settings
        exchange = await self.client.request(
            self.credentials, self.address, [oid], s.timeout, s.retries, s.max_repetitions
        )
        return self._count(exchange)


@dataclass(slots=True)
class _Unit:
    """What the probe remembers about one target between cycles."""

    params: Mapping[str, Any]
    access: Access
    address: Address | None = None
    plan: RequestPlan | None = None
    uptime: int | None = None
    seen: float = 0.0


Answers = tuple[int | None, dict[Slot, Value]]


class SnmpProbe:
    """Polls SNMP targets: v2c over one shared UDP socket, v3 over one pysnmp engine."""

    name = PROBE

    def __init__(self, settings: SnmpSettings | None = None) -> None:
        self.settings = settings or SnmpSettings()
        self._v2c = V2cClient(self.settings.max_in_flight)
        self._v3 = EngineClient(min(self.settings.max_in_flight, V3_IN_FLIGHT))
        self._units: dict[tuple[str, str, str, int | None], _Unit] = {}
        self._accesses: dict[Access, Access] = {}
        """One ``Access`` per distinct one (the daemon hands units alike one params mapping)."""
        self._pruned = time.monotonic()

    async def run(self, targets: Sequence[Target], timeout: float) -> list[ProbeResult]:
        """One result per target, in order, within ``timeout`` s (unfinished ones time out)."""
        self._forget_stale_units()
        tasks = [asyncio.ensure_future(self._poll(target)) for target in targets]
        if not tasks:
            return []
        try:
            await asyncio.wait(tasks, timeout=max(0.0, timeout - 0.01))
        finally:
            # at the deadline, and also when run() itself is cancelled (a reload, SIGTERM): no
            # per-target task may outlive the call and write into a socket closed under it
            pending = [task for task in tasks if not task.done()]
            for task in pending:
                task.cancel()
            if pending:
                await asyncio.wait(pending)
        return [
            task.result()
            if not task.cancelled()
            else ProbeResult(PROBE, target, False, f"timeout: cycle deadline of {timeout:g} s reached")
            for target, task in zip(targets, tasks, strict=True)
        ]

    async def close(self) -> None:
        self._v2c.close()
        self._v3.close()

    def forget_agent(self, host: str, port: int = 161) -> None:
        """An agent announced a restart: rediscover its SNMPv3 engine ID at the next request
        (v2c has nothing to forget; the interface plan is rebuilt when sysUpTime goes back)."""
        self._v3.forget_agent((host, port))

    def _forget_stale_units(self) -> None:
        now = time.monotonic()
        if now - self._pruned > 60:
            self._pruned = now
            for key in [key for key, unit in self._units.items() if now - unit.seen > FORGET_AFTER]:
                del self._units[key]

    def _unit(self, target: Target) -> _Unit:
        unit = self._units.get(target.key)
        if unit is None or (unit.params is not target.params and unit.params != target.params):
            access = Access.from_params(target.params)
            access = self._accesses.setdefault(access, access)
            unit = _Unit(_frozen(target.params), access)
            self._units[target.key] = unit
        unit.seen = time.monotonic()
        return unit

    async def _poll(self, target: Target) -> ProbeResult:
        try:
            unit = self._unit(target)
        except ValueError as exc:
            return ProbeResult(PROBE, target, False, f"bad SNMP params: {exc}")
        try:
            return await self._cycle(target, unit)
        except SnmpError as exc:
            return ProbeResult(PROBE, target, False, str(exc))

    async def _session(self, target: Target, unit: _Unit) -> _Session:
        if unit.address is None:
            unit.address = await _resolve(target.address, target.port or 161)
        if unit.access.community is not None:
            return _V2cSession(self._v2c, unit.access.community, unit.address, self.settings, target.source)
        assert unit.access.credentials is not None
        return _V3Session(self._v3, unit.access.credentials, unit.address, self.settings)

    async def _cycle(self, target: Target, unit: _Unit) -> ProbeResult:
        session = await self._session(target, unit)
        note = ""
        plan = unit.plan
        due = (
            plan is not None and 0 < self.settings.rediscover_seconds < time.monotonic() - plan.discovered_at
        )
        if plan is None or due:
            plan, (uptime, values) = await self._discover(session, unit.access.interfaces)
        else:
            uptime, values = await self._get(session, plan)
            if uptime is not None and unit.uptime is not None and uptime < unit.uptime:
                note = f"agent restarted (sysUpTime went back to {uptime / 100:g} s): interfaces rediscovered"
            elif any(isinstance(v, Missing) for v in values.values()):
                note = "a polled interface vanished (noSuchInstance): interfaces rediscovered"
            if note:
                plan, (uptime, values) = await self._discover(session, unit.access.interfaces)
        discovered = plan is not unit.plan
        unit.plan, unit.uptime = plan, uptime
        details = [note] if note else []
        if plan.missing:
            details.append("interfaces not found: " + ", ".join(plan.missing))
        return ProbeResult(
            PROBE,
            target,
            True,
            "; ".join(details),
            rtt_seconds=session.rtt_total / session.answered if session.answered else None,
            sent=session.sent,
            received=session.answered,
            uptime_seconds=None if uptime is None else uptime / 100,
            interfaces=interface_statuses(plan.interfaces, values),
            values={"pdus": float(len(plan.pdus)), "discovered": 1.0 if discovered else 0.0},
        )

    async def _get(self, session: _Session, plan: RequestPlan) -> Answers:
        responses: list[Response] = []
        for pdu in plan.pdus:
            response = await session.get(pdu)
            if response.error_status == TOO_BIG and plan.max_varbinds > 1:
                plan.split(plan.max_varbinds // 2)
                return await self._get(session, plan)
            if response.error_status:
                status = ERROR_STATUS.get(response.error_status, str(response.error_status))
                raise SnmpError(f"agent error {status} at varbind {response.error_index}")
            responses.append(response)
        try:
            return read_answers(plan.pdus, responses)
        except ValueError as exc:
            raise SnmpError(str(exc)) from exc

    async def _walk(self, session: _Session, column: Oid) -> dict[int, str]:
        """ifIndex → text of one IF-MIB column; ends at the column's end or endOfMibView."""
        rows: dict[int, str] = {}
        cursor = column
        for _ in range(MAX_WALK_REQUESTS):
            response = await session.bulk(cursor)
            if response.error_status:
                status = ERROR_STATUS.get(response.error_status, str(response.error_status))
                raise SnmpError(f"agent error {status} walking {'.'.join(map(str, column))}")
            if not response.varbinds:
                return rows
            for oid, value in response.varbinds:
                if isinstance(value, Missing) or oid[: len(column)] != column:
                    return rows
                if oid <= cursor:
                    raise SnmpError("agent returned OIDs out of order while walking")
                cursor = oid
                if len(oid) == len(column) + 1 and isinstance(value, bytes):
                    rows[oid[-1]] = decode_text(value)
        raise SnmpError(f"walk of {'.'.join(map(str, column))} did not end")

    async def _discover(self, session: _Session, wanted: Sequence[str]) -> tuple[RequestPlan, Answers]:
        """Learn interfaces and usable columns; the trial GETs double as this cycle's poll."""
        names = await self._walk(session, IF_NAME)
        descrs: dict[int, str] = {}
        known = set(names.values())
        if not names or "" in known or any(name not in known for name in wanted):
            descrs = await self._walk(session, IF_DESCR)
        chosen, missing = select_interfaces(wanted, names, descrs)
        max_varbinds = self.settings.max_varbinds
        cells = candidate_cells(chosen, self.settings.columns)
        trial = RequestPlan(chosen, cells, [], 0.0, max_varbinds)
        uptime, values = await self._get(session, trial)
        max_varbinds = trial.max_varbinds  # smaller if the agent said tooBig
        kept = [cell for cell in cells if not absent(values.get(cell[:2]))]
        fallbacks = []
        for position, field, _ in cells:
            column = COLUMNS[field]
            if absent(values.get((position, field))) and column.fallback is not None:
                fallbacks.append((position, field, SHARED((*column.fallback, chosen[position][0]))))
        if fallbacks:
            _, more = await self._get(session, RequestPlan(chosen, fallbacks, [], 0.0, max_varbinds))
            for cell in fallbacks:
                if not absent(more.get(cell[:2])):
                    kept.append(cell)
                    values[cell[:2]] = more[cell[:2]]
        order = {field: i for i, field in enumerate(COLUMNS)}
        kept.sort(key=lambda cell: (cell[0], order[cell[1]]))
        polled = {position for position, field, _ in kept if field == "oper_status"}
        missing += [name for position, (_, name) in enumerate(chosen) if position not in polled]
        kept = [cell for cell in kept if cell[0] in polled]
        plan = RequestPlan(chosen, kept, missing, time.monotonic(), max_varbinds)
        return plan, (uptime, {slot: value for slot, value in values.items() if not absent(value)})


def _frozen(params: Mapping[str, Any]) -> Mapping[str, Any]:
    """``params`` kept as given when read-only (the daemon shares one among units alike), else a
    read-only copy: a caller changing its dict later must still be seen as a change."""
    return params if isinstance(params, MappingProxyType) else MappingProxyType(dict(params))


async def _resolve(host: str, port: int) -> Address:
    """An IP literal as is (the target's own string when already canonical); a name resolved
    once per unit (the plan cache keeps it)."""
    try:
        canonical = str(ipaddress.ip_address(host))
        return (host if canonical == host else canonical, port)
    except ValueError:
        pass
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_DGRAM)
    except OSError as exc:
        raise SnmpError(f"cannot resolve {host}: {exc}") from exc
    return (str(infos[0][4][0]), port)
