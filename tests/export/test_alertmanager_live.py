"""The generated Alertmanager configuration in a real ``alertmanager`` (Debian package), notifying
a real HTTP webhook receiver on loopback.

Alerts are posted the way Prometheus posts them (``POST /api/v2/alerts``) with the labels the
rules in exporters/prometheus put on them. The configuration is the one `govnet export
alertmanager` writes for the shipped inventory, timings untouched, with only the webhook URL set
to the test's receiver. Measured latencies are printed (``pytest -s``).
"""

from __future__ import annotations

import functools
import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from govnet.export import alertmanager
from govnet.inventory.loader import load
from tests.export.amkit import Alertmanager, Webhook, webhook_receiver
from tests.exporters.exportlab import until
from tests.helpers import ROOT

INVENTORY = ROOT / "inventory"
NODE = "agg-shizhi-a"
OTHER_PARENT = "agg-wuyang"


@pytest.fixture(scope="module")
def webhook() -> Iterator[Webhook]:
    with webhook_receiver() as hook:
        yield hook


@pytest.fixture(scope="module")
def am(webhook: Webhook, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Alertmanager]:
    tmp = tmp_path_factory.mktemp("alertmanager")
    config = tmp / "alertmanager.yml"
    config.write_text(
        alertmanager.render(
            load(INVENTORY).inventory, alertmanager.ExportOptions(webhook_url=webhook.url), "inventory"
        )
    )
    server = Alertmanager(config, tmp)
    print(f"\nalertmanager ready in {server.ready_after:.2f} s")
    try:
        yield server
    finally:
        server.stop()


def unit_down(unit: str, segment: str = "intranet") -> dict[str, Any]:
    """GovnetUnitDown as the rules label it (govnet_unit_info joined)."""
    element = load_inventory().element(unit)
    assert element is not None
    node = element.kind in ("core", "aggregation")
    return {
        "labels": {
            "alertname": "GovnetUnitDown",
            "severity": "critical" if node else "warning",
            "segment": segment,
            "unit": unit,
            "name": element.name,
            "kind": element.kind,
            "parent": element.parent or "",
        },
        "annotations": {
            "summary": f"{element.name} ({unit}) is down on {segment}",
            "runbook_url": "exporters/RUNBOOK.md#govnetunitdown",
        },
        "startsAt": datetime.now(UTC).isoformat(),
        "generatorURL": "http://127.0.0.1:9090/graph",
    }


@functools.cache
def load_inventory() -> Any:
    return load(INVENTORY).inventory


def test_node_down_notifies_once_and_inhibits_its_units(am: Alertmanager, webhook: Webhook) -> None:
    inv = load_inventory()
    behind = [u.id for u in inv.units if u.parent == NODE and "intranet" in u.segments][:5]
    elsewhere = next(u.id for u in inv.units if u.parent == OTHER_PARENT and "intranet" in u.segments)
    start = time.monotonic()
    # worst case first: the units' alerts arrive before their node's
    am.post(*(unit_down(u) for u in behind))
    posted = am.post(unit_down(NODE), unit_down(elsewhere))

    node_note = until(
        lambda: next((n for n in webhook.since(start) if NODE in n.units), None),
        30,
        "notification for the node",
    )
    latency = node_note.at - posted
    print(f"node alert -> webhook: {latency:.2f} s (group_wait of the critical route: 10 s)")
    assert node_note.body["receiver"] == "govnet-critical"
    assert node_note.body["status"] == "firing"
    assert node_note.units == [NODE]
    (alert,) = node_note.body["alerts"]
    assert alert["labels"]["name"] == "市直汇聚节点A"

    # the units' route waits 20 s before its first notification: wait it out, plus margin
    other_note = until(
        lambda: next((n for n in webhook.since(start) if elsewhere in n.units), None),
        45,
        "notification for the unit behind another node",
    )
    print(f"unit alert (not inhibited) -> webhook: {other_note.at - posted:.2f} s (group_wait 20 s)")
    time.sleep(3)
    notes = webhook.since(start)
    assert sorted(tuple(n.units) for n in notes) == sorted([(NODE,), (elsewhere,)]), [n.body for n in notes]
    assert other_note.body["receiver"] == "govnet-intranet"

    suppressed = {
        a["labels"]["unit"]: a["status"]
        for a in am.alerts('?filter=alertname="GovnetUnitDown"')
        if a["labels"]["unit"] in behind
    }
    assert set(suppressed) == set(behind)
    node_fingerprint = next(
        a["fingerprint"]
        for a in am.alerts(f'?filter=unit="{NODE}"')
        if a["labels"]["alertname"] == "GovnetUnitDown"
    )
    for unit, status in suppressed.items():
        assert status["state"] == "suppressed", unit
        assert status["inhibitedBy"] == [node_fingerprint], unit
    inhibited = {a["labels"]["unit"] for a in am.alerts("?inhibited=true&active=false")}
    assert inhibited == set(behind)


def test_isolation_breach_is_notified_at_once(am: Alertmanager, webhook: Webhook) -> None:
    start = time.monotonic()
    posted = am.post(
        {
            "labels": {
                "alertname": "GovnetPartyIsolationBreach",
                "severity": "critical",
                "vantage": "party-noc",
                "segment": "intranet",
                "unit": "sz-zuzhibu",
                "name": "中共漯河市委组织部",
                "kind": "party-organ",
                "parent": NODE,
            },
            "annotations": {
                "summary": "Isolation breach",
                "runbook_url": "exporters/RUNBOOK.md#govnetpartyisolationbreach",
            },
            "startsAt": datetime.now(UTC).isoformat(),
        }
    )
    note = until(
        lambda: next(
            (
                n
                for n in webhook.since(start)
                if n.body["commonLabels"].get("alertname") == "GovnetPartyIsolationBreach"
            ),
            None,
        ),
        10,
        "isolation breach notification",
    )
    latency = note.at - posted
    print(f"isolation breach -> webhook: {latency:.2f} s (group_wait 0 s)")
    assert note.body["receiver"] == "govnet-critical"
    assert latency < 5


def test_non_govnet_alerts_go_nowhere(am: Alertmanager, webhook: Webhook) -> None:
    start = time.monotonic()
    am.post(
        {"labels": {"alertname": "Watchdog", "severity": "none"}, "startsAt": datetime.now(UTC).isoformat()}
    )
    until(
        lambda: any(a["labels"]["alertname"] == "Watchdog" for a in am.alerts()),
        5,
        "Watchdog accepted by alertmanager",
    )
    (watchdog,) = [a for a in am.alerts() if a["labels"]["alertname"] == "Watchdog"]
    assert [r["name"] for r in watchdog["receivers"]] == ["null"]
    time.sleep(1)
    assert not [n for n in webhook.since(start) if "Watchdog" in json.dumps(n.body)]
