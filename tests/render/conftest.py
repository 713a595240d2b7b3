"""Shared fixtures: the shipped site (validated and rendered, never connected to) and a lab
vocabulary that knows the interface ACL commands govnet's templates use.

The simulator's keyword list (``govnet/lab/devsim/platforms/vocabulary.py``) lacks VRP's
``traffic-filter`` and Comware's ``packet-filter`` (how the party isolation ACL is applied to an
interface). Until it has them, these tests extend it for their own duration; once it has them the
fixture changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest

from govnet.inventory.loader import load
from govnet.inventory.models import Inventory
from govnet.lab.devsim.platforms import PLATFORMS
from tests.helpers import ROOT

MISSING_KEYWORDS = {"huawei_vrp": {"traffic-filter"}, "h3c_comware": {"packet-filter"}}


@pytest.fixture(scope="session")
def site() -> Inventory:
    return load(ROOT / "inventory").inventory


@pytest.fixture(scope="session")
def minimal() -> Inventory:
    return load(ROOT / "tests" / "data" / "valid" / "minimal.yml").inventory


@pytest.fixture(scope="module", autouse=True)
def lab_vocabulary() -> Iterator[None]:
    saved = dict(PLATFORMS)
    for name, words in MISSING_KEYWORDS.items():
        platform = PLATFORMS[name]
        if not words <= platform.syntax.keywords:
            keywords = platform.syntax.keywords | words
            PLATFORMS[name] = replace(platform, syntax=replace(platform.syntax, keywords=keywords))
    yield
    PLATFORMS.clear()
    PLATFORMS.update(saved)
