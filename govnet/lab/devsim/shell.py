"""The interactive CLI session of a simulated device, the same class for every platform.

It behaves like a device's terminal line: it echoes what is typed, answers each line with
output and a prompt, pauses long output at a More prompt until a key arrives, asks the save
and enable questions, and prints the platform's error text under a caret. Everything vendor
specific comes from the ``Platform`` record; configuration semantics come from
``ConfigEditor``. The shell talks to a ``Terminal`` (an SSH channel in production, anything
with the same three methods in tests) and never sleeps except to play the ``slow`` fault
and a timing profile's delays (``timing.py``).
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
import time
from typing import Protocol

from govnet.lab.devsim.commands import ExecMatch, apply_filter, match_exec, split_filter
from govnet.lab.devsim.config import block_delimiter, section_text
from govnet.lab.devsim.device import SimDevice
from govnet.lab.devsim.editor import ConfigEditor, LineVerdict
from govnet.lab.devsim.faults import NO_FAULTS
from govnet.lab.devsim.field import SMALL_INPUT_BUFFER, Question, accepts, field_of
from govnet.lab.devsim.personality import Action, DialogStep
from govnet.lab.devsim.timing import Pacing

log = logging.getLogger(__name__)


class Terminal(Protocol):
    """Where a session reads keystrokes and writes output."""

    async def read(self) -> str:
        """Next chunk of input; ``""`` when the client has gone."""
        ...

    async def write(self, text: str) -> None: ...

    def abort(self) -> None:
        """Drop the connection at once, without an SSH goodbye (the ``ssh-drop`` fault)."""
        ...


class Hangup(Exception):
    """The client went away or the session was dropped on purpose."""


class Shell:
    """One CLI session on one device."""

    def __init__(self, device: SimDevice, terminal: Terminal) -> None:
        self.device = device
        self.platform = device.platform
        self.term = terminal
        self.privileged = self.platform.prompts.starts_privileged
        self.editor: ConfigEditor | None = None
        self.paging = True
        self.page_lines = self.platform.paging.page_lines
        self.faults = NO_FAULTS
        self.pacing = Pacing(device.spec.timing, device.spec.platform)  # a real device's delays
        self.field = field_of(self.platform.name)  # what real devices ask and say (field.py)
        self.quirks = frozenset(device.spec.quirks)
        self._input_buffer = (
            SMALL_INPUT_BUFFER if "small-input-buffer" in self.quirks else self.field.input_buffer
        )
        self._changed = False
        self._pending = ""
        self._skip_lf = False
        self._in_escape = False
        self._config_lines = 0
        self._prompt = ""
        self._out: list[str] = []

    # ----------------------------------------------------------------- session loop

    async def run(self) -> None:
        """Greet, then read and answer lines until the user logs out or the client goes."""
        try:
            await self._greet()
            while True:
                self._prompt = self.prompt()
                if self.editor is None and not self._pending:  # the client waits for this prompt
                    self.device.flush()
                self._write(self._prompt)
                line = await self._read_line()
                self.faults = self.device.faults()
                if self.faults.slow_ms or (self.pacing.delays is not None and self.pacing.delays.answer):
                    await self._flush_output()  # a device echoes what it reads before it works
                if self.faults.slow_ms:
                    await asyncio.sleep(self.faults.slow_ms / 1000)
                await self.pacing.pause("answer")
                if not await self.execute(line):
                    return
        except Hangup:
            return
        finally:
            await self._end()

    async def run_once(self, command: str) -> None:
        """Answer one command given on the ssh command line (``ssh dev 'show version'``)."""
        self.paging = False
        self.privileged = True
        self.faults = self.device.faults()
        try:
            await self.execute(command)
        except Hangup:
            return
        finally:
            await self._end()

    async def _end(self) -> None:
        """The session is over: what is queued goes out (if the client is still there), and
        the running config file shows every change the session made."""
        self.device.flush()
        try:
            task = asyncio.current_task()
        except RuntimeError:  # a session task collected after its loop closed
            return
        if task is not None and task.cancelling():  # the simulator is stopping: no more awaits
            return
        with contextlib.suppress(Hangup):
            await self._flush_output()

    def prompt(self) -> str:
        prompts = self.platform.prompts
        name = self.device.hostname
        if self.editor is None:
            template = prompts.privileged if self.privileged else prompts.user
            return template.format(name=name)
        label = self.editor.label
        text = (
            prompts.config.format(name=name) if label is None else prompts.view.format(name=name, view=label)
        )
        if "vrp8" in self.quirks and text.startswith("["):  # two-stage: [~NAME], [*NAME] once changed
            text = "[" + ("*" if self._changed else "~") + text[1:]
        return text

    async def _greet(self) -> None:
        await self.pacing.pause("login")
        parts = []
        if self.device.spec.banner:
            parts.append(self.device.spec.banner)
        notice = self.platform.prompts.login_notice
        if notice:
            parts.append(notice.format(now=time.strftime("%Y-%m-%d %H:%M:%S")))
        await self._say(["", *parts] if parts else [""])
        for quirk, question in self.field.login.items():
            if quirk in self.quirks and not await self._question(question) and question.kind == "key":
                raise Hangup

    async def _question(self, question: Question) -> bool:
        """Ask until answered (a VRP refuses a bare Enter to [Y/N] and asks again); yes?"""
        self._write(question.text.replace("\n", "\r\n"))
        for _ in range(5):
            answer = await self._read_line()
            verdict = accepts(question, answer)
            if verdict is not None:
                return verdict
            again = self.field.refuse_enter or question.text.rsplit("\n", 1)[-1]
            self._write(again)
        return False

    # ----------------------------------------------------------------- input

    def _write(self, text: str) -> None:
        """Queue output; it goes out in one SSH packet when the shell next waits for input.

        A device answers a pasted block line by line, but nothing it writes before it reads
        again can change what the client sees: one write per wait instead of one per echo,
        output and prompt (a third of the simulator's CPU went to packets of a few bytes).
        """
        self._out.append(text)

    async def _flush_output(self) -> None:
        if self._out:
            text, self._out = "".join(self._out), []
            await self.term.write(text)

    async def _chunk(self) -> str:
        if not self._pending:
            await self._flush_output()
            data = await self.term.read()
            if not data:
                raise Hangup
            if len(data) > self._input_buffer:  # typed ahead past the vty's buffer: lost
                log.info(
                    "%s: input buffer full: %d bytes dropped",
                    self.device.spec.name,
                    len(data) - self._input_buffer,
                )
                data = data[: self._input_buffer]
            self._pending = data
        chunk, self._pending = self._pending, ""
        return chunk

    async def _read_line(self, echo: bool = True) -> str:
        """One line, echoed as typed (backspace edits, escape sequences are dropped)."""
        buf: list[str] = []
        while True:
            chunk = await self._chunk()
            out: list[str] = []
            for index, ch in enumerate(chunk):
                if self._skip_lf and ch == "\n":
                    self._skip_lf = False
                    continue
                self._skip_lf = False
                if self._in_escape:
                    self._in_escape = ch == "[" or not ("@" <= ch <= "~")
                elif ch in "\r\n":
                    self._skip_lf = ch == "\r"
                    self._pending = chunk[index + 1 :] + self._pending
                    out.append("\r\n")
                    self._write("".join(out))
                    return "".join(buf)
                elif ch in "\x7f\x08":
                    if buf:
                        buf.pop()
                        out.append("\b \b" if echo else "")
                elif ch == "\x1b":
                    self._in_escape = True
                elif ch >= " " or ch == "\t":
                    buf.append(ch)
                    if echo:
                        out.append(ch)
            if out:
                self._write("".join(out))

    async def _read_key(self) -> str:
        """One keystroke (a CR LF pair counts as one), for the More prompt."""
        while True:
            chunk = await self._chunk()
            ch, self._pending = chunk[0], chunk[1:] + self._pending
            if self._skip_lf and ch == "\n":
                self._skip_lf = False
                continue
            self._skip_lf = ch == "\r"
            return ch

    # ----------------------------------------------------------------- output

    async def _say(self, lines: list[str]) -> None:
        self._write("".join(line.replace("\n", "\r\n") + "\r\n" for line in lines))

    async def _emit(self, lines: list[str]) -> None:
        """Print output, pausing at the More prompt when paging is on."""
        per_page = max(self.page_lines - 1, 1)
        if not self.paging or len(lines) <= per_page:
            await self._say(lines)
            return
        paging = self.platform.paging
        await self._say(lines[:per_page])
        shown = per_page
        while shown < len(lines):
            self._write(paging.more)
            key = await self._read_key()
            self._write(paging.erase)
            if key == " ":
                step = per_page
            elif key in "\r\n":
                step = 1
            else:
                return
            await self._say(lines[shown : shown + step])
            shown += step

    async def _error(self, verdict: LineVerdict, column: int, line: str, ambiguous: bool) -> None:
        errors = self.platform.errors
        if ambiguous:
            message = errors.ambiguous
        elif verdict is LineVerdict.INCOMPLETE:
            message = errors.incomplete
        else:
            message = errors.unknown
        lines = []
        if "'^'" in message:
            lines.append(" " * (len(self._prompt) + column) + "^")
        lines.append(message.replace("{line}", line.strip()))
        if errors.blank_line_after:
            lines.append("")
        await self._say(lines)

    # ----------------------------------------------------------------- commands

    async def execute(self, line: str) -> bool:
        """Answer one line; ``False`` ends the session."""
        if self.editor is not None:
            return await self._config_line(line)
        if not line.strip():
            return True
        return await self._exec(line, 0)

    async def _exec(self, line: str, offset: int) -> bool:
        command_text, filt = split_filter(line)
        found = match_exec(self.platform.exec_commands, command_text, self.privileged, offset)
        if found.command is None:
            await self._error(found.verdict, found.column, line, found.ambiguous)
            return True
        lines = await self._run_action(found)
        if lines is None:
            return found.command.action is not Action.LOGOUT
        if filt is not None:
            filtered = apply_filter(lines, filt)
            if filtered is None:
                column = offset + len(command_text) + 3
                await self._error(LineVerdict.UNKNOWN, column, line, False)
                return True
            lines = filtered
        await self._emit(lines)
        return True

    async def _run_action(self, found: ExecMatch) -> list[str] | None:
        """Run a recognised exec command; returns output lines, ``None`` for none."""
        assert found.command is not None
        action = found.command.action
        device = self.device
        if action is Action.SHOW_RUNNING:
            text = device.shown_running_text()
            size = len(text.encode())
            await self.pacing.pause("show", size)
            preamble = [p.replace("{size}", str(size)) for p in self.platform.running_preamble]
            return [*preamble, *text.rstrip("\n").split("\n")]
        if action is Action.SHOW_STARTUP:
            startup = device.startup_text()
            return startup.rstrip("\n").split("\n") if startup else []
        if action is Action.SHOW_VERSION:
            text = self.platform.version_text.format(name=device.hostname, uptime=device.uptime())
            return text.split("\n")
        if action is Action.SHOW_THIS:
            section = self.editor.section if self.editor is not None else device.running
            body = section_text(section).split("\n") if section.text else []
            separator = self.platform.syntax.separator
            return [separator, *body, separator, self.platform.syntax.trailer]
        if action in (Action.PAGING_SET, Action.WIDTH):
            return await self._terminal_setting(found)
        if action is Action.PAGING_OFF:
            self.paging = False
        elif action is Action.PAGING_ON:
            self.paging, self.page_lines = True, self.platform.paging.page_lines
        elif action is Action.ENABLE:
            await self._enable()
        elif action is Action.DISABLE:
            self.privileged = False
        elif action is Action.CONFIG:
            self.editor = ConfigEditor(device.running, self.platform)
            notice = self.platform.prompts.config_notice
            return [notice] if notice else None
        elif action is Action.SAVE:
            return await self._save(self.platform.saving.dialog)
        elif action is Action.SAVE_NOW:
            return await self._save(())
        elif action is Action.COPY_RUN_START:
            return await self._save(self.platform.saving.copy_dialog)
        return None

    async def _terminal_setting(self, found: ExecMatch) -> list[str] | None:
        assert found.command is not None
        if not found.args:
            await self._error(LineVerdict.INCOMPLETE, found.column, "", False)
            return None
        if not found.args[0].isdigit():
            await self._error(LineVerdict.UNKNOWN, found.column, "", False)
            return None
        if found.command.action is Action.PAGING_SET:
            length = int(found.args[0])
            self.paging = length > 0
            self.page_lines = length or self.page_lines
            notice = self.platform.paging.off_notice
            return [notice] if notice and not self.paging else None
        return None

    async def _enable(self) -> None:
        secret = self.device.spec.enable_secret
        if self.privileged or not secret:
            self.privileged = True
            return
        self._write(self.platform.prompts.enable_password)
        answer = await self._read_line(echo=False)
        if hmac.compare_digest(answer.encode(), secret.encode()):
            self.privileged = True
        else:
            await self._say([self.platform.prompts.enable_denied])

    async def _ask(self, steps: tuple[DialogStep, ...]) -> bool:
        for step in steps:
            self._write(step.question.replace("\n", "\r\n"))
            answer = (await self._read_line()).strip().lower()
            if step.yes_no and not answer.startswith("y"):
                return False
        return True

    async def _save(self, dialog: tuple[DialogStep, ...]) -> list[str] | None:
        extra = [q for quirk, q in self.field.save.items() if quirk in self.quirks]
        if not await self._ask(dialog) or not all([await self._question(q) for q in extra]):
            cancelled = self.platform.saving.cancelled
            return [cancelled] if cancelled else None
        await self.pacing.pause("save")  # the device writes its flash
        self.device.save()
        log.info("%s: configuration saved", self.device.spec.name)
        return list(self.platform.saving.done)

    # ----------------------------------------------------------------- configuration mode

    async def _config_line(self, line: str) -> bool:
        assert self.editor is not None
        text = line.strip()
        if not text:
            return True
        self._config_lines += 1
        if self.faults.ssh_drop and self._config_lines >= 2:
            log.info("%s: ssh-drop fault: dropping the connection", self.device.spec.name)
            await self._flush_output()  # a device answers each line as it takes it: those go out
            self.term.abort()
            raise Hangup
        syntax = self.platform.syntax
        first, _, rest = text.partition(" ")
        column = len(line) - len(line.lstrip())
        if text == syntax.exit_one or text in syntax.extra_exits:
            if not self.editor.exit_one() and text == syntax.exit_one:
                self.editor = None
            return True
        if text == syntax.exit_all:
            self.editor = None
            return True
        if text.startswith(syntax.comment_prefixes):
            return True
        if syntax.exec_prefix is not None and first == syntax.exec_prefix and rest:
            return await self._exec(rest, column + len(first) + 1)
        if first in syntax.exec_words:
            return await self._exec(line, 0)
        if self.faults.rejects(text):
            await self._error(LineVerdict.UNKNOWN, column, line, False)
            return True
        if not await self._field_line(text):
            return True
        delim = block_delimiter(self.platform, text)
        if delim is not None:
            changed = self.editor.add_block(await self._read_block(text, delim))
        else:
            outcome = self.editor.apply(text)
            if outcome.verdict is not LineVerdict.OK:
                await self._error(outcome.verdict, column + outcome.error_column, line, False)
                return True
            changed = outcome.changed
        if changed:
            self._changed = True
            self.device.config_changed()
        return True

    async def _field_line(self, text: str) -> bool:
        """What a real device does before it takes ``text``: refuse it for what it means (a
        semantic error), or ask first (field.py; the ``ask`` fault asks what no record knows).
        ``False``: the line is not taken."""
        for pattern, message, caret in self.field.semantic_errors:
            if pattern.search(text):
                await self._say([" " * len(self._prompt) + "^", message] if caret else [message])
                return False
        for pattern, question in self.field.line_questions:
            if pattern.search(text) and not await self._question(question):
                return False
        if self.faults.asks(text):
            unknown = Question(
                "Warning: The setting takes effect after the board restarts. Restart it now? [Y/N]:"
            )
            return await self._question(unknown)
        return True

    async def _read_block(self, first: str, delim: str) -> str:
        """Collect a multi-line banner until the line holding its closing delimiter."""
        notice = self.platform.syntax.block_notice
        if notice:
            await self._say([notice.replace("{delim}", delim)])
        lines = [first]
        while True:
            line = await self._read_line()
            lines.append(line)
            if delim in line:
                return "\n".join(lines)
