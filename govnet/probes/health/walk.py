"""GETBULK table walks and GETs for the health probe, over the fast v2c path or the v3 engine.

Why a walker of its own: the snmp probe walks one column (ifName) at discovery; health walks a
dozen columns of a few tables, so several columns go in one GETBULK (one varbind per column,
``max_repetitions`` rows each) and a column leaves the request once it has run past its end.
The walk is bounded in requests and in time, and treats endOfMibView, noSuchObject and an OID
outside the column as the end; an agent that returns OIDs out of order is an error, not a loop.

v2c requests are ``snmp_ber`` byte templates sent on the shared ``V2cClient`` socket (no ASN.1
objects); v3 goes through ``EngineClient`` exactly as the snmp probe does.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from govnet.probes.snmp.ber import (
    GET,
    GETBULK,
    Missing,
    Oid,
    RequestTemplate,
    Response,
    Value,
    request_template,
)
from govnet.probes.snmp.engine import EngineClient, UsmCredentials
from govnet.probes.snmp.fast import Address, SnmpError, V2cClient

Table = dict[Oid, dict[Oid, Value]]
"""column OID -> row index (the OID suffix after the column) -> value."""

MAX_REQUESTS = 500
"""A walk still going after this many GETBULKs is a looping agent, not a big table."""


@dataclass(slots=True)
class Exchange:
    """One unit's SNMP requests: where to, how, and how many (for the result's counters)."""

    address: Address
    timeout: float
    retries: int
    max_repetitions: int
    v2c: V2cClient | None = None
    community: bytes | None = None
    v3: EngineClient | None = None
    credentials: UsmCredentials | None = None
    source: str | None = None
    templates: dict[tuple[Oid, ...], RequestTemplate] | None = None
    """The unit's encoded steady-state GETs (v2c), kept on its plan: encoded once, not per cycle."""
    sent: int = 0
    answered: int = 0

    async def get(self, oids: Sequence[Oid]) -> Response:
        return await self._send(GET, oids)

    async def bulk(self, oids: Sequence[Oid]) -> Response:
        return await self._send(GETBULK, oids)

    async def _send(self, pdu_type: int, oids: Sequence[Oid]) -> Response:
        self.sent += 1
        if self.v2c is not None and self.community is not None:
            template = self._template(pdu_type, oids, self.community)
            response, _ = await self.v2c.request(
                self.address, template, self.timeout, self.retries, self.source
            )
        elif self.v3 is not None and self.credentials is not None:
            repetitions = self.max_repetitions if pdu_type == GETBULK else 0
            response, _ = await self.v3.request(
                self.credentials, self.address, list(oids), self.timeout, self.retries, repetitions
            )
        else:
            raise SnmpError("no SNMP transport for this unit")
        self.answered += 1
        if response.error_status:
            raise SnmpError(f"agent error-status {response.error_status} at varbind {response.error_index}")
        return response

    def _template(self, pdu_type: int, oids: Sequence[Oid], community: bytes) -> RequestTemplate:
        if pdu_type != GET or self.templates is None:
            return request_template(community, pdu_type, oids, 0, self.max_repetitions)
        key = tuple(oids)
        template = self.templates.get(key)
        if template is None:
            if len(self.templates) > 8:  # a plan asks the same one or two GETs every cycle
                self.templates.clear()
            template = self.templates[key] = request_template(community, GET, oids)
        return template


Bulk = Callable[[Sequence[Oid]], Awaitable[Response]]


async def walk(bulk: Bulk, columns: Sequence[Oid], budget: float = 10.0) -> Table:
    """Every row of every column; a missing column is an empty dict (never an error).

    ``budget`` bounds the walk's wall time in seconds (the cycle's deadline cancels it anyway).
    """
    table: Table = {column: {} for column in columns}
    cursors = {column: column for column in columns}
    deadline = time.monotonic() + budget
    for _ in range(MAX_REQUESTS):
        active = list(cursors)
        if not active:
            return table
        if time.monotonic() > deadline:
            raise SnmpError(f"walk did not finish within {budget:g} s")
        response = await bulk([cursors[column] for column in active])
        _advance(response.varbinds, active, cursors, table)
    raise SnmpError(f"walk did not end after {MAX_REQUESTS} requests")


def _advance(
    varbinds: Sequence[tuple[Oid, Value]], active: list[Oid], cursors: dict[Oid, Oid], table: Table
) -> None:
    """Take one GETBULK answer: varbind i belongs to column ``active[i % len(active)]``."""
    if not varbinds:
        for column in active:
            cursors.pop(column, None)
        return
    width = len(active)
    ended: set[Oid] = set()
    for position, (oid, value) in enumerate(varbinds):
        column = active[position % width]
        if column in ended:
            continue
        if isinstance(value, Missing) or oid[: len(column)] != column or len(oid) == len(column):
            ended.add(column)
            continue
        if oid <= cursors[column]:
            raise SnmpError("agent returned OIDs out of order while walking")
        cursors[column] = oid
        table[column][oid[len(column) :]] = value
    for column in ended:
        cursors.pop(column, None)


async def get_cells(get: Bulk, cells: Sequence[Oid], max_varbinds: int) -> dict[Oid, Value]:
    """GET every cell, ``max_varbinds`` per request; absent cells come back as ``Missing``."""
    values: dict[Oid, Value] = {}
    for start in range(0, len(cells), max_varbinds):
        chunk = cells[start : start + max_varbinds]
        response = await get(chunk)
        if len(response.varbinds) != len(chunk):
            raise SnmpError(f"agent answered {len(response.varbinds)} of {len(chunk)} varbinds")
        for oid, value in response.varbinds:
            values[oid] = value
    return values
