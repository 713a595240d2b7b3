"""The daemon runs as a non-root user with only CAP_NET_RAW (as deploy/ runs it): it probes the
lab over ICMP and SNMP, serves /metrics on localhost, and needs nothing else from root.

The isolation probe is left out: its vantage is another network namespace, and entering one
(setns) needs CAP_SYS_ADMIN, which the unprivileged daemon does not have.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from tests import nobody
from tests.helpers import need
from tests.monitor.daemonkit import DaemonProcess, Lab, lab_twin
from tests.nobody import AS_NOBODY, NOBODY

ONLY_NET_RAW = ("--inh-caps=+net_raw", "--ambient-caps=+net_raw")


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    with lab_twin(tmp_path_factory.mktemp("unprivileged")) as twin:
        yield twin


def test_daemon_as_nobody_with_only_cap_net_raw(lab: Lab) -> None:
    need(shutil.which("setpriv") is not None, "missing binary: setpriv")
    home = Path(tempfile.mkdtemp(prefix="govnet-nobody-"))
    try:
        home.chmod(0o755)
        secrets = home / "secrets"
        shutil.copytree(Path(lab.info["state"]) / "secrets", secrets)
        for path in [secrets, *secrets.iterdir()]:
            os.chown(path, NOBODY, NOBODY)
        lab_secrets = str(Path(lab.info["state"]) / "secrets")
        inventory = home / "inventory.yml"
        inventory.write_text(lab.inventory.read_text().replace(lab_secrets, str(secrets)))
        inventory.chmod(0o644)
        config_path = lab.daemon_config(home)
        config = yaml.safe_load(config_path.read_text())
        config["inventory"] = str(inventory)
        config["state"] = str(home / "daemon-state")
        config["probes"].pop("isolation", None)
        as_nobody = nobody.install()
        if "compliance" in config:  # the lab names the checkout's templates: nobody's copy of them
            config["compliance"]["templates"] = str(as_nobody.root / "configs")
        config["traps"]["communities"] = [
            c.replace(lab_secrets, str(secrets)) for c in config["traps"]["communities"]
        ]
        config_path.write_text(yaml.safe_dump(config, sort_keys=False))
        config_path.chmod(0o644)
        daemon = DaemonProcess(
            config_path,
            home / "daemon.log",
            runner=(*AS_NOBODY, *ONLY_NET_RAW),
            ready_within=120,
            install=as_nobody,
        ).start()
        try:
            assert daemon.proc is not None
            status = Path(f"/proc/{daemon.proc.pid}/status").read_text()
            fields = dict(line.split(":\t", 1) for line in status.splitlines() if ":\t" in line)
            assert fields["Uid"].split()[0] == str(NOBODY)
            assert int(fields["CapEff"], 16) == 1 << 13  # CAP_NET_RAW only
            units = lab.units()
            daemon.until(
                lambda: (
                    len([v for _, v in daemon.metrics().select("govnet_unit_up") if v == 1]) >= len(units)
                ),
                180,
                "every lab unit up over ICMP as nobody",
            )
            daemon.until(
                lambda: daemon.metrics().select("govnet_snmp_if_oper_status"),
                120,
                "an SNMP answer as nobody",
            )
        finally:
            code, _ = daemon.stop()
        assert code == 0, daemon.log_text()
        assert "Permission denied" not in daemon.log_text()
    finally:
        shutil.rmtree(home)
