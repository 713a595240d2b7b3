"""Faults injected into simulated devices at runtime, through one JSON file per state folder.

The lab CLI (``govnet lab fault UNIT KIND`` / ``heal UNIT``) runs in another process than the
device simulator, so faults travel through ``<state>/faults.json`` (device name → list of fault
strings). Writers replace it atomically under a lock; the simulator re-reads it when its
inode/mtime/size change, checked with one ``stat`` per new connection and per command line.

The file may also hold lab-level faults (``link-down``, ``loss=PCT`` …) that other lab parts act
on; the simulator acts on ``ssh-drop``, ``reject=PATTERN``, ``ask=PATTERN``, ``auth-fail`` and ``slow=MS``,
and, when asked to watch (``serve(..., watch_interval=…)``), on ``device-down``: the device
stops serving and, once healed, boots again from its startup configuration.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from govnet.errors import LabError
from govnet.osutil.files import write_atomically

FAULTS_FILE = "faults.json"
DEVICE_FAULTS = ("ssh-drop", "reject", "auth-fail", "slow", "ask")
LAB_FAULTS = ("link-down", "device-down", "loss", "latency", "isolation-leak")
_VALUED = {"reject", "slow", "loss", "latency", "ask"}

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Fault:
    """One fault: a kind and, for ``reject``/``slow``/``loss``/``latency``, its value."""

    kind: str
    value: str | None = None

    def __str__(self) -> str:
        return self.kind if self.value is None else f"{self.kind}={self.value}"


def parse_fault(text: str) -> Fault:
    """Parse ``KIND`` or ``KIND=VALUE`` strictly; a ``LabError`` says what is wrong.

    >>> parse_fault("slow=250")
    Fault(kind='slow', value='250')
    >>> str(parse_fault("reject=^snmp-agent"))
    'reject=^snmp-agent'
    """
    kind, sep, value = text.strip().partition("=")
    if kind not in DEVICE_FAULTS + LAB_FAULTS:
        known = ", ".join(DEVICE_FAULTS + LAB_FAULTS)
        raise LabError(f"unknown fault kind {kind!r} (known: {known})")
    if kind not in _VALUED:
        if sep:
            raise LabError(f"fault {kind!r} takes no value")
        return Fault(kind)
    if not value:
        raise LabError(f"fault {kind!r} needs a value: {kind}=VALUE")
    if kind in ("reject", "ask"):
        try:
            re.compile(value)
        except re.error as exc:
            raise LabError(f"fault {kind}: invalid regular expression {value!r}: {exc}") from None
    elif kind in ("slow", "latency"):
        if not value.isdigit():
            raise LabError(f"fault {kind}: milliseconds must be a whole number, got {value!r}")
    elif not _is_percent(value):
        raise LabError(f"fault loss: a percentage 0-100 is needed, got {value!r}")
    return Fault(kind, value)


def _is_percent(value: str) -> bool:
    try:
        return 0.0 <= float(value) <= 100.0
    except ValueError:
        return False


@dataclass(frozen=True)
class DeviceFaults:
    """The faults the simulator acts on, for one device, ready to use."""

    ssh_drop: bool = False
    auth_fail: bool = False
    slow_ms: int = 0
    reject: tuple[re.Pattern[str], ...] = ()
    device_down: bool = False
    ask: tuple[re.Pattern[str], ...] = ()
    """Configuration lines that ask a question no platform record knows."""

    @classmethod
    def of(cls, faults: Iterable[Fault]) -> DeviceFaults:
        ssh_drop = auth_fail = device_down = False
        slow_ms = 0
        reject: list[re.Pattern[str]] = []
        ask: list[re.Pattern[str]] = []
        for fault in faults:
            if fault.kind == "ssh-drop":
                ssh_drop = True
            elif fault.kind == "auth-fail":
                auth_fail = True
            elif fault.kind == "device-down":
                device_down = True
            elif fault.kind == "slow" and fault.value is not None:
                slow_ms = max(slow_ms, int(fault.value))
            elif fault.kind == "reject" and fault.value is not None:
                reject.append(re.compile(fault.value))
            elif fault.kind == "ask" and fault.value is not None:
                ask.append(re.compile(fault.value))
        return cls(ssh_drop, auth_fail, slow_ms, tuple(reject), device_down, tuple(ask))

    def rejects(self, line: str) -> bool:
        return any(p.search(line) for p in self.reject)

    def asks(self, line: str) -> bool:
        return any(p.search(line) for p in self.ask)


NO_FAULTS = DeviceFaults()


def faults_path(state_dir: Path) -> Path:
    return Path(state_dir) / FAULTS_FILE


def _decode(data: object, where: Path) -> dict[str, list[Fault]]:
    if not isinstance(data, dict):
        raise LabError(f"{where}: expected an object mapping device name to a list of faults")
    result: dict[str, list[Fault]] = {}
    for name, items in data.items():
        if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
            raise LabError(f"{where}: {name}: expected a list of fault strings")
        result[str(name)] = [parse_fault(i) for i in items]
    return result


def read_faults(state_dir: Path) -> dict[str, list[Fault]]:
    """All faults recorded in a state folder (empty when there is no faults file)."""
    path = faults_path(state_dir)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise LabError(f"{path}: invalid JSON: {exc}") from None
    return _decode(data, path)


@contextlib.contextmanager
def _locked(state_dir: Path) -> Iterator[None]:
    Path(state_dir).mkdir(parents=True, exist_ok=True)
    with open(Path(state_dir) / (FAULTS_FILE + ".lock"), "a+", encoding="utf-8") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _store(state_dir: Path, faults: dict[str, list[Fault]]) -> None:
    data = {name: [str(f) for f in items] for name, items in sorted(faults.items()) if items}
    write_atomically(faults_path(state_dir), json.dumps(data, indent=2) + "\n", mode=0o644)


def set_fault(state_dir: Path, device: str, fault: str | Fault) -> Fault:
    """Add a fault to a device (a fault of the same kind and value is not duplicated;
    ``slow``/``loss``/``latency`` replace their previous value)."""
    new = parse_fault(fault) if isinstance(fault, str) else parse_fault(str(fault))
    with _locked(state_dir):
        faults = read_faults(state_dir)
        current = faults.get(device, [])
        if new.kind != "reject":
            current = [f for f in current if f.kind != new.kind]
        if new not in current:
            current.append(new)
        faults[device] = current
        _store(state_dir, faults)
    return new


def clear_faults(state_dir: Path, device: str, kind: str | None = None) -> None:
    """Heal a device: remove all its faults, or only those of one kind."""
    with _locked(state_dir):
        faults = read_faults(state_dir)
        current = faults.get(device, [])
        faults[device] = [] if kind is None else [f for f in current if f.kind != kind]
        _store(state_dir, faults)


class FaultBook:
    """The simulator's cached view of one faults file, refreshed when the file changes."""

    def __init__(self, state_dir: Path) -> None:
        self.path = faults_path(state_dir)
        self._stamp: tuple[int, int, int] | None = None
        self._faults: dict[str, DeviceFaults] = {}

    def refresh(self) -> None:
        """Re-read the file if its inode, mtime or size changed (one ``stat`` otherwise)."""
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            self._stamp = None
            self._faults = {}
            return
        stamp = (st.st_ino, st.st_mtime_ns, st.st_size)
        if stamp == self._stamp:
            return
        self._stamp = stamp
        try:
            raw = json.loads(self.path.read_text(encoding="utf-8"))
            decoded = _decode(raw, self.path)
        except (OSError, json.JSONDecodeError, LabError) as exc:
            log.warning("ignoring unreadable faults file %s: %s", self.path, exc)
            return
        self._faults = {name: DeviceFaults.of(items) for name, items in decoded.items()}

    def for_device(self, name: str) -> DeviceFaults:
        self.refresh()
        return self._faults.get(name, NO_FAULTS)
