"""The ``tcp`` kind: service port checks per segment; connect time and success per service.

Its part is the last result per (unit, segment, service), replaced whole by each cycle of a
segment (a service gone from the inventory goes from the part).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from govnet.probes.base import Probe, ProbeResult
from govnet.probes.kind import Kind, Recorded, SnapshotView, SuccessSamples, UnitStates
from govnet.probes.tcp.probe import TcpProbe, TcpSettings

LABELS = ["segment", "unit", "service"]


@dataclass(frozen=True)
class TcpPart:
    checks: Mapping[tuple[str, str, str], ProbeResult] = field(default_factory=lambda: MappingProxyType({}))
    """(unit, segment, service) → the last result."""


def record(
    part: TcpPart, segment: str, results: Sequence[ProbeResult], units: UnitStates
) -> Recorded[TcpPart]:
    checks = dict(part.checks)
    for result in results:
        checks[(result.target.unit, segment, str(result.target.params.get("service", "")))] = result
    return Recorded(TcpPart(MappingProxyType(checks)))


def prune(part: TcpPart, keep: set[str]) -> TcpPart:
    return TcpPart(MappingProxyType({k: v for k, v in part.checks.items() if k[0] in keep}))


def success(part: TcpPart, scope: SnapshotView) -> SuccessSamples:
    """A unit's tcp success on a segment: every one of its services answered."""
    every: dict[tuple[str, str], bool] = {}
    for (unit, segment, _), result in part.checks.items():
        every[(unit, segment)] = every.get((unit, segment), True) and result.success
    for (unit, segment), ok in every.items():
        yield segment, unit, ok


class TcpCollector(Collector):
    def __init__(self, part: TcpPart) -> None:
        self.part = part

    def collect(self) -> Iterator[GaugeMetricFamily]:
        connect = GaugeMetricFamily(
            "govnet_tcp_connect_seconds", "TCP connect time of a service check", labels=LABELS
        )
        for (unit, segment, service), result in self.part.checks.items():
            if result.rtt_seconds is not None:
                connect.add_metric([segment, unit, service], result.rtt_seconds)
        yield connect
        ok = GaugeMetricFamily(
            "govnet_tcp_success", "1 when the service accepted a TCP connection", labels=LABELS
        )
        for (unit, segment, service), result in self.part.checks.items():
            ok.add_metric([segment, unit, service], 1.0 if result.success else 0.0)
        yield ok


def make(settings: TcpSettings) -> Probe:
    return TcpProbe(settings)


KIND: Kind[TcpSettings, TcpPart] = Kind(
    name="tcp",
    settings=TcpSettings,
    interval=60.0,
    make=make,
    targets="services",
    empty=TcpPart(),
    record=record,
    collector=lambda part, scope: TcpCollector(part),
    success=success,
    prune=prune,
)
