"""No function longer than 60 lines (ruff has no such rule): the ones that are, are listed below.

``LONG`` is the debt, one reason each: a new long function fails, and so does an entry whose
function got short (or moved): remove it. Lines run from ``def`` to the function's last line,
docstring included. Checked: the Python files under govnet/, tests/, bench/ and scripts/.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

from tests.helpers import ROOT

MAX_LINES = 60
FOLDERS = ("govnet", "tests", "bench", "scripts")

LONG = {
    "govnet/lab/topology.py::build_tree": "core, aggregation nodes, units and VRFs in one pass; to split per tier",
    "govnet/lab/site.py::lab_inventory": "the lab's inventory written field by field; to split per section",
    "govnet/metrics/collector.py::ViewCollector._daemon": "the daemon's own families (cycles, traps, render, reload) in one list",
    "govnet/metrics/page.py::render_page": "the status page as one HTML template in code; goes with #16 item 1",
    "govnet/metrics/page.py::status_json": "the status page's JSON mirror of render_page; goes with #16 item 1",
    "govnet/report/page.py::availability_html": "the report as one HTML template in code (inline CSS and SVG)",
    "govnet/devices/transport.py::_login": "the login dialogue (questions, legacy SSH, enable) as one sequence",
    "govnet/export/alertmanager.py::inhibit_rules": "topology rules, then the generic ones: one list, read top to bottom",
    "scripts/gen_luohe_inventory.py::main": "the generator the site was first made with: a record, not maintained code",
    "scripts/gen_luohe_inventory.py::site": "the generator the site was first made with: a record, not maintained code",
    "scripts/gen_luohe_inventory.py::topology": "the generator the site was first made with: a record, not maintained code",
    "bench/soak.py::Soak.report": "a benchmark's printed report, one table after another",
    "bench/daemon_bench.py::report": "a benchmark's printed report, one table after another",
    "bench/gen_inventory.py::inventory": "a benchmark's synthetic site, field by field",
    "tests/data/badinput/make_plans.py::main": "the generator of the bad plan fixtures, one fixture after another",
    "tests/devices/test_openssh_peer.py::sshd": "a fixture: sshd's config, users, keys and ForceCommands in one sequence",
    "tests/exporters/test_dashboards.py::prepare": "healthy, then a reboot, a link down and a leak: one timeline for every panel",
    "tests/probes/test_traps.py::test_a_storm_is_rate_limited_counted_and_does_not_block_the_loop": "one scenario",
    "tests/probes/test_traps.py::test_link_and_restart_traps_are_decoded_exactly": "one scenario, trap by trap",
    "tests/monitor/test_daemon_faults.py::test_a_trap_storm_is_bounded_counted_and_the_daemon_stays_responsive": (
        "one scenario"
    ),
    "tests/rollout/test_rollout_lab.py::test_sigkill_mid_apply_then_resume_never_pushes_twice": "one scenario",
    "tests/rollout/test_rollout_lab.py::test_each_wave_is_silenced_on_alertmanager_while_it_changes": "one scenario",
}


def functions(tree: ast.AST, prefix: str = "") -> Iterator[tuple[str, int]]:
    """(qualified name, length in lines) of every function in ``tree``, nested ones included."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            name = prefix + node.name
            yield name, (node.end_lineno or node.lineno) - node.lineno + 1
            yield from functions(node, name + ".")
        elif isinstance(node, ast.ClassDef):
            yield from functions(node, prefix + node.name + ".")
        else:
            yield from functions(node, prefix)


def lengths() -> dict[str, int]:
    found = {}
    for folder in FOLDERS:
        for path in sorted((ROOT / folder).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
            for name, length in functions(tree):
                found[f"{path.relative_to(ROOT).as_posix()}::{name}"] = length
    return found


def test_no_new_function_is_longer_than_60_lines() -> None:
    long = {name: n for name, n in lengths().items() if n > MAX_LINES and name not in LONG}
    assert not long, f"functions over {MAX_LINES} lines (split them): {long}"


def test_the_allow_list_holds_only_functions_still_too_long() -> None:
    found = lengths()
    paid = [name for name in LONG if found.get(name, 0) <= MAX_LINES]
    assert not paid, (
        f"no longer over {MAX_LINES} lines (or moved): remove from LONG in {Path(__file__).name}: {paid}"
    )
