"""Compliance end to end on the lab twin: hand changes made over the devices' own SSH (netmiko,
the lab's credentials, outside govnet) are drift with the right category, in `config drift`
and in the daemon's /metrics and status page; the alert rules fire on what the daemon exported
(real promtool); the remediation, planned and applied by `rollout`, makes the unit compliant
again; a device that cannot be reached is unknown, never compliant.
"""

from __future__ import annotations

import json
import re
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from netmiko import ConnectHandler

from tests.exporters.promkit import run_promtool
from tests.helpers import ROOT
from tests.labkit import OperatorLab
from tests.monitor.daemonkit import DaemonProcess, free_port, require_lab

NETWORK = "198.18.0.0/17"
DRIVER = {"huawei_vrp": "huawei", "h3c_comware": "hp_comware", "cisco_ios": "cisco_ios"}
SHOW = {"huawei_vrp": "display current-configuration", "h3c_comware": "display current-configuration"}
RULES = ROOT / "exporters" / "prometheus" / "govnet.rules.yml"


class Lab(OperatorLab):
    def run(self, *args: str, codes: tuple[int, ...] = (0,)) -> subprocess.CompletedProcess[str]:  # type: ignore[override]
        """Every command: an exit in ``codes``, never a traceback."""
        result = super().run(*args, check=False)
        assert result.returncode in codes, (
            f"govnet {' '.join(args)}: {result.returncode}\n{result.stdout}\n{result.stderr}"
        )
        assert "Traceback" not in result.stderr
        return result

    def drift(self, *args: str) -> tuple[int, dict[str, Any]]:
        result = self.run("config", "drift", *args, "--json", codes=(0, 3))
        data = json.loads(result.stdout)
        return result.returncode, {u["unit"]: u for u in data["units"]}

    def rollout(self, segment: str, *units: str) -> dict[str, Any]:
        out = self.root / f"plan-{uuid.uuid4().hex[:6]}.json"
        picked = [a for u in units for a in ("--unit", u)]
        plan = json.loads(
            self.run("rollout", "plan", "--segment", segment, *picked, "--out", str(out), "--json").stdout
        )
        report = json.loads(self.run("rollout", "apply", str(out), "--yes", "--json").stdout)
        assert {u["result"] for u in report["units"]} <= {"changed", "ok"}, report
        return dict(plan)

    def unit(self, platform: str, segment: str) -> dict[str, Any]:
        return next(u for u in self.info["units"] if u["platform"] == platform and segment in u["segments"])

    def secret(self, name: str) -> str:
        return (Path(self.info["state"]) / "secrets" / name).read_text().strip()

    def by_hand(self, unit: dict[str, Any], commands: list[str]) -> str:
        """A change made outside govnet: netmiko straight to the device; returns its config after."""
        conn = ConnectHandler(
            device_type=DRIVER[unit["platform"]],
            host=unit["host"],
            username="govnet",
            password=self.secret("ssh-password"),
            secret=self.secret("enable-secret"),
            ssh_strict=True,
            system_host_keys=False,
            alt_host_keys=True,
            alt_key_file=self.info["known_hosts"],
            conn_timeout=10,
        )
        try:
            if unit["platform"] == "cisco_ios":
                conn.enable()
            if commands:
                conn.send_config_set(commands)
            return str(conn.send_command(SHOW.get(unit["platform"], "show running-config"), read_timeout=30))
        finally:
            conn.disconnect()


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    """A lab with every segment rolled out: every unit compliant to begin with."""
    require_lab()
    lab = Lab("c" + uuid.uuid4().hex[:6], tmp_path_factory.mktemp("compliance"))
    try:
        lab.info = json.loads(lab.run("lab", "up", "--network", NETWORK, "--units", "8", "--json").stdout)
        lab.info.update(json.loads(lab.run("lab", "status", "--json").stdout))
        lab.info["known_hosts"] = str(Path(lab.info["state"]) / "known_hosts")
        for segment in ("intranet", "party", "extranet"):
            lab.rollout(segment)
        yield lab
    finally:
        lab.run("lab", "down", codes=(0, 1))


@pytest.fixture
def healed(lab: Lab) -> Iterator[Lab]:
    yield lab
    for fault in json.loads(lab.run("lab", "status", "--json").stdout)["faults"]:
        lab.run("lab", "heal", fault["unit"])


def interface_of(config: str, description: str) -> str:
    """The interface whose body holds ``description`` in a running config."""
    header = ""
    for line in config.splitlines():
        if not line.startswith(" "):
            header = line if line.startswith("interface ") else ""
        elif line.strip() == description and header:
            return header
    raise AssertionError(f"no interface with {description!r}")


