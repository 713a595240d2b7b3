"""The ``icmp`` kind: echo probes per segment decide unit state; rtt and loss per unit and segment.

Its part of the snapshot is the unit states themselves (the tracker's entries keep each
element's last answer, rtt and loss rather than 30,000 ``ProbeResult``): ``record`` feeds the
tracker, the collector reads the snapshot's entries.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from govnet.probes.base import Probe, ProbeResult
from govnet.probes.icmp.probe import IcmpProbe
from govnet.probes.icmp.settings import IcmpSettings
from govnet.probes.kind import Kind, Recorded, SnapshotView, SuccessSamples, UnitStates

UNIT_SEGMENT = ["segment", "unit"]


def unmeasured(result: ProbeResult) -> bool:
    """An ICMP result for a target the cycle never sent an echo to (its deadline came first: a
    starved daemon, a cycle cut short). Not evidence that the unit is down: counting it as a
    failure turned a daemon that fell behind into hundreds of false "down" (seen in the soak).
    A send that failed (network unreachable) is measured: it has a loss ratio."""
    return not result.success and result.sent == 0 and result.loss_ratio is None


def record(part: None, segment: str, results: Sequence[ProbeResult], units: UnitStates) -> Recorded[None]:
    """Each measured result is a vote on its unit's state; the transitions that follow."""
    for result in results:
        if unmeasured(result):
            continue  # no echo went out: no verdict, the unit keeps its state
        unit = result.target.unit
        units.measure(
            unit, segment, result.target.address, result.success, result.rtt_seconds, result.loss_ratio
        )
        units.observe(unit, segment, result.success, result.detail, result.at)
    return Recorded(None, transitions=units.resolve())


def success(part: None, scope: SnapshotView) -> SuccessSamples:
    for entry in scope.entries:
        if entry.answered is not None:  # probed
            yield entry.segment, entry.element, entry.answered


class IcmpCollector(Collector):
    """``govnet_icmp_rtt_seconds`` and ``govnet_icmp_packet_loss_ratio`` from the snapshot's entries."""

    def __init__(self, scope: SnapshotView) -> None:
        self.scope = scope

    def collect(self) -> Iterator[GaugeMetricFamily]:
        rtt = GaugeMetricFamily(
            "govnet_icmp_rtt_seconds", "Mean ICMP round-trip time of the last cycle", labels=UNIT_SEGMENT
        )
        for entry in self.scope.entries:
            if entry.rtt is not None:
                rtt.add_metric([entry.segment, entry.element], entry.rtt)
        yield rtt
        loss = GaugeMetricFamily(
            "govnet_icmp_packet_loss_ratio", "Share of echo requests unanswered (0..1)", labels=UNIT_SEGMENT
        )
        for entry in self.scope.entries:
            if entry.loss is not None:
                loss.add_metric([entry.segment, entry.element], entry.loss)
        yield loss


def make(settings: IcmpSettings) -> Probe:
    return IcmpProbe(settings)


KIND: Kind[IcmpSettings, None] = Kind(
    name="icmp",
    settings=IcmpSettings,
    interval=30.0,
    make=make,
    targets="addresses",
    empty=None,
    record=record,
    collector=lambda part, scope: IcmpCollector(scope),
    success=success,
)
