"""netmiko as the transport: log in with strict host keys, then a prompt-driven byte pipe.

netmiko's platform driver logs in (``establish_connection``: SSH, host key, password, the
interactive shell, the driver's ``special_login_handler``) and ``Channel`` keeps its
``write_channel`` / ``read_channel`` (decoding, line-feed normalisation, ANSI stripping, its
logging). Everything that waits is ours; each override below is measured on this machine:

1. ``_tcp``: we open the TCP connection with TCP_NODELAY and hand it over (``sock=``).
   paramiko leaves Nagle on, so its small key-exchange and auth writes wait for delayed ACKs:
   ~90 of the ~100 ms a loopback login took.
2. ``auto_connect=False`` + ``establish_connection()``: the driver's ``session_preparation`` is
   not run. It spends 0.15-0.2 s of fixed sleeps per login (``_try_session_preparation``'s
   ``sleep(0.1)``, ``find_prompt``/``clear_buffer`` back-off, VRP's ``sleep(0.3 * delay)``) to
   learn a prompt we match by pattern; the session turns paging off itself.
3. ``_only_this_host``: paramiko re-parses the whole known_hosts file at every login (0.2 ms
   of CPU per entry: 0.15 s per login with 765 devices, O(devices²) per rollout); we parse it
   once and hand each login's ``SSHClient`` (netmiko's ``_get_ssh_client_instance`` hook) this
   host's entries, in memory (a one-entry temporary file per login was still 3 % of an apply's
   CPU). The check itself stays paramiko's: ``RejectPolicy`` for an unknown host, its
   ``BadHostKeyException`` for a mismatching key.
4. ``Channel.read_until`` instead of ``read_until_pattern``: netmiko polls with a fixed
   ``sleep(0.01)`` (82 % of a stock push, FIELD-NOTES) and cannot tell a closed channel from a
   quiet one (after a drop it polls until ``read_timeout``, then drops what it read). We block
   in ``select`` on the paramiko channel, which wakes on data and on close. netmiko's
   ``send_config_set``, ``config_mode``, ``check_config_mode`` (2 s silence waits on
   ``huawei``), ``save_config`` and ``send_command`` are not used at all.
5. ``Channel.close``: see there (paramiko's close race, netmiko's silence-waiting cleanup).
6. paramiko checks every received packet's MAC with ``util.constant_time_bytes_eq``, a Python
   loop over the bytes: a third of a rollout's SSH reader CPU. ``hmac.compare_digest`` is the
   standard library's constant-time comparison, in C, with the same result.

7. ``disabled_algorithms``: paramiko 4 offers SHA-1 key exchange, ``ssh-rsa``, CBC and
   hmac-sha1 to everyone; a login offers exactly the device's ``ssh`` profile, and a failed
   negotiation names what the device offers (``govnet/devices/negotiation.py``).

No netmiko or paramiko exception leaves this module: login failures are ``DeviceError``s with a
short reason, channel failures ``ChannelClosed`` / ``NoAnswer`` for the session to word.
"""

from __future__ import annotations

import contextlib
import hmac
import re
import select
import socket
import threading
import time
from pathlib import Path
from typing import Any

import paramiko  # type: ignore[import-untyped]  # no stubs; netmiko's own types are Any too
from netmiko import ConnectHandler
from netmiko.exceptions import (
    NetmikoAuthenticationException,
    NetmikoBaseException,
    NetmikoTimeoutException,
    ReadTimeout,
)

from govnet.devices.negotiation import NegotiatingClient, disabled_algorithms, failure_reason
from govnet.errors import DeviceError
from govnet.sshalgs import Algorithms, algorithms

paramiko.util.constant_time_bytes_eq = hmac.compare_digest  # 6. in the module docstring

# Everything netmiko's login path is known to raise (its own tree, paramiko's, sockets, and
# the ValueError it uses for "prompt not found").
NETMIKO_ERRORS: tuple[type[BaseException], ...] = (
    NetmikoBaseException,
    paramiko.SSHException,
    OSError,
    EOFError,
    ValueError,
)