def test_hand_changes_are_drift_by_category_and_the_remediation_rolls_them_back(lab: Lab) -> None:
    code, before = lab.drift()
    assert code == 0 and {u["state"] for u in before.values()} == {"compliant"}, before
    baseline = lab.unit("cisco_ios", "party")
    isolation = lab.unit("h3c_comware", "party")
    access = lab.unit("huawei_vrp", "intranet")
    lab.by_hand(baseline, ["snmp-server community public RO"])
    lab.by_hand(isolation, ["acl advanced 3990", "undo rule 5"])
    shown = lab.by_hand(access, [])
    vlanif = interface_of(shown, f"description govnet intranet {access['id']}")
    lab.by_hand(access, [vlanif, "description hand-made", "quit"])

    code, after = lab.drift()
    assert code == 3
    drifted = {u: r["drifted"] for u, r in after.items() if r["state"] != "compliant"}
    assert drifted == {
        baseline["id"]: ["security-baseline"],
        isolation["id"]: ["party-isolation"],
        access["id"]: ["access"],
    }, after
    assert after[baseline["id"]]["categories"]["security-baseline"] == {"missing": 0, "extra": 1}
    assert after[isolation["id"]]["categories"]["party-isolation"] == {"missing": 1, "extra": 0}
    assert after[access["id"]]["segments"] == {"intranet": False, "party": True, "extranet": True} or (
        after[access["id"]]["segments"]["intranet"] is False
    )
    for unit in drifted:
        source = after[unit]["source"]
        assert source["origin"] == "outside govnet" and source["before"] is not None, source
        assert after[unit]["devices"][0]["backup_stored"] is True

    # the remediation is exactly what `rollout plan --unit` would push; applied, the unit is back
    for unit, report in after.items():
        for fix in report["remediation"]:
            assert fix["plan"] == f"govnet rollout plan --segment {fix['segment']} --unit {unit}"
            plan = json.loads(lab.run(*fix["plan"].split()[1:], "--json").stdout)
            (planned,) = plan["units"]
            assert planned["status"] == "change" and planned["commands"] == fix["commands"]
    for unit in drifted:  # the baseline is in every segment's scope: later plans may find it done
        for fix in after[unit]["remediation"]:
            lab.rollout(fix["segment"], unit)
    code, fixed = lab.drift(*drifted)
    assert code == 0 and {u["state"] for u in fixed.values()} == {"compliant"}, fixed
    again = lab.drift(baseline["id"])[1][baseline["id"]]
    assert again["devices"][0]["backup_stored"] is False  # unchanged config: no new backup


def test_a_rollback_drifts_the_unit_again_and_it_is_attributed_to_govnet(lab: Lab) -> None:
    unit = lab.unit("cisco_ios", "intranet")
    lab.by_hand(unit, ["snmp-server community hand-made RO"])
    out = lab.root / "fix.plan"
    lab.run("rollout", "plan", "--segment", "intranet", "--unit", unit["id"], "--out", str(out))
    run = json.loads(lab.run("rollout", "apply", str(out), "--yes", "--json").stdout)["run"]
    assert lab.drift(unit["id"])[0] == 0
    lab.run("rollout", "rollback", run, "--yes")
    code, report = lab.drift(unit["id"])
    assert code == 3
    source = report[unit["id"]]["source"]
    assert (source["origin"], source["action"]) == ("govnet", "rollback"), source
    assert source["user"] and source["at"]
    lab.rollout("intranet", unit["id"])


def test_unreachable_devices_are_unknown_never_compliant(healed: Lab) -> None:
    lab = healed
    down, denied = lab.unit("huawei_vrp", "party"), lab.unit("cisco_ios", "intranet")
    lab.run("lab", "fault", down["id"], "device-down")
    lab.run("lab", "fault", denied["id"], "auth-fail")
    code, report = lab.drift(down["id"], denied["id"])
    assert code == 3
    for unit in (down, denied):
        assert report[unit["id"]]["state"] == "unknown", report
        assert report[unit["id"]]["reason"].count("cannot read the running config") == 1
        assert set(report[unit["id"]]["segments"].values()) == {None}
    assert "auth" in report[denied["id"]]["reason"].lower()


