"""Fixtures of the device-session tests: a simulated lab per module, credentials per test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from govnet.secrets import SecretResolver
from tests.devices.devlab import Lab, lab_secrets, serve_lab


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    yield from serve_lab(tmp_path_factory)


@pytest.fixture
def secrets_env(monkeypatch: pytest.MonkeyPatch) -> SecretResolver:
    return lab_secrets(monkeypatch)
