"""One session class for every platform: read the running config, push, save, run a command.

The platform's record (``platforms.py``) says what to type and which prompt ends each answer;
this class does the same thing for every vendor. Every line pushed is answered by the device
before the next is sent, and every answer is checked against the platform's error patterns: a
rejected line stops the push with a ``CommandRejected`` naming the line, the device's message
and the lines already accepted, never a silent success.

Credentials come only from the ``SecretResolver``; everything raised or logged passes through
its ``mask`` (a rendered line may carry an SNMP community), and netmiko's own DEBUG log is
masked for as long as the session is open.
"""

from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from govnet.devices.errors import CommandRejected, ConnectionLost, DeviceTimeout, SessionError
from govnet.devices.platforms import PlatformRecord, get_platform
from govnet.devices.transport import Channel, ChannelClosed, NoAnswer, connect
from govnet.errors import DeviceError
from govnet.inventory.models import Device
from govnet.secrets import SecretResolver, mask_logs

log = logging.getLogger(__name__)
MASKED_LOGGERS = ("netmiko", "paramiko", "paramiko.transport", __name__)


@dataclass(frozen=True)
class Timeouts:
    """Seconds. ``command`` bounds the wait for the answer to one line (and each login read);
    ``save`` is longer because devices write flash synchronously."""

    connect: float = 10.0
    command: float = 20.0
    save: float = 120.0


def open_session(
    device: Device,
    *,
    resolver: SecretResolver,
    known_hosts: Path,
    timeouts: Timeouts = Timeouts(),
) -> Session:
    """Log in to ``device`` (host key checked against ``known_hosts`` only) and prepare the
    terminal: paging off, privileged mode where the platform needs it. Use as a context
    manager; every failure is a ``DeviceError``."""
    record = get_platform(device.platform)
    password = resolver.resolve(device.credentials.password)
    enable = device.credentials.enable
    secret = resolver.resolve(enable) if enable is not None else None
    where = f"{device.name} ({device.host}{'' if device.port == 22 else f':{device.port}'})"
    stack = contextlib.ExitStack()
    stack.enter_context(mask_logs(resolver, MASKED_LOGGERS))
    try:
        conn = connect(
            where=where,
            device_type=record.device_type,
            host=str(device.host),
            port=device.port,
            username=device.credentials.username,
            password=password,
            secret=secret or "",
            known_hosts=Path(known_hosts),
            connect_timeout=timeouts.connect,
            read_timeout=timeouts.command,
        )
        session = Session(device.name, where, record, Channel(conn), resolver, timeouts, stack)
        try:
            session._prepare(secret)
        except BaseException:
            session.close()
            raise
    except BaseException:
        stack.close()
        raise
    return session


