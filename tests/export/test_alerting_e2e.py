"""End to end on the lab twin: a real fault → the daemon → Prometheus (the shipped rules) →
Alertmanager (the generated configuration) → a webhook receiver, with real binaries only.

One lab (`govnet lab up`, 24 units, 198.18.0.0/17), one daemon at lab speed, one Prometheus
(deploy/prometheus.yml, scraping and evaluating every second) and one Alertmanager (`govnet export
alertmanager` for the lab's inventory; route timings as generated except ``group_interval``,
shortened to 5 s so that a resolution is notified within the test). Each test heals what it
broke. Latencies from the fault to the webhook are printed (``pytest -s``).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, cast

import pytest
import yaml

from govnet.export import alertmanager
from govnet.inventory.loader import load
from govnet.inventory.models import Inventory
from tests.export.amkit import Alertmanager, Webhook, webhook_receiver
from tests.exporters.exportlab import DaemonProcess, Lab, lab_twin, until
from tests.exporters.promkit import Prometheus, lab_speed_rules, prometheus_config

NETWORK = "198.18.0.0/17"
UNIT_DOWN_BOUND = 45.0
"""The issue's bound from `lab fault U link-down` to the webhook's `unit down` (lab speed)."""


@dataclass
class Stack:
    lab: Lab
    inventory: Inventory
    daemon: DaemonProcess
    prometheus: Prometheus
    alertmanager: Alertmanager
    webhook: Webhook
    agg: str
    behind: list[str]
    unit: str
    leak: str


def lab_speed(text: str) -> str:
    """The generated configuration with every ``group_interval`` at 5 s."""
    config = yaml.safe_load(text)

    def walk(route: dict[str, Any]) -> None:
        route["group_interval"] = "5s"
        for child in route.get("routes", []):
            walk(child)

    walk(config["route"])
    return str(yaml.safe_dump(config, allow_unicode=True, sort_keys=False))


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    tmp = tmp_path_factory.mktemp("alerting")
    started: list[Any] = []
    with lab_twin(tmp, Lab, network=NETWORK, units=24, prefix="e") as lab, webhook_receiver() as hook:
        try:
            inventory = load(lab.inventory).inventory
            config = tmp / "alertmanager.yml"
            config.write_text(
                lab_speed(
                    alertmanager.render(
                        inventory, alertmanager.ExportOptions(webhook_url=hook.url), str(lab.inventory)
                    )
                )
            )
            am = Alertmanager(config, tmp)
            started.append(am)
            daemon = DaemonProcess(lab.daemon_config(tmp), tmp / "daemon.log").start()
            started.append(daemon)
            listen = yaml.safe_load((tmp / "daemon.yml").read_text())["listen"]
            prom = Prometheus(prometheus_config(tmp, listen, lab_speed_rules(tmp), am.address), tmp)
            started.append(prom)
            yield roles(cast(Lab, lab), inventory, daemon, prom, am, hook)  # lab_twin(tmp, Lab) makes one
        finally:
            for process in reversed(started):
                process.stop()


def roles(
    lab: Lab, inventory: Inventory, daemon: DaemonProcess, prom: Prometheus, am: Alertmanager, hook: Webhook
) -> Stack:
    by_agg: dict[str, list[str]] = {}
    for unit in lab.twin["units"]:
        by_agg.setdefault(unit["agg"], []).append(unit["id"])
    agg = max(by_agg, key=lambda a: len(by_agg[a]))
    others = [u for u in lab.twin["units"] if u["agg"] != agg]
    unit = next(u["id"] for u in others if "intranet" in u["segments"])
    leak = next(u["id"] for u in others if {"intranet", "party"} <= set(u["segments"]) and u["id"] != unit)
    return Stack(lab, inventory, daemon, prom, am, hook, agg, by_agg[agg], unit, leak)


@pytest.fixture
def healthy(stack: Stack) -> Iterator[Stack]:
    """Every unit up in Prometheus before the test; every fault healed after it."""
    until(
        lambda: stack.prometheus.query("min(govnet_unit_up) == 1 and count(govnet_unit_up) > 24"),
        60,
        "every unit and node up in Prometheus",
        stack.daemon.log,
    )
    until(
        lambda: not stack.prometheus.alerts("GovnetUnitDown"),
        30,
        "no GovnetUnitDown firing",
        stack.prometheus.log,
    )
    yield stack
    stack.lab.heal_all()


def test_link_down_is_notified_within_45_s_with_the_break_and_resolved_after_heal(healthy: Stack) -> None:
    s = healthy
    start = time.monotonic()
    s.lab.cli("fault", s.unit, "link-down")
    note = until(lambda: s.webhook.first(start, "GovnetUnitDown", s.unit), 75, f"webhook: {s.unit} down")
    latency = note.at - start
    print(f"\nlink-down {s.unit} -> webhook 'unit down': {latency:.1f} s (receiver {note.body['receiver']})")
    assert latency <= UNIT_DOWN_BOUND
    alert = next(a for a in note.body["alerts"] if a["labels"]["unit"] == s.unit)
    element = s.inventory.unit(s.unit)
    assert element is not None
    assert alert["labels"]["name"] == element.name and alert["labels"]["parent"] == element.parent
    assert alert["labels"]["severity"] == "warning"
    assert note.body["receiver"] == f"govnet-{alert['labels']['segment']}"
    assert "Last answering hop: 198.18." in alert["annotations"]["description"], alert["annotations"]
    assert alert["annotations"]["runbook_url"] == "exporters/RUNBOOK.md#govnetunitdown"

    healed = time.monotonic()
    s.lab.cli("heal", s.unit)
    done = until(
        lambda: s.webhook.first(healed, "GovnetUnitDown", s.unit, status="resolved"), 60, "webhook: resolved"
    )
    print(f"heal {s.unit} -> webhook 'resolved': {done.at - healed:.1f} s")


def test_aggregation_node_down_is_one_notification_not_one_per_unit(healthy: Stack) -> None:
    s = healthy
    start = time.monotonic()
    s.lab.cli("fault", s.agg, "link-down")
    note = until(lambda: s.webhook.first(start, "GovnetUnitDown", s.agg), 60, f"webhook: {s.agg} down")
    print(f"\nlink-down {s.agg} ({len(s.behind)} units behind) -> webhook: {note.at - start:.1f} s")
    assert note.body["receiver"] == "govnet-critical"
    segments = sorted(a["labels"]["segment"] for a in note.body["alerts"])
    # the units' route waits 20 s before its first notification: wait that out
    time.sleep(25)
    notes = s.webhook.since(start)
    print(f"first notification: {s.agg} down on {', '.join(segments)}; {len(notes)} notification(s) in all")
    assert len(notes) <= 2, "one notification for the node (a second if a segment's verdict came late)"
    flood = [a for n in notes for a in n.body["alerts"] if a["labels"].get("unit") in s.behind]
    assert flood == [], "no notification for a unit behind the failed node"
    down = {n_unit for n in notes for n_unit in n.units if n.has("GovnetUnitDown")}
    assert down == {s.agg}, down
    states = {u["unit"]: u["state"] for u in s.daemon.status()["units"] if u["unit"] in s.behind}
    assert set(states.values()) == {"unreachable"}, states
    muted = [
        a
        for a in s.alertmanager.alerts('?filter=alertname="GovnetUnitDown"')
        if a["labels"]["unit"] in s.behind and a["status"]["state"] != "suppressed"
    ]
    assert muted == [], "a unit behind the node reached Alertmanager without being inhibited"


def test_isolation_leak_is_a_critical_notification(healthy: Stack) -> None:
    s = healthy
    start = time.monotonic()
    s.lab.cli("fault", s.leak, "isolation-leak")
    note = until(
        lambda: s.webhook.first(start, "GovnetPartyIsolationBreach", s.leak),
        45,
        f"webhook: breach at {s.leak}",
    )
    print(f"\nisolation-leak {s.leak} -> webhook 'isolation breach': {note.at - start:.1f} s")
    assert note.body["receiver"] == "govnet-critical"
    assert all(a["labels"]["severity"] == "critical" for a in note.body["alerts"])
