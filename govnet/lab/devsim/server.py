"""SSH glue: one asyncssh listener per simulated device, host keys and ``known_hosts``.

Many devices run in one process and one event loop, each on its own address and port with its
own host key, so that govnet connects with strict host-key checking exactly as it would to the
city's devices. A device listens in the process's network namespace, or in the one its spec
names (the socket is opened from a thread that joined it), so one process (~45 MB) can serve
a whole city of namespaced units. Password authentication only; the ``auth-fail`` fault
refuses every login.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
import socket
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path

import asyncssh

from govnet.errors import LabError
from govnet.lab.devsim.device import DeviceSpec, SimDevice, check_address
from govnet.lab.devsim.faults import FaultBook
from govnet.lab.devsim.platforms import get_platform
from govnet.lab.devsim.quirks import check_quirks
from govnet.lab.devsim.shell import Hangup, Shell
from govnet.lab.devsim.timing import check_timing
from govnet.osutil.files import write_atomically
from govnet.osutil.netns import in_netns

log = logging.getLogger(__name__)


def _listening_socket(address: str, port: int) -> socket.socket:
    """A bound, listening, non-blocking TCP socket (made in whatever namespace we are in)."""
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((address, port))
        sock.listen(128)
        sock.setblocking(False)
    except OSError:
        sock.close()
        raise
    return sock


LEGACY_SSH: dict[str, list[str]] = {
    "kex_algs": ["diffie-hellman-group14-sha1", "diffie-hellman-group-exchange-sha1"],
    "signature_algs": ["ssh-rsa"],
    "encryption_algs": ["aes128-ctr", "aes256-ctr", "aes128-cbc", "aes256-cbc"],
    "mac_algs": ["hmac-sha1"],
}
"""What a ``legacy`` device offers, and nothing else: a Catalyst 2960X on IOS 15.x or a VRP5
S-series (SHA-1 key exchange, ``ssh-rsa`` signatures with an RSA host key, hmac-sha1;
FIELD-NOTES "Real devices' SSH"). asyncssh leaves group-exchange-sha1 and CBC out of its
defaults; naming them here enables them."""


def host_key_algorithm(spec: DeviceSpec) -> str:
    """The host key type of a device: RSA for the ``legacy`` SSH profile, else ed25519."""
    return "ssh-rsa" if spec.ssh == "legacy" else "ssh-ed25519"


def ensure_host_key(path: Path, algorithm: str = "ssh-ed25519") -> asyncssh.SSHKey:
    """The device's host key, generated (``algorithm``, mode 0600) on first use."""
    path = Path(path)
    if path.exists():
        key = asyncssh.read_private_key(path)
        if key.get_algorithm() != algorithm:
            raise LabError(f"host key {path} is {key.get_algorithm()}, the device needs {algorithm}")
        return key
    if algorithm == "ssh-rsa":
        key = asyncssh.generate_private_key("ssh-rsa", key_size=2048)  # not a positional 2048: the comment
    else:
        key = asyncssh.generate_private_key(algorithm)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(path, key.export_private_key().decode("ascii"), mode=0o600)
    return key


def _host_keypair(spec: DeviceSpec) -> asyncssh.SSHKeyPair:
    """The device's host key as asyncssh serves it. An RSA key would be offered as rsa-sha2-512,
    rsa-sha2-256 and ssh.com's SHA-2 names too (``signature_algs`` does not narrow what the
    server lists); a ``legacy`` device lists ``ssh-rsa`` only, like IOS 15 and VRP5."""
    keypair = asyncssh.load_keypairs([ensure_host_key(spec.key_path, host_key_algorithm(spec))])[0]
    if spec.ssh == "legacy":
        keypair.host_key_algorithms = [b"ssh-rsa"]
    return keypair


def known_hosts_line(address: str, port: int, key: asyncssh.SSHKey) -> str:
    """One OpenSSH ``known_hosts`` entry; non-22 ports use the ``[ADDRESS]:PORT`` form."""
    host = address if port == 22 else f"[{address}]:{port}"
    algorithm, blob = key.export_public_key("openssh").decode("ascii").split()[:2]
    return f"{host} {algorithm} {blob}"


def write_known_hosts(path: Path, specs: Iterable[DeviceSpec]) -> None:
    """Write a ``known_hosts`` file covering every device (keys generated if missing)."""
    lines = [
        known_hosts_line(s.address, s.port, ensure_host_key(s.key_path, host_key_algorithm(s))) for s in specs
    ]
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    write_atomically(Path(path), "".join(line + "\n" for line in lines), mode=0o644)


