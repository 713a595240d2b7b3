"""The Prometheus exporter-toolkit web configuration (``--web.config.file``): TLS and basic auth.

The daemon's pages name classified-network units and isolation breaches, so an operator guards
them as they guard every Prometheus exporter on the host: with the same YAML file, the same keys
and the same bcrypt hashes (node_exporter's ``web-config.yml`` works here unchanged, and
Prometheus scrapes the daemon with the ``tls_config`` and ``basic_auth`` it already uses).

Read as strictly as the daemon config: an unknown key, a certificate that cannot be read or does
not match its key, a password that is not a bcrypt hash, each is one ``FILE:LINE: field: message``
line at start (``govnet daemon --check`` says it first). The toolkit settings govnet does not
implement (inline PEM, cipher and curve lists, SAN allow-lists, rate limits) are refused by name,
never ignored: a setting that silently does nothing is worse than none. Relative paths are
relative to the file, as the toolkit reads them. A change to the file or to a certificate is
taken without a restart (`WebWatch`).
"""

from __future__ import annotations

import ipaddress
import logging
import re
import ssl
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

from pydantic import AfterValidator, ValidationError, field_validator

from govnet.errors import ConfigError, GovnetError, Problem
from govnet.inventory.problems import from_pydantic
from govnet.inventory.yamlsrc import MDict, load_yaml, locate, read_text
from govnet.strict import Strict

log = logging.getLogger(__name__)
CLIENT_AUTH = {
    "NoClientCert": ssl.CERT_NONE,
    "VerifyClientCertIfGiven": ssl.CERT_OPTIONAL,
    "RequireAndVerifyClientCert": ssl.CERT_REQUIRED,
}
"""The toolkit's ``client_auth_type`` values that verify what they accept (Go's ``tls`` names).
``RequestClientCert`` and ``RequireAnyClientCert`` accept any certificate unverified: refused."""
VERSIONS = {
    "TLS10": ssl.TLSVersion.TLSv1,
    "TLS11": ssl.TLSVersion.TLSv1_1,
    "TLS12": ssl.TLSVersion.TLSv1_2,
    "TLS13": ssl.TLSVersion.TLSv1_3,
}
HEADERS: dict[str, tuple[str, ...]] = {
    "Strict-Transport-Security": (),
    "X-Content-Type-Options": ("nosniff",),
    "X-Frame-Options": ("deny", "sameorigin"),
    "X-XSS-Protection": (),
    "Content-Security-Policy": (),
}
"""The headers the toolkit lets a file set, with their allowed values where it fixes them."""
BCRYPT = re.compile(r"^\$2[abxy]\$(\d\d)\$[./A-Za-z0-9]{53}$")
MAX_COST = 16
"""Above, one check takes seconds (cost 10: ~60 ms, each step doubles it): every wrong password
and every unknown user would cost that, and starting the daemon too (its decoy hash)."""
UNSUPPORTED = {
    ("tls_server_config", "cert"): "write the certificate to a file and name it in cert_file",
    ("tls_server_config", "key"): "write the key to a file and name it in key_file",
    ("tls_server_config", "client_ca"): "write the CA to a file and name it in client_ca_file",
    ("tls_server_config", "client_allowed_sans"): "trust only the client certificates its CA signs",
    ("tls_server_config", "cipher_suites"): "Python's defaults are used (forward secrecy, no SHA-1)",
    ("tls_server_config", "prefer_server_cipher_suites"): "Python's defaults are used",
    ("tls_server_config", "curve_preferences"): "Python's defaults are used",
    ("rate_limit",): "put a reverse proxy in front of the daemon to rate-limit it",
}
"""Exporter-toolkit keys govnet refuses by name, with what to do instead."""


class TlsServer(Strict):
    cert_file: Path
    key_file: Path
    client_auth_type: str = "NoClientCert"
    client_ca_file: Path | None = None
    min_version: str = "TLS12"
    max_version: str = "TLS13"

    @field_validator("client_auth_type")
    @classmethod
    def _client_auth(cls, value: str) -> str:
        if value in ("RequestClientCert", "RequireAnyClientCert"):
            raise ValueError(
                f"a {value} policy accepts unverified certificates; use RequireAndVerifyClientCert"
            )
        if value not in CLIENT_AUTH:
            raise ValueError(f"must be one of: {', '.join(CLIENT_AUTH)}")
        return value

    @field_validator("min_version", "max_version")
    @classmethod
    def _version(cls, value: str) -> str:
        if value not in VERSIONS:
            raise ValueError(f"must be one of: {', '.join(VERSIONS)}")
        return value


class HttpServer(Strict):
    http2: bool = True
    """Accepted as the toolkit spells it; the daemon speaks HTTP/1.1 (all Prometheus needs)."""
    headers: dict[str, str] = {}


