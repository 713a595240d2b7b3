"""Shared test helpers: the test tiers, and running the CLI in-process to capture what a user would see.

Tiers (#16). Every test is ``unit`` or ``lab``, decided here at collection by what it needs:

- ``lab``: root, a network namespace, an external binary (snmpd, prometheus, chromium, sshd,
  setpriv, …) or a peer over a socket (a simulated SSH device, snmpsim, a TCP listener). It says
  so by using one of ``LAB_FIXTURES``, by living in one of ``LAB_MODULES``, or by an explicit
  ``@pytest.mark.lab`` (a test in a mixed module that calls ``need()`` itself).
- ``unit``: everything else: pure, in-process, nothing to install, runs as any user in any order.
  ``scripts/test --quick`` runs these (``-m unit``). A unit test that calls ``need()`` fails at
  once (tests/helpers.py), even as root, so a misfiled test cannot reach a non-root developer.

``slow`` (orthogonal) marks the tests measured above ~5 s on a 2-core machine.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from govnet.cli.main import run
from tests import helpers
from tests.helpers import ROOT

# Fixtures that bring up a lab, a simulated device, a server, a raw socket or a kernel object.
LAB_FIXTURES = frozenset(
    {
        "lab", "healthy", "healed", "kit", "city", "quirky_lab", "field_lab",  # lab twins, namespaces
        "sim_lab", "field", "sshlab", "sim", "paced",  # simulated SSH devices on loopback
        "sshd", "snmpsim", "snmpd",  # OpenSSH, snmpsim, net-snmp
        "stack", "prometheus", "am", "webhook", "daemon",  # prometheus, alertmanager, the daemon
        "raw", "routed", "bare", "netns", "vantage_ns", "silent",  # raw sockets, namespaces
        "listener", "closed_port", "cycles", "lab_inventory_file",  # loopback peers, raw ICMP, amtool
    }
)  # fmt: skip

# Modules whose every test needs the lab, even where no fixture says so.
LAB_MODULES = frozenset(
    {
        "tests/devices/test_device_batch.py",
        "tests/devices/test_device_field.py",
        "tests/devices/test_device_session.py",
        "tests/devices/test_openssh_peer.py",
        "tests/devices/test_ssh_profiles.py",
        "tests/lab/test_devsim.py",
        "tests/lab/test_devsim_cli.py",
        "tests/lab/test_devsim_power.py",
        "tests/lab/test_devsim_timing.py",
        "tests/lab/test_full_city.py",
        "tests/lab/test_twin.py",
        "tests/lab/test_twin_timing.py",
        "tests/probes/test_icmp.py",
        "tests/probes/test_snmp.py",
        "tests/probes/test_tcp.py",
        "tests/probes/test_traps.py",
        "tests/render/test_push_lab.py",
        "tests/rollout/test_pinger.py",
        "tests/rollout/test_volatile_lab.py",
    }
)

# Measured above ~5 s (a call, or a module's shared setup).
SLOW = (
    "tests/lab/test_full_city.py",
    "tests/export/test_alerting_e2e.py",
    "tests/report/test_report_lab.py",
    "tests/security/test_web_guard_lab.py",  # a daemon and Prometheus; audit heads read every 5 s
    "tests/test_state.py::test_many_processes_setting_up_one_new_store_all_succeed",
    "tests/badinput/test_bad_input_catalogue.py::test_bad_input_is_one_clear_line_and_writes_nothing",
    "tests/lab/test_devsim.py::test_netmiko_pushes_saves_and_reads_back",
    "tests/render/test_push_lab.py::test_push_rendered_config_with_netmiko",
    "tests/lab/test_devsim_timing.py::test_the_field_profile_is_played_as_recorded",
)


def needs_lab(item: pytest.Item) -> bool:
    """Whether ``item`` is in the lab tier (see the module docstring)."""
    if item.get_closest_marker("lab") is not None:
        return True
    module = item.path.relative_to(ROOT).as_posix()
    return module in LAB_MODULES or not LAB_FIXTURES.isdisjoint(getattr(item, "fixturenames", ()))


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        tier = "lab" if needs_lab(item) else "unit"
        if item.get_closest_marker(tier) is None:
            item.add_marker(tier)
        if item.nodeid.startswith(SLOW):
            item.add_marker("slow")


@pytest.fixture(autouse=True)
def _tier(request: pytest.FixtureRequest) -> Iterator[None]:
    """Lets ``need()`` know that the running test is a unit test (and must need nothing)."""
    helpers.running_unit_test = request.node.nodeid if request.node.get_closest_marker("unit") else None
    yield
    helpers.running_unit_test = None


@dataclass
class Result:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


@pytest.fixture
def govnet(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Any:
    """Run ``govnet ARGS`` in-process from the repository root; returns code, stdout, stderr."""
    monkeypatch.chdir(ROOT)
    monkeypatch.delenv("GOVNET_DEBUG", raising=False)

    def call(*args: str) -> Result:
        capsys.readouterr()
        code = run(list(args))
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return call