def test_the_daemon_exports_drift_and_the_alert_rules_fire_on_it(healed: Lab, tmp_path: Path) -> None:
    lab = healed
    config = yaml.safe_load(Path(lab.info["daemon_config"]).read_text())
    config.update(listen=f"127.0.0.1:{free_port()}", state=str(lab.root / "state"))
    config["compliance"].update(interval=5, start_delay=0)
    path = tmp_path / "daemon.yml"
    path.write_text(yaml.safe_dump(config))
    daemon = DaemonProcess(path, tmp_path / "daemon.log").start()
    try:
        units = [u["id"] for u in lab.info["units"]]
        daemon.until(
            lambda: all(daemon.metrics().get1("govnet_config_check_success", unit=u) == 1.0 for u in units),
            90,
            "every unit checked",
        )
        assert {v for _, v in daemon.metrics().select("govnet_config_compliant")} == {1.0}
        victim, down = lab.unit("h3c_comware", "party"), lab.unit("huawei_vrp", "party")
        lab.by_hand(victim, ["acl advanced 3990", "undo rule 10"])
        lab.run("lab", "fault", down["id"], "device-down")

        def seen() -> Any:
            m = daemon.metrics()
            drift = m.get1("govnet_config_drift_lines", unit=victim["id"], kind="party-isolation")
            gone = m.get1("govnet_config_check_success", unit=down["id"]) == 0.0
            return m if drift and gone else None

        metrics = daemon.until(seen, 90, "the drift and the unreachable device exported")
        assert metrics.get1("govnet_config_compliant", unit=victim["id"], segment="party") == 0.0
        assert metrics.get1("govnet_config_compliant", unit=victim["id"], segment="intranet") in (1.0, None)
        assert metrics.select("govnet_config_compliant", unit=down["id"]) == []
        assert metrics.get1("govnet_config_last_check_timestamp_seconds", unit=down["id"]) is not None
        page = daemon.request("/").body.decode()
        assert (
            f'data-unit="{victim["id"]}"' in page and "party-isolation" in page and "outside govnet" in page
        )
        assert {c["unit"]: c["state"] for c in daemon.status()["compliance"]}[down["id"]] == "unknown"
        fired = alerts_for(metrics, tmp_path, victim["id"], down["id"])
        assert fired == {
            ("GovnetConfigDriftCritical", victim["id"]),
            ("GovnetConfigUnknown", down["id"]),
        }, fired
    finally:
        daemon.stop()
    lab.rollout("party", victim["id"])


def alerts_for(metrics: Any, tmp: Path, *units: str) -> set[tuple[str, str]]:
    """(alert, unit) pairs the shipped rules fire on the series the daemon exported for ``units``.

    promtool evaluates them (an hour of the scraped values): every compliance alert is expected
    silent, and what promtool reports it got instead is what fired.
    """
    series = []
    for name in ("govnet_config_compliant", "govnet_config_drift_lines", "govnet_config_check_success"):
        for labels, value in metrics.select(name):
            if labels.get("unit") in units:
                selector = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
                series.append({"series": f"{name}{{{selector}}}", "values": f"{value:g}x60"})
    alerts = ("GovnetConfigDriftCritical", "GovnetConfigDrift", "GovnetConfigUnknown")
    test = {
        "rule_files": [str(RULES)],
        "evaluation_interval": "1m",
        "tests": [
            {
                "interval": "1m",
                "input_series": series,
                "alert_rule_test": [{"eval_time": "45m", "alertname": a, "exp_alerts": []} for a in alerts],
            }
        ],
    }
    path = tmp / "compliance.test.yml"
    path.write_text(yaml.safe_dump(test))
    result = run_promtool("test", "rules", str(path))
    got = re.findall(r'Labels:\{alertname="(\w+)", .*?unit="([^"]+)"', result.stdout + result.stderr)
    assert result.returncode == 0 or got, result.stdout + result.stderr
    return set(got)


def test_stopping_the_daemon_during_a_drift_check_is_quiet(healed: Lab, tmp_path: Path) -> None:
    """SIGTERM while a drift check is reading devices (one made slow): exit 0, nothing logged as
    a crash (the check's coroutine was logged by APScheduler as a job that raised)."""
    lab = healed
    config = yaml.safe_load(Path(lab.info["daemon_config"]).read_text())
    config.update(listen=f"127.0.0.1:{free_port()}", state=str(lab.root / "state"))
    config["compliance"].update(interval=60, start_delay=0)
    path = tmp_path / "daemon.yml"
    path.write_text(yaml.safe_dump(config))
    for unit in lab.info["units"]:
        lab.run("lab", "fault", unit["id"], "slow=300")  # every answer 0.3 s: the check takes a while
    daemon = DaemonProcess(path, tmp_path / "daemon.log").start()
    try:
        daemon.until(lambda: daemon.status()["units"], 30, "the daemon up")
        time.sleep(2)  # the check has started reading devices (start_delay 0) and is far from done
    finally:
        code, _ = daemon.stop()
        for unit in lab.info["units"]:
            lab.run("lab", "heal", unit["id"])
    log = daemon.log_text()
    assert code == 0, log
    assert "Traceback" not in log and "raised an exception" not in log, log