def _bcrypt(hashed: str) -> str:
    found = BCRYPT.match(hashed)
    if found is None or not 4 <= int(found[1]) <= 31:
        raise ValueError(
            "not a bcrypt hash; write what `htpasswd -nBC 10 \"\" | tr -d ':\\n'` prints, never the password"
        )
    if int(found[1]) > MAX_COST:
        raise ValueError(f"bcrypt cost {int(found[1])} is over {MAX_COST} (seconds per check); use 10 to 12")
    return hashed


class WebFile(Strict):
    """The file as written (before its paths and certificates are read)."""

    tls_server_config: TlsServer | None = None
    http_server_config: HttpServer = HttpServer()
    basic_auth_users: dict[str, Annotated[str, AfterValidator(_bcrypt)]] = {}


@dataclass(frozen=True)
class WebConfig:
    """What the exporter enforces: a TLS context (or plain HTTP), users, extra headers."""

    path: Path | None = None
    tls: ssl.SSLContext | None = None
    users: dict[str, bytes] = field(default_factory=dict)
    """User name -> bcrypt hash."""
    headers: dict[str, str] = field(default_factory=dict)
    files: tuple[Path, ...] = ()
    """The file and the certificate files it names: a change to any of them is a new config."""
    policy: tuple[str, ...] = ()
    """TLS settings a running listener cannot change (client auth, its CA, protocol versions)."""

    @property
    def scheme(self) -> str:
        return "https" if self.tls is not None else "http"


class WebWatch:
    """The web configuration in force: re-read when its file, or a file it names, changes.

    As the exporter-toolkit does, a renewed certificate or a changed user is taken without a
    restart: every request and TLS handshake asks `current`, which costs a ``stat`` per file.
    A new file that does not load is logged and the running configuration kept (a certificate
    written before its key is taken once both are there); switching TLS on or off needs a
    restart (the listening socket is plain or TLS), so that too keeps the running one.
    """

    def __init__(self, config: WebConfig) -> None:
        self.config = config
        self._stamp = _stamp(config.files)

    def current(self) -> WebConfig:
        config = self.config
        if config.path is None:
            return config
        stamp = _stamp(config.files)
        if stamp == self._stamp:
            return config
        self._stamp = stamp
        try:
            new = load_web_config(config.path)
        except GovnetError as exc:
            log.error(
                "%s changed but is refused; the running one stays: %s", config.path, "; ".join(exc.lines())
            )
            return config
        if (new.tls is None) != (config.tls is None) or new.policy != config.policy:
            what = (
                "turning TLS on or off" if (new.tls is None) != (config.tls is None) else "a new TLS policy"
            )
            log.warning("%s: %s takes a restart; the running config stays", config.path, what)
            return config
        log.info("%s re-read: %s, %d user(s)", config.path, new.scheme, len(new.users))
        self.config, self._stamp = new, _stamp(new.files)
        return new


def _stamp(files: tuple[Path, ...]) -> tuple[tuple[int, int, int] | None, ...]:
    out: list[tuple[int, int, int] | None] = []
    for path in files:
        try:
            info = path.stat()
        except OSError:
            out.append(None)
        else:
            out.append((info.st_mtime_ns, info.st_ino, info.st_size))
    return tuple(out)


def exposure(host: str, web: WebConfig) -> str | None:
    """A warning when the surface is served beyond loopback without TLS or without users.

    >>> exposure("127.0.0.1", WebConfig()) is None, exposure("0.0.0.0", WebConfig()).split(":")[0]
    (True, 'listening on 0.0.0.0 without TLS and basic auth')
    """
    if ipaddress.ip_address(host).is_loopback or (web.tls is not None and web.users):
        return None
    missing = " and ".join(w for w, ok in (("TLS", web.tls is not None), ("basic auth", web.users)) if not ok)
    return (
        f"listening on {host} without {missing}: the status page names classified-network units; "
        "give a --web.config.file"
    )


def load_web_config(path: Path) -> WebConfig:
    """Read, validate and apply a web configuration file; every problem names ``FILE:LINE``."""
    shown = str(path)
    try:
        raw = load_yaml(read_text(path, shown), shown)
    except GovnetError as exc:  # the YAML reader speaks of inventories; this is a config
        raise ConfigError(list(exc.problems)) from None
    refused = [_refused(raw, where, hint) for where, hint in UNSUPPORTED.items() if _has(raw, where)]
    if refused:
        raise ConfigError(refused)
    try:
        parsed = WebFile.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(from_pydantic(exc, raw, WebFile)) from None
    problems = list(_checks(parsed, raw))
    if problems:
        raise ConfigError(problems)
    tls = None
    if parsed.tls_server_config is not None:
        tls = _tls_context(parsed.tls_server_config, path.parent, raw)
    users = {user: hashed.encode() for user, hashed in parsed.basic_auth_users.items()}
    files: list[Path] = [path]
    policy: tuple[str, ...] = ()
    if parsed.tls_server_config is not None:
        named = parsed.tls_server_config
        files += [path.parent / f for f in (named.cert_file, named.key_file, named.client_ca_file) if f]
        policy = (named.client_auth_type, str(named.client_ca_file), named.min_version, named.max_version)
    headers = dict(parsed.http_server_config.headers)
    return WebConfig(path, tls, users, headers, tuple(files), policy)


