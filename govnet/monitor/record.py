"""What a cycle's results change in the daemon's view: each kind's own rule, applied the same way.

The rules live with the kinds (``govnet/probes/<kind>/kind.py``: ``record``); here they are
applied: the kind gets its current part and the unit states, returns a new part (never changing
the old one: the exporter may be reading it), the events to log and the state transitions.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from govnet.monitor.state import DaemonView, Transition
from govnet.probes.base import ProbeResult, Target
from govnet.probes.kind import Recorded


def record(view: DaemonView, kind: str, segment: str, results: Sequence[ProbeResult]) -> list[Transition]:
    """Apply one cycle's results of ``kind`` to the view; the state transitions it caused."""
    return keep(view, kind, view.kinds[kind].record(view.part(kind), segment, results, view.tracker))


def keep(view: DaemonView, kind: str, recorded: Recorded[Any]) -> list[Transition]:
    """Make ``recorded`` the kind's part, log its events; its transitions."""
    view.parts[kind] = recorded.part
    for event in recorded.events:
        view.event(str(event["kind"]), **{k: v for k, v in event.items() if k != "kind"})
    return list(recorded.transitions)


def prepare(view: DaemonView, jobs: Mapping[tuple[str, str], Sequence[Target]]) -> None:
    """Each kind's part once its jobs' targets are known (at start, after a reload)."""
    for (kind, _), targets in jobs.items():
        view.parts[kind] = view.kinds[kind].prepare(view.part(kind), targets)
