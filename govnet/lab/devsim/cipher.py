"""Secrets as real devices show them: never in clear.

A device stores what it is told, but shows a secret-bearing line with the secret replaced by
its own cipher form: VRP ``local-user u password irreversible-cipher $1a$…$`` and ``cipher
%^%#…%^%#``, Comware ``password hash $h$6$…`` and ``cipher $c$3$…``, IOS ``secret 9 $9$…``.
IOS does not show ``snmp-server user`` lines at all. The simulator does the same (the tree keeps
the shown form, so running and startup files hold no secret either), with a token derived from
sha256 of the secret: pushing the same secret again gives the same line, so plans stay
idempotent, and a line already in cipher form (a restored backup) is kept as it is.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass

from govnet.lab.devsim.config import ConfigNode


def token(secret: str, length: int = 24) -> str:
    """A deterministic, printable stand-in for ``secret`` (no ``#``, ``>``, ``]`` or blank).

    >>> token("s3cret") == token("s3cret") != token("s3cret2")
    True
    """
    digest = hashlib.sha256(b"govnet-devsim\0" + secret.encode()).digest()
    return base64.b64encode(digest, altchars=b"._").decode()[:length]


Style = Callable[[str], str]


def _styled(prefix: str, suffix: str = "") -> Style:
    return lambda secret: f"{prefix}{token(secret)}{suffix}"


VRP_CIPHER = _styled("%^%#", "%^%#")
VRP_IRREVERSIBLE = _styled("$1a$", "$")
COMWARE_HASH = _styled("$h$6$", "==")
COMWARE_CIPHER = _styled("$c$3$", "==")
IOS_NINE = _styled("$9$")


def _ios_seven(secret: str) -> str:
    """IOS type 7 shows hex digits."""
    return hashlib.sha256(secret.encode()).hexdigest()[:20].upper()


IOS_SEVEN: Style = _ios_seven


_SHOWN = re.compile(r"^(?:%\^%#.*%\^%#|\$[0-9a-z]{1,2}\$.*)$")
"""A value already in a cipher form (``%^%#…%^%#``, ``$1a$…``, ``$h$6$…``, ``$9$…``)."""


@dataclass(frozen=True)
class Rule:
    """A secret-bearing line. Groups ``s1``/``s2`` are secrets, ``enc`` the encoding word typed
    before ``s1``; ``shown`` is the displayed form over the named groups. A secret typed in an
    encoding of ``kept`` (or already looking like a cipher) is not ciphered again."""

    pattern: re.Pattern[str]
    shown: str
    style: Style
    mid_word: str = "cipher "
    kept: frozenset[str] = frozenset()


def _rule(pattern: str, shown: str, style: Style, mid_word: str = "cipher ", kept: str = "") -> Rule:
    return Rule(re.compile(pattern), shown, style, mid_word, frozenset(kept.split()))


_TAIL = r"(?P<tail>.*)$"
RULES: dict[str, tuple[Rule, ...]] = {
    "huawei_vrp": (
        _rule(
            r"^(?P<head>local-user \S+ password) irreversible-cipher (?P<s1>\S+)$",
            "{head} irreversible-cipher {s1}",
            VRP_IRREVERSIBLE,
        ),
        _rule(
            r"^(?P<head>local-user \S+ password) (?:(?P<enc>cipher|simple) )?(?P<s1>\S+)$",
            "{head} cipher {s1}",
            VRP_CIPHER,
        ),
        _rule(
            r"^(?P<head>snmp-agent community (?:read|write)) (?:(?P<enc>cipher|simple) )?(?P<s1>\S+)" + _TAIL,
            "{head} cipher {s1}{tail}",
            VRP_CIPHER,
        ),
        _rule(
            r"^(?P<head>snmp-agent usm-user v3 .*?authentication-mode \S+) (?:(?P<enc>cipher) )?(?P<s1>\S+)"
            r"(?: (?P<mid>privacy-mode \S+) (?:cipher )?(?P<s2>\S+))?" + _TAIL,
            "{head} cipher {s1}{mid}{tail}",
            VRP_CIPHER,
        ),
    ),
    "h3c_comware": (
        _rule(
            r"^password (?:(?P<enc>simple|cipher|hash) )?(?P<s1>\S+)$",
            "password hash {s1}",
            COMWARE_HASH,
            kept="cipher hash",
        ),
        _rule(
            r"^(?P<head>snmp-agent community (?:read|write)) (?:(?P<enc>simple|cipher) )?(?P<s1>\S+)" + _TAIL,
            "{head} cipher {s1}{tail}",
            COMWARE_CIPHER,
            kept="cipher",
        ),
        _rule(
            r"^(?P<head>snmp-agent usm-user v3 \S+ \S+) (?P<enc>simple|cipher) (?P<auth>authentication-mode \S+)"
            r" (?P<s1>\S+)(?: (?P<mid>privacy-mode \S+) (?P<s2>\S+))?" + _TAIL,
            "{head} cipher {auth} {s1}{mid}{tail}",
            COMWARE_CIPHER,
            mid_word="",
            kept="cipher",
        ),
    ),
    "cisco_ios": (
        _rule(
            r"^(?P<head>username \S+(?: privilege \d+)?) secret (?:(?P<enc>[0589]) )?(?P<s1>\S+)$",
            "{head} secret 9 {s1}",
            IOS_NINE,
            kept="5 8 9",
        ),
        _rule(
            r"^(?P<head>username \S+(?: privilege \d+)?) password (?:(?P<enc>[07]) )?(?P<s1>\S+)$",
            "{head} password 7 {s1}",
            IOS_SEVEN,
            kept="7",
        ),
        _rule(
            r"^enable secret (?:(?P<enc>[0589]) )?(?P<s1>\S+)$",
            "enable secret 9 {s1}",
            IOS_NINE,
            kept="5 8 9",
        ),
        # IOS shows communities in clear; the lab does not, so backups and diffs never hold one.
        _rule(r"^snmp-server community (?P<s1>\S+)" + _TAIL, "snmp-server community {s1}{tail}", IOS_NINE),
    ),
}
HIDDEN: dict[str, re.Pattern[str]] = {"cisco_ios": re.compile(r"^snmp-server user ")}
"""Lines a platform accepts but never shows (IOS keeps SNMP users out of the configuration)."""


def conceal(platform: str, line: str) -> str | None:
    """``line`` as the device shows it; ``None`` when the device does not show it at all.

    >>> conceal("cisco_ios", "username govnet privilege 15 secret s3cret")
    'username govnet privilege 15 secret 9 $9$61SgHXoAqw1rqSGsfkXXtrpj'
    >>> conceal("cisco_ios", "username govnet privilege 15 secret 9 $9$61SgHXoAqw1rqSGsfkXXtrpj")
    'username govnet privilege 15 secret 9 $9$61SgHXoAqw1rqSGsfkXXtrpj'
    >>> conceal("cisco_ios", "snmp-server user mon G v3 auth sha k1 priv aes 128 k2") is None
    True
    >>> conceal("huawei_vrp", "interface Vlanif10")
    'interface Vlanif10'
    """
    hidden = HIDDEN.get(platform)
    if hidden is not None and hidden.match(line):
        return None
    for rule in RULES.get(platform, ()):
        match = rule.pattern.match(line)
        if match is not None:
            return _show(rule, match)
    return line


def _show(rule: Rule, match: re.Match[str]) -> str:
    values = {k: v or "" for k, v in match.groupdict().items()}
    secrets = [k for k in ("s1", "s2") if values.get(k)]
    typed_shown = values.get("enc", "") in rule.kept
    fresh = [k for k in secrets if not (typed_shown or _SHOWN.match(values[k]))]
    if not fresh:
        return match.string
    for key in fresh:
        values[key] = rule.style(values[key])
    if values.get("mid"):
        values["mid"] = f" {values['mid']} {rule.mid_word}{values['s2']}"
    return rule.shown.format(**values)


def conceal_tree(root: ConfigNode, platform: str) -> ConfigNode:
    """The tree with every line in shown form (a booted configuration may hold plain secrets)."""
    kept = []
    for child in root.children:
        shown = conceal(platform, child.text)
        if shown is not None:
            child.text = shown
            conceal_tree(child, platform)
            kept.append(child)
    root.children[:] = kept
    return root
