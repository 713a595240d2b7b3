"""Long-lived lab processes (snmpd, delayers, …) started inside namespaces and stopped reliably.

Each process gets ``<state>/pids/<name>.pid`` (the pid, as tools expect) plus a ``.json`` with its
start time, namespace and argv: the start time guards against killing an unrelated process that
reused the pid after a reboot of the lab.  Output goes to ``<state>/logs/<name>.log``.
The processes run in their own session so the CLI that started them can exit.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from govnet.errors import LabError
from govnet.lab.system import netns_exec
from govnet.osutil.netns import netns_path

_children: dict[int, subprocess.Popen[bytes]] = {}


def pid_dir(state_dir: Path) -> Path:
    return state_dir / "pids"


def log_path(state_dir: Path, name: str) -> Path:
    return state_dir / "logs" / f"{name}.log"


def _start_time(pid: int) -> int | None:
    """Field 22 of /proc/PID/stat (clock ticks since boot); None if gone or a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    fields = stat[stat.rindex(")") + 2 :].split()
    if fields[0] in ("Z", "X"):
        return None
    return int(fields[19])


def _reap(pid: int) -> None:
    child = _children.get(pid)
    if child is not None and child.poll() is not None:
        del _children[pid]


def start_process(
    name: str, netns: str, argv: Sequence[str], state_dir: Path, env: Mapping[str, str] | None = None
) -> int:
    """Start ``argv`` inside ``netns`` in the background; return its pid.

    ``ip netns exec`` execs the program, so the pid is the program's own.
    """
    if not netns_path(netns).exists():
        raise LabError(f"cannot start {name}: namespace {netns} does not exist")
    running = process_pid(name, state_dir)
    if running is not None:
        return running
    log = log_path(state_dir, name)
    log.parent.mkdir(parents=True, exist_ok=True)
    pid_dir(state_dir).mkdir(parents=True, exist_ok=True)
    full_env = dict(os.environ)
    full_env.update(env or {})
    with open(log, "ab") as out:
        child = subprocess.Popen(
            netns_exec(netns, argv),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            env=full_env,
            start_new_session=True,
        )
    _children[child.pid] = child
    started = _start_time(child.pid)
    (pid_dir(state_dir) / f"{name}.pid").write_text(f"{child.pid}\n")
    meta = {"pid": child.pid, "start_time": started, "netns": netns, "argv": list(argv)}
    (pid_dir(state_dir) / f"{name}.json").write_text(json.dumps(meta))
    return child.pid


def process_pid(name: str, state_dir: Path) -> int | None:
    """The pid of ``name`` if it is still the process we started, else None."""
    meta_file = pid_dir(state_dir) / f"{name}.json"
    try:
        meta = json.loads(meta_file.read_text())
    except FileNotFoundError:
        return None
    pid = int(meta["pid"])
    _reap(pid)
    started = _start_time(pid)
    if started is None or started != meta.get("start_time"):
        return None
    return pid


def recorded(state_dir: Path) -> list[str]:
    """Names of all processes with a pid file, running or not."""
    directory = pid_dir(state_dir)
    if not directory.is_dir():
        return []
    return sorted(p.stem for p in directory.glob("*.json"))


def wait_gone(pids: Sequence[int], timeout: float) -> list[int]:
    """Poll until ``pids`` have exited (zombies count as gone); return the survivors."""
    deadline = time.monotonic() + timeout
    left = list(pids)
    while left:
        for pid in left:
            _reap(pid)
        left = [p for p in left if _start_time(p) is not None]
        if not left or time.monotonic() >= deadline:
            break
        time.sleep(0.02)
    return left


def kill_pids(pids: Sequence[int], timeout: float = 5.0) -> None:
    """SIGTERM, wait up to ``timeout``, then SIGKILL whatever is left."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, sig)
        pids = wait_gone(pids, timeout if sig == signal.SIGTERM else 2.0)
        if not pids:
            return
    raise LabError(f"processes {list(pids)} did not exit after SIGKILL")


def stop_process(name: str, state_dir: Path, timeout: float = 5.0) -> bool:
    """Stop ``name`` (SIGTERM, then SIGKILL after ``timeout``); True if it was running."""
    pid = process_pid(name, state_dir)
    if pid is not None:
        kill_pids([pid], timeout)
    for suffix in (".pid", ".json"):
        (pid_dir(state_dir) / f"{name}{suffix}").unlink(missing_ok=True)
    return pid is not None
