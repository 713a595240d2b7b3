"""Batched pushes (``Session.push(..., stays=…)``) against simulated devices over real SSH.

Lines that stay in their view share one write; a line that may change the view ends its write,
so a rejected header never sends the lines after it into the wrong view. Every line is still
answered by its own prompt and checked: the device's message names the rejected line, and the
lines of the same write that reached the device too are counted and listed as taken.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import pytest

from govnet.devices import CommandRejected, ConnectionLost, open_session
from govnet.devices.session import Session
from govnet.lab.devsim import set_fault
from govnet.secrets import SecretResolver
from tests.devices.devlab import FAST, Lab
from tests.devices.test_device_session import ALL, EXIT, LOCATION, NAMES, PORT, UNKNOWN


def contact(platform: str) -> str:
    return LOCATION[platform].replace("location Luohe-lab", "contact noc-batch")


def views(platform: str) -> Callable[[str], bool]:
    """What the rollout derives from the configs: headers and exit words change the view."""
    return lambda line: not line.startswith(("interface", "interfcae")) and line != EXIT[platform]


class Writes:
    """The session's writes, counted (the device and the SSH path are real)."""

    def __init__(self, session: Session) -> None:
        self.texts: list[str] = []
        channel = session._channel
        write = channel.write

        def counted(text: str) -> None:
            self.texts.append(text)
            write(text)

        channel.write = counted  # type: ignore[method-assign]


@pytest.fixture
def faulted(lab: Lab) -> Iterator[Callable[[str, str], str]]:
    touched: list[str] = []

    def fault(platform: str, spec: str) -> str:
        name = f"{NAMES[platform]}-f"
        set_fault(lab.state, name, spec)
        touched.append(name)
        return name

    yield fault
    for name in touched:
        lab.heal(name)


@ALL
def test_lines_that_stay_in_their_view_share_a_write(
    lab: Lab, secrets_env: SecretResolver, platform: str
) -> None:
    name = f"{NAMES[platform]}-1"
    lines = [
        LOCATION[platform],
        contact(platform),
        f"interface {PORT[platform]}",
        " description batched-1",
        " shutdown" if platform == "cisco_ios" else " undo shutdown",
        EXIT[platform],
    ]
    with open_session(lab.device(name), resolver=secrets_env, known_hosts=lab.known_hosts) as session:
        writes = Writes(session)
        transcript = session.push(lines, stays=views(platform))
        pushed = list(writes.texts)
        running = session.running_config()
    # enter; [location, contact, interface] ending at the header; [description, shutdown, exit]; leave
    assert len(pushed) == 4, pushed
    assert pushed[1].splitlines() == lines[:3] and pushed[2].splitlines() == lines[3:]
    assert all(line.strip() in transcript for line in lines)  # each line echoed and answered
    assert "Luohe-lab" in running and "noc-batch" in running and "description batched-1" in running
    assert running == lab.running(name)


@ALL
def test_a_rejected_line_inside_a_write_is_named_and_the_rest_counted(
    lab: Lab, secrets_env: SecretResolver, platform: str, faulted: Callable[[str, str], str]
) -> None:
    name = faulted(platform, "reject=location")
    lines = [f"interface {PORT[platform]}", " description batch-reject", EXIT[platform]]
    lines += [LOCATION[platform], contact(platform)]
    with open_session(lab.device(name), resolver=secrets_env, known_hosts=lab.known_hosts) as session:
        with pytest.raises(CommandRejected) as caught:
            session.push(lines, stays=views(platform))
        after = session.running_config()  # back in exec mode, in step, still usable
    exc = caught.value
    assert exc.command == LOCATION[platform]
    assert exc.device_message == UNKNOWN[platform]
    assert "(1 later line(s) of the same write reached the device too)" in str(exc)
    assert exc.accepted == (*lines[:3], contact(platform))  # the later line was taken: listed
    assert "description batch-reject" in after and "noc-batch" in after and "Luohe-lab" not in after


@ALL
def test_a_rejected_header_ends_its_write_so_nothing_lands_in_the_wrong_view(
    lab: Lab, secrets_env: SecretResolver, platform: str
) -> None:
    name = f"{NAMES[platform]}-1"
    lines = [LOCATION[platform], "interfcae LoopBack7", " description wrong-view", EXIT[platform]]
    with open_session(lab.device(name), resolver=secrets_env, known_hosts=lab.known_hosts) as session:
        writes = Writes(session)
        with pytest.raises(CommandRejected) as caught:
            session.push(lines, stays=views(platform))
        after = session.running_config()
    assert caught.value.command == "interfcae LoopBack7"
    assert caught.value.accepted == (LOCATION[platform],)
    assert "later line" not in str(caught.value)
    assert writes.texts[1].splitlines() == lines[:2]  # the header was the last line of its write
    assert not any("wrong-view" in text for text in writes.texts)
    assert "wrong-view" not in after


@ALL
def test_connection_dropped_inside_a_write(
    lab: Lab, secrets_env: SecretResolver, platform: str, faulted: Callable[[str, str], str]
) -> None:
    """The simulator hangs up at the second line of the write (having answered the first):
    a line counts as taken once its answer was read."""
    name = faulted(platform, "ssh-drop")
    lines = [LOCATION[platform], contact(platform), f"interface {PORT[platform]}"]
    with open_session(
        lab.device(name), resolver=secrets_env, known_hosts=lab.known_hosts, timeouts=FAST
    ) as s:
        start = time.monotonic()
        with pytest.raises(ConnectionLost) as caught:
            s.push(lines, stays=views(platform))
        elapsed = time.monotonic() - start
    assert str(caught.value).endswith("connection lost after 1 of 3 lines")
    assert caught.value.accepted == (lines[0],)
    assert elapsed < FAST.command  # seen at once, not after a read timeout


def test_a_write_is_bounded_in_lines_and_bytes(lab: Lab, secrets_env: SecretResolver) -> None:
    """40 leaf lines: at most ``batch_lines`` per write and never more than ``batch_bytes``."""
    lines = [f"ip route-static 198.18.{n}.0 24 NULL0 description govnet-batch-{n}" for n in range(40)]
    with open_session(lab.device("hw-1"), resolver=secrets_env, known_hosts=lab.known_hosts) as session:
        writes = Writes(session)
        session.push(lines, stays=lambda _line: True)
        batches = writes.texts[1:-1]  # between enter and leave
        running = session.running_config()
        record = session.platform
    assert sum(len(t.splitlines()) for t in batches) == 40 and len(batches) >= 2
    assert all(len(t.splitlines()) <= record.batch_lines for t in batches)
    assert all(len(t) + 1 <= record.batch_bytes for t in batches)
    assert all(f"govnet-batch-{n}" in running for n in range(40))
