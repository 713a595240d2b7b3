"""Secrets in configurations: placeholders at render time, values only at push time.

Templates never see a secret. ``secret(ref)`` renders the inventory's *reference* as a placeholder
token, ``<<secret:env:GOVNET_SSH_PASSWORD>>``; intended configs, plans, golden files and diffs
hold only these. The push substitutes the values (``substitute``) right before sending, and
anything it logs goes through ``mask``. ``clear_secret`` catches a template that writes a
secret-bearing command without a placeholder, the mistake that would leak a literal.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import overload

from govnet.errors import TemplateError
from govnet.inventory.models import SECRET_REF_RE

PLACEHOLDER_RE = re.compile(r"<<secret:((?:env|file):[^<>\s]+)>>")
"""A placeholder; group 1 is the reference (``env:NAME`` or ``file:PATH``)."""

MASK = "****"

# Commands that carry a secret as an argument, on any of the three platforms. A line matching
# one of these must hold a placeholder. ``authentication-type password`` or ``service
# password-encryption`` carry none: the patterns want a value after the keyword.
SECRET_BEARING = re.compile(
    r"\b(?:password|secret|cipher|community)\s+\S"
    r"|\b(?:authentication|privacy)-mode\s+(?:md5|sha\S*|aes\S*|des\S*|3des)\s+\S"
    r"|\busm-user\b.*\bauth"
    r"|\bsnmp-server user\b.*\bauth\b"
)


def placeholder(ref: str) -> str:
    """The token a template writes for the secret behind ``ref`` (a reference, never a value).

    >>> placeholder("env:GOVNET_SSH_PASSWORD")
    '<<secret:env:GOVNET_SSH_PASSWORD>>'
    >>> placeholder("hunter2")
    Traceback (most recent call last):
    ...
    govnet.errors.TemplateError: secret() takes a reference (env:NAME or file:PATH), not a value
    """
    if not isinstance(ref, str) or not SECRET_REF_RE.match(ref):
        raise TemplateError("secret() takes a reference (env:NAME or file:PATH), not a value")
    return f"<<secret:{ref}>>"


def placeholders(text: str) -> list[str]:
    """The references named in ``text``, in order of first appearance, without repeats.

    >>> placeholders("a <<secret:env:A>> b <<secret:file:/k>> <<secret:env:A>>")
    ['env:A', 'file:/k']
    """
    return list(dict.fromkeys(PLACEHOLDER_RE.findall(text)))


@overload
def substitute(text_or_lines: str, resolve: Callable[[str], str]) -> str: ...
@overload
def substitute(text_or_lines: list[str], resolve: Callable[[str], str]) -> list[str]: ...


def substitute(text_or_lines: str | list[str], resolve: Callable[[str], str]) -> str | list[str]:
    """Replace each placeholder by ``resolve(reference)``; used at push time only.

    Each reference is resolved once. A value holding a line break or a blank would change the
    command's meaning on the device, so it is refused (naming the reference, never the value).

    >>> substitute(["user x password <<secret:env:P>>"], {"env:P": "s3cret"}.__getitem__)
    ['user x password s3cret']
    >>> substitute("a <<secret:env:P>>", lambda ref: "two words")
    Traceback (most recent call last):
    ...
    govnet.errors.TemplateError: secret env:P: the value holds a blank or line break
    """
    cache: dict[str, str] = {}

    def value(match: re.Match[str]) -> str:
        ref = match.group(1)
        if ref not in cache:
            resolved = resolve(ref)
            if not resolved or any(c.isspace() for c in resolved):
                raise TemplateError(f"secret {ref}: the value holds a blank or line break")
            cache[ref] = resolved
        return cache[ref]

    if isinstance(text_or_lines, str):
        return PLACEHOLDER_RE.sub(value, text_or_lines)
    return [PLACEHOLDER_RE.sub(value, line) for line in text_or_lines]


def mask(text: str, values: Iterable[str]) -> str:
    """``text`` with every occurrence of a secret value replaced by ``****`` (for logs, errors).

    Longer values are masked first so a secret containing another is hidden whole.

    >>> mask("login as govnet with s3cret-pw, key s3cret", ["s3cret", "s3cret-pw", ""])
    'login as govnet with ****, key ****'
    """
    for secret in sorted({v for v in values if v}, key=len, reverse=True):
        text = text.replace(secret, MASK)
    return text


def clear_secret(line: str) -> bool:
    """True when ``line`` is a secret-bearing command without a placeholder in it.

    >>> clear_secret(" local-user govnet password irreversible-cipher hunter2")
    True
    >>> clear_secret(" local-user govnet password irreversible-cipher <<secret:env:P>>")
    False
    >>> clear_secret("ssh user govnet authentication-type password")
    False
    >>> clear_secret("service password-encryption")
    False
    """
    return bool(SECRET_BEARING.search(line)) and PLACEHOLDER_RE.search(line) is None


def wildcard(line: str) -> re.Pattern[str] | None:
    """A pattern matching ``line`` as a device displays it, placeholders standing for anything.

    Devices show a secret their own way (``irreversible-cipher $1a$…$``, ``secret 9 $9$…``,
    ``cipher %^%#…%^%#``), sometimes with a different encoding word before it (``simple`` is
    typed, ``cipher`` or ``hash`` is shown). So in a line with a placeholder, the placeholder
    matches an optional encoding word and one token, and an encoding word matches any other.
    ``None`` for a line without placeholder.

    >>> p = wildcard("username govnet privilege 15 secret <<secret:env:P>>")
    >>> bool(p.fullmatch("username govnet privilege 15 secret 9 $9$abc"))
    True
    >>> p = wildcard("password simple <<secret:env:P>>")
    >>> bool(p.fullmatch("password hash $h$6$xyz")), bool(p.fullmatch("password hash a b"))
    (True, False)
    """
    if PLACEHOLDER_RE.search(line) is None:
        return None
    encoding = r"(?:simple|cipher|hash|irreversible-cipher|plain)"
    parts: list[str] = []
    for token in line.split(" "):
        if PLACEHOLDER_RE.fullmatch(token):
            parts.append(rf"(?:(?:{encoding}|\d) )?\S+")
        elif re.fullmatch(encoding, token):
            parts.append(encoding)
        else:
            parts.append(re.escape(token))
    return re.compile(" ".join(parts))
