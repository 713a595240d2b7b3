"""The ``isolation`` kind: negative checks from vantage points; a check that starts failing is an event.

Opt-in: it runs only when ``probes.isolation`` is in the config (its vantages have no default).
Its part is the last result per (vantage, unit, segment).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from govnet.probes.base import Probe, ProbeResult
from govnet.probes.isolation.probe import IsolationProbe, IsolationSettings, checked
from govnet.probes.kind import Event, Kind, Recorded, UnitStates


@dataclass(frozen=True)
class IsolationPart:
    checks: Mapping[tuple[str, str, str], ProbeResult] = field(default_factory=lambda: MappingProxyType({}))
    """(vantage, unit, segment) → the last result."""


def record(
    part: IsolationPart, segment: str, results: Sequence[ProbeResult], units: UnitStates
) -> Recorded[IsolationPart]:
    checks, events = dict(part.checks), []
    for result in results:
        target = result.target
        key = (str(target.params.get("vantage", "")), target.unit, target.segment)
        old = checks.get(key)
        if (old is None or old.success) and not result.success:
            kind = "isolation-breach" if checked(result) else "isolation-unchecked"
            event: Event = {"kind": kind, "unit": target.unit, "segment": target.segment}
            events.append(event | {"detail": result.detail})
        checks[key] = result
    return Recorded(IsolationPart(MappingProxyType(checks)), tuple(events))


def prune(part: IsolationPart, keep: set[str]) -> IsolationPart:
    return IsolationPart(MappingProxyType({k: v for k, v in part.checks.items() if k[1] in keep}))


class IsolationCollector(Collector):
    def __init__(self, part: IsolationPart) -> None:
        self.part = part

    def collect(self) -> Iterator[GaugeMetricFamily]:
        isolated = GaugeMetricFamily(
            "govnet_isolation_ok",
            "1 while the target does NOT answer from the vantage point (isolation holds)",
            labels=["vantage", "segment", "unit"],
        )
        for (vantage, unit, segment), result in self.part.checks.items():
            if checked(result):  # a check that could not run is no verdict: absent, never a breach
                isolated.add_metric([vantage, segment, unit], 1.0 if result.success else 0.0)
        yield isolated


def make(settings: IsolationSettings) -> Probe:
    return IsolationProbe(settings)


KIND: Kind[IsolationSettings, IsolationPart] = Kind(
    name="isolation",
    settings=IsolationSettings,
    interval=60.0,
    make=make,
    targets="isolation",
    empty=IsolationPart(),
    record=record,
    collector=lambda part, scope: IsolationCollector(part),
    prune=prune,
    opt_in=True,
)
