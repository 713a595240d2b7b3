"""deploy/: every file checked by the tool its consumer would check it with (systemd-analyze,
``govnet daemon --check``, promtool, amtool), and the pieces agree with one another (ports, paths,
the site's ranges). The compose file cannot run here (no container engine): it must parse and
every file it references must exist.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from ipaddress import IPv4Network
from pathlib import Path
from typing import Any

import pytest
import yaml

from govnet.cli.bridge import alert_bridge_cmd
from govnet.export.contacts import DEFAULT_BRIDGE
from govnet.inventory.loader import load
from tests.exporters.promkit import run_promtool
from tests.helpers import ROOT, need

DEPLOY = ROOT / "deploy"
SERVICE = DEPLOY / "govnet.service"
BRIDGE_SERVICE = DEPLOY / "govnet-alert-bridge.service"
DAEMON = DEPLOY / "daemon.example.yml"
COMPOSE = DEPLOY / "compose.yml"
SECRETS = ("GOVNET_SSH_PASSWORD", "GOVNET_ENABLE_SECRET", "GOVNET_SNMP_AUTH_KEY", "GOVNET_SNMP_PRIV_KEY")


def directives(text: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for line in text.splitlines():
        if "=" in line and not line.startswith(("#", "[")):
            key, _, value = line.partition("=")
            out.setdefault(key.strip(), []).append(value.strip())
    return out


def test_service_runs_unprivileged_with_net_raw_only() -> None:
    unit = directives(SERVICE.read_text())
    expected = {
        "User": ["govnet"],
        "AmbientCapabilities": ["CAP_NET_RAW"],
        "CapabilityBoundingSet": ["CAP_NET_RAW"],
        "NoNewPrivileges": ["yes"],
        "ProtectSystem": ["strict"],
        "ProtectHome": ["yes"],
        "PrivateTmp": ["yes"],
        "StateDirectory": ["govnet"],
        "ReadWritePaths": ["/var/lib/govnet"],
        "ExecReload": ["/bin/kill -HUP $MAINPID"],
    }
    for key, value in expected.items():
        assert unit.get(key) == value, key
    (start,) = unit["ExecStart"]
    assert start.endswith("daemon --config /etc/govnet/daemon.yml")
    assert unit["ExecStartPre"] == [start + " --check"]


def test_bridge_service_runs_without_privilege_and_reloads() -> None:
    unit = directives(BRIDGE_SERVICE.read_text())
    expected = {
        "User": ["govnet-bridge"],
        "SupplementaryGroups": ["govnet"],
        "CapabilityBoundingSet": [""],
        "AmbientCapabilities": [""],
        "NoNewPrivileges": ["yes"],
        "ProtectSystem": ["strict"],
        "RestrictAddressFamilies": ["AF_INET AF_INET6 AF_UNIX"],
        "ExecReload": ["/bin/kill -HUP $MAINPID"],
    }
    for key, value in expected.items():
        assert unit.get(key) == value, key
    assert "StateDirectory" not in unit and "ReadWritePaths" not in unit
    (start,) = unit["ExecStart"]
    command, args = start.split()[:2], start.split()[2:]
    assert command == ["/opt/govnet/bin/govnet", "alert-bridge"]
    options = {name for param in alert_bridge_cmd.params for name in getattr(param, "opts", [])}
    given = dict(zip(args[::2], args[1::2], strict=True))
    assert set(given) <= options, set(given) - options
    assert f"http://{given['--listen']}" == DEFAULT_BRIDGE  # where the export points Alertmanager
    assert given["--token"].startswith("env:")  # a reference, never the token


@pytest.mark.lab
@pytest.mark.parametrize("name", ["govnet.service", "govnet-alert-bridge.service"])
def test_systemd_analyze_verify(tmp_path: Path, name: str) -> None:
    tool = shutil.which("systemd-analyze")
    need(tool is not None, "systemd-analyze is not installed")
    assert tool is not None
    govnet = Path(sys.executable).parent / "govnet"
    need(govnet.exists(), f"no govnet console script next to {sys.executable}")
    # the unit names the install path /opt/govnet; verify checks that commands exist
    unit = tmp_path / name
    unit.write_text((DEPLOY / name).read_text().replace("/opt/govnet/bin/govnet", str(govnet)))
    result = subprocess.run(
        [tool, "verify", str(unit)], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stderr.strip() == "", result.stderr


def test_daemon_example_passes_govnet_daemon_check() -> None:
    env = dict(os.environ, **dict.fromkeys([*SECRETS, "GOVNET_TRAP_COMMUNITY"], "placeholder"))
    result = subprocess.run(
        [sys.executable, "-m", "govnet", "daemon", "--config", str(DAEMON), "--check"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "valid: 146 units" in result.stdout
    assert "outside allowed_networks" not in result.stderr


def test_daemon_example_allows_exactly_the_site_ranges() -> None:
    config = yaml.safe_load(DAEMON.read_text())
    assert (DEPLOY / config["inventory"]).resolve() == (ROOT / "inventory").resolve()
    inv = load(ROOT / "inventory").inventory
    site = {str(n) for plan in inv.segments.values() for n in [*plan.supernets, *plan.interconnect]}
    site |= {str(n) for n in inv.site.management}
    assert set(config["allowed_networks"]) == site
    for network in config["allowed_networks"]:
        assert IPv4Network(network).is_private
    assert config["listen"].startswith("127.0.0.1:")
    port = int(config["traps"]["listen"].rpartition(":")[2])
    assert port >= 1024, "the unit grants no CAP_NET_BIND_SERVICE"


@pytest.mark.lab
def test_prometheus_config_passes_promtool_and_matches_the_daemon() -> None:
    result = run_promtool("check", "config", str(DEPLOY / "prometheus.yml"))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "21 rules found" in result.stdout
    shipped = sorted((ROOT / "exporters" / "prometheus").glob("*.rules.yml"))
    assert len(shipped) >= 3  # govnet, govnet-audit, govnet-health
    assert f"{len(shipped)} rule files found" in result.stdout  # every shipped file is loaded
    config = yaml.safe_load((DEPLOY / "prometheus.yml").read_text())
    jobs = {j["job_name"]: j for j in config["scrape_configs"]}
    daemon = yaml.safe_load(DAEMON.read_text())
    assert jobs["govnet"]["static_configs"][0]["targets"] == [daemon["listen"]]
    assert config["alerting"]["alertmanagers"][0]["static_configs"][0]["targets"] == ["127.0.0.1:9093"]


@pytest.mark.lab
def test_alertmanager_config_passes_amtool() -> None:
    tool = shutil.which("amtool")
    need(tool is not None, "amtool is not installed (Debian package prometheus-alertmanager)")
    assert tool is not None
    result = subprocess.run(
        [tool, "check-config", str(DEPLOY / "alertmanager.yml")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def compose() -> dict[str, Any]:
    data = yaml.safe_load(COMPOSE.read_text())
    assert isinstance(data, dict)
    return data


def test_compose_has_the_stack_and_references_existing_files() -> None:
    services = compose()["services"]
    assert set(services) == {"prometheus", "alertmanager", "grafana", "govnet"}
    for name, service in services.items():
        for volume in service.get("volumes", []):
            source = volume.split(":", 1)[0]
            if source.startswith("."):
                assert (DEPLOY / source).exists(), f"{name}: {source}"
        build = service.get("build")
        if build:
            context = DEPLOY / build["context"]
            assert context.is_dir() and (context / build["dockerfile"]).is_file(), name
    named = {
        v.split(":", 1)[0]
        for s in services.values()
        for v in s.get("volumes", [])
        if not v.startswith((".", "/"))
    }
    assert named <= set(compose()["volumes"])


def test_compose_binds_loopback_and_keeps_the_daemon_out_of_a_default_up() -> None:
    services = compose()["services"]
    for name, service in services.items():
        assert service["network_mode"] == "host", name
        listens = [a for a in service.get("command", []) if "listen-address=" in a and "cluster" not in a]
        assert all(a.endswith(tuple(f"=127.0.0.1:{p}" for p in ("9090", "9093"))) for a in listens), name
    assert services["grafana"]["environment"]["GF_SERVER_HTTP_ADDR"] == "127.0.0.1"
    assert "--cluster.listen-address=" in services["alertmanager"]["command"]
    govnet = services["govnet"]
    assert govnet["profiles"] == ["site"], "the daemon must never start on a plain `compose up`"
    assert govnet["cap_drop"] == ["ALL"] and govnet["cap_add"] == ["NET_RAW"]


def test_compose_mounts_match_the_relative_paths_of_the_configs() -> None:
    """Inside the containers /etc/govnet mirrors the repository: relative paths hold in both."""
    services = compose()["services"]
    mounts = {
        target: source
        for service in services.values()
        for source, target in (v.split(":")[:2] for v in service.get("volumes", []))
    }
    prometheus = yaml.safe_load((DEPLOY / "prometheus.yml").read_text())
    (rules,) = prometheus["rule_files"]
    container_rules = os.path.normpath(os.path.join("/etc/govnet/deploy", os.path.dirname(rules)))
    assert mounts[container_rules] == "../exporters/prometheus"
    provider = yaml.safe_load((DEPLOY / "grafana/provisioning/dashboards/govnet.yml").read_text())
    assert mounts[provider["providers"][0]["options"]["path"]] == "../exporters/grafana"
    assert mounts["/etc/govnet/deploy/templates"] == "../exporters/alertmanager"
    assert re.fullmatch(r"\.\./inventory", mounts["/etc/govnet/inventory"])
