"""SSH algorithm negotiation: offer exactly a profile's algorithms, and word a failure in one line.

paramiko 4 offers SHA-1 key exchange, ``ssh-rsa``, CBC and hmac-sha1 by default; govnet offers
only what ``govnet.sshalgs`` allows for the device, by disabling (paramiko's
``disabled_algorithms``) every other name paramiko would offer.

When the device and govnet share no algorithm of a kind, paramiko raises ``IncompatiblePeer``
("no acceptable kex algorithm") without saying what the device offered, and logs its traceback
at ERROR from the transport thread (which a CLI without logging set up prints to stderr). The
user needs the device's list to choose a profile, so ``NegotiatingClient`` hands paramiko a
``Transport`` subclass (``SSHClient.connect``'s ``transport_factory``) that keeps the device's
KEXINIT message, marks a failed negotiation, and sends paramiko's own log lines about it to
DEBUG; ``failure_reason`` then reads the device's lists (RFC 4253 section 7.1) and names the
first kind with nothing in common.
"""

from __future__ import annotations

import logging
import secrets
from typing import Any

import gmpy2  # type: ignore[import-untyped]  # no stubs
import paramiko  # type: ignore[import-untyped]  # no stubs
import paramiko.kex_gex  # type: ignore[import-untyped]
import paramiko.kex_group1  # type: ignore[import-untyped]
from paramiko.kex_gex import KexGex, KexGexSHA256
from paramiko.kex_group14 import KexGroup14, KexGroup14SHA256  # type: ignore[import-untyped]

from govnet.sshalgs import KINDS, KNOWN, WORDS, Algorithms, Kind, algorithms

# paramiko's preference tuples per disabled_algorithms key; ours name "keys" host_key_algorithms.
_PARAMIKO_KEYS: dict[str, Kind] = {
    "kex": "kex",
    "keys": "host_key_algorithms",
    "pubkeys": "host_key_algorithms",  # our own key's signatures: unused (password logins)
    "ciphers": "ciphers",
    "macs": "macs",
}


def disabled_algorithms(allowed: Algorithms) -> dict[str, list[str]]:
    """paramiko's ``disabled_algorithms``: every name it would offer that ``allowed`` does not hold.

    >>> disabled = disabled_algorithms(algorithms("modern"))
    >>> "diffie-hellman-group14-sha1" in disabled["kex"], "ssh-rsa" in disabled["keys"]
    (True, True)
    >>> "diffie-hellman-group14-sha1" in disabled_algorithms(algorithms("legacy"))["kex"]
    False
    """
    disabled: dict[str, list[str]] = {}
    for key, kind in _PARAMIKO_KEYS.items():
        offered_by_paramiko: tuple[str, ...] = getattr(paramiko.Transport, f"_preferred_{key}")
        disabled[key] = [name for name in offered_by_paramiko if name not in allowed.of(kind)]
    return disabled


SHORT_EXPONENT_BITS = 512
"""Bits of our finite-field Diffie-Hellman secret (the SHA-1 key exchanges of legacy devices).

paramiko draws it as long as the group (1024 bits for group14, ~2047 for group exchange) and
computes ``pow`` with Python integers: 9-19 ms each, two per login, most of a legacy login's
client CPU (bench/login_bench.py). Twice the security strength is the long-standing rule for
such exponents (RFC 4419 section 6.2; OpenSSH's ``dh_gen_key`` asks for twice the bits its
session keys need): 512 bits is well above twice the 112-bit strength of a 2048-bit group."""


def _powmod(base: int, exponent: int, modulus: int | None = None) -> int:
    """``pow`` for paramiko's key-exchange modules: GMP's modular exponentiation (gmpy2),
    ~5x Python's for 2048-bit numbers; anything else is the builtin's.

    >>> _powmod(2, 1000, 2**127 - 1) == pow(2, 1000, 2**127 - 1), _powmod(3, 4)
    (True, 81)
    """
    if modulus is None or base < 0 or exponent < 0:
        return int(pow(base, exponent, modulus))
    return int(gmpy2.powmod(base, exponent, modulus))


paramiko.kex_group1.pow = _powmod  # the finite-field kex modules look ``pow`` up in their globals
paramiko.kex_gex.pow = _powmod


class _ShortExponent:
    """Mixin for paramiko's finite-field kex classes: the secret ``x`` from ``SHORT_EXPONENT_BITS``."""

    x: int

    def _generate_x(self) -> None:
        x = 0
        while x < 2:
            x = secrets.randbits(SHORT_EXPONENT_BITS)
        self.x = x


class _Group14(_ShortExponent, KexGroup14):  # type: ignore[misc]  # paramiko is untyped
    pass


class _Gex(_ShortExponent, KexGex):  # type: ignore[misc]
    pass


class _Gex256(_ShortExponent, KexGexSHA256):  # type: ignore[misc]
    pass


class _Group14Sha256(_ShortExponent, KexGroup14SHA256):  # type: ignore[misc]
    pass


_FAST_KEX = {
    "diffie-hellman-group14-sha1": _Group14,
    "diffie-hellman-group-exchange-sha1": _Gex,
    "diffie-hellman-group-exchange-sha256": _Gex256,
    "diffie-hellman-group14-sha256": _Group14Sha256,
}


