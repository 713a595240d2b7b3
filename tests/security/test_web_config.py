"""The web configuration (``--web.config.file``, exporter-toolkit format) and basic auth, in process.

Every rejected file has a fixture in tests/data/invalid-web/ and its exact ``FILE:LINE`` lines
(through ``govnet daemon --check``, as an operator meets them); certificates that cannot be used
are made per test. The auth checks count bcrypt computations: an unknown user costs one as a
known one does (no user enumeration by timing), a cached success costs none.
"""

from __future__ import annotations

import asyncio
import base64
import shutil
import ssl
from pathlib import Path
from typing import Any

import pytest
import yaml

from govnet.errors import ConfigError
from govnet.metrics import webauth
from govnet.metrics.webauth import BasicAuth
from govnet.metrics.webconfig import WebWatch, load_web_config
from tests.helpers import DATA, ROOT
from tests.security.webkit import PASSWORD, USER, bcrypt_hash, make_pki, web_config

INVALID = DATA / "invalid-web"
EXPECTED: dict[str, list[str]] = yaml.safe_load((INVALID / "expected.yml").read_text(encoding="utf-8"))


@pytest.fixture(autouse=True)
def secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    """The minimal inventory's SNMP community is an env: reference."""
    monkeypatch.setenv("GOVNET_SNMP_COMMUNITY", "test-community")


def daemon_config(tmp_path: Path, **more: Any) -> Path:
    path = tmp_path / "daemon.yml"
    inventory = (DATA / "valid" / "minimal.yml").resolve()
    path.write_text(yaml.safe_dump({"inventory": str(inventory), "allowed_networks": ["10.0.0.0/8"], **more}))
    return path


def test_every_fixture_has_an_expectation() -> None:
    fixtures = {p.name for p in INVALID.iterdir() if p.name != "expected.yml"}
    assert fixtures == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_invalid_web_config_is_refused_with_exact_lines(name: str, govnet: Any, tmp_path: Path) -> None:
    config = daemon_config(tmp_path)
    result = govnet(
        "daemon", "--check", "--config", str(config), "--web.config.file", f"tests/data/invalid-web/{name}"
    )
    assert result.code == 1, result.out
    assert result.out == ""
    assert result.err.strip().splitlines() == EXPECTED[name]
    assert "Traceback" not in result.err


def test_a_valid_web_config_passes_check_and_is_named(govnet: Any, tmp_path: Path) -> None:
    pki = make_pki(tmp_path)
    web = web_config(tmp_path, pki, {USER: PASSWORD})
    result = govnet(
        "daemon", "--check", "--config", str(daemon_config(tmp_path)), "--web.config.file", str(web)
    )
    assert result.code == 0, result.err
    assert f"https with 1 user(s) ({web})" in result.out


def test_the_daemon_config_key_names_the_file_relative_to_it(govnet: Any, tmp_path: Path) -> None:
    (tmp_path / "web").mkdir()
    web_config(tmp_path / "web", None, {USER: PASSWORD})
    config = daemon_config(tmp_path, web_config_file="web/web-config.yml")
    result = govnet("daemon", "--check", "--config", str(config))
    assert result.code == 0, result.err
    assert f"http with 1 user(s) ({tmp_path / 'web' / 'web-config.yml'})" in result.out


def test_the_config_key_is_checked_at_its_line(govnet: Any, tmp_path: Path) -> None:
    config = daemon_config(tmp_path, web_config_file="no-such-web.yml")
    result = govnet("daemon", "--check", "--config", str(config))
    assert result.code == 1
    assert result.err.strip().splitlines() == [
        f"{config}:4: web_config_file: no such file: {tmp_path / 'no-such-web.yml'}"
    ]


def _tls_file(tmp_path: Path, **tls: str) -> Path:
    path = tmp_path / "web.yml"
    path.write_text(yaml.safe_dump({"tls_server_config": tls}, sort_keys=False))
    return path


