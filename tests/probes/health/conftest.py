"""The snmpsim agent every health test module of this folder polls: the synthetic vendor
recordings and the real-device ones (``healthkit``) plus the shared IF-MIB-only recordings."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator

import pytest

from tests.helpers import need, stop
from tests.probes.health import healthkit
from tests.probes.test_snmp import SNMPREC, SNMPSIM, free_udp_port, wait_answering


@pytest.fixture(scope="session")
def snmpsim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    need(SNMPSIM.exists(), f"{SNMPSIM} missing: pip install snmpsim pysmi")
    need((SNMPREC / "EXPECTED.json").is_file(), f"no SNMP recordings at {SNMPREC}")
    work = tmp_path_factory.mktemp("snmpsim-health")
    data = work / "data"
    healthkit.write(data)
    port = free_udp_port()
    args = [str(SNMPSIM), f"--data-dir={data}", f"--data-dir={SNMPREC}"]  # shared ones where they lie
    args += [f"--agent-udpv4-endpoint=127.0.0.1:{port}"]
    args += [f"--cache-dir={work / 'cache'}", f"--logging-method=file:{work / 'log'}"]
    if os.geteuid() == 0:
        args += ["--process-user=root", "--process-group=root"]
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_answering(port, "health_huawei", proc, work / "log")
        yield port
    finally:
        stop(proc)