class _RecordingTransport(paramiko.Transport):  # type: ignore[misc]  # paramiko is untyped
    """A ``Transport`` that keeps the server's KEXINIT and quiets its own failure report, and
    makes the finite-field key exchanges of legacy devices cheap: a short secret exponent
    (``SHORT_EXPONENT_BITS``) and group14 tried before group exchange (a fixed 2048-bit group:
    one round trip less than asking the device for one)."""

    server_kexinit: bytes | None = None
    negotiation_failed = False

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._kex_info = {**paramiko.Transport._kex_info, **_FAST_KEX}
        order = list(paramiko.Transport._preferred_kex)
        if "diffie-hellman-group14-sha1" in order and "diffie-hellman-group-exchange-sha1" in order:
            order.remove("diffie-hellman-group14-sha1")
            order.insert(order.index("diffie-hellman-group-exchange-sha1"), "diffie-hellman-group14-sha1")
        self._preferred_kex = tuple(order)

    def _parse_kex_init(self, m: Any) -> Any:
        self.server_kexinit = m.asbytes()
        try:
            return super()._parse_kex_init(m)
        except paramiko.IncompatiblePeer:
            self.negotiation_failed = True
            raise

    def _log(self, level: int, msg: Any, *args: Any) -> None:
        # After a failed negotiation paramiko logs the exception and its traceback at ERROR;
        # govnet reports it as one line (``failure_reason``), so these go to DEBUG.
        if self.negotiation_failed and level > logging.DEBUG:
            level = logging.DEBUG
        super()._log(level, msg, *args)


class NegotiatingClient(paramiko.SSHClient):  # type: ignore[misc]  # paramiko is untyped
    """An ``SSHClient`` whose transport remembers what the server offered (see module docstring)."""

    transport: _RecordingTransport | None = None

    def connect(self, *args: Any, **kwargs: Any) -> None:
        def factory(*targs: Any, **tkwargs: Any) -> _RecordingTransport:
            self.transport = _RecordingTransport(*targs, **tkwargs)
            return self.transport

        kwargs["transport_factory"] = factory
        super().connect(*args, **kwargs)

    def server_offer(self) -> dict[Kind, list[str]] | None:
        """What the server offered, when a negotiation failed; else None."""
        transport = self.transport
        if transport is None or not transport.negotiation_failed or transport.server_kexinit is None:
            return None
        try:
            return parse_kexinit(transport.server_kexinit)
        except (paramiko.SSHException, IndexError, ValueError, TypeError):
            return None


def parse_kexinit(raw: bytes) -> dict[Kind, list[str]]:
    """A KEXINIT message's algorithm lists (RFC 4253 section 7.1; ``raw`` is the payload after
    the message type, as paramiko hands it to ``_parse_kex_init``) by our kinds; ciphers and
    MACs are the names offered in both directions, kex omits the extension markers.

    >>> m = paramiko.Message()
    >>> _ = m.add_bytes(bytes(16))  # the cookie
    >>> for names in (["diffie-hellman-group14-sha1", "ext-info-s"], ["ssh-rsa"], ["aes128-cbc"],
    ...               ["aes128-cbc", "aes128-ctr"], ["hmac-sha1"], ["hmac-sha1"], ["none"], ["none"], [], []):
    ...     _ = m.add_list(names)
    >>> parse_kexinit(m.asbytes())["kex"], parse_kexinit(m.asbytes())["ciphers"]
    (['diffie-hellman-group14-sha1'], ['aes128-cbc'])
    """
    m = paramiko.Message(raw)
    m.get_bytes(16)  # cookie
    lists = [[name for name in m.get_list() if name] for _ in range(6)]
    kex = [n for n in lists[0] if not n.startswith(("ext-info-", "kex-strict-"))]
    return {
        "kex": kex,
        "host_key_algorithms": lists[1],
        "ciphers": [n for n in lists[2] if n in lists[3]],
        "macs": [n for n in lists[4] if n in lists[5]],
    }


def failure_reason(allowed: Algorithms, offered: dict[Kind, list[str]]) -> str | None:
    """``SSH negotiation failed: ...`` naming the first kind with nothing in common, what the
    device offers, and what to set in the inventory; None when every kind has a common name.

    >>> offer = {"kex": ["diffie-hellman-group14-sha1"], "host_key_algorithms": ["ssh-rsa"],
    ...          "ciphers": ["aes128-cbc"], "macs": ["hmac-sha1"]}
    >>> print(failure_reason(algorithms("modern"), offer))
    SSH negotiation failed: no common key exchange; the device offers diffie-hellman-group14-sha1; \
set ssh: {profile: legacy} for it in the inventory (or list the algorithm under ssh.kex)
    >>> failure_reason(algorithms("legacy"), offer) is None
    True
    """
    legacy = algorithms("legacy")
    for kind in KINDS:
        theirs = offered[kind]
        if any(name in allowed.of(kind) for name in theirs):
            continue
        shown = ", ".join(theirs) if theirs else "nothing"
        field = f"ssh.{kind}"
        if allowed.profile != "legacy" and any(name in legacy.of(kind) for name in theirs):
            advice = (
                f"set ssh: {{profile: legacy}} for it in the inventory (or list the algorithm under {field})"
            )
        elif any(name in KNOWN[kind] for name in theirs):
            usable = ", ".join(name for name in theirs if name in KNOWN[kind])
            advice = f"list one of {usable} under {field} in the inventory"
        else:
            advice = "govnet (paramiko) implements none of them"
        return f"SSH negotiation failed: no common {WORDS[kind]}; the device offers {shown}; {advice}"
    return None
