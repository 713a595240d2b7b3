"""Property-based fuzzing of the inventory loader and the plan-file reader.

Any input — random bytes, YAML-ish text, a valid file with lines dropped, duplicated or edited —
ends in a valid model or a ``GovnetError``; never another exception, and within bounded time
(hypothesis ``deadline``) and memory (``tracemalloc`` peak per example).
"""

from __future__ import annotations

import tempfile
import tracemalloc
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from govnet.errors import GovnetError
from govnet.inventory.loader import load
from govnet.rollout import planfile
from tests.helpers import DATA

MAX_PEAK_BYTES = 64 * 1024 * 1024
VALID_INVENTORY = (DATA / "valid" / "minimal.yml").read_text(encoding="utf-8")
VALID_PLAN = (DATA / "badinput" / "plans" / "fresh-needs-yes.json").read_text(encoding="utf-8")
FUZZ = settings(
    max_examples=120,
    deadline=2000,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    derandomize=True,
)
YAMLISH = st.text(
    alphabet=st.sampled_from(list("abz019 :-[]{}#&*!|>'\"\n\t,.%@`?~=\\/\u00e9\u6d4b")), max_size=400
)


def mutated(text: str) -> st.SearchStrategy[str]:
    """The valid text with one line dropped, duplicated, truncated or replaced."""
    lines = text.splitlines(keepends=True)

    @st.composite
    def build(draw: st.DrawFn) -> str:
        out = list(lines)
        for _ in range(draw(st.integers(1, 3))):
            index = draw(st.integers(0, len(out) - 1))
            action = draw(st.sampled_from(["drop", "dup", "cut", "replace", "indent"]))
            if action == "drop":
                del out[index]
            elif action == "dup":
                out.insert(index, out[index])
            elif action == "cut":
                out[index] = out[index][: draw(st.integers(0, len(out[index])))]
            elif action == "indent":
                out[index] = " " * draw(st.integers(1, 3)) + out[index]
            else:
                out[index] = draw(YAMLISH) + "\n"
            if not out:
                break
        return "".join(out)

    return build()


def outcome(reader: str, data: bytes) -> None:
    """Write ``data`` to a file and read it; only GovnetError may escape; memory is bounded."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / ("input.yml" if reader == "inventory" else "plan.json")
        path.write_bytes(data)
        tracemalloc.start()
        try:
            if reader == "inventory":
                load(path)
            else:
                planfile.read(path)
        except GovnetError as exc:
            assert all(line.strip() for line in exc.lines())
        finally:
            _, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
        assert peak < MAX_PEAK_BYTES, f"{peak} bytes at peak"


@FUZZ
@given(st.binary(max_size=600))
def test_inventory_random_bytes(data: bytes) -> None:
    outcome("inventory", data)


@FUZZ
@given(YAMLISH)
def test_inventory_yamlish_text(text: str) -> None:
    outcome("inventory", text.encode())


@FUZZ
@given(mutated(VALID_INVENTORY))
def test_inventory_mutated_valid_file(text: str) -> None:
    outcome("inventory", text.encode())


@FUZZ
@given(st.binary(max_size=600))
def test_plan_random_bytes(data: bytes) -> None:
    outcome("plan", data)


@FUZZ
@given(YAMLISH)
def test_plan_yamlish_text(text: str) -> None:
    outcome("plan", text.encode())


@FUZZ
@given(mutated(VALID_PLAN))
def test_plan_mutated_valid_file(text: str) -> None:
    outcome("plan", text.encode())


def test_the_unmutated_files_load() -> None:
    """The seeds are valid: the properties above start from real models."""
    outcome("inventory", VALID_INVENTORY.encode())
    plan, _ = planfile.read(DATA / "badinput" / "plans" / "fresh-needs-yes.json")
    assert plan.units[0].id == "sz-fagaiwei"
