"""Thin, checked access to the kernel tools the lab drives: ``ip``, namespaces, ``/proc``.

Every command is an argument list (never a shell string) and a failure becomes one `LabError`
line naming the command, so a user sees "ip: RTNETLINK answers: Operation not permitted" rather
than a traceback.  `in_netns` (`govnet.osutil.netns`, shared with the probes) runs Python code
inside a namespace without spawning a process, which is how sysctls are set and sockets opened
in the lab.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from govnet.errors import LabError
from govnet.osutil.netns import NETNS_DIR, in_netns, netns_path

CAP_NET_ADMIN = 12
CAP_SYS_ADMIN = 21
DEBIAN_PACKAGE = {
    "ip": "iproute2",
    "iptables-legacy": "iptables",
    "snmpd": "snmpd",
    "snmpget": "snmp",
    "ping": "iputils-ping",
    "setpriv": "util-linux",
}
BENIGN = ("File exists",)


def require_privileges() -> None:
    """Namespaces need CAP_NET_ADMIN and CAP_SYS_ADMIN (``ip netns add`` bind-mounts)."""
    status = Path("/proc/self/status").read_text()
    cap_eff = next(int(line.split()[1], 16) for line in status.splitlines() if line.startswith("CapEff:"))
    for bit, name in ((CAP_NET_ADMIN, "CAP_NET_ADMIN"), (CAP_SYS_ADMIN, "CAP_SYS_ADMIN")):
        if not cap_eff & (1 << bit):
            raise LabError(f"the lab needs root ({name} is missing); run it with sudo")


def require_binary(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        package = DEBIAN_PACKAGE.get(name, name)
        raise LabError(f"{name} not found; install the Debian package {package}")
    return path


def _failure(argv: Sequence[str], stderr: str, tolerate: Iterable[str]) -> str | None:
    """The first stderr line that is not a tolerated message, or None."""
    allowed = tuple(tolerate)
    for line in stderr.splitlines():
        text = line.strip()
        if not text or any(t in text for t in allowed):
            continue
        if text.startswith("Command failed") or text.startswith("We have an error talking"):
            continue
        words = [w for w in argv if w not in ("setpriv", "--pdeathsig", "KILL")]
        return f"{' '.join(words[:2])}: {text}"
    return None


def run(
    argv: Sequence[str], *, stdin: str | None = None, tolerate: Iterable[str] = (), timeout: float = 60.0
) -> str:
    """Run a command, return stdout; raise `LabError` unless every error line is tolerated."""
    try:
        proc = subprocess.run(
            list(argv), input=stdin, capture_output=True, text=True, timeout=timeout, check=False
        )
    except FileNotFoundError:
        require_binary(argv[0])
        raise
    except subprocess.TimeoutExpired:
        raise LabError(f"{' '.join(argv[:3])}: no answer within {timeout:.0f} s") from None
    if proc.returncode != 0:
        problem = _failure(argv, proc.stderr, tolerate)
        if problem is not None or not proc.stderr.strip():
            raise LabError(problem or f"{' '.join(argv[:3])}: exit status {proc.returncode}")
    return proc.stdout


def ip_batch(lines: Sequence[str], netns: str | None = None, tolerate: Iterable[str] = BENIGN) -> None:
    """One ``ip -force -batch`` (optionally ``-n NS``): one process for many changes."""
    if not lines:
        return
    # setpriv: a killed `lab up` must not leave an ``ip`` adding namespaces behind its `down`
    argv = ["setpriv", "--pdeathsig", "KILL", "ip"] + (["-n", netns] if netns else [])
    argv += ["-force", "-batch", "-"]
    run(argv, stdin="\n".join(lines) + "\n", tolerate=tolerate)


def ip_batches(
    per_netns: Mapping[str, Sequence[str]], workers: int = 8, tolerate: Iterable[str] = BENIGN
) -> None:
    """`ip_batch` for many namespaces at once; ``ip`` mostly waits on netlink, so threads pay."""
    allowed = tuple(tolerate)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = [pool.submit(ip_batch, lines, ns, allowed) for ns, lines in per_netns.items()]
        for future in futures:
            future.result()


def list_netns(prefix: str) -> list[str]:
    """Named namespaces starting with ``prefix`` (what ``ip netns list`` shows)."""
    try:
        return sorted(n for n in os.listdir(NETNS_DIR) if n.startswith(prefix))
    except FileNotFoundError:
        return []


def netns_inode(name: str) -> int | None:
    try:
        return os.stat(netns_path(name)).st_ino
    except FileNotFoundError:
        return None


def current_netns_inode() -> int:
    return os.stat("/proc/self/ns/net").st_ino


def pids_by_netns(inodes: Iterable[int]) -> dict[int, list[int]]:
    """Processes living in the given namespaces, found by scanning ``/proc`` once."""
    wanted = set(inodes)
    found: dict[int, list[int]] = {i: [] for i in wanted}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            inode = os.stat(f"/proc/{entry}/ns/net").st_ino
        except OSError:  # gone meanwhile, or a kernel thread
            continue
        if inode in wanted:
            found[inode].append(int(entry))
    return found


def write_sysctl(netns: str, key: str, value: str) -> None:
    """Set ``net.*`` sysctl ``key`` (dotted) inside ``netns``."""
    path = Path("/proc/sys") / key.replace(".", "/")
    in_netns(netns, lambda: path.write_text(value))


def netns_exec(netns: str, argv: Sequence[str]) -> list[str]:
    """Argument list running ``argv`` in ``netns`` (own mount of /sys, as tools expect)."""
    return ["ip", "netns", "exec", netns, *argv]
