"""The bad-input catalogue (tests/data/catalogue.yml), each case through the real CLI.

The cases run as subprocesses a few at a time (the CLI's start-up dominates), once per session;
each parametrised test then checks one case: exit code, exactly the expected stderr lines, no
traceback or internal error, and nothing written.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.badinput.runner import Case, Outcome, load, needs_root, prepare, run, tree_digest
from tests.helpers import DATA, ROOT, need

CASES = load()
# Cases that need root (to drop to nobody with setpriv, or to get past "needs root"): the lab tier.
PARAMS = [pytest.param(c, id=c.kind, marks=[pytest.mark.lab] if needs_root(c) else []) for c in CASES]
AREAS = {"plan", "cli", "lab-fault", "template", "daemon-config", "inventory"}


@pytest.fixture(scope="session")
def outcomes() -> Iterator[dict[str, tuple[Outcome, str, str, bool]]]:
    """kind → (outcome, scratch digest before, after, state dir created)."""
    scratch = Path(tempfile.mkdtemp(prefix="govnet-badinput-"))
    scratch.chmod(0o755)  # `as_nobody` cases must reach their files
    data_before = tree_digest(DATA)
    root_state = (ROOT / "state").exists()

    as_root = os.geteuid() == 0 and shutil.which("setpriv") is not None
    runnable = [(i, c) for i, c in enumerate(CASES) if as_root or not needs_root(c)]

    def one(index: int, case: Case) -> tuple[str, tuple[Outcome, str, str, bool]]:
        tmp = scratch / str(index)
        tmp.mkdir()
        prepare(case, tmp)
        before = tree_digest(tmp)
        outcome = run(case, tmp)
        return case.kind, (outcome, before, tree_digest(tmp), (tmp / "state").exists())

    try:
        with ThreadPoolExecutor(max_workers=4) as pool:
            results = dict(pool.map(lambda pair: one(*pair), runnable))
        assert tree_digest(DATA) == data_before, "a bad-input case changed tests/data"
        assert (ROOT / "state").exists() == root_state, "a bad-input case created ./state"
        yield results
    finally:
        for item in scratch.rglob("*"):
            if not item.is_symlink():
                item.chmod(0o755 if item.is_dir() else 0o644)
        shutil.rmtree(scratch)


def test_the_catalogue_is_complete() -> None:
    kinds = [c.kind for c in CASES]
    assert len(kinds) == len(set(kinds)), "two cases share a kind"
    assert len(kinds) >= 40
    assert {c.area for c in CASES} == AREAS
    for case in CASES:
        assert case.code in (1, 2), case.kind
        assert case.stderr, case.kind
        if case.fixture is not None:
            assert (ROOT / case.fixture).exists(), case.fixture


def test_every_plan_fixture_is_in_the_catalogue() -> None:
    used = {c.fixture for c in CASES if c.fixture}
    for fixture in (DATA / "badinput" / "plans").iterdir():
        assert str(fixture.relative_to(ROOT)) in used, fixture.name


@pytest.mark.parametrize("case", PARAMS)
def test_bad_input_is_one_clear_line_and_writes_nothing(
    case: Case, outcomes: dict[str, tuple[Outcome, str, str, bool]]
) -> None:
    if needs_root(case):
        need(os.geteuid() == 0, "needs root (the lab commands; dropping to nobody)")
        need(shutil.which("setpriv") is not None, "missing binary: setpriv")
    outcome, before, after, state_created = outcomes[case.kind]
    assert "Traceback" not in outcome.stderr
    assert "internal error" not in outcome.stderr
    assert outcome.stderr.splitlines() == case.stderr
    assert outcome.code == case.code
    assert outcome.stdout == ""
    assert not state_created, "a state directory was created"
    assert after == before, "the scratch folder changed"
