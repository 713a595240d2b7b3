"""The snmp probe against real agents on 127.0.0.1.

snmpsim serves the real-device recordings in ``../shared/data/snmprec`` (Huawei VRP, H3C
Comware 7, Cisco C9300) and the probe must report exactly what their ``EXPECTED.json`` says;
net-snmp ``snmpd`` provides v2c and v3 (authPriv / authNoPriv), wrong credentials, a stopped
agent and a restart.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from govnet.probes.base import ProbeResult, Target
from govnet.probes.snmp.ber import GET, BerError, decode_response, request_template
from govnet.probes.snmp.plan import SYS_UPTIME, RequestPlan
from govnet.probes.snmp.probe import SnmpProbe, SnmpSettings
from tests.helpers import ROOT, need, stop


def recordings_dir() -> Path:
    """Where CI puts the shared data (``../shared`` of the repository), else this machine's copy."""
    for candidate in (Path(ROOT).parent / "shared" / "data" / "snmprec", Path("/work/shared/data/snmprec")):
        if (candidate / "EXPECTED.json").is_file():
            return candidate
    return Path(ROOT).parent / "shared" / "data" / "snmprec"


SNMPREC = recordings_dir()
SNMPSIM = Path(sys.executable).parent / "snmpsim-command-responder"
SECRET_KEYS = {"authpass-123", "privpass-123", "authpass-456", "WRONG-authpass"}


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_answering(
    port: int, community: str, proc: subprocess.Popen[bytes], log: Path, bound: float = 20.0
) -> None:
    """Poll a v2c GET of sysUpTime until the agent answers (bounded; fails with its log)."""
    packet = request_template(community.encode(), GET, [SYS_UPTIME]).packet(0x00800001)
    deadline = time.monotonic() + bound
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(0.1)
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                break
            sock.sendto(packet, ("127.0.0.1", port))
            try:
                if decode_response(sock.recv(65535)).request_id == 0x00800001:
                    return
            except (TimeoutError, BerError):
                continue
    text = log.read_text(errors="replace")[-2000:] if log.exists() else ""
    pytest.fail(f"agent on 127.0.0.1:{port} did not answer within {bound} s:\n{text}")


@contextlib.contextmanager
def snmpsim_serving(work: Path, data_dirs: list[Path], community: str) -> Iterator[int]:
    """snmpsim on a free loopback port serving ``data_dirs`` (the recordings where they lie),
    once it answers ``community``; its port."""
    need(SNMPSIM.exists(), f"{SNMPSIM} missing: pip install snmpsim pysmi")
    port = free_udp_port()
    args = [str(SNMPSIM), *(f"--data-dir={d}" for d in data_dirs), f"--agent-udpv4-endpoint=127.0.0.1:{port}"]
    args += [f"--cache-dir={work / 'cache'}", f"--logging-method=file:{work / 'log'}"]
    if os.geteuid() == 0:
        args += ["--process-user=root", "--process-group=root"]
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_answering(port, community, proc, work / "log")
        yield port
    finally:
        stop(proc)


@pytest.fixture(scope="module")
def snmpsim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    need(SNMPREC.is_dir(), f"no SNMP recordings at {SNMPREC}")
    with snmpsim_serving(tmp_path_factory.mktemp("snmpsim"), [SNMPREC], "huawei_vrp_s5720") as port:
        yield port


class Snmpd:
    """A net-snmp agent on 127.0.0.1 with a v2c community and three v3 users."""

    CONFIG = """agentAddress udp:127.0.0.1:{port}
rocommunity govnet-ro 127.0.0.1
createUser govnetv3 SHA authpass-123 AES privpass-123
createUser govnet256 SHA-256 authpass-123 AES-256 privpass-123
createUser govnetmd5 MD5 authpass-456
rouser govnetv3 authpriv
rouser govnet256 authpriv
rouser govnetmd5 auth
dontLogTCPWrappersConnects yes
"""

    def __init__(self, work: Path) -> None:
        self.work = work
        self.port = free_udp_port()
        (work / "persist").mkdir()
        (work / "snmpd.conf").write_text(self.CONFIG.format(port=self.port))
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        env = {
            **os.environ,
            "SNMP_PERSISTENT_DIR": str(self.work / "persist"),
            "MIBS": "",
            "MIBDIRS": "/nonexistent",
        }
        # the persistent file keeps the engine ID and counts engineBoots across restarts, like a device
        config = f"{self.work / 'snmpd.conf'},{self.work / 'persist' / 'snmpd.conf'}"
        args = ["snmpd", "-f", "-Lf", str(self.work / "log"), "-C", "-c", config, "-I", "-smux"]
        self.proc = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_answering(self.port, "govnet-ro", self.proc, self.work / "log")

    def stop(self) -> None:
        if self.proc is not None:
            stop(self.proc)

    def target(self, unit: str, **params: Any) -> Target:
        return Target(unit, "intranet", "127.0.0.1", self.port, params={"interfaces": ["lo"], **params})


