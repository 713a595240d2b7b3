"""The pysnmp side of SNMPv3, imported only when a v3 request is about to be sent.

Why a module of its own: pysnmp's asyncio high-level API pulls in pyasn1, pysmi (with lark,
jinja2 and requests behind it) and every USM cipher: ~21 MB of RSS and ~0.4 s at import
(bench/README.md, "Baseline memory"). A daemon whose targets are all SNMPv2c polls them
through the hand-encoded fast path and never needs any of it, so ``engine.EngineClient``
imports this module on its first v3 request, and nothing else in the probes does.
Everything here speaks pysnmp's objects; ``engine`` speaks plain values.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from pysnmp.hlapi.v3arch.asyncio import (
    ContextData,
    ObjectIdentity,
    ObjectType,
    SnmpEngine,
    Udp6TransportTarget,
    UdpTransportTarget,
    UsmUserData,
    bulk_cmd,
    get_cmd,
)
from pysnmp.hlapi.v3arch.asyncio import auth as usm
from pysnmp.proto import errind

from govnet.probes.snmp.ber import INTEGER_TAGS, OCTET_TAGS, Missing, Oid, Value, VarBind, format_oid

AUTH_PROTOCOLS: dict[str, Any] = {
    "md5": usm.USM_AUTH_HMAC96_MD5,
    "sha": usm.USM_AUTH_HMAC96_SHA,
    "sha224": usm.USM_AUTH_HMAC128_SHA224,
    "sha256": usm.USM_AUTH_HMAC192_SHA256,
    "sha384": usm.USM_AUTH_HMAC256_SHA384,
    "sha512": usm.USM_AUTH_HMAC384_SHA512,
}
PRIV_PROTOCOLS: dict[str, Any] = {
    "des": usm.USM_PRIV_CBC56_DES,
    "3des": usm.USM_PRIV_CBC168_3DES,
    "aes": usm.USM_PRIV_CFB128_AES,
    "aes128": usm.USM_PRIV_CFB128_AES,
    "aes192": usm.USM_PRIV_CFB192_AES,
    "aes256": usm.USM_PRIV_CFB256_AES,
    "aes192-blumenthal": usm.USM_PRIV_CFB192_AES_BLUMENTHAL,
    "aes256-blumenthal": usm.USM_PRIV_CFB256_AES_BLUMENTHAL,
}

_AUTH_FAILURES = (
    errind.WrongDigest,
    errind.UnknownUserName,
    errind.UnknownSecurityName,
    errind.UnsupportedSecurityLevel,
    errind.DecryptionError,
    errind.AuthenticationError,
    errind.AuthenticationFailure,
    errind.UnknownEngineID,
)

Failure = Literal["timeout", "auth", "other"]


def new_engine() -> Any:
    return SnmpEngine()


def new_context() -> Any:
    return ContextData()


def usm_user(
    user: str, auth_protocol: str | None, auth_key: str, priv_protocol: str | None, priv_key: str
) -> Any:
    """pysnmp's user record for validated protocol names (``engine.UsmCredentials``)."""
    return UsmUserData(
        user,
        authKey=auth_key if auth_protocol else None,
        privKey=priv_key if priv_protocol else None,
        authProtocol=AUTH_PROTOCOLS[auth_protocol] if auth_protocol else usm.USM_AUTH_NONE,
        privProtocol=PRIV_PROTOCOLS[priv_protocol] if priv_protocol else usm.USM_PRIV_NONE,
    )


async def transport(address: tuple[str, int], timeout: float, retries: int) -> Any:
    kind = Udp6TransportTarget if ":" in address[0] else UdpTransportTarget
    return await kind.create(address, timeout=timeout, retries=retries)


async def send(
    engine: Any, user: Any, target: Any, context: Any, oids: Sequence[Oid], max_repetitions: int
) -> tuple[Any, int, int, list[VarBind]]:
    """GET (or GETBULK when ``max_repetitions`` > 0): error indication, status, index, varbinds."""
    varbinds = [ObjectType(ObjectIdentity(format_oid(oid))) for oid in oids]
    if max_repetitions:
        reply = await bulk_cmd(engine, user, target, context, 0, max_repetitions, *varbinds, lookupMib=False)
    else:
        reply = await get_cmd(engine, user, target, context, *varbinds, lookupMib=False)
    indication, status, index, answered = reply
    if indication is not None:
        return indication, 0, 0, []
    return None, int(status), int(index), [(tuple(oid), _value(value)) for oid, value in answered]


def failure(indication: Any) -> Failure:
    """What kind of error indication pysnmp gave: the probe forgets the agent after a timeout."""
    if isinstance(indication, errind.RequestTimedOut):
        return "timeout"
    if isinstance(indication, _AUTH_FAILURES):
        return "auth"
    return "other"


def _value(value: Any) -> Value:
    """A pysnmp value as the plain Python value the fast path decodes to, told apart by its BER tag."""
    tag = value.tagSet[-1]
    ber = int(tag.tagClass) | int(tag.tagFormat) | int(tag.tagId)
    if ber in INTEGER_TAGS:
        return int(value)
    if ber in OCTET_TAGS:
        return bytes(value.asOctets())
    if ber == 0x06:
        return tuple(value)
    if 0x80 <= ber <= 0x82:
        return Missing(ber)
    return None
