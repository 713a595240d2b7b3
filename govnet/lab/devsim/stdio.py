"""``python -m govnet.lab.devsim.stdio --spec FILE.json --device NAME``: one CLI session of one
simulated device over this process's stdin and stdout.

Why: to put a simulated device behind an SSH server we did not write. OpenSSH's ``sshd`` runs
this as a ``ForceCommand`` with a pty on stdin/stdout, so govnet's SSH layer meets a real server
while the CLI it drives is still a device's (issue #14). The pty is set raw: the shell echoes
what it reads, like a vty, and nothing is translated (no CR/LF mapping, no signals on ^C).

Every login is a process of its own, so the device's state lives in its spec's ``state_dir``
as it does for the asyncssh simulator: the session boots from the last running configuration
(``SimDevice(resume=True)``; a real device keeps it across logins), which the device writes back
before each exec prompt and at the end; ``save`` writes the startup file; faults come from
``faults.json``. Sessions of one device take turns (an exclusive ``flock`` on
``<state>/<name>.lock``, held for the whole session): two processes holding a configuration
each would lose each other's changes. A login that does not get its turn within
``TURN_WAIT`` seconds is refused with one line on the terminal.

An ``ssh DEVICE COMMAND`` (sshd puts the command in ``SSH_ORIGINAL_COMMAND``) answers that one
command and ends, like the asyncssh simulator. stderr is the terminal too: logs go to
``<state>/<name>.stdio.log``, and a bad spec or a busy device is one line, never a traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import codecs
import contextlib
import fcntl
import logging
import os
import signal
import sys
import termios
import time
import tty
from collections.abc import Iterator
from pathlib import Path

from govnet.errors import GovnetError, LabError
from govnet.lab.devsim.__main__ import load_specs
from govnet.lab.devsim.device import DeviceSpec, SimDevice, check_name
from govnet.lab.devsim.shell import Hangup, Shell

log = logging.getLogger("govnet.lab.devsim.stdio")

TURN_WAIT = 30.0
"""Seconds a login waits for the device's previous session to end before it is refused."""
READ_SIZE = 4096


class StdioTerminal:
    """A ``shell.Terminal`` over two file descriptors (a pty, pipes or files), with asyncio.

    The descriptors are made non-blocking and waited on with the loop's reader and writer
    callbacks, so a hangup (``hang_up``, from SIGHUP when sshd closes the pty) or an ``abort``
    ends a pending read or write at once.
    """

    def __init__(self, fd_in: int, fd_out: int) -> None:
        self.fd_in = fd_in
        self.fd_out = fd_out
        self.aborted = False
        self.gone = False
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._waits: set[asyncio.Future[None]] = set()

    async def read(self) -> str:
        while not self.gone:
            try:
                data = os.read(self.fd_in, READ_SIZE)
            except BlockingIOError:
                await self._ready(self.fd_in, write=False)
                continue
            except OSError:  # EIO: the other side of the pty closed
                return ""
            if not data:
                return ""
            text = self._decoder.decode(data)
            if text:  # else half a UTF-8 character: read on
                return text
        return ""

    async def write(self, text: str) -> None:
        data = memoryview(text.encode("utf-8"))
        while data:
            if self.gone:
                raise Hangup
            try:
                sent = os.write(self.fd_out, data)
            except BlockingIOError:
                await self._ready(self.fd_out, write=True)
                continue
            except OSError as exc:  # EIO or EPIPE: the client has gone
                raise Hangup from exc
            data = data[sent:]

    def abort(self) -> None:
        """Drop the session at once (the ``ssh-drop`` fault): no more reads or writes; the
        process ends as soon as the shell has unwound (sshd then closes the channel)."""
        self.aborted = True
        self.hang_up()

    def hang_up(self) -> None:
        """The client went away: wake whatever waits for input or output."""
        self.gone = True
        for wait in list(self._waits):
            if not wait.done():
                wait.set_result(None)

    async def _ready(self, fd: int, *, write: bool) -> None:
        loop = asyncio.get_running_loop()
        ready: asyncio.Future[None] = loop.create_future()

        def wake() -> None:
            if not ready.done():
                ready.set_result(None)

        if write:
            loop.add_writer(fd, wake)
        else:
            loop.add_reader(fd, wake)
        self._waits.add(ready)
        try:
            await ready
        finally:
            self._waits.discard(ready)
            if write:
                loop.remove_writer(fd)
            else:
                loop.remove_reader(fd)


