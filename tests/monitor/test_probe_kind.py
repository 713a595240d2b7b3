"""A new probe kind is one package and one registry line (#16 item 1), shown with a trivial kind.

The ``note`` kind below is written as a kind's package would be (settings, probe, record, part,
collector: see `govnet.probes.kind`) and added to the daemon's registry with one line
(``default_kinds().with_kind(NOTE)``). Nothing else in govnet names it; yet it is configured from
the daemon's YAML (a bad key is refused at its ``FILE:LINE``), scheduled, probed, recorded and
exported on the daemon's ``/metrics``. It sends no packet: its answer is its setting.
"""

from __future__ import annotations

import asyncio
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from ipaddress import IPv4Network
from pathlib import Path
from types import MappingProxyType
from typing import Annotated, ClassVar

import pytest
import yaml
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from govnet.errors import ConfigError
from govnet.monitor.config import load_config
from govnet.monitor.daemon import Daemon
from govnet.probes.base import Probe, ProbeResult, Target
from govnet.probes.common import ProbeSettings, bounded
from govnet.probes.icmp.settings import IcmpSettings
from govnet.probes.kind import Kind, Recorded, SnapshotView, SuccessSamples, UnitStates
from govnet.probes.registry import default_kinds
from tests.helpers import DATA
from tests.monitor.daemonkit import Metrics, free_port

# --- the kind's "package" ----------------------------------------------------------------------


class NoteSettings(ProbeSettings):
    kind: ClassVar[str] = "note"
    answer: bool = True
    """What every target answers."""
    weight: Annotated[int, bounded(1, 10, integer=True)] = 1


class NoteProbe:
    name = "note"

    def __init__(self, settings: NoteSettings) -> None:
        self.settings = settings

    async def run(self, targets: Sequence[Target], timeout: float) -> list[ProbeResult]:
        return [ProbeResult(self.name, t, self.settings.answer, "noted") for t in targets]

    async def close(self) -> None:
        """Nothing held."""


@dataclass(frozen=True)
class NotePart:
    seen: Mapping[tuple[str, str], bool] = field(default_factory=lambda: MappingProxyType({}))


def record(
    part: NotePart, segment: str, results: Sequence[ProbeResult], units: UnitStates
) -> Recorded[NotePart]:
    seen = dict(part.seen) | {(r.target.unit, segment): r.success for r in results}
    return Recorded(NotePart(MappingProxyType(seen)), ({"kind": "noted", "segment": segment},))


def success(part: NotePart, scope: SnapshotView) -> SuccessSamples:
    for (unit, segment), ok in part.seen.items():
        yield segment, unit, ok


class NoteCollector(Collector):
    def __init__(self, part: NotePart) -> None:
        self.part = part

    def collect(self) -> Iterator[GaugeMetricFamily]:
        family = GaugeMetricFamily("govnet_test_note", "What the note kind saw", labels=["segment", "unit"])
        for (unit, segment), ok in self.part.seen.items():
            family.add_metric([segment, unit], 1.0 if ok else 0.0)
        yield family


def make(settings: NoteSettings) -> Probe:
    return NoteProbe(settings)


NOTE: Kind[NoteSettings, NotePart] = Kind(
    name="note",
    settings=NoteSettings,
    interval=1.0,
    make=make,
    targets="addresses",
    empty=NotePart(),
    record=record,
    collector=lambda part, scope: NoteCollector(part),
    success=success,
)

# --- the test ------------------------------------------------------------------------------------

OFF = {"enabled": False}
"""The shipped kinds are off: nothing is sent to the fixture's (unroutable) addresses."""


def config(tmp_path: Path, note: dict[str, object], port: int = 0) -> Path:
    path = tmp_path / "daemon.yml"
    body = {
        "inventory": str((DATA / "valid" / "minimal.yml").resolve()),
        "allowed_networks": ["10.0.0.0/8", "172.16.0.0/12"],
        "listen": f"127.0.0.1:{port or free_port()}",
        "state": str(tmp_path / "state"),
        "probes": {"icmp": dict(OFF), "snmp": dict(OFF), "tcp": dict(OFF), "note": note},
    }
    path.write_text(yaml.safe_dump(body, sort_keys=False))
    return path