V3 = {"version": "v3", "user": "govnetv3", "auth_protocol": "sha", "auth_key": "authpass-123"}
V3 |= {"priv_protocol": "aes", "priv_key": "privpass-123"}


@pytest.fixture
def snmpd(tmp_path: Path) -> Iterator[Snmpd]:
    need(shutil.which("snmpd") is not None, "net-snmp snmpd not installed (apt-get install snmpd)")
    agent = Snmpd(tmp_path)
    agent.start()
    try:
        yield agent
    finally:
        agent.stop()


def poll(
    targets: Sequence[Target], cycles: int = 1, deadline: float = 10.0, settings: dict[str, Any] | None = None
) -> list[list[ProbeResult]]:
    """Run ``cycles`` cycles of ``deadline`` s with one probe (its cache carries over) and close it."""

    async def go() -> list[list[ProbeResult]]:
        probe = SnmpProbe(SnmpSettings.parse(settings or {}))
        try:
            return [await probe.run(targets, deadline) for _ in range(cycles)]
        finally:
            await probe.close()

    return asyncio.run(go())


EXPECTED: dict[str, Any] = json.loads((SNMPREC / "EXPECTED.json").read_text()) if SNMPREC.is_dir() else {}
DEVICES = sorted(EXPECTED) or ["cisco_iosxe_c9300", "h3c_comware7", "huawei_vrp_s5720"]


def device(port: int, community: str, interfaces: Sequence[str] = ()) -> Target:
    params = {"version": "v2c", "community": community, "interfaces": list(interfaces)}
    return Target(community, "intranet", "127.0.0.1", port, params=params)


def check_interface(got: Any, want: dict[str, Any]) -> None:
    assert (got.oper_status, got.admin_status) == (want["oper"], want["admin"])
    assert got.in_octets == want.get("ifHCInOctets", want.get("ifInOctets"))
    assert got.out_octets == want.get("ifHCOutOctets", want.get("ifOutOctets"))
    assert (got.speed_mbps, got.alias) == (want["ifHighSpeed"], want["ifAlias"])


@pytest.mark.parametrize("community", DEVICES)
def test_recorded_device_reports_exactly_what_expected_json_says(snmpsim: int, community: str) -> None:
    want = EXPECTED[community]
    first, second = poll([device(snmpsim, community)], cycles=2)
    for result in (first[0], second[0]):
        assert result.success, result.detail
        assert result.detail == ""
        assert result.uptime_seconds == want["sysUpTime_ticks"] / 100
        got = {status.index: status for status in result.interfaces}
        assert sorted(got) == sorted(int(index) for index in want["interfaces"])
        for index, row in want["interfaces"].items():
            assert got[int(index)].name == row["ifName"]
            check_interface(got[int(index)], row)
        counts = want["counts"]
        oper = Counter(status.oper_status for status in result.interfaces)
        assert (oper.pop(1, 0), oper.pop(2, 0)) == (counts["oper_up"], counts["oper_down"])
        assert {str(k): v for k, v in oper.items()} == counts["oper_other"]
    assert (first[0].values["discovered"], second[0].values["discovered"]) == (1.0, 0.0)
    assert second[0].sent == second[0].values["pdus"]  # steady state: only the planned GETs