def test_a_certificate_that_is_not_pem_is_named_at_its_line(tmp_path: Path) -> None:
    pki = make_pki(tmp_path)
    (tmp_path / "garbage.crt").write_text("not a certificate\n")
    path = _tls_file(tmp_path, cert_file="garbage.crt", key_file=pki.key.name)
    with pytest.raises(ConfigError) as caught:
        load_web_config(path)
    assert list(caught.value.lines()) == [
        f"{path}:2: tls_server_config.cert_file: {tmp_path / 'garbage.crt'}: no PEM certificate in it"
    ]


def test_a_key_of_another_certificate_is_named_at_its_line(tmp_path: Path) -> None:
    pki = make_pki(tmp_path)
    path = _tls_file(tmp_path, cert_file=pki.cert.name, key_file=pki.client_key.name)
    with pytest.raises(ConfigError) as caught:
        load_web_config(path)
    (line,) = caught.value.lines()
    assert line.startswith(
        f"{path}:3: tls_server_config.key_file: {pki.client_key} is not the key of {pki.cert} ("
    ), line


def test_an_unreadable_key_is_named_at_its_line(tmp_path: Path) -> None:
    pki = make_pki(tmp_path)
    path = _tls_file(tmp_path, cert_file=pki.cert.name, key_file=str(tmp_path))  # a folder
    with pytest.raises(ConfigError) as caught:
        load_web_config(path)
    assert list(caught.value.lines()) == [
        f"{path}:3: tls_server_config.key_file: cannot read {tmp_path}: Is a directory"
    ]


def test_tls_settings_reach_the_context(tmp_path: Path) -> None:
    pki = make_pki(tmp_path)
    path = _tls_file(
        tmp_path,
        cert_file=str(pki.cert),
        key_file=str(pki.key),
        client_auth_type="RequireAndVerifyClientCert",
        client_ca_file=pki.ca.name,
        min_version="TLS13",
    )
    web = load_web_config(path)
    assert web.tls is not None and web.scheme == "https"
    assert web.tls.verify_mode == ssl.CERT_REQUIRED
    assert web.tls.minimum_version == ssl.TLSVersion.TLSv1_3
    assert web.users == {} and web.headers == {}


# -- basic auth ---------------------------------------------------------------------------------


