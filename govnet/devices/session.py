"""One session class for every platform: read the running config, push, save, run a command.

The platform's record (``platforms.py``) says what to type and which prompt ends each answer;
this class does the same thing for every vendor. Every line pushed is answered by its own
prompt, and every answer is checked against the platform's error patterns: a rejected line
stops the push with a ``CommandRejected`` naming the line, the device's message and the lines
the device took, never a silent success. Lines that cannot change the configuration view may
share one write (``push``'s ``stays``); a line that may change it is always the last of its write.

Credentials come only from the ``SecretResolver``; everything raised or logged passes through
its ``mask`` (a rendered line may carry an SNMP community), and netmiko's own DEBUG log is
masked for as long as the session is open.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from govnet.devices.errors import (
    CommandRejected,
    ConnectionLost,
    DeviceTimeout,
    SessionError,
    UnexpectedQuestion,
)
from govnet.devices.transport import Channel, ChannelClosed, NoAnswer, connect
from govnet.errors import DeviceError
from govnet.inventory.models import Device
from govnet.platforms import cli_record
from govnet.platforms.cli import QUESTION, QUESTION_SETTLE, CliRecord, Dialogue
from govnet.secrets import SecretResolver, mask_logs

log = logging.getLogger(__name__)
MAX_QUESTIONS = 8
"""Answers one command may need; a device asking more is out of step (or looping)."""
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
    record = cli_record(device.platform)
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
            ssh=device.ssh.algorithms(),
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
        record: CliRecord,
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
        answer = self._converse(command, self.platform.any_prompt_re, (), self._timeouts.command)
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

    def push(self, commands: Sequence[str], *, stays: Callable[[str], bool] | None = None) -> str:
        """Enter configuration mode, send ``commands``, leave; returns the device's answers
        (masked). Raises ``CommandRejected`` naming the first rejected line (after leaving
        configuration mode), ``ConnectionLost`` or ``DeviceTimeout``; each carries ``accepted``,
        the lines the device had taken.

        Without ``stays`` every line waits for its answer before the next is sent. ``stays(line)``
        says a line leaves the device in the view it was typed in (not a section header, not an
        exit word): a run of such lines goes out in one write (at most the platform's
        ``batch_lines`` / ``batch_bytes``), ending at the first line that may change the view.
        So a line that may change the view is always the last of its write: when the device
        rejects it, no later line lands in the wrong view. Each line is still answered by its
        own prompt and checked; a rejected one stops the push after its write, whose later lines
        the device has run too (the error counts them)."""
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
            group, batched = self._group(lines, index, stays)
            answered: list[tuple[list[str], str]] = []
            try:
                self._ask_group(group, batched, answered)
            except SessionError as exc:
                accepted += [
                    x for taken, answer in answered if self._device_error(answer) is None for x in taken
                ]
                raise self._partial(exc, accepted, total) from None
            transcript += [answer for _, answer in answered]
            self._check_group(answered, accepted)
            index += len(group)
        try:
            transcript.append(self._config_leave())
        except SessionError as exc:
            raise self._partial(exc, accepted, total) from None
        return self._resolver.mask("".join(transcript))

    def _check_group(self, answered: list[tuple[list[str], str]], accepted: list[str]) -> None:
        """Each answer of one write: the lines it took go to ``accepted``; the first rejected
        line (or a line that left configuration mode) ends the push."""
        rejected: tuple[str, str, int] | None = None
        left: tuple[str, list[str]] | None = None
        for position, (taken, answer) in enumerate(answered):
            message = self._device_error(answer)
            if message is not None:
                rejected = rejected or (taken[0], message, len(answered) - position - 1)
                continue
            accepted.extend(taken)  # the device did take it
            if not self.platform.config_re.search(answer) and left is None and rejected is None:
                left = (taken[0], list(accepted))
        if rejected is not None:
            line, message, later = rejected
            self._leave_quietly()
            what = f"{line!r} rejected: {message}"
            if later:
                what += f" ({later} later line(s) of the same write reached the device too)"
            raise self._fail(CommandRejected, what, line, message, accepted)
        if left is not None:
            self._in_config = False
            raise self._fail(SessionError, f"{left[0]!r} left configuration mode", left[0], None, left[1])

    def save(self) -> None:
        """Make the running configuration the startup one, answering the platform's dialogue;
        a ``DeviceError`` unless the device confirms."""
        record = self.platform
        answer = self._converse(record.save, record.any_prompt_re, record.save_dialogue, self._timeouts.save)
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
        """Read the greeting up to the first prompt, answering the login questions of the
        platform record (password expiry, a banner's "press Y or ENTER"); an unknown one fails
        the login quoting it. Then turn paging off, synchronised on the command's echo
        (whatever came before it is discarded), and raise privileges where the platform needs
        it."""
        record = self.platform
        self._converse(None, record.any_prompt_re, record.login_dialogue, self._timeouts.command, "login")
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
        record = self.platform
        until = record.config_re
        if record.refused_prompts:
            refused = "|".join(p for p, _ in record.refused_prompts)
            until = re.compile(f"(?:{record.config_prompt}|{refused})[ \t]*\\Z", re.M)
        answer = self._converse(record.config_enter, until, (), self._timeouts.command)
        self._in_config = True
        reason = record.refusal(answer)
        if reason is not None:
            self._broken()
            raise self._fail(SessionError, reason, record.config_enter)
        return answer

    def _config_leave(self) -> str:
        answer = self._converse(
            self.platform.config_leave, self.platform.any_prompt_re, (), self._timeouts.command
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

    def _group(
        self, lines: list[str], index: int, stays: Callable[[str], bool] | None
    ) -> tuple[list[str], bool]:
        """The lines of the next write from ``index``, and whether each is answered (a batch).

        A banner block's lines get no prompt until the one holding the delimiter: one answer.
        Otherwise the line alone, or with ``stays`` the run of lines that stay in their view,
        ending at the first that may not (see ``push``)."""
        record = self.platform
        delim = record.block_delimiter(lines[index])
        if delim is not None:
            end = index + 1
            while end < len(lines) and delim not in lines[end]:
                end += 1
            return lines[index : end + 1], False
        end, size = index, 0
        while end < len(lines) and end - index < (record.batch_lines if stays else 1):
            line = lines[end]
            size += len(line) + 1
            asks = record.may_ask(line)  # a question would take the next line as its answer
            if end > index and (
                size > record.batch_bytes or record.block_delimiter(line) is not None or asks
            ):
                break
            end += 1
            if asks or (stays is not None and not stays(line)):
                break
        return lines[index:end], True

    # ------------------------------------------------------------------ channel helpers

    def _ask_group(self, group: list[str], batched: bool, answered: list[tuple[list[str], str]]) -> None:
        """Send one write's lines, appending each answer (with the lines it answers) to
        ``answered`` as it arrives."""
        timeout = self._timeouts.command
        if not batched:  # a block: the lines before the delimiter's get no answer
            for line in group[:-1]:
                self._write(line, group[0])
            answer = _text(self._ask(group[-1], self.platform.any_prompt_re, timeout, group[0]))
            answered.append((group, answer))
            return
        if len(group) == 1:
            answered.append(
                (
                    group,
                    self._converse(
                        group[0], self.platform.any_prompt_re, self.platform.line_dialogue, timeout
                    ),
                )
            )
            return
        self._write("\n".join(group), group[0])
        last = len(group) - 1
        for position, line in enumerate(group):
            until = self.platform.any_prompt_re if position == last else self.platform.next_prompt_re
            pattern = _dialogue_re(until.pattern, ())  # the prompt, or a question left unanswered
            match = self._read(pattern, line, timeout, settle=("ask", QUESTION_SETTLE))
            answer = _text(match)
            asked = _last_line(answer) if match.lastgroup == "ask" else None
            question = self.platform.question_line_re.search(answer)
            if question is not None:  # the device took the next line of the write as its answer
                asked = question.group(0).strip()
            if asked is not None:
                self._broken()
                what = f"{line!r} asked {asked!r}, a question govnet does not know"
                raise self._fail(UnexpectedQuestion, what, line, asked)
            if line.strip() not in answer:
                # A vty whose input buffer overflowed drops the rest of the write: the lines
                # it did read may be cut or joined. Never count such a line as taken. (A write
                # cut at a line's end or inside the last line leaves no prompt: the timeout.)
                self._broken()
                what = f"{line!r} was not echoed back intact (the device dropped part of a {len(group)}-line write)"
                raise self._fail(SessionError, what, line, answer.strip()[-200:])
            answered.append(([line], answer))

    def _ask(
        self, line: str, until: re.Pattern[str], timeout: float, shown: str | None = None
    ) -> re.Match[str]:
        """Send ``line``, read until ``until``; ``shown`` names it in errors (never a secret)."""
        self._write(line, shown)
        return self._read(until, shown if shown is not None else line, timeout)

    def _converse(
        self,
        line: str | None,
        until: re.Pattern[str],
        dialogues: tuple[Dialogue, ...],
        timeout: float,
        shown: str | None = None,
    ) -> str:
        """Send ``line`` (``None``: only read) and read until ``until``, answering each known
        question of ``dialogues`` as often as it is asked; returns all that was read.

        A question no dialogue knows (text ending like a question, then silence) closes the
        session and raises ``UnexpectedQuestion`` quoting it: never a wait to the timeout."""
        name = shown if shown is not None else (line or "login")
        pattern = _dialogue_re(until.pattern, tuple(d.question for d in dialogues))
        if line is not None:
            self._write(line, shown)
        text = ""
        for _ in range(MAX_QUESTIONS + 1):
            match = self._read(pattern, name, timeout, settle=("ask", QUESTION_SETTLE))
            text += _text(match)
            group = match.lastgroup
            if group == "prompt":
                return text
            if group == "ask":
                said = _last_line(text)
                self._broken()
                raise self._fail(
                    UnexpectedQuestion,
                    f"{name!r} asked {said!r}, a question govnet does not know",
                    name,
                    said,
                )
            self._write(dialogues[int(str(group)[1:])].answer, f"the answer to {_last_line(text)!r}")
        self._broken()
        raise self._fail(
            UnexpectedQuestion, f"{name!r} asked more than {MAX_QUESTIONS} questions", name, _last_line(text)
        )

    def _write(self, line: str, shown: str | None = None) -> None:
        if self._closed:
            raise DeviceError(f"{self.where}: session is closed")
        try:
            self._channel.write(line + "\n")
        except ChannelClosed:
            self._broken()
            raise self._fail(ConnectionLost, "connection lost", shown or line) from None

    def _read(
        self, until: re.Pattern[str], shown: str, timeout: float, settle: tuple[str, float] | None = None
    ) -> re.Match[str]:
        try:
            return self._channel.read_until(until, timeout, settle=settle)
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
        if found:
            return "\n".join(f.strip() for f in found)
        caret = self.platform.caret_re
        if caret is not None:
            for match in caret.finditer(answer):
                if not self.platform.next_prompt_re.match(match.group(1)):
                    return match.group(1).strip()  # an error form the record does not list
        return None

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


@functools.lru_cache(maxsize=64)
def _dialogue_re(until: str, questions: tuple[str, ...]) -> re.Pattern[str]:
    """One pattern for a read: the prompt (group ``prompt``), each known question (``q0``…),
    or anything that ends like a question (``ask``), all anchored at the end of the text."""
    parts = [f"(?P<prompt>{until})"]
    parts += [f"(?P<q{i}>{q})[ \\t]*\\Z" for i, q in enumerate(questions)]
    parts.append(f"(?P<ask>{QUESTION})[ \\t]*\\Z")
    return re.compile("|".join(parts), re.M)


def _last_line(text: str) -> str:
    """The last non-empty line of what a device sent (the question it is asking)."""
    lines = [x.strip() for x in text.split("\n") if x.strip()]
    return lines[-1] if lines else ""
