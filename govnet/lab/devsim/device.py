"""One simulated device: what it is (``DeviceSpec``) and what it holds (``SimDevice``).

A device keeps its running configuration in memory, shared by all its SSH sessions; it is also
written to ``<state>/<name>.running.cfg`` for inspection (before an exec-mode prompt, at the
end of a session, and within ``FLUSH_DELAY`` of a change in configuration mode), and ``save`` writes
``<state>/<name>.startup.cfg``. At (re)start the device boots from the startup file when there
is one, so an unsaved change is lost on restart exactly as on a real reboot. A device whose every
session is a process of its own (``stdio.py``, behind OpenSSH) is built with ``resume=True``: it
picks up the last running configuration, as a real device keeps it across logins. Both files are
mode 0600: configurations hold password hashes and SNMP communities.
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from govnet.errors import LabError, SafetyError
from govnet.lab.devsim.cipher import conceal_tree
from govnet.lab.devsim.config import ConfigNode, hostname_of, parse_config, render_config
from govnet.lab.devsim.defaults import default_config
from govnet.lab.devsim.faults import DeviceFaults, FaultBook
from govnet.lab.devsim.personality import Personality
from govnet.lab.devsim.platforms import get_platform
from govnet.lab.devsim.volatile import volatile_text
from govnet.osutil.files import write_atomically

FLUSH_DELAY = 0.3
"""Seconds a change made in configuration mode may take to reach ``<name>.running.cfg``."""

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
LAB_NETWORKS = (ipaddress.ip_network("127.0.0.0/8"), ipaddress.ip_network("198.18.0.0/15"))


@dataclass(frozen=True, kw_only=True)
class DeviceSpec:
    """How to run one simulated device. Secrets are kept out of ``repr`` (and so out of logs).

    ``port`` 0 asks for a free port (see ``DevsimHandle.specs`` for the bound one);
    ``host_key_path`` defaults to ``<state_dir>/<name>.ssh_host_key`` (``.ssh_host_rsa_key``
    for the ``legacy`` SSH profile). ``netns`` names a
    network namespace (``ip netns`` name) to listen in instead of the process's own, so that
    one process can serve devices living in many namespaces. ``banner`` is printed after login,
    before the first prompt; as on real devices, a ``>`` or ``]`` in it confuses netmiko's
    prompt detection for Huawei/H3C.
    """

    name: str
    platform: str
    address: str
    port: int = 22
    username: str
    password: str = field(repr=False)
    enable_secret: str | None = field(default=None, repr=False)
    state_dir: Path
    host_key_path: Path | None = None
    banner: str | None = None
    initial_config: str | None = None
    netns: str | None = None
    ssh: str = "modern"
    """SSH algorithm profile the device offers: ``modern`` or ``legacy`` (SHA-1 key exchange,
    ``ssh-rsa`` host key, CBC ciphers, hmac-sha1: an IOS 15 Catalyst, a VRP5 S-series)."""
    quirks: tuple[str, ...] = ()
    """Real-device behaviours this device shows (names in ``quirks.QUIRKS``)."""
    timing: str | None = None
    """A timing profile (``timing.PROFILES``): a real switch's login, answer and save delays."""

    @property
    def key_path(self) -> Path:
        if self.host_key_path is not None:
            return Path(self.host_key_path)
        if self.ssh == "legacy":  # an RSA key (ssh-rsa), not the modern devices' ed25519
            return Path(self.state_dir) / f"{self.name}.ssh_host_rsa_key"
        return Path(self.state_dir) / f"{self.name}.ssh_host_key"

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], where: str = "spec") -> DeviceSpec:
        """Build a spec from JSON data, rejecting unknown keys and wrong types."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise LabError(f"{where}: unknown keys: {', '.join(unknown)}")
        missing = sorted(
            k for k in ("name", "platform", "address", "username", "password", "state_dir") if k not in data
        )
        if missing:
            raise LabError(f"{where}: missing keys: {', '.join(missing)}")
        values = dict(data)
        for key in ("state_dir", "host_key_path"):
            if values.get(key) is not None:
                values[key] = Path(str(values[key]))
        if not isinstance(values.get("port", 22), int) or isinstance(values.get("port"), bool):
            raise LabError(f"{where}: port must be an integer")
        for key in ("name", "platform", "address", "username", "password"):
            if not isinstance(values[key], str) or not values[key]:
                raise LabError(f"{where}: {key} must be a non-empty string")
        for key in ("enable_secret", "banner", "initial_config", "netns", "ssh", "timing"):
            if not isinstance(values.get(key, ""), str | None):
                raise LabError(f"{where}: {key} must be a string")
        quirks = values.get("quirks", [])
        if not isinstance(quirks, list | tuple) or not all(isinstance(q, str) for q in quirks):
            raise LabError(f"{where}: quirks must be a list of names")
        values["quirks"] = tuple(quirks)
        return cls(**values)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (with secrets: the caller writes it to a private file)."""
        data: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, Path):
                value = str(value)
            elif isinstance(value, tuple):
                value = list(value)
            data[f.name] = value
        return data


