"""Resolve the inventory's secret references, and keep the values out of everything we print.

The inventory holds only references (``env:NAME`` or ``file:PATH``, see
``govnet.inventory.models.check_secret_ref``); the values are read here, once per run, by a
``SecretResolver``. The resolver remembers every value it handed out so that ``mask(text)`` can
blank them out of anything logged or raised: a rendered config line carrying an SNMP community,
a device's echo of it, netmiko's DEBUG log of the bytes it wrote. ``MaskingFilter`` does the
same for log records of libraries we do not control (netmiko logs every write and read).

A secret file must be as private as an SSH key: a regular file, owned by the current user or
root, mode 0600 or 0400. Anything looser is refused rather than silently used, because a
world-readable password file on a management host is exactly what an audit looks for.
"""

from __future__ import annotations

import logging
import os
import re
import stat
import threading
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from govnet.errors import ConfigError

MASK = "****"
PRIVATE_MODES = (0o600, 0o400)


def _read_secret_file(path: Path) -> str:
    """The file's content without its trailing newline, after the privacy checks."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOCTTY | os.O_NONBLOCK)
    except FileNotFoundError:
        raise ConfigError(f"secret file {path} does not exist") from None
    except OSError as exc:
        raise ConfigError(f"secret file {path}: cannot open: {exc.strerror}") from None
    try:
        # fstat the opened file, not the path: no window for a swap between check and read.
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise ConfigError(f"secret file {path} is not a regular file")
        if st.st_uid not in (os.geteuid(), 0):
            raise ConfigError(
                f"secret file {path} is owned by uid {st.st_uid}; it must be owned by you "
                f"(uid {os.geteuid()}) or root"
            )
        mode = stat.S_IMODE(st.st_mode)
        if mode not in PRIVATE_MODES:
            raise ConfigError(
                f"secret file {path} has mode {mode:04o}; it must be 0600 or 0400 (chmod 600 {path})"
            )
        with os.fdopen(os.dup(fd), "rb") as handle:
            data = handle.read()
    finally:
        os.close(fd)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise ConfigError(f"secret file {path} is not UTF-8 text") from None
    text = text.removesuffix("\n").removesuffix("\r")
    if not text:
        raise ConfigError(f"secret file {path} is empty")
    return text


class SecretResolver:
    """Resolves references for one run, caches the values, and masks them in text.

    ``base`` anchors relative ``file:`` references (the inventory's folder, typically);
    ``environ`` defaults to ``os.environ``. Thread-safe: a rollout resolves from its worker
    threads. The values never appear in ``repr``.
    """

    def __init__(self, *, base: Path | None = None, environ: Mapping[str, str] | None = None) -> None:
        self._base = base
        self._environ = os.environ if environ is None else environ
        self._values: dict[str, str] = {}
        self._lock = threading.Lock()
        self._pattern: re.Pattern[str] | None = None

    def __repr__(self) -> str:
        return f"SecretResolver({len(self._values)} resolved)"

    def resolve(self, reference: str) -> str:
        """The value behind ``env:NAME`` or ``file:PATH``; a ``ConfigError`` says what is wrong."""
        with self._lock:
            cached = self._values.get(reference)
        if cached is not None:
            return cached
        kind, sep, where = reference.partition(":")
        if kind == "env" and sep and where:
            value = self._environ.get(where, "")
            if not value:
                raise ConfigError(f"secret env:{where} is not set")
        elif kind == "file" and sep and where:
            path = Path(where).expanduser()
            if not path.is_absolute() and self._base is not None:
                path = self._base / path
            value = _read_secret_file(path)
        else:
            # Never echo the text: a "reference" that is not one may be a pasted password.
            raise ConfigError("not a secret reference; write env:NAME or file:PATH")
        with self._lock:
            self._values[reference] = value
            self._pattern = None
        return value

    def values(self) -> frozenset[str]:
        """Every value handed out so far (for callers that must pass them on, e.g. to a filter)."""
        with self._lock:
            return frozenset(self._values.values())

    def mask(self, text: str) -> str:
        """``text`` with every value handed out so far replaced by ``****``.

        >>> r = SecretResolver(environ={"PW": "hunter2"})
        >>> _ = r.resolve("env:PW")
        >>> r.mask("login with hunter2, not hunter")
        'login with ****, not hunter'
        """
        pattern = self._compiled()
        return text if pattern is None else pattern.sub(MASK, text)

    def _compiled(self) -> re.Pattern[str] | None:
        with self._lock:
            if self._pattern is None and self._values:
                # Longest first, so a value containing another is masked whole.
                ordered = sorted(set(self._values.values()), key=len, reverse=True)
                self._pattern = re.compile("|".join(re.escape(v) for v in ordered))
            return self._pattern


class MaskingFilter(logging.Filter):
    """Masks the values of every attached resolver in the records of the loggers it sits on.

    One instance per logger name is installed for good (``mask_logs``); resolvers come and go
    with the sessions using them. Costs nothing unless a record is actually emitted (loggers
    consult filters only for enabled levels).
    """

    def __init__(self) -> None:
        super().__init__()
        self._resolvers: dict[int, tuple[SecretResolver, int]] = {}
        self._lock = threading.Lock()

    def attach(self, resolver: SecretResolver) -> None:
        with self._lock:
            held, count = self._resolvers.get(id(resolver), (resolver, 0))
            self._resolvers[id(resolver)] = (held, count + 1)

    def detach(self, resolver: SecretResolver) -> None:
        with self._lock:
            held, count = self._resolvers.get(id(resolver), (resolver, 0))
            if count <= 1:
                self._resolvers.pop(id(resolver), None)
            else:
                self._resolvers[id(resolver)] = (held, count - 1)

    def filter(self, record: logging.LogRecord) -> bool:
        with self._lock:
            resolvers = [r for r, _ in self._resolvers.values()]
        if not resolvers:
            return True
        message = record.getMessage()
        masked = message
        for resolver in resolvers:
            masked = resolver.mask(masked)
        if masked != message:
            record.msg, record.args = masked, None
        return True


_FILTERS: dict[str, MaskingFilter] = {}
_FILTERS_LOCK = threading.Lock()


def _filter_for(name: str) -> MaskingFilter:
    with _FILTERS_LOCK:
        found = _FILTERS.get(name)
        if found is None:
            found = _FILTERS[name] = MaskingFilter()
            logging.getLogger(name).addFilter(found)
        return found


@contextmanager
def mask_logs(resolver: SecretResolver, loggers: Iterable[str]) -> Iterator[None]:
    """While the block runs, records of ``loggers`` have ``resolver``'s values masked.

    A logger's filters only see records created on that very logger, so name each one that
    may carry a secret (netmiko logs everything on ``netmiko``).
    """
    filters = [_filter_for(name) for name in loggers]
    for f in filters:
        f.attach(resolver)
    try:
        yield
    finally:
        for f in filters:
            f.detach(resolver)
