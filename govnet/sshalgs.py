"""SSH algorithm profiles: which key exchanges, host keys, ciphers and MACs govnet offers a device.

paramiko 4 (pinned: 5.x removed the SHA-1 algorithms altogether) offers SHA-1 key exchange,
``ssh-rsa`` signatures, CBC ciphers and hmac-sha1 to every server by default. govnet offers only
the ``modern`` profile unless the inventory says otherwise for a device:

- ``modern``: what paramiko 4 implements minus SHA-1 key exchange, ``ssh-rsa`` (RSA/SHA-1)
  signatures, CBC and 3DES ciphers, hmac-sha1 and hmac-md5.
- ``legacy``: ``modern`` plus what a Catalyst 2960X on IOS 15.x or a VRP5 S-series switch offers
  and nothing older: ``diffie-hellman-group14-sha1`` and ``diffie-hellman-group-exchange-sha1``,
  ``ssh-rsa`` host keys, ``aes128/192/256-cbc``, ``hmac-sha1``. Not
  ``diffie-hellman-group1-sha1``: its 1024-bit group is within reach of precomputation (Logjam,
  weakdh.org), OpenSSH stopped offering it in 7.0, and the IOS 15 / VRP5 releases we met offer
  group14 as well; an ``ssh.kex`` list in the inventory can still name it for a device that
  has nothing else. Nor ``3des-cbc`` or the md5/96-bit MACs, for the same reason.

A list in the inventory (``ssh.kex``, ``ssh.host_key_algorithms``, ``ssh.ciphers``, ``ssh.macs``)
replaces the profile's list of that kind (which names are offered; the order of preference
stays paramiko's, with group14-sha1 moved before group-exchange-sha1, see
``devices/negotiation.py``); only names in ``KNOWN`` (what paramiko 4.0 implements, checked by
a test against paramiko itself) are accepted.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

Kind = Literal["kex", "host_key_algorithms", "ciphers", "macs"]
KINDS: tuple[Kind, ...] = ("kex", "host_key_algorithms", "ciphers", "macs")
PROFILES: tuple[str, ...] = ("modern", "legacy")

# What each kind is called in a one-line error ("no common key exchange").
WORDS: dict[Kind, str] = {
    "kex": "key exchange",
    "host_key_algorithms": "host key algorithm",
    "ciphers": "cipher",
    "macs": "MAC",
}

_MODERN: dict[Kind, tuple[str, ...]] = {
    "kex": (
        "curve25519-sha256@libssh.org",
        "ecdh-sha2-nistp256",
        "ecdh-sha2-nistp384",
        "ecdh-sha2-nistp521",
        "diffie-hellman-group16-sha512",
        "diffie-hellman-group-exchange-sha256",
        "diffie-hellman-group14-sha256",
    ),
    "host_key_algorithms": (
        "ssh-ed25519",
        "ecdsa-sha2-nistp256",
        "ecdsa-sha2-nistp384",
        "ecdsa-sha2-nistp521",
        "rsa-sha2-512",
        "rsa-sha2-256",
    ),
    "ciphers": (
        "aes128-ctr",
        "aes192-ctr",
        "aes256-ctr",
        "aes128-gcm@openssh.com",
        "aes256-gcm@openssh.com",
    ),
    "macs": (
        "hmac-sha2-256",
        "hmac-sha2-512",
        "hmac-sha2-256-etm@openssh.com",
        "hmac-sha2-512-etm@openssh.com",
    ),
}

_LEGACY_EXTRA: dict[Kind, tuple[str, ...]] = {
    "kex": ("diffie-hellman-group14-sha1", "diffie-hellman-group-exchange-sha1"),
    "host_key_algorithms": ("ssh-rsa",),
    "ciphers": ("aes128-cbc", "aes192-cbc", "aes256-cbc"),
    "macs": ("hmac-sha1",),
}

KNOWN: dict[Kind, tuple[str, ...]] = {
    "kex": (*_MODERN["kex"], *_LEGACY_EXTRA["kex"], "diffie-hellman-group1-sha1"),
    "host_key_algorithms": (*_MODERN["host_key_algorithms"], *_LEGACY_EXTRA["host_key_algorithms"]),
    "ciphers": (*_MODERN["ciphers"], *_LEGACY_EXTRA["ciphers"], "3des-cbc"),
    "macs": (*_MODERN["macs"], *_LEGACY_EXTRA["macs"], "hmac-sha1-96", "hmac-md5", "hmac-md5-96"),
}
"""Every name paramiko 4.0 implements, per kind (GSS-API key exchange and certificates left out)."""


@dataclass(frozen=True)
class Algorithms:
    """The algorithms offered to one device, most preferred first."""

    kex: tuple[str, ...]
    host_key_algorithms: tuple[str, ...]
    ciphers: tuple[str, ...]
    macs: tuple[str, ...]
    profile: str = "modern"
    """The profile these came from (lists in the inventory may have replaced some kinds)."""

    def of(self, kind: Kind) -> tuple[str, ...]:
        result: tuple[str, ...] = getattr(self, kind)
        return result


def algorithms(
    profile: str = "modern", lists: Mapping[Kind, Sequence[str] | None] | None = None
) -> Algorithms:
    """The profile's algorithms, each kind replaced by ``lists[kind]`` when given.

    >>> algorithms("legacy").kex[-2:]
    ('diffie-hellman-group14-sha1', 'diffie-hellman-group-exchange-sha1')
    >>> "ssh-rsa" in algorithms().host_key_algorithms
    False
    >>> algorithms("modern", {"macs": ["hmac-sha1"]}).macs
    ('hmac-sha1',)
    """
    if profile not in PROFILES:
        raise ValueError(f"unknown SSH profile {profile!r}")
    chosen: dict[Kind, tuple[str, ...]] = {}
    for kind in KINDS:
        given = (lists or {}).get(kind)
        if given is not None:
            chosen[kind] = tuple(given)
        elif profile == "legacy":
            chosen[kind] = (*_MODERN[kind], *_LEGACY_EXTRA[kind])
        else:
            chosen[kind] = _MODERN[kind]
    return Algorithms(**chosen, profile=profile)


def unknown_names(kind: Kind, names: Sequence[str]) -> list[str]:
    """The names of ``kind`` that paramiko does not implement.

    >>> unknown_names("ciphers", ["aes128-ctr", "chacha20-poly1305@openssh.com"])
    ['chacha20-poly1305@openssh.com']
    """
    return [n for n in names if n not in KNOWN[kind]]