class _Terminal:
    """A ``shell.Terminal`` over an asyncssh server process."""

    def __init__(self, process: asyncssh.SSHServerProcess[str]) -> None:
        self.process = process
        self.aborted = False

    async def read(self) -> str:
        while True:
            try:
                return await self.process.stdin.read(4096)
            except (asyncssh.TerminalSizeChanged, asyncssh.BreakReceived, asyncssh.SignalReceived):
                continue
            except (asyncssh.Error, ConnectionError):
                return ""

    async def write(self, text: str) -> None:
        try:
            self.process.stdout.write(text)
            await self.process.stdout.drain()
        except (asyncssh.Error, ConnectionError) as exc:
            raise Hangup from exc

    def abort(self) -> None:
        self.aborted = True
        self.process.channel.get_connection().abort()


async def _session(device: SimDevice, process: asyncssh.SSHServerProcess[str]) -> None:
    terminal = _Terminal(process)
    shell = Shell(device, terminal)
    try:
        if process.command:
            await shell.run_once(process.command)
        else:
            await shell.run()
    except Exception:  # a bug in one session must not take the device down: log, hang up
        log.exception("%s: session failed", device.spec.name)
    finally:
        if not terminal.aborted:
            process.exit(0)


class _DeviceServer(asyncssh.SSHServer):
    """Authentication for one device, and bookkeeping of its open connections."""

    def __init__(self, device: SimDevice, connections: set[asyncssh.SSHServerConnection]) -> None:
        self.device = device
        self.connections = connections
        self.conn: asyncssh.SSHServerConnection | None = None

    def connection_made(self, conn: asyncssh.SSHServerConnection) -> None:
        self.conn = conn
        self.connections.add(conn)

    def connection_lost(self, exc: Exception | None) -> None:
        if self.conn is not None:
            self.connections.discard(self.conn)

    def begin_auth(self, username: str) -> bool:
        return True

    def password_auth_supported(self) -> bool:
        return True

    def validate_password(self, username: str, password: str) -> bool:
        spec = self.device.spec
        peer = self.conn.get_extra_info("peername") if self.conn is not None else None
        if self.device.faults().auth_fail:
            log.info("%s: auth-fail fault: refusing %s from %s", spec.name, username, peer)
            return False
        ok = hmac.compare_digest(username.encode(), spec.username.encode())
        ok &= hmac.compare_digest(password.encode(), spec.password.encode())
        log.info("%s: login %s from %s: %s", spec.name, username, peer, "ok" if ok else "refused")
        return ok


@dataclass
class _Running:
    device: SimDevice
    acceptor: asyncssh.SSHAcceptor
    spec: DeviceSpec
    connections: set[asyncssh.SSHServerConnection] = field(default_factory=set)