def _with_quirks(platform: Personality, quirks: tuple[str, ...]) -> Personality:
    """The device's copy of its platform record, changed by the quirks that change it."""
    if "hides-defaults" in quirks:
        platform = replace(platform, hides_defaults=True)
    if "volatile-lines" in quirks and platform.name == "huawei_vrp":
        platform = replace(platform, running_preamble=())  # an AR shows [V200R…] instead
    return platform


def check_name(name: str) -> None:
    """Device names become file names: keep them to letters, digits, ``.``, ``_`` and ``-``."""
    if not _NAME.fullmatch(name):
        raise LabError(f"device name {name!r}: use letters, digits, '.', '_' and '-' only")


def check_address(address: str) -> None:
    """Refuse to listen outside the lab ranges (network-safety rule in DESIGN.md)."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        raise LabError(f"device address {address!r} is not an IP address") from None
    if not any(ip in net for net in LAB_NETWORKS):
        allowed = " or ".join(str(n) for n in LAB_NETWORKS)
        raise SafetyError(f"device address {address} is outside the lab ranges ({allowed})")


class SimDevice:
    """Runtime state of one device: running config, persistence, faults, uptime."""

    def __init__(self, spec: DeviceSpec, faults: FaultBook | None = None, *, resume: bool = False) -> None:
        """``resume``: boot from ``<name>.running.cfg`` when there is one (a new process of a
        device that did not reboot), else from the startup configuration."""
        check_name(spec.name)
        check_address(spec.address)
        self.spec = spec
        self.platform: Personality = _with_quirks(get_platform(spec.platform), spec.quirks)
        self.changed_at = time.time()
        """When the running config last changed (IOS's ``! Last configuration change``)."""
        self.saved_at: float | None = None
        self.state_dir = Path(spec.state_dir)
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self.fault_book = faults if faults is not None else FaultBook(self.state_dir)
        self.booted = time.monotonic()
        self.running: ConfigNode = self._boot_config(resume)
        self._timer: asyncio.TimerHandle | None = None
        self._closed = False
        self._dirty = True
        self.flush()

    @property
    def startup_path(self) -> Path:
        return self.state_dir / f"{self.spec.name}.startup.cfg"

    @property
    def running_path(self) -> Path:
        return self.state_dir / f"{self.spec.name}.running.cfg"

    @property
    def hostname(self) -> str:
        return hostname_of(self.running, self.platform, self.spec.name)

    def _boot_config(self, resume: bool) -> ConfigNode:
        if resume and self.running_path.exists():
            text = self.running_path.read_text(encoding="utf-8")
        elif self.startup_path.exists():
            text = self.startup_path.read_text(encoding="utf-8")
        elif self.spec.initial_config is not None:
            text = self.spec.initial_config
        else:
            text = default_config(self.spec.name, self.platform)
        root = conceal_tree(parse_config(text, self.platform), self.platform.name)
        if self.platform.hides_defaults:  # a default is never shown, whatever the file said
            root.children[:] = [c for c in root.children if c.text not in self.platform.hidden_defaults]
        return root

    def running_text(self) -> str:
        return render_config(self.running, self.platform)

    def shown_running_text(self) -> str:
        """The running configuration as ``show running-config`` prints it (``volatile-lines``:
        with the text that changes by itself; files never hold it)."""
        text = self.running_text()
        if "volatile-lines" not in self.spec.quirks:
            return text
        return volatile_text(self.platform.name, text, self.changed_at, self.saved_at)

    def startup_text(self) -> str | None:
        try:
            return self.startup_path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None

    def config_changed(self) -> None:
        """The running configuration changed: it reaches the file within ``FLUSH_DELAY``."""
        self._dirty = True
        self.changed_at = time.time()
        if self._timer is None and not self._closed:
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:  # outside the simulator's loop (a test driving a SimDevice)
                self.flush()
                return
            self._timer = loop.call_later(FLUSH_DELAY, self.flush)

    def flush(self) -> None:
        """Write the running configuration out now if it changed since the last write.

        The shell also calls this before an exec-mode prompt and when a session ends, so the
        file is current whenever a client could look outside configuration mode; inside it, a
        change shows within ``FLUSH_DELAY`` (writing per line was 40 % of the simulator's CPU).
        """
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._dirty and not self._closed:
            self._dirty = False
            write_atomically(self.running_path, self.running_text(), mode=0o600)

    def close(self) -> None:
        """Powered off: nothing it still holds may reach its files any more."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._closed = True

    def save(self) -> None:
        """Make the running configuration the one the device boots with."""
        self.flush()
        write_atomically(self.startup_path, self.running_text(), mode=0o600)
        self.saved_at = time.time()

    def faults(self) -> DeviceFaults:
        return self.fault_book.for_device(self.spec.name)

    def uptime(self) -> str:
        """Uptime in the vendors' ``0 weeks, 0 days, 1 hour, 2 minutes`` style."""
        minutes = int(time.monotonic() - self.booted) // 60
        weeks, minutes = divmod(minutes, 7 * 24 * 60)
        days, minutes = divmod(minutes, 24 * 60)
        hours, minutes = divmod(minutes, 60)
        return f"{weeks} weeks, {days} days, {hours} hours, {minutes} minutes"
