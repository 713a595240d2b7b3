"""The lab's state folder: what `other_labs` makes of whatever else lies under the same root."""

from __future__ import annotations

from pathlib import Path

from govnet.lab import state


def test_other_labs_skips_what_is_not_a_lab(tmp_path: Path) -> None:
    ours, other = tmp_path / "mine", tmp_path / "other"
    state.write_lab(ours, {"lab": "mine", "network": "198.18.0.0/17"})
    state.write_lab(other, {"lab": "other", "network": "198.18.128.0/17"})
    (tmp_path / "notes.txt").write_text("a plain file where labs live\n")
    (tmp_path / "empty").mkdir()  # a lab folder before its lab.json was written
    (tmp_path / "torn").mkdir()
    (tmp_path / "torn" / "lab.json").write_text('{"lab": "torn", "netw')  # half a file
    (tmp_path / "list").mkdir()
    (tmp_path / "list" / "lab.json").write_text("[1, 2]")  # JSON, but not a lab record
    assert state.other_labs(ours) == [{"lab": "other", "network": "198.18.128.0/17"}]


def test_other_labs_of_a_root_that_does_not_exist_is_empty(tmp_path: Path) -> None:
    assert state.other_labs(tmp_path / "nowhere" / "mine") == []