def test_the_kind_is_configured_from_yaml_with_file_line_errors(tmp_path: Path) -> None:
    kinds = default_kinds().with_kind(NOTE)
    good = load_config(config(tmp_path, {"interval": 2, "answer": False, "weight": 3}), kinds=kinds)
    assert good.settings("note") == NoteSettings(answer=False, weight=3)
    assert good.interval("note") == 2.0 and good.enabled("note")
    path = config(tmp_path, {"answr": False})
    line = path.read_text().splitlines().index("    answr: false") + 1
    with pytest.raises(ConfigError) as bad:
        load_config(path, kinds=kinds)
    assert list(bad.value.lines()) == [
        f"{path}:{line}: probes.note.answr: unknown key (did you mean 'answer'?)"
    ]
    path = config(tmp_path, {"weight": 11})
    with pytest.raises(ConfigError, match=r"probes\.note\.weight: must be an integer from 1 to 10, not 11"):
        load_config(path, kinds=kinds)
    with pytest.raises(ConfigError, match=r"probes\.note: unknown key"):
        load_config(config(tmp_path, {}))  # not in the registry the config is loaded with


def test_the_kind_is_probed_and_exported_on_the_daemons_metrics(tmp_path: Path) -> None:
    port = free_port()
    path = config(tmp_path, {"answer": True}, port)
    units = {"core-city", "sz-fagaiwei", "sz-caizheng", "zl-wanjin"}

    async def scrape() -> Metrics:
        daemon = Daemon(path, lambda ref: "unused", kinds=default_kinds().with_kind(NOTE))
        done: set[str] = set()
        finished = asyncio.Event()

        def cycled(kind: str, segment: str) -> None:
            done.add(f"{kind}/{segment}")
            if {"note/intranet", "note/party", "note/extranet"} <= done:
                finished.set()

        daemon.cycle_listeners.append(cycled)
        try:
            await daemon.start()
            assert daemon.jobs() == [("note", "intranet"), ("note", "party"), ("note", "extranet")]
            await asyncio.wait_for(finished.wait(), 60)
            assert daemon.exporter is not None
            await daemon.exporter.refresh()
            url = f"http://127.0.0.1:{port}/metrics"
            text = await asyncio.to_thread(lambda: urllib.request.urlopen(url, timeout=10).read().decode())
            return Metrics.parse(text)
        finally:
            await daemon.stop()

    metrics = asyncio.run(scrape())
    noted = metrics.select("govnet_test_note", segment="intranet")
    assert {labels["unit"] for labels, value in noted if value == 1.0} >= units - {"zl-wanjin"}
    assert metrics.get1("govnet_probe_success", probe="note", segment="party", unit="sz-caizheng") == 1.0
    assert metrics.get1("govnet_probe_cycles_total", probe="note", segment="party") is not None
    assert metrics.select("govnet_probe_success", probe="icmp") == []  # the shipped kinds stayed off


def test_govnet_probe_and_the_daemon_take_the_same_icmp_settings(tmp_path: Path) -> None:
    """``govnet probe --config`` read only the top-level ICMP block and missed ``echo_interval``;
    now both build the probe with `make_probe` from the segment's block, else the top-level one."""
    path = config(tmp_path, {})
    body = yaml.safe_load(path.read_text())
    body["probes"] = {"icmp": {"echo_interval": 0.3, "count": 2}}
    body["segments"] = {"party": {"icmp": {"count": 5, "socket": "dgram"}}}
    path.write_text(yaml.safe_dump(body))
    loaded = load_config(path)
    top, party = loaded.settings("icmp", "intranet"), loaded.settings("icmp", "party")
    assert isinstance(top, IcmpSettings) and isinstance(party, IcmpSettings)
    assert (top.echo_interval, top.count, party.echo_interval, party.count) == (0.3, 2, 0.2, 5)
    assert party.allowed_networks == (IPv4Network("10.0.0.0/8"), IPv4Network("172.16.0.0/12"))