def header(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def check(auth: BasicAuth, value: str | None) -> bool:
    return asyncio.run(auth.allows(value))


@pytest.fixture
def auth() -> BasicAuth:
    return BasicAuth({USER: bcrypt_hash(PASSWORD).encode(), "grafana": bcrypt_hash("other", 5).encode()})


def test_the_right_password_passes_and_is_cached(auth: BasicAuth) -> None:
    assert check(auth, header(USER, PASSWORD))
    assert auth.checks == 1
    assert check(auth, header(USER, PASSWORD))
    assert auth.checks == 1, "a cached success must not run bcrypt again"


def test_a_cached_success_expires(auth: BasicAuth, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(webauth, "CACHE_SECONDS", 0.0)
    assert check(auth, header(USER, PASSWORD))
    assert check(auth, header(USER, PASSWORD))
    assert auth.checks == 2


def test_a_wrong_password_fails_every_time_and_is_never_cached(auth: BasicAuth) -> None:
    assert not check(auth, header(USER, "wrong"))
    assert not check(auth, header(USER, "wrong"))
    assert auth.checks == 2
    assert not check(auth, header("grafana", PASSWORD)), "another user's password"


def test_an_unknown_user_costs_a_bcrypt_check_as_dear_as_the_dearest_user(auth: BasicAuth) -> None:
    assert not check(auth, header("mallory", PASSWORD))
    assert auth.checks == 1
    assert auth._decoy.split(b"$")[2] == b"05"  # the dearest configured hash is cost 5


@pytest.mark.parametrize(
    "value",
    [None, "", "Bearer abc", "Basic !!!", "Basic " + base64.b64encode(b"no-colon").decode()],
    ids=["absent", "empty", "bearer", "not-base64", "no-colon"],
)
def test_malformed_credentials_fail(auth: BasicAuth, value: str | None) -> None:
    assert not check(auth, value)


def test_a_password_over_72_bytes_never_matches(tmp_path: Path) -> None:
    long = "x" * 80
    auth = BasicAuth({USER: bcrypt_hash(long[:72]).encode()})
    assert not check(auth, header(USER, long)), "bcrypt would compare only the first 72 bytes"
    assert auth.checks == 1


def test_without_users_everyone_passes_without_a_check() -> None:
    auth = BasicAuth({})
    assert check(auth, None)
    assert auth.checks == 0


def test_the_deploy_example_passes_check_with_its_certificates(govnet: Any, tmp_path: Path) -> None:
    """deploy/web-config.example.yml as shipped, with test certificates where it names them."""
    example = ROOT / "deploy" / "web-config.example.yml"
    (tmp_path / "tls").mkdir()
    pki = make_pki(tmp_path / "tls")
    pki.cert.rename(tmp_path / "tls" / "govnet.crt")
    pki.key.rename(tmp_path / "tls" / "govnet.key")
    web = tmp_path / "web-config.yml"
    shutil.copy(example, web)
    result = govnet(
        "daemon", "--check", "--config", str(daemon_config(tmp_path)), "--web.config.file", str(web)
    )
    assert result.code == 0, result.err
    assert f"https with 1 user(s) ({web})" in result.out
    loaded = load_web_config(web)
    assert set(loaded.users) == {"prometheus"}
    assert loaded.headers["X-Frame-Options"] == "deny"


def test_the_watch_takes_a_changed_file_and_keeps_the_running_one_when_it_breaks(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    pki = make_pki(tmp_path)
    path = web_config(tmp_path, pki, {USER: PASSWORD})
    watch = WebWatch(load_web_config(path))
    first = watch.current()
    assert watch.current() is first, "nothing changed: the same config, no re-read"
    web_config(tmp_path, pki, {USER: PASSWORD, "grafana": "other"})
    second = watch.current()
    assert set(second.users) == {USER, "grafana"}
    path.write_text("basic_auth_users: {grafana: plaintext}\n")
    assert watch.current() is second
    assert (
        f"{path} changed but is refused; the running one stays: {path}:1: basic_auth_users.grafana"
        in caplog.text
    )
    web_config(tmp_path, pki, {USER: PASSWORD})
    key = pki.key.read_bytes()
    pki.key.unlink()
    assert watch.current() is second, "a key being replaced: keep serving the old one"
    assert f"cannot read {pki.key}" in caplog.text
    pki.key.write_bytes(key)
    assert set(watch.current().users) == {USER}, "both files there again: taken"
    web_config(tmp_path, None, {USER: PASSWORD})
    assert set(watch.current().users) == {USER}
    assert "turning TLS on or off takes a restart" in caplog.text


def test_check_warns_when_the_surface_leaves_loopback_unguarded(govnet: Any, tmp_path: Path) -> None:
    config = daemon_config(tmp_path, listen="0.0.0.0:9430")  # the extranet targets: other warnings
    result = govnet("daemon", "--check", "--config", str(config))
    assert result.code == 0, result.err
    exposed = [line for line in result.err.splitlines() if "listening" in line]
    assert exposed == [
        "warning: listening on 0.0.0.0 without TLS and basic auth: the status page names "
        "classified-network units; give a --web.config.file"
    ]
    web = web_config(tmp_path, make_pki(tmp_path), {USER: PASSWORD})
    guarded = govnet("daemon", "--check", "--config", str(config), "--web.config.file", str(web))
    assert guarded.code == 0
    assert "listening" not in guarded.err


def test_a_cached_user_is_not_held_up_by_checks_in_progress(auth: BasicAuth) -> None:
    """Checks run one at a time; a cached success never waits for that turn."""

    async def scenario() -> tuple[bool, bool]:
        assert await auth.allows(header(USER, PASSWORD))  # cached from here on
        async with auth._gate:  # a check of someone else's password is running
            cached = await asyncio.wait_for(auth.allows(header(USER, PASSWORD)), timeout=30)
            waiting = asyncio.ensure_future(auth.allows(header(USER, "wrong")))
            await asyncio.sleep(0)
            queued = not waiting.done()
        return cached and queued, not await waiting

    assert asyncio.run(scenario()) == (True, True)
    assert auth.checks == 2