class ChannelClosed(Exception):
    """The device closed the connection; ``partial`` is what it sent before."""

    def __init__(self, partial: str) -> None:
        super().__init__("channel closed")
        self.partial = partial


class NoAnswer(Exception):
    """The expected prompt did not come within the timeout; ``partial`` is what did come."""

    def __init__(self, partial: str) -> None:
        super().__init__("no answer")
        self.partial = partial


def connect(
    *,
    where: str,
    device_type: str,
    host: str,
    port: int,
    username: str,
    password: str,
    secret: str,
    known_hosts: Path,
    connect_timeout: float,
    read_timeout: float,
    ssh: Algorithms | None = None,
) -> Any:
    """A logged-in netmiko connection; every failure is a ``DeviceError`` starting with ``where``.

    See the module docstring for what is netmiko's and what is not. ``read_timeout`` bounds
    the driver's own reads during login (``read_timeout_override``), e.g. VRP's
    ``special_login_handler`` waiting for the first prompt. ``ssh`` is exactly what is offered
    (default: the ``modern`` profile; ``govnet.devices.negotiation``).
    """
    shown = host if port == 22 else f"{host}:{port}"
    return _login(
        where=where,
        shown=shown,
        device_type=device_type,
        host=host,
        port=port,
        username=username,
        password=password,
        secret=secret,
        known_hosts=known_hosts,
        host_keys=_only_this_host(where, known_hosts, host, port),
        connect_timeout=connect_timeout,
        read_timeout=read_timeout,
        ssh=ssh if ssh is not None else algorithms("modern"),
    )


def _login(
    *,
    where: str,
    shown: str,
    device_type: str,
    host: str,
    port: int,
    username: str,
    password: str,
    secret: str,
    known_hosts: Path,
    host_keys: tuple[str, dict[str, Any]],
    connect_timeout: float,
    read_timeout: float,
    ssh: Algorithms,
) -> Any:
    sock = _tcp(where, host, port, connect_timeout)
    try:
        conn = ConnectHandler(
            device_type=device_type,
            host=host,
            port=port,
            username=username,
            password=password,
            secret=secret,
            ssh_strict=True,
            system_host_keys=False,
            alt_host_keys=False,
            use_keys=False,
            allow_agent=False,
            conn_timeout=connect_timeout,
            auth_timeout=connect_timeout,
            banner_timeout=connect_timeout,
            read_timeout_override=read_timeout,
            sock=sock,
            auto_connect=False,
            disabled_algorithms=disabled_algorithms(ssh),
        )
    except NETMIKO_ERRORS as exc:  # bad parameters: nothing was sent yet
        sock.close()
        raise DeviceError(f"{where}: login failed: {_short(exc)}") from None

    made = NegotiatingClient()  # what the device offered, for a failed negotiation's message

    def client() -> paramiko.SSHClient:  # 3. in the module docstring
        name, found = host_keys
        for key_type, key in found.items():
            made.get_host_keys().add(name, key_type, key)
        return made

    conn._get_ssh_client_instance = client  # type: ignore[method-assign]
    # The questions a device asks at login (VRP "Change now? [Y/N]") are answered by the
    # session from the platform record's login dialogue, like every other question; netmiko's
    # handler would wait its full read timeout on a question it does not know.
    conn.special_login_handler = _no_login_handler  # type: ignore[method-assign]
    try:
        conn.establish_connection()
    except NetmikoAuthenticationException:
        reason = "authentication failed"
    except NetmikoTimeoutException as exc:
        offer = made.server_offer()
        failed = failure_reason(ssh, offer) if offer is not None else None
        reason = failed if failed is not None else _login_reason(exc, shown, known_hosts)
    except ReadTimeout:
        reason = f"no prompt within {read_timeout:g} s after login"
    except NETMIKO_ERRORS as exc:
        reason = f"login failed: {_short(exc)}"
    else:
        # netmiko strips ANSI codes from every read once this is set (the huawei driver's
        # session_preparation sets it): ~30 regex passes per read, a quarter of a push's
        # client CPU. ``Channel.read_until`` strips only reads that hold an ESC.
        conn.ansi_escape_codes = False
        return conn
    with contextlib.suppress(*NETMIKO_ERRORS, AttributeError):
        conn.disconnect()  # releases the log filter netmiko registered for this password
    sock.close()
    raise DeviceError(f"{where}: {reason}")