@pytest.mark.parametrize("community", DEVICES)
def test_chosen_interfaces_by_ifname_or_ifdescr_in_one_get(snmpsim: int, community: str) -> None:
    rows = EXPECTED[community]["interfaces"]
    indexes = sorted(rows, key=int)
    picks = [indexes[0], indexes[len(indexes) // 2], indexes[-1]]
    wanted = [rows[picks[0]]["ifName"], rows[picks[1]]["ifDescr"], rows[picks[2]]["ifName"], "NoSuchPort9/9"]
    first, second = poll([device(snmpsim, community, wanted)], cycles=2)
    for result in (first[0], second[0]):
        assert result.success
        assert result.detail == "interfaces not found: NoSuchPort9/9"
        assert [(s.index, s.name) for s in result.interfaces] == list(
            zip(map(int, picks), wanted[:3], strict=True)
        )
        for status, index in zip(result.interfaces, picks, strict=True):
            check_interface(status, rows[index])
    assert second[0].sent == 1 and second[0].values == {"pdus": 1.0, "discovered": 0.0}


def test_a_vanished_oid_rebuilds_the_plan(snmpsim: int) -> None:
    target = device(snmpsim, "huawei_vrp_s5720", ["GigabitEthernet0/0/1"])

    async def go() -> list[ProbeResult]:
        probe = SnmpProbe()
        try:
            first = await probe.run([target], 10)
            unit = probe._units[target.key]
            assert unit.plan is not None
            # as if the interface had been re-indexed since discovery
            cells = [(pos, name, (*oid[:-1], 9999)) for pos, name, oid in unit.plan.cells]
            unit.plan = RequestPlan([(9999, "GigabitEthernet0/0/1")], cells, [], time.monotonic(), 40)
            return first + await probe.run([target], 10) + await probe.run([target], 10)
        finally:
            await probe.close()

    first, healed, steady = asyncio.run(go())
    assert "noSuchInstance" in healed.detail and healed.values["discovered"] == 1.0
    assert healed.interfaces == first.interfaces
    assert steady.values["discovered"] == 0.0 and steady.detail == ""


def test_v2c_and_v3_users_and_wrong_credentials(snmpd: Snmpd) -> None:
    sha256 = {**V3, "user": "govnet256", "auth_protocol": "sha256", "priv_protocol": "aes256"}
    md5 = {"version": "v3", "user": "govnetmd5", "auth_protocol": "md5", "auth_key": "authpass-456"}
    targets = [
        snmpd.target("v2c", version="v2c", community="govnet-ro"),
        snmpd.target("v3-sha-aes", **V3),
        snmpd.target("v3-wrong-key", **{**V3, "auth_key": "WRONG-authpass"}),
        snmpd.target("v3-sha256-aes256", **sha256),
        snmpd.target("v3-md5-authnopriv", **md5),
        snmpd.target("v2c-wrong-community", version="v2c", community="nope"),
    ]
    started = time.monotonic()
    (results,) = poll(targets, deadline=30.0, settings={"timeout": 0.3, "retries": 1})
    assert time.monotonic() - started < 30.0  # settled by the agent's answers, not by the cycle deadline
    assert [r.target.unit for r in results] == [t.unit for t in targets]
    by_unit = {r.target.unit: r for r in results}
    for unit in ("v2c", "v3-sha-aes", "v3-sha256-aes256", "v3-md5-authnopriv"):
        result = by_unit[unit]
        assert result.success, f"{unit}: {result.detail}"
        assert result.uptime_seconds is not None and result.uptime_seconds >= 0
        (lo,) = result.interfaces
        assert (lo.index, lo.name, lo.oper_status, lo.admin_status) == (1, "lo", 1, 1)
        assert isinstance(lo.in_octets, int) and isinstance(lo.out_octets, int)
    wrong_key = by_unit["v3-wrong-key"]
    assert not wrong_key.success and "authentication failure" in wrong_key.detail
    wrong_community = by_unit["v2c-wrong-community"]
    assert not wrong_community.success and wrong_community.detail.startswith("timeout")
    for result in results:
        assert not any(secret in result.detail for secret in SECRET_KEYS)


def test_stopped_agent_is_a_timeout_within_timeout_times_attempts(snmpd: Snmpd) -> None:
    targets = [snmpd.target("v2c", version="v2c", community="govnet-ro"), snmpd.target("v3", **V3)]

    async def go() -> tuple[list[ProbeResult], list[ProbeResult], float]:
        probe = SnmpProbe(SnmpSettings(timeout=0.4, retries=1))
        try:
            before = await probe.run(targets, 10)
            snmpd.stop()
            started = time.monotonic()
            after = await probe.run(targets, 10)
            return before, after, time.monotonic() - started
        finally:
            await probe.close()

    before, after, took = asyncio.run(go())
    assert all(r.success for r in before), [r.detail for r in before]
    for result in after:
        assert not result.success and result.detail.startswith("timeout"), result.detail
    assert took <= 0.4 * 2 + 0.3


def test_restart_shows_as_uptime_going_back_and_rebuilds_the_cache(snmpd: Snmpd) -> None:
    targets = [snmpd.target("v2c", version="v2c", community="govnet-ro"), snmpd.target("v3", **V3)]

    async def go() -> tuple[list[ProbeResult], list[ProbeResult], list[ProbeResult]]:
        probe = SnmpProbe(SnmpSettings(timeout=0.5, retries=2))
        try:
            deadline = time.monotonic() + 10
            before = await probe.run(targets, 10)
            while min(r.uptime_seconds or 0 for r in before) < 0.5 and time.monotonic() < deadline:
                await asyncio.sleep(0.05)  # polling for agent uptime, bounded by the deadline
                before = await probe.run(targets, 10)

            def restart() -> None:
                snmpd.stop()
                snmpd.start()

            await asyncio.to_thread(restart)
            after = await probe.run(targets, 10)
            steady = await probe.run(targets, 10)
            return before, after, steady
        finally:
            await probe.close()

    before, after, steady = asyncio.run(go())
    for old, new, next_ in zip(before, after, steady, strict=True):
        assert old.success and new.success and next_.success, (old.detail, new.detail, next_.detail)
        assert old.uptime_seconds is not None and new.uptime_seconds is not None
        assert new.uptime_seconds < old.uptime_seconds
        assert "agent restarted" in new.detail and new.values["discovered"] == 1.0
        assert new.interfaces[0].name == "lo"
        assert next_.values["discovered"] == 0.0 and next_.detail == ""


def test_cycle_deadline_answers_every_target_in_order(snmpsim: int) -> None:
    silent = Target("silent", "intranet", "127.0.0.1", free_udp_port(), params={"community": "x"})
    bad = Target("bad-params", "intranet", "127.0.0.1", snmpsim, params={"version": "v1", "community": "x"})
    good = device(snmpsim, "cisco_iosxe_c9300", ["Gi0/0"])
    started = time.monotonic()
    (results,) = poll([silent, good, bad, silent], deadline=3.0, settings={"timeout": 10.0, "retries": 3})
    assert time.monotonic() - started < 3.0 + 15.0  # the silent targets alone would take 40 s
    assert [r.target.unit for r in results] == ["silent", "cisco_iosxe_c9300", "bad-params", "silent"]
    assert results[1].success and results[1].interfaces[0].name == "Gi0/0"
    assert results[2].detail.startswith("bad SNMP params: unsupported SNMP version")
    for result in (results[0], results[3]):
        assert not result.success and result.detail == "timeout: cycle deadline of 3 s reached"


def test_one_probe_survives_successive_event_loops(snmpd: Snmpd) -> None:
    """The daemon may restart its loop (tests do, with asyncio.run): sockets and engine follow."""
    targets = [snmpd.target("v2c", version="v2c", community="govnet-ro"), snmpd.target("v3", **V3)]
    probe = SnmpProbe(SnmpSettings(timeout=0.5))
    try:
        first = asyncio.run(probe.run(targets, 5))
        second = asyncio.run(probe.run(targets, 5))
    finally:
        asyncio.run(probe.close())
    assert all(r.success for r in first + second), [r.detail for r in first + second]
    assert [r.values["discovered"] for r in second] == [0.0, 0.0]  # the plan cache outlives the loop


def test_a_source_address_that_is_not_ours_is_a_result_not_an_exception() -> None:
    """Binding fails before any packet is sent; every target waiting on that socket is told why."""
    params = {"community": "x"}
    targets = [Target(f"u{i}", "party", "127.0.0.1", 9, source="192.0.2.1", params=params) for i in range(3)]
    (results,) = poll(targets, deadline=2.0)
    for result in results:
        assert not result.success and result.detail.startswith("cannot open UDP socket from 192.0.2.1"), (
            result.detail
        )


def test_a_cancelled_run_leaves_no_task_behind() -> None:
    """A reload or SIGTERM cancels the cycle inside ``run``: its per-target polls end with it."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as silent:  # receives, never answers
        silent.bind(("127.0.0.1", 0))
        port = silent.getsockname()[1]
        targets = [
            Target(f"u{i}", "intranet", "127.0.0.1", port, params={"community": "x"}) for i in range(20)
        ]
        v3 = [Target("v3", "intranet", "127.0.0.1", port, params=V3)]

        async def go() -> tuple[int, int]:
            probe = SnmpProbe(SnmpSettings(timeout=5.0, retries=2))
            before = asyncio.all_tasks()
            try:
                run = asyncio.ensure_future(probe.run(targets + v3, 30.0))
                while len(asyncio.all_tasks() - before) < 1 + len(targets):  # bounded by wait_for
                    await asyncio.sleep(0.01)
                during = len(asyncio.all_tasks() - before)
                run.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await run
            finally:
                await probe.close()  # ends pysnmp's own dispatcher task, if the v3 poll got that far
            await asyncio.sleep(0)
            return during, len(asyncio.all_tasks() - before)

        during, after = asyncio.run(asyncio.wait_for(go(), 10))
    assert during > len(targets), "the per-target polls were running"
    assert after == 0, f"{after} task(s) outlived the cancelled run"


def test_an_agent_with_a_new_engine_id_answers_v3_again_at_the_next_poll(snmpd: Snmpd) -> None:
    """A replaced device (or a reset agent) keeps its address but not its snmpEngineID: one
    timeout, then the probe's shared engine discovers the new ID (it used to stay stuck)."""
    target = snmpd.target("v3", **V3)

    async def go() -> list[ProbeResult]:
        probe = SnmpProbe(SnmpSettings(timeout=0.5, retries=1))
        try:
            results = [(await probe.run([target], 5))[0]]
            snmpd.stop()
            shutil.rmtree(snmpd.work / "persist")  # where snmpd keeps its engine ID
            (snmpd.work / "persist").mkdir()
            await asyncio.to_thread(snmpd.start)
            for _ in range(3):
                results.append((await probe.run([target], 5))[0])
            return results
        finally:
            await probe.close()

    first, *after = asyncio.run(go())
    assert first.success, first.detail
    assert any(r.success for r in after[:2]), [r.detail for r in after]
    assert after[-1].success and after[-1].uptime_seconds is not None, after[-1].detail


def test_a_restart_announced_by_trap_needs_no_timeout(snmpd: Snmpd) -> None:
    """The trap handler calls ``forget_agent`` on coldStart: the very next poll rediscovers."""
    target = snmpd.target("v3", **V3)

    async def go() -> ProbeResult:
        probe = SnmpProbe(SnmpSettings(timeout=0.5, retries=0))
        try:
            assert (await probe.run([target], 5))[0].success
            snmpd.stop()
            shutil.rmtree(snmpd.work / "persist")
            (snmpd.work / "persist").mkdir()
            await asyncio.to_thread(snmpd.start)
            probe.forget_agent("127.0.0.1", snmpd.port)
            return (await probe.run([target], 5))[0]
        finally:
            await probe.close()

    result = asyncio.run(go())
    assert result.success, result.detail


def test_units_alike_share_one_plan_and_each_still_reads_its_own_device(snmpsim: int) -> None:
    """Plans are shared tuples (`plan.SHARED`): two units of one recording share their cells, OIDs
    and encoded GET; a third of another recording (another community) has its own GET, and
    every unit still reports exactly its recording, as when polled alone."""
    huawei, h3c = "huawei_vrp_s5720", "h3c_comware7"
    alike = [device(snmpsim, huawei), device(snmpsim, huawei), device(snmpsim, h3c)]
    alike[1] = dataclasses.replace(alike[1], unit="huawei-twin")

    async def go() -> tuple[list[ProbeResult], list[RequestPlan]]:
        probe = SnmpProbe()
        try:
            await probe.run(alike, 10)
            steady = await probe.run(alike, 10)
            plans = [probe._units[target.key].plan for target in alike]
            return steady, [plan for plan in plans if plan is not None]
        finally:
            await probe.close()

    steady, (one, twin, other) = asyncio.run(go())
    assert one is not twin and one.cells is twin.cells and one.interfaces is twin.interfaces
    assert [p.template for p in one.pdus] == [p.template for p in twin.pdus]
    assert all(
        a.template is b.template and a.oids is b.oids for a, b in zip(one.pdus, twin.pdus, strict=True)
    )
    assert {p.template for p in other.pdus}.isdisjoint(p.template for p in one.pdus)
    for result in steady:
        alone = poll([device(snmpsim, result.target.params["community"])])[0][0]
        assert result.success and result.values["discovered"] == 0.0
        assert result.interfaces == alone.interfaces  # the recordings' counters do not move
        assert len(result.interfaces) == len(EXPECTED[result.target.params["community"]]["interfaces"])
