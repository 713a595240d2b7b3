"""The lab twin of the probe tests: 6 units in 198.18.128.0/17, built with the CLI for one test
module (a unique name, its state in a temporary folder) and always removed."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from tests.labkit import Lab, lab_up, require_lab

NETWORK = "198.18.128.0/17"


@contextmanager
def module_lab(tmp_path_factory: pytest.TempPathFactory, module: str, letter: str) -> Iterator[Lab]:
    """The lab of test module ``module``, named ``letter`` and 6 random hex digits."""
    require_lab(("ip", "snmpd", "setpriv"))
    state = tmp_path_factory.mktemp(f"{module}-lab")
    name = letter + uuid.uuid4().hex[:6]
    with lab_up(state, name, NETWORK, "--units", "6") as info:
        yield Lab(name, state, info)
