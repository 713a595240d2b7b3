"""The snmpsim agent every health test module of this folder polls: the synthetic vendor
recordings and the real-device ones (``healthkit``) plus the shared IF-MIB-only recordings."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.helpers import need
from tests.probes.health import healthkit
from tests.probes.test_snmp import SNMPREC, snmpsim_serving


@pytest.fixture(scope="session")
def snmpsim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    need((SNMPREC / "EXPECTED.json").is_file(), f"no SNMP recordings at {SNMPREC}")
    work = tmp_path_factory.mktemp("snmpsim-health")
    healthkit.write(work / "data")
    with snmpsim_serving(
        work, [work / "data", SNMPREC], "health_huawei"
    ) as port:  # shared ones where they lie
        yield port