def _no_login_handler(*_args: Any, **_kwargs: Any) -> None:
    """Stands in for the driver's ``special_login_handler`` (see ``_login``)."""


_HOST_KEYS: dict[Path, tuple[tuple[int, int, int], Any]] = {}
_HOST_KEYS_LOCK = threading.Lock()


def _host_keys(where: str, path: Path) -> Any:
    """``path`` parsed once per change (a ``paramiko.HostKeys``), shared by every session."""
    try:
        st = path.stat()
    except OSError:
        raise DeviceError(f"{where}: known_hosts file {path} does not exist") from None
    stamp = (st.st_ino, st.st_mtime_ns, st.st_size)
    with _HOST_KEYS_LOCK:
        cached = _HOST_KEYS.get(path)
        if cached is None or cached[0] != stamp:
            try:
                cached = (stamp, paramiko.HostKeys(str(path)))
            except (OSError, paramiko.SSHException) as exc:
                raise DeviceError(f"{where}: cannot read known_hosts {path}: {_short(exc)}") from None
            _HOST_KEYS[path] = cached
        return cached[1]


def _only_this_host(where: str, known_hosts: Path, host: str, port: int) -> tuple[str, dict[str, Any]]:
    """This host's name as known_hosts spells it, and its keys by type (a ``DeviceError``
    when there is none).

    netmiko hands paramiko a file name (``alt_key_file``) and paramiko parses the whole file
    for every login: 0.2 ms of CPU per entry, 0.15 s per login with the lab's 765 devices,
    O(devices²) for a rollout and the largest CPU cost of a whole push. We parse the real file
    once (``_host_keys``) and give each login's client the entries paramiko will look up, so
    the check itself (unknown host, mismatching key) stays paramiko's.
    """
    name = host if port == 22 else f"[{host}]:{port}"
    found = _host_keys(where, known_hosts).lookup(name)
    if not found:
        shown = host if port == 22 else f"{host}:{port}"
        raise DeviceError(f"{where}: host key of {shown} not known (known_hosts: {known_hosts})")
    return name, dict(found.items())


def _tcp(where: str, host: str, port: int, timeout: float) -> socket.socket:
    """The TCP connection, with Nagle off.

    paramiko leaves Nagle's algorithm on; its small key-exchange and authentication writes
    then wait for the peer's delayed ACK (40 ms on Linux), twice per login: ~90 of the ~100 ms
    a login took on loopback. Interactive SSH clients (OpenSSH, asyncssh) set TCP_NODELAY.
    """
    try:
        sock = socket.create_connection((host, port), timeout=timeout)
    except TimeoutError:
        raise DeviceError(f"{where}: cannot connect: timed out") from None
    except OSError as exc:
        reason = (exc.strerror or type(exc).__name__).lower()
        raise DeviceError(f"{where}: cannot connect: {reason}") from None
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def _login_reason(exc: BaseException, shown: str, known_hosts: Path) -> str:
    text = str(exc)
    if "not found in known_hosts" in text:
        return f"host key of {shown} not known (known_hosts: {known_hosts})"
    if "does not match" in text and "Host key" in text:
        return f"host key of {shown} does not match (known_hosts: {known_hosts})"
    cause = exc.__context__
    if "TCP connection to device failed" in text:
        if isinstance(cause, TimeoutError) or "timed out" in str(cause):
            return "cannot connect: timed out"
        if isinstance(cause, OSError) and cause.strerror:
            return f"cannot connect: {cause.strerror.lower()}"
        return "cannot connect"
    return f"SSH failed: {_short(cause if cause is not None else exc)}"


def _short(exc: BaseException) -> str:
    """The first meaningful line of an exception's text (netmiko's are paragraphs)."""
    for raw in str(exc).splitlines():
        line = raw.strip()
        if line and not line.startswith("A paramiko SSHException"):
            return line[:200]
    return type(exc).__name__