@contextlib.contextmanager
def raw_terminal(fd: int) -> Iterator[None]:
    """``fd`` in raw mode while the session runs (when it is a terminal), restored after."""
    if not os.isatty(fd):
        yield
        return
    saved = termios.tcgetattr(fd)
    tty.setraw(fd, termios.TCSANOW)  # not TCSAFLUSH: what was typed ahead is kept
    try:
        yield
    finally:
        with contextlib.suppress(termios.error):  # the pty may be gone already
            termios.tcsetattr(fd, termios.TCSANOW, saved)


@contextlib.contextmanager
def non_blocking(*fds: int) -> Iterator[None]:
    saved = {fd: os.get_blocking(fd) for fd in fds}
    for fd in fds:
        os.set_blocking(fd, False)
    try:
        yield
    finally:
        for fd, blocking in saved.items():
            with contextlib.suppress(OSError):
                os.set_blocking(fd, blocking)


@contextlib.contextmanager
def device_turn(spec: DeviceSpec, wait: float = TURN_WAIT) -> Iterator[None]:
    """Hold the device's session lock; ``LabError`` if another session keeps it ``wait`` s."""
    path = Path(spec.state_dir) / f"{spec.name}.lock"
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as exc:
        raise LabError(f"{spec.name}: cannot open {path}: {exc.strerror}") from None
    try:
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise LabError(f"{spec.name}: another session is still open; try again later") from None
                time.sleep(0.05)
        yield
    finally:
        os.close(fd)  # releases the lock


async def run_session(spec: DeviceSpec, terminal: StdioTerminal, command: str | None = None) -> None:
    """Boot the device from its last state, run one session on ``terminal``, write the state."""
    device = SimDevice(spec, resume=True)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGHUP, signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, terminal.hang_up)
    shell = Shell(device, terminal)
    try:
        if command:
            await shell.run_once(command)
        else:
            await shell.run()
    finally:
        device.flush()
        device.close()
        for sig in (signal.SIGHUP, signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)
    log.info("%s: session ended%s", spec.name, " (dropped)" if terminal.aborted else "")


def find_spec(path: Path, name: str) -> DeviceSpec:
    check_name(name)
    for spec in load_specs(path):
        if spec.name == name:
            return spec
    raise LabError(f"{path}: no device named {name}")


def _log_to(spec: DeviceSpec, level: str) -> None:
    """Logs go to a file in the state folder: stderr is the client's terminal."""
    path = Path(spec.state_dir) / f"{spec.name}.stdio.log"
    try:
        handler: logging.Handler = logging.FileHandler(path, encoding="utf-8")
    except OSError:
        handler = logging.NullHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(process)d %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(level)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m govnet.lab.devsim.stdio", description=__doc__)
    parser.add_argument("--spec", required=True, help="JSON file listing devices (as for govnet.lab.devsim)")
    parser.add_argument("--device", required=True, help="name of the device to be")
    parser.add_argument(
        "--wait",
        type=float,
        default=TURN_WAIT,
        help=f"seconds to wait for the device's other session to end (default {TURN_WAIT:g})",
    )
    parser.add_argument(
        "--log-level",
        default="INFO",
        type=str.upper,
        choices=("DEBUG", "INFO", "WARNING", "ERROR"),
        help="default INFO",
    )
    args = parser.parse_args(argv)
    command = os.environ.get("SSH_ORIGINAL_COMMAND", "").strip() or None
    fd_in, fd_out = sys.stdin.fileno(), sys.stdout.fileno()
    try:
        spec = find_spec(Path(args.spec), args.device)
        try:
            Path(spec.state_dir).mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise LabError(f"{spec.name}: cannot make {spec.state_dir}: {exc.strerror}") from None
        _log_to(spec, args.log_level)
        with device_turn(spec, args.wait), raw_terminal(fd_in), non_blocking(fd_in, fd_out):
            asyncio.run(run_session(spec, StdioTerminal(fd_in, fd_out), command))
    except GovnetError as exc:
        for line in exc.lines():
            print(f"devsim: {line}", file=sys.stderr, flush=True)
        return exc.exit_code
    except Exception:  # our bug: logged in full, one line for the client
        log.exception("%s: session failed", args.device)
        print(f"devsim: {args.device}: session failed (see its .stdio.log)", file=sys.stderr, flush=True)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