class DevsimHandle:
    """The running simulator: bound specs, live devices, stop/start (reboot) and close."""

    def __init__(self, fault_books: dict[Path, FaultBook]) -> None:
        self._running: dict[str, _Running] = {}
        self._stopped: dict[str, DeviceSpec] = {}
        self._downed: set[str] = set()
        self._books = fault_books
        self._watcher: asyncio.Task[None] | None = None

    @property
    def specs(self) -> list[DeviceSpec]:
        """Specs of the running devices, with the port actually bound (for port 0)."""
        return [r.spec for r in self._running.values()]

    @property
    def devices(self) -> dict[str, SimDevice]:
        return {name: r.device for name, r in self._running.items()}

    async def start_device(self, spec: DeviceSpec) -> DeviceSpec:
        """Boot one device (from its startup config) and listen; returns the bound spec."""
        if spec.name in self._running:
            raise LabError(f"device {spec.name} is already running")
        book = self._books.setdefault(Path(spec.state_dir).resolve(), FaultBook(spec.state_dir))
        device = SimDevice(spec, book)
        connections: set[asyncssh.SSHServerConnection] = set()
        try:
            sock = None
            if spec.netns is not None:
                sock = in_netns(spec.netns, partial(_listening_socket, spec.address, spec.port))
            acceptor = await asyncssh.listen(
                host=spec.address if sock is None else "",
                port=spec.port if sock is None else (),
                sock=sock,
                reuse_address=True if sock is None else None,
                server_factory=partial(_DeviceServer, device, connections),
                server_host_keys=[_host_keypair(spec)],
                server_version=device.platform.ssh_version,
                **(LEGACY_SSH if spec.ssh == "legacy" else {}),
                process_factory=partial(_session, device),
                encoding="utf-8",
                line_editor=False,
                agent_forwarding=False,
                x11_forwarding=False,
                allow_scp=False,
                login_timeout=30,
            )
        except OSError as exc:
            raise LabError(f"{spec.name}: cannot listen on {spec.address}:{spec.port}: {exc}") from None
        bound = replace(spec, port=acceptor.get_port())
        self._running[spec.name] = _Running(device, acceptor, bound, connections)
        self._stopped.pop(spec.name, None)
        where = f" in netns {spec.netns}" if spec.netns else ""
        log.info(
            "%s: %s listening on %s:%d%s",
            spec.name,
            spec.platform,
            spec.address,
            bound.port,
            where,
        )
        return bound

    async def stop_device(self, name: str) -> None:
        """Stop one device as if powered off: listener closed, sessions cut, nothing saved."""
        running = self._running.pop(name)
        running.device.close()
        running.acceptor.close()
        for conn in list(running.connections):
            conn.abort()
        await running.acceptor.wait_closed()
        self._stopped[name] = running.spec
        log.info("%s: stopped", name)

    async def restart_device(self, name: str) -> DeviceSpec:
        """Reboot: stop, then boot from the startup configuration on the same port."""
        spec = self._running[name].spec if name in self._running else self._stopped[name]
        if name in self._running:
            await self.stop_device(name)
        return await self.start_device(spec)

    def watch_device_down(self, interval: float) -> None:
        """Act on ``device-down`` faults: stop the device while the fault is set, boot it
        again (from its startup configuration) once healed. Polls with one ``stat`` per
        state folder every ``interval`` seconds."""
        if self._watcher is None:
            self._watcher = asyncio.get_running_loop().create_task(self._watch(interval))

    async def _watch(self, interval: float) -> None:
        while True:
            await asyncio.sleep(interval)
            for name, running in list(self._running.items()):
                if running.device.faults().device_down:
                    log.info("%s: device-down fault: powering off", name)
                    await self.stop_device(name)
                    self._downed.add(name)
            for name in list(self._downed):
                spec = self._stopped[name]
                book = self._books[Path(spec.state_dir).resolve()]
                if book.for_device(name).device_down:
                    continue
                try:
                    await self.start_device(spec)
                except LabError as exc:
                    log.warning("%s: cannot come back up yet: %s", name, exc)
                    continue
                self._downed.discard(name)
                log.info("%s: device-down healed: booted", name)

    def close(self) -> None:
        """Stop listening and cut every session (``wait_closed`` to await the end)."""
        if self._watcher is not None:
            self._watcher.cancel()
        for running in self._running.values():
            running.acceptor.close()
            for conn in list(running.connections):
                conn.abort()

    async def wait_closed(self) -> None:
        if self._watcher is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._watcher
            self._watcher = None
        await asyncio.gather(*(r.acceptor.wait_closed() for r in self._running.values()))
        self._running.clear()

    async def aclose(self) -> None:
        self.close()
        await self.wait_closed()


def validate_specs(specs: Sequence[DeviceSpec]) -> None:
    """Check a device list before binding anything: platforms, addresses, duplicates."""
    names: set[str] = set()
    endpoints: set[tuple[str | None, str, int]] = set()
    for spec in specs:
        get_platform(spec.platform)
        check_address(spec.address)
        check_quirks(spec.quirks, where=spec.name)
        check_timing(spec.timing, where=spec.name)
        if spec.ssh not in ("modern", "legacy"):
            raise LabError(f"{spec.name}: ssh profile {spec.ssh!r} is not modern or legacy")
        if spec.name in names:
            raise LabError(f"duplicate device name {spec.name}")
        names.add(spec.name)
        endpoint = (spec.netns, spec.address, spec.port)
        if spec.port and endpoint in endpoints:
            raise LabError(f"{spec.name}: {spec.address}:{spec.port} is used by another device")
        endpoints.add(endpoint)


async def serve(specs: Sequence[DeviceSpec], watch_interval: float | None = None) -> DevsimHandle:
    """Start every device; on any failure, stop those already started and raise.

    With ``watch_interval`` the handle also acts on ``device-down`` faults (see
    ``DevsimHandle.watch_device_down``); otherwise stopping a device is the caller's job.
    """
    validate_specs(specs)
    handle = DevsimHandle({})
    try:
        for spec in specs:
            await handle.start_device(spec)
    except BaseException:
        await handle.aclose()
        raise
    if watch_interval is not None:
        handle.watch_device_down(watch_interval)
    return handle
