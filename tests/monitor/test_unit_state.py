"""Unit state: N consecutive failures before down, parents first, unreachable behind a down node."""

from __future__ import annotations

from govnet.inventory.loader import load
from govnet.monitor.state import Entry, Tracker
from tests.helpers import DATA

MINIMAL = DATA / "valid" / "minimal.yml"


def tracker(down_after: int = 2) -> Tracker:
    return Tracker(load(MINIMAL).inventory, down_after)


def entry(t: Tracker, element: str, segment: str) -> Entry:
    found = t.get(element, segment)
    assert found is not None, (element, segment)
    return found


def cycle(t: Tracker, failing: set[str], segment: str = "party") -> list[tuple[str, str, str]]:
    for (element, seg), _ in list(t.entries.items()):
        if seg == segment:
            t.observe(element, seg, element not in failing)
    return [(c.element, c.old, c.new) for c in t.resolve()]


def test_unknown_until_measured_then_up() -> None:
    t = tracker()
    assert entry(t, "sz-fagaiwei", "party").state == "unknown"
    assert ("sz-fagaiwei", "unknown", "up") in cycle(t, set())
    assert t.counts("party") == {"up": 3, "down": 0, "unreachable": 0, "unknown": 0}


def test_down_only_after_consecutive_failures() -> None:
    t = tracker(3)
    cycle(t, set())
    assert cycle(t, {"sz-caizheng"}) == []
    assert cycle(t, {"sz-caizheng"}) == []
    assert cycle(t, {"sz-caizheng"}) == [("sz-caizheng", "up", "down")]
    assert cycle(t, set()) == [("sz-caizheng", "down", "up")]


def test_a_success_resets_the_count() -> None:
    t = tracker(2)
    cycle(t, set())
    cycle(t, {"sz-caizheng"})
    cycle(t, set())
    assert cycle(t, {"sz-caizheng"}) == []


def test_units_behind_a_down_node_are_unreachable_not_down() -> None:
    t = tracker(1)
    cycle(t, set())
    changes = cycle(t, {"core-city", "sz-fagaiwei", "sz-caizheng", "zl-wanjin"})
    assert ("core-city", "up", "down") in changes
    assert {c[0]: c[2] for c in changes if c[0] != "core-city"} == {
        "sz-fagaiwei": "unreachable",
        "sz-caizheng": "unreachable",
        "zl-wanjin": "unreachable",
    }
    assert t.counts("party")["down"] == 0  # nodes are not units: the segment counts units only


def test_a_trap_takes_a_unit_down_at_once() -> None:
    t = tracker(5)
    cycle(t, set())
    t.force_down("sz-caizheng", "linkDown trap")
    assert {(c.element, c.segment, c.new) for c in t.resolve()} == {
        ("sz-caizheng", "intranet", "down"),
        ("sz-caizheng", "party", "down"),
    }
    assert entry(t, "sz-caizheng", "party").state == "down"
    assert entry(t, "sz-caizheng", "party").detail == "linkDown trap"


def test_only_owned_units_are_tracked_but_every_node_is() -> None:
    t = Tracker(load(MINIMAL).inventory, 2, elements={"sz-caizheng"})
    assert {e for e, _ in t.entries} == {"core-city", "sz-caizheng"}