def _checks(parsed: WebFile, raw: MDict) -> Iterator[Problem]:
    """What the types cannot say, each at the line of its key."""
    for user in parsed.basic_auth_users:
        if not user or ":" in user:
            yield _problem(raw, ("basic_auth_users", user), "a user name must not be empty nor hold ':'")
    where = ("http_server_config", "headers")
    for name, value in parsed.http_server_config.headers.items():
        allowed = HEADERS.get(name)
        if allowed is None:
            yield _problem(raw, (*where, name), f"cannot be set; allowed: {', '.join(HEADERS)}")
        elif allowed and value not in allowed:
            yield _problem(raw, (*where, name), f"must be one of: {', '.join(allowed)}")
        elif "\r" in value or "\n" in value:
            yield _problem(raw, (*where, name), "a header value is one line")
    tls = parsed.tls_server_config
    if tls is not None and VERSIONS[tls.min_version] > VERSIONS[tls.max_version]:
        message = f"{tls.min_version} is above max_version {tls.max_version}"
        yield _problem(raw, ("tls_server_config", "min_version"), message)
    if tls is not None and CLIENT_AUTH[tls.client_auth_type] != ssl.CERT_NONE and tls.client_ca_file is None:
        message = f"{tls.client_auth_type} needs client_ca_file (the CA that signs the clients)"
        yield _problem(raw, ("tls_server_config", "client_auth_type"), message)


def _has(raw: MDict, where: tuple[str, ...]) -> bool:
    node: Any = raw
    for key in where:
        if not isinstance(node, dict) or key not in node:
            return False
        node = node[key]
    return True


def _refused(raw: MDict, where: tuple[str, ...], hint: str) -> Problem:
    return _problem(raw, where, f"not supported by govnet; {hint}")


def _problem(raw: MDict, where: tuple[str, ...], message: str) -> Problem:
    mark = locate(raw, where)
    return Problem(message, mark.file if mark else None, mark.line if mark else None, ".".join(where))


def _tls_context(tls: TlsServer, base: Path, raw: MDict) -> ssl.SSLContext:
    """A server context from the files; a file that cannot be read or used is named at its line."""
    block = "tls_server_config"
    files = {"cert_file": base / tls.cert_file, "key_file": base / tls.key_file}
    if tls.client_ca_file is not None:
        files["client_ca_file"] = base / tls.client_ca_file
    markers = {
        "cert_file": "CERTIFICATE-----",
        "key_file": "PRIVATE KEY-----",
        "client_ca_file": "CERTIFICATE-----",
    }
    problems = []
    for key, file in files.items():
        why = _unusable(file, markers[key])
        if why:
            problems.append(_problem(raw, (block, key), why))
    if problems:
        raise ConfigError(problems)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = VERSIONS[tls.min_version]
    context.maximum_version = VERSIONS[tls.max_version]
    try:
        context.load_cert_chain(files["cert_file"], files["key_file"])
    except ssl.SSLError as exc:
        message = f"{files['key_file']} is not the key of {files['cert_file']} ({exc.reason or exc})"
        raise ConfigError(_problem(raw, (block, "key_file"), message)) from None
    if "client_ca_file" in files:
        try:
            context.load_verify_locations(cafile=files["client_ca_file"])
        except ssl.SSLError as exc:
            message = f"{files['client_ca_file']}: not a usable CA certificate ({exc.reason or exc})"
            raise ConfigError(_problem(raw, (block, "client_ca_file"), message)) from None
    context.verify_mode = CLIENT_AUTH[tls.client_auth_type]
    return context


def _unusable(path: Path, marker: str) -> str | None:
    """Why ``path`` is no PEM file of the expected kind (None when it looks like one)."""
    try:
        text = path.read_text(encoding="ascii", errors="replace")
    except OSError as exc:
        return f"cannot read {path}: {exc.strerror or exc}"
    if marker not in text:
        kind = "private key" if "KEY" in marker else "certificate"
        return f"{path}: no PEM {kind} in it"
    return None


__all__ = ["WebConfig", "load_web_config"]
