"""What the guarded-surface tests share: a test-made CA with a server and a client certificate
(the ``cryptography`` package, in process: EC P-256 keys take milliseconds), bcrypt hashes, a web
configuration file written from them, and HTTPS requests with or without basic auth.

Nothing here is a secret: every key is made for one test run in its temporary folder.
"""

from __future__ import annotations

import base64
import datetime
import ipaddress
import ssl
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import bcrypt
import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from tests.monitor.daemonkit import DaemonProcess, Response

USER, PASSWORD = "prometheus", "scrape-me-Ω"
"""The scraper's credentials in these tests (a non-ASCII password: basic auth is UTF-8)."""


@dataclass(frozen=True)
class Pki:
    ca: Path
    cert: Path
    key: Path
    client_cert: Path
    client_key: Path


def _name(common: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])


def _write_key(key: ec.EllipticCurvePrivateKey, path: Path) -> None:
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    path.chmod(0o600)


def _issue(
    subject: str, key: ec.EllipticCurvePrivateKey, issuer: tuple[x509.Name, ec.EllipticCurvePrivateKey] | None
) -> x509.CertificateBuilder:
    now = datetime.datetime.now(datetime.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(issuer[0] if issuer else _name(subject))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
    )


def make_pki(directory: Path, ca_name: str = "govnet test CA") -> Pki:
    """A CA, a server certificate for 127.0.0.1 and a client certificate, signed by the CA."""
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (
        _issue(ca_name, ca_key, None)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    out = Pki(*(directory / n for n in ("ca.crt", "server.crt", "server.key", "client.crt", "client.key")))
    out.ca.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    leaves = [
        (out.cert, out.key, "127.0.0.1", ExtendedKeyUsageOID.SERVER_AUTH),
        (out.client_cert, out.client_key, "prometheus", ExtendedKeyUsageOID.CLIENT_AUTH),
    ]
    for cert_path, key_path, common, usage in leaves:
        key = ec.generate_private_key(ec.SECP256R1())
        builder = _issue(common, key, (ca.subject, ca_key)).add_extension(
            x509.ExtendedKeyUsage([usage]), critical=False
        )
        if usage == ExtendedKeyUsageOID.SERVER_AUTH:
            san = [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            builder = builder.add_extension(x509.SubjectAlternativeName(san), critical=False)
        cert_path.write_bytes(builder.sign(ca_key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM))
        _write_key(key, key_path)
    return out


def bcrypt_hash(password: str, cost: int = 4) -> str:
    """A bcrypt hash as htpasswd writes it (``$2y$``); cost 4, the least, keeps tests quick."""
    hashed = bcrypt.hashpw(password.encode(), bcrypt.gensalt(cost)).decode()
    return "$2y$" + hashed[4:]


def web_config(directory: Path, pki: Pki | None, users: dict[str, str], **more: Any) -> Path:
    """A web configuration file (``users``: name -> password, hashed here)."""
    data: dict[str, Any] = {}
    if pki is not None:
        data["tls_server_config"] = {"cert_file": pki.cert.name, "key_file": pki.key.name}
    if users:
        data["basic_auth_users"] = {user: bcrypt_hash(password) for user, password in users.items()}
    data.update(more)
    path = directory / "web-config.yml"
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))
    return path


def client_context(pki: Pki) -> ssl.SSLContext:
    """A client that trusts only the test CA (and checks the server's name: 127.0.0.1)."""
    return ssl.create_default_context(cafile=str(pki.ca))


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes


def fetch(url: str, context: ssl.SSLContext | None, auth: tuple[str, str] | None = None) -> Answer:
    """GET ``url`` (with basic auth when ``auth``); an HTTP error is an answer, not an exception."""
    headers = {}
    if auth is not None:
        token = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
        headers["Authorization"] = f"Basic {token}"
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10, context=context) as answer:
            return Answer(answer.status, dict(answer.headers), answer.read())
    except urllib.error.HTTPError as exc:
        return Answer(exc.code, dict(exc.headers), exc.read())


class GuardedDaemon(DaemonProcess):
    """``govnet daemon --web.config.file WEB``: its answers read over TLS (trusting the test CA),
    with the scraper's password."""

    def __init__(self, config: Path, log: Path, web: Path, pki: Pki) -> None:
        super().__init__(config, log, "--web.config.file", str(web))
        self.base = self.base.replace("http://", "https://")
        self.context = client_context(pki)

    def request(self, path: str, method: str = "GET", headers: dict[str, str] | None = None) -> Response:
        try:
            answer = fetch(self.base + path, self.context, (USER, PASSWORD))
        except OSError:  # refused, reset, or not (yet) TLS
            return Response(0, {}, b"")
        return Response(answer.status, answer.headers, answer.body)
