"""The lab the daemon's lab tests share the shape of: each module that asks for ``lab`` gets its
own small lab twin (tests/monitor/daemonkit.py: ``lab_twin``), built once and always taken down."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.monitor.daemonkit import Lab, lab_twin


@pytest.fixture(scope="module")
def lab(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    module = request.module.__name__.rsplit(".", 1)[-1].removeprefix("test_")
    with lab_twin(tmp_path_factory.mktemp(f"{module}-lab")) as twin:
        yield twin