class Channel:
    """Write lines and read until a pattern, over a logged-in netmiko connection."""

    def __init__(self, conn: Any) -> None:
        self._conn = conn
        self._pending = ""

    @property
    def _chan(self) -> paramiko.Channel:
        chan = self._conn.remote_conn
        if chan is None:
            raise ChannelClosed("")
        assert isinstance(chan, paramiko.Channel)
        return chan

    def write(self, text: str) -> None:
        try:
            self._conn.write_channel(text)
        except NETMIKO_ERRORS:
            raise ChannelClosed("") from None

    def read_until(
        self, pattern: re.Pattern[str], timeout: float, *, settle: tuple[str, float] | None = None
    ) -> re.Match[str]:
        """Read until ``pattern`` matches what arrived since the last match; return the match
        (``match.string[:match.end()]`` is the text). Raises ``ChannelClosed`` or ``NoAnswer``.

        ``settle=(GROUP, SECONDS)``: a match whose last group is ``GROUP`` counts only once
        nothing more arrives for ``SECONDS`` (a question-like line end may be followed by more
        output); more data resumes the search."""
        deadline = time.monotonic() + timeout
        text, self._pending = self._pending, ""
        chan = self._chan
        while True:
            match = pattern.search(text)
            settled = match is not None and (
                settle is None or match.lastgroup != settle[0] or not self._more(settle[1])
            )
            if match is not None and settled:
                self._pending = text[match.end() :]
                return match
            if (chan.closed or chan.eof_received) and not chan.recv_ready():
                raise ChannelClosed(text)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise NoAnswer(text)
            if not chan.recv_ready():
                # paramiko signals both new data and the channel's close on this descriptor.
                select.select([chan], [], [], remaining)
            try:
                chunk = self._conn.read_channel()
            except NETMIKO_ERRORS:
                raise ChannelClosed(text) from None
            if "\x1b" in chunk:
                chunk = self._conn.strip_ansi_escape_codes(chunk)  # the driver's own rules
            text += chunk

    def _more(self, seconds: float) -> bool:
        """Whether data (or the channel's close) arrives within ``seconds``."""
        chan = self._chan
        if chan.recv_ready() or chan.closed or chan.eof_received:
            return True
        return bool(select.select([chan], [], [], seconds)[0])

    def close(self, farewell: str | None = None, wait: float = 1.0) -> None:
        """Send ``farewell`` (the logout command) and wait up to ``wait`` s for the device to
        close the channel, then tear down; never raises.

        Not netmiko's ``disconnect`` alone: its ``cleanup`` waits for silence on ``huawei``,
        and paramiko's ``Transport.close`` closes the socket while its reader thread may sit in
        ``recv`` on it, which logs "Socket exception: Bad file descriptor / Connection reset"
        at ERROR (paramiko #520). Stopping the transport first makes its packetizer turn
        socket errors into a quiet EOF and leaves closing the socket to the reader thread
        itself (``Transport.close`` returns early once stopped); the ``shutdown`` wakes it.
        ``disconnect`` then only releases netmiko's log filter for this password (its cleanup
        fails fast on the closed channel).
        """
        chan = self._conn.remote_conn
        if chan is not None:
            if farewell is not None:
                with contextlib.suppress(*NETMIKO_ERRORS):
                    self._conn.write_channel(farewell)
                    deadline = time.monotonic() + wait
                    while not (chan.closed or chan.eof_received):
                        remaining = deadline - time.monotonic()
                        if remaining <= 0:
                            break
                        select.select([chan], [], [], remaining)
                        if chan.recv_ready():
                            chan.recv(65536)
            transport = chan.get_transport()
            if transport is not None:
                transport.stop_thread()
                with contextlib.suppress(OSError):
                    transport.sock.shutdown(socket.SHUT_RDWR)
        with contextlib.suppress(*NETMIKO_ERRORS):
            self._conn.paramiko_cleanup()
        self._conn.disconnect()