class Session:
    """A logged-in device. Not thread-safe: one session per worker thread."""

    def __init__(
        self,
        name: str,
        where: str,
        record: PlatformRecord,
        channel: Channel,
        resolver: SecretResolver,
        timeouts: Timeouts,
        cleanup: contextlib.ExitStack,
    ) -> None:
        self.name = name
        self.where = where
        self.platform = record
        self._channel = channel
        self._resolver = resolver
        self._timeouts = timeouts
        self._cleanup = cleanup
        self._closed = False
        self._in_config = False

    def __repr__(self) -> str:
        state = "closed" if self._closed else "open"
        return f"Session({self.where}, {self.platform.name}, {state})"

    def __enter__(self) -> Session:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # ------------------------------------------------------------------ public operations

    def send(self, command: str) -> str:
        """Run an exec command; its output without the echo and the prompt. A command the
        device rejects raises ``CommandRejected``."""
        answer = _text(self._ask(command, self.platform.any_prompt_re, self._timeouts.command))
        self._check(command, answer)
        return _strip_echo_and_prompt(answer, command)

    def running_config(self) -> str:
        """The running configuration as the device displays it (paging is off), without the
        echo, the prompt and the vendor's preamble lines, ``\\n``-terminated: the same text
        a config parser reads from a backup."""
        lines = self.send(self.platform.show_running).split("\n")
        while lines and any(p.search(lines[0]) for p in self.platform.preamble_re):
            lines.pop(0)
        return "\n".join(lines).strip("\n") + "\n"

    def push(self, commands: Sequence[str]) -> str:
        """Enter configuration mode, send ``commands`` one answer at a time, leave; returns the
        device's answers (masked). Raises ``CommandRejected`` at the first rejected line
        (after leaving configuration mode), ``ConnectionLost`` or ``DeviceTimeout``; each
        carries ``accepted``, the lines the device had already taken."""
        lines = [c.rstrip() for c in commands if c.strip()]
        if not lines:
            return ""
        total = len(lines)
        accepted: list[str] = []
        try:
            transcript = [self._config_enter()]
        except SessionError as exc:
            raise self._partial(exc, accepted, total) from None
        index = 0
        while index < total:
            group = self._group(lines, index)
            line = group[0]
            try:
                answer = self._ask_lines(group)
            except SessionError as exc:
                raise self._partial(exc, accepted, total) from None
            transcript.append(answer)
            rejected = self._device_error(answer)
            if rejected is not None:
                self._leave_quietly()
                raise self._fail(CommandRejected, f"{line!r} rejected: {rejected}", line, rejected, accepted)
            if not self.platform.config_re.search(answer):
                self._in_config = False
                taken = [*accepted, *group]  # the device did take it
                raise self._fail(SessionError, f"{line!r} left configuration mode", line, None, taken)
            accepted.extend(group)
            index += len(group)
        try:
            transcript.append(self._config_leave())
        except SessionError as exc:
            raise self._partial(exc, accepted, total) from None
        return self._resolver.mask("".join(transcript))

    def save(self) -> None:
        """Make the running configuration the startup one, answering the platform's dialogue;
        a ``DeviceError`` unless the device confirms."""
        record = self.platform
        waits = [f"(?P<q{i}>{d.question})" for i, d in enumerate(record.save_dialogue)]
        pattern = re.compile("|".join([*waits, f"(?P<prompt>{record.any_prompt_re.pattern})"]), re.M)
        answer = ""
        line = record.save
        for _ in range(len(record.save_dialogue) + 1):
            match = self._ask(line, pattern, self._timeouts.save, record.save)
            answer += _text(match)
            if match.lastgroup == "prompt":
                break
            line = record.save_dialogue[int(str(match.lastgroup)[1:])].answer
        else:
            self._broken()
            raise DeviceError(f"{self.where}: {record.save!r} asked more than its dialogue")
        self._check(record.save, answer)
        if not re.search(record.save_done, answer):
            last = [x for x in answer.split("\n")[:-1] if x.strip()]
            said = last[-1].strip() if last else "nothing"
            raise DeviceError(self._resolver.mask(f"{self.where}: save not confirmed (device said: {said})"))
        log.info("%s: configuration saved", self.where)

    def close(self) -> None:
        """Log out and close; safe to call twice. Waits at most 2 s for the device to hang up."""
        if self._closed:
            return
        self._closed = True
        try:
            # In configuration mode the logout word only climbs a view: just hang up.
            farewell = None if self._in_config else self.platform.logout + "\n"
            self._channel.close(farewell, wait=min(self._timeouts.command, 2.0))
        finally:
            self._cleanup.close()

    def _partial(self, exc: SessionError, accepted: list[str], total: int) -> SessionError:
        """The same failure, saying how far the push got."""
        done = f"after {len(accepted)} of {total} lines"
        what = f"connection lost {done}" if isinstance(exc, ConnectionLost) else f"{exc.reason} {done}"
        return self._fail(type(exc), what, exc.command, exc.device_message, accepted)

    def _fail(
        self,
        kind: type[SessionError],
        what: str,
        command: str | None,
        device_message: str | None = None,
        accepted: Sequence[str] = (),
    ) -> SessionError:
        """A ``kind`` error about this device, every text in it masked."""
        mask = self._resolver.mask
        return kind(
            mask(f"{self.where}: {what}"),
            device=self.name,
            command=None if command is None else mask(command),
            device_message=None if device_message is None else mask(device_message),
            accepted=[mask(a) for a in accepted],
            reason=mask(what),
        )

    # ------------------------------------------------------------------ steps

    def _prepare(self, secret: str | None) -> None:
        """Turn paging off, synchronised on the command's echo: the greeting and whatever the
        driver left unread come before it and are discarded. A bare Enter first answers the
        "press ENTER to continue" some Comware banners ask (harmless elsewhere). Then raise
        privileges where the platform needs it."""
        record = self.platform
        self._write("")
        self._ask(record.paging_off, re.compile(re.escape(record.paging_off)), self._timeouts.command)
        answer = _text(self._read(record.any_prompt_re, record.paging_off, self._timeouts.command))
        self._check(record.paging_off, answer)
        if record.config_re.search(answer):
            self._in_config = True
            self._config_leave()
        elif record.enable is not None and not record.privileged_re.search(answer):
            self._enable(record.enable, secret)

    def _enable(self, command: str, secret: str | None) -> None:
        record = self.platform
        asks = re.compile(
            f"(?P<password>{record.enable_password})|(?P<prompt>{record.any_prompt_re.pattern})", re.M
        )
        match = self._ask(command, asks, self._timeouts.command)
        if match.lastgroup == "password":
            if secret is None:
                raise DeviceError(f"{self.where}: {command!r} asks for a password; set credentials.enable")
            match = self._ask(secret, record.any_prompt_re, self._timeouts.command, shown=command)
        if not record.privileged_re.search(_text(match)):
            raise DeviceError(f"{self.where}: {command!r} refused (privileged mode not reached)")

    def _config_enter(self) -> str:
        answer = _text(self._ask(self.platform.config_enter, self.platform.config_re, self._timeouts.command))
        self._in_config = True
        return answer

    def _config_leave(self) -> str:
        answer = _text(
            self._ask(self.platform.config_leave, self.platform.any_prompt_re, self._timeouts.command)
        )
        if self.platform.config_re.search(answer):
            raise DeviceError(
                f"{self.where}: {self.platform.config_leave!r} did not leave configuration mode"
            )
        self._in_config = False
        return answer

    def _leave_quietly(self) -> None:
        """After a rejected line: back to exec mode if possible; the rejection is what matters."""
        with contextlib.suppress(DeviceError):
            self._config_leave()

    def _group(self, lines: list[str], index: int) -> list[str]:
        """The line at ``index``, or the whole block it opens (a banner's lines get no prompt
        until the one holding the delimiter)."""
        delim = self.platform.block_delimiter(lines[index])
        if delim is None:
            return [lines[index]]
        end = index + 1
        while end < len(lines) and delim not in lines[end]:
            end += 1
        return lines[index : end + 1]

    # ------------------------------------------------------------------ channel helpers

    def _ask_lines(self, group: list[str]) -> str:
        for line in group[:-1]:
            self._write(line, group[0])
        return _text(self._ask(group[-1], self.platform.any_prompt_re, self._timeouts.command, group[0]))

    def _ask(
        self, line: str, until: re.Pattern[str], timeout: float, shown: str | None = None
    ) -> re.Match[str]:
        """Send ``line``, read until ``until``; ``shown`` names it in errors (never a secret)."""
        self._write(line, shown)
        return self._read(until, shown if shown is not None else line, timeout)

    def _write(self, line: str, shown: str | None = None) -> None:
        if self._closed:
            raise DeviceError(f"{self.where}: session is closed")
        try:
            self._channel.write(line + "\n")
        except ChannelClosed:
            self._broken()
            raise self._fail(ConnectionLost, "connection lost", shown or line) from None

    def _read(self, until: re.Pattern[str], shown: str, timeout: float) -> re.Match[str]:
        try:
            return self._channel.read_until(until, timeout)
        except ChannelClosed:
            self._broken()
            what = f"connection lost waiting for the answer to {shown!r}"
            raise self._fail(ConnectionLost, what, shown) from None
        except NoAnswer:
            self._broken()
            what = f"no answer within {timeout:g} s to {shown!r}"
            raise self._fail(DeviceTimeout, what, shown) from None

    def _broken(self) -> None:
        """After a drop or a timeout the dialogue is out of step: close for good."""
        if not self._closed:
            self._closed = True
            try:
                self._channel.close()
            finally:
                self._cleanup.close()

    def _device_error(self, answer: str) -> str | None:
        found = self.platform.errors_re.findall(answer)
        return "\n".join(f.strip() for f in found) if found else None

    def _check(self, command: str, answer: str) -> None:
        rejected = self._device_error(answer)
        if rejected is not None:
            raise self._fail(CommandRejected, f"{command!r} rejected: {rejected}", command, rejected)


def _text(match: re.Match[str]) -> str:
    """What was read up to and including the match."""
    return match.string[: match.end()]


def _strip_echo_and_prompt(answer: str, command: str) -> str:
    """Output between the command's echo line and the trailing prompt."""
    lines = answer.split("\n")
    body = lines[:-1]  # the last line is the prompt
    for index, line in enumerate(body):
        if command.strip() in line:
            body = body[index + 1 :]
            break
    else:
        body = body[1:]
    return "\n".join(body)
