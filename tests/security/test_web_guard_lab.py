"""The daemon behind its web configuration, with a real Prometheus scraping it.

One daemon (``govnet daemon --web.config.file``: TLS with a test-made CA, one bcrypt user, an
extra header; probes off: the surface is what is tested) over a state store with an audit trail,
and one ``prometheus`` with two scrape jobs: the right password (the target is up, govnet's
metrics are queried from Prometheus) and a wrong one (the target is down, 401). Then the audit
trail: a new entry is a new head in Prometheus' history, logged by the daemon; a chain rewritten
in the store (an entry edited, every hash after it recomputed, ``audit.head`` too) still passes
``govnet audit verify``, and Prometheus alone raises GovnetAuditTrailRewritten.
"""

from __future__ import annotations

import json
import socket
import ssl
import subprocess
import urllib.error
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from govnet.state import audit
from govnet.state.db import connect, transaction
from tests.exporters.promkit import Prometheus, promtool
from tests.helpers import DATA, ROOT
from tests.monitor.daemonkit import free_port, until
from tests.security.webkit import (
    PASSWORD,
    USER,
    GuardedDaemon,
    Pki,
    client_context,
    fetch,
    make_pki,
    web_config,
)

pytestmark = pytest.mark.lab
AUDIT_RULES = ROOT / "exporters" / "prometheus" / "govnet-audit.rules.yml"
ENTRIES = 3


@dataclass
class Stack:
    work: Path
    state: Path
    pki: Pki
    daemon: GuardedDaemon
    prometheus: Prometheus


def fill(state: Path, count: int) -> None:
    with connect(state) as conn:
        for i in range(count):
            audit.append(conn, state, "push", {"commands": [f"line {i}"]}, run_id="r1", unit=f"u{i}")


def head(state: Path) -> tuple[int, str]:
    with connect(state, create=False) as conn:
        row = conn.execute("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1").fetchone()
    return int(row["seq"]), str(row["hash"])


def rewrite(state: Path, seq: int) -> None:
    """What someone who can write the store does: edit entry ``seq``, recompute every hash after
    it and ``audit.head``, so that the chain is consistent with itself again."""
    with connect(state, create=False) as conn, transaction(conn):
        prev = audit.GENESIS
        for row in conn.execute("SELECT * FROM audit ORDER BY seq").fetchall():
            detail = '{"commands":["nothing to see"]}' if row["seq"] == seq else row["detail"]
            at, user, action, run, unit = row["at"], row["user"], row["action"], row["run_id"], row["unit"]
            digest = audit._digest(prev, row["seq"], at, user, action, run, unit, detail)
            conn.execute(
                "UPDATE audit SET detail = ?, prev = ?, hash = ? WHERE seq = ?",
                (detail, prev, digest, row["seq"]),
            )
            prev, last = digest, row["seq"]
    (state / audit.HEAD_FILE).write_text(f"{last} {prev}\n")


def prometheus_config(work: Path, target: str, pki: Pki) -> Path:
    """Two jobs scraping the daemon over TLS: the right password (from a file) and a wrong one."""
    (work / "scrape-password").write_text(PASSWORD)
    job = {
        "scheme": "https",
        "tls_config": {"ca_file": str(pki.ca)},
        "static_configs": [{"targets": [target]}],
    }
    config = {
        "global": {"scrape_interval": "1s", "scrape_timeout": "1s", "evaluation_interval": "1s"},
        "rule_files": [str(AUDIT_RULES)],
        "scrape_configs": [
            {
                "job_name": "govnet",
                **job,
                "basic_auth": {"username": USER, "password_file": "scrape-password"},
            },
            {
                "job_name": "govnet-wrong-password",
                **job,
                "basic_auth": {"username": USER, "password": "wrong"},
            },
        ],
    }
    path = work / "prometheus.yml"
    path.write_text(yaml.safe_dump(config, sort_keys=False, allow_unicode=True))
    return path


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    work = tmp_path_factory.mktemp("guarded")
    state = work / "state"
    fill(state, ENTRIES)
    pki = make_pki(work)
    web = web_config(work, pki, {USER: PASSWORD}, http_server_config={"headers": {"X-Frame-Options": "deny"}})
    config = work / "daemon.yml"
    settings = {
        "inventory": str(DATA / "valid" / "minimal.yml"),
        "allowed_networks": ["10.0.0.0/8"],
        "listen": f"127.0.0.1:{free_port()}",
        "state": str(state),
        "probes": {kind: {"enabled": False} for kind in ("icmp", "snmp", "tcp")},
    }
    config.write_text(yaml.safe_dump(settings))
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("GOVNET_SNMP_COMMUNITY", "test-community")
        daemon = GuardedDaemon(config, work / "daemon.log", web, pki)
        daemon.start()
    try:
        prometheus = Prometheus(prometheus_config(work, daemon.base.removeprefix("https://"), pki), work)
        try:
            yield Stack(work, state, pki, daemon, prometheus)
        finally:
            prometheus.stop()
    finally:
        code, _ = daemon.stop()
        assert code == 0


def test_the_status_page_needs_the_password(stack: Stack) -> None:
    base, context = stack.daemon.base, stack.daemon.context
    for auth in (None, (USER, "wrong"), ("mallory", PASSWORD)):
        answer = fetch(base + "/", context, auth)
        assert answer.status == 401, auth
        assert answer.headers["WWW-Authenticate"].startswith("Basic realm=")
        assert b"sz-fagaiwei" not in answer.body
        assert answer.headers["X-Frame-Options"] == "deny"
    page = fetch(base + "/", context, (USER, PASSWORD))
    assert page.status == 200
    assert b"sz-fagaiwei" in page.body
    assert page.headers["X-Frame-Options"] == "deny"
    status = fetch(base + "/api/status", context, (USER, PASSWORD))
    assert status.status == 200
    assert "sz-fagaiwei" in {u["unit"] for u in json.loads(status.body)["units"]}
    assert fetch(base + "/api/status", context).status == 401


def test_only_tls_with_the_test_ca_is_spoken(stack: Stack) -> None:
    plain = stack.daemon.base.replace("https://", "http://")
    with pytest.raises(OSError):
        fetch(plain + "/metrics", None, (USER, PASSWORD))
    with pytest.raises(urllib.error.URLError) as caught:
        fetch(stack.daemon.base + "/metrics", ssl.create_default_context(), (USER, PASSWORD))
    assert "CERTIFICATE_VERIFY_FAILED" in str(caught.value)


def test_mutual_tls_refuses_a_client_without_a_certificate_of_its_ca(stack: Stack) -> None:
    """client_auth_type RequireAndVerifyClientCert: the handshake itself fails without one."""
    work = stack.work / "mutual"
    work.mkdir()
    tls = {
        "cert_file": str(stack.pki.cert),
        "key_file": str(stack.pki.key),
        "client_auth_type": "RequireAndVerifyClientCert",
        "client_ca_file": str(stack.pki.ca),
    }
    web = web_config(work, None, {USER: PASSWORD}, tls_server_config=tls)
    daemon = _second_daemon(stack, work, web, stack.pki, client=True)
    try:
        assert fetch(daemon.base + "/metrics", daemon.context, (USER, PASSWORD)).status == 200
        assert fetch(daemon.base + "/metrics", daemon.context).status == 401, "a certificate is not a user"
        with pytest.raises(OSError):
            fetch(daemon.base + "/metrics", client_context(stack.pki), (USER, PASSWORD))
    finally:
        code, _ = daemon.stop()
        assert code == 0


def test_a_renewed_certificate_and_changed_users_are_taken_without_a_restart(stack: Stack) -> None:
    """As the exporter-toolkit does: the next connection after a change uses the new file; a
    broken file, or one that changes the TLS policy, is logged and the running one kept."""
    work = stack.work / "reload"
    work.mkdir()
    (stack.work / "reload-ca").mkdir()
    first, second = make_pki(work), make_pki(stack.work / "reload-ca", "govnet test CA 2")
    web = web_config(work, first, {USER: PASSWORD})
    daemon = _second_daemon(stack, work, web, first)
    daemon.context.load_verify_locations(second.ca)  # trusts both CAs
    try:
        before = _served_serial(daemon)
        for renewed, current in ((second.cert, first.cert), (second.key, first.key)):
            current.write_bytes(renewed.read_bytes())
        daemon.until(lambda: _served_serial(daemon) != before, 10, "the renewed certificate served")
        assert fetch(daemon.base + "/metrics", daemon.context, (USER, PASSWORD)).status == 200

        web_config(work, first, {USER: "rotated"})
        assert fetch(daemon.base + "/metrics", daemon.context, (USER, PASSWORD)).status == 401
        assert fetch(daemon.base + "/metrics", daemon.context, (USER, "rotated")).status == 200

        web.write_text(web.read_text().replace("basic_auth_users", "basic_auth_user"))
        assert fetch(daemon.base + "/metrics", daemon.context, (USER, "rotated")).status == 200
        assert f"{web} changed but is refused; the running one stays: {web}:" in daemon.log_text()

        tls13 = yaml.safe_load(web.read_text().replace("basic_auth_user:", "basic_auth_users:"))
        tls13["tls_server_config"]["min_version"] = "TLS13"
        web.write_text(yaml.safe_dump(tls13))
        assert fetch(daemon.base + "/metrics", daemon.context, (USER, "rotated")).status == 200
        assert f"{web}: a new TLS policy takes a restart; the running config stays" in daemon.log_text()
    finally:
        code, _ = daemon.stop()
        assert code == 0


def _second_daemon(stack: Stack, work: Path, web: Path, pki: Pki, client: bool = False) -> GuardedDaemon:
    """Another daemon like the stack's (same state), on its own port, with ``web`` (``client``:
    the requests present the test client certificate)."""
    config = yaml.safe_load(stack.daemon.config.read_text())
    config["listen"] = f"127.0.0.1:{free_port()}"
    (work / "daemon.yml").write_text(yaml.safe_dump(config))
    daemon = GuardedDaemon(work / "daemon.yml", work / "daemon.log", web, pki)
    if client:
        daemon.context.load_cert_chain(pki.client_cert, pki.client_key)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("GOVNET_SNMP_COMMUNITY", "test-community")
        daemon.start()
    return daemon


def _served_serial(daemon: GuardedDaemon) -> str:
    host, _, port = daemon.base.removeprefix("https://").rpartition(":")
    with (
        socket.create_connection((host, int(port)), timeout=5) as raw,
        daemon.context.wrap_socket(raw, server_hostname=host) as tls,
    ):
        return str(tls.getpeercert()["serialNumber"])  # type: ignore[index]


def test_prometheus_scrapes_over_tls_with_basic_auth(stack: Stack) -> None:
    prometheus = stack.prometheus
    until(lambda: _up(prometheus, "govnet") == 1.0, 30, "the daemon is up in Prometheus")
    until(lambda: _up(prometheus, "govnet-wrong-password") == 0.0, 30, "the wrong password is down")
    (wrong,) = [t for t in prometheus.api("targets")["activeTargets"] if t["labels"]["job"] != "govnet"]
    assert wrong["health"] == "down"
    assert "401" in wrong["lastError"], wrong["lastError"]
    events = prometheus.query('govnet_audit_events_total{job="govnet"}')
    assert [float(r["value"][1]) for r in events] == [ENTRIES]
    assert prometheus.query('govnet_build_info{job="govnet"}')


def test_the_guarded_exposition_passes_promtool_check_metrics(stack: Stack) -> None:
    answer = stack.daemon.request("/metrics")
    assert answer.status == 200
    text = answer.body.decode()
    assert "govnet_audit_events_total 3.0" in text
    assert 'govnet_audit_head_info{head="' in text
    lint = subprocess.run(
        [promtool(), "check", "metrics"], input=text, capture_output=True, text=True, timeout=60, check=False
    )
    assert lint.returncode == 0 and not lint.stdout + lint.stderr, lint.stdout + lint.stderr


def test_audit_heads_live_in_prometheus_and_a_rewritten_chain_alerts(stack: Stack, govnet: Any) -> None:
    prometheus, state, daemon = stack.prometheus, stack.state, stack.daemon
    fill(state, 1)
    seq, newest = head(state)
    assert seq == ENTRIES + 1
    heads = 'count(last_over_time(govnet_audit_head_info{job="govnet"}[1h]))'
    until(lambda: _value(prometheus, heads) == 2.0, 30, "both heads in Prometheus' history")
    assert _value(prometheus, 'govnet_audit_events_total{job="govnet"}') == seq
    assert f"audit trail: {seq} entries, head {newest[:16]}" in daemon.log_text()
    assert not prometheus.query('ALERTS{alertname="GovnetAuditTrailRewritten"}')

    rewrite(state, 2)
    verdict = govnet("audit", "verify", "--state", str(state))
    assert verdict.code == 0, "a recomputed chain is intact as far as the store can tell"
    _, forged = head(state)
    firing = until(lambda: prometheus.alerts("GovnetAuditTrailRewritten"), 30, "the rewrite alerts")
    assert [a["reason"] for a in firing] == ["head-replaced"]
    assert (
        f"audit trail: head changed to {forged[:16]} without a new entry ({seq} entries)" in daemon.log_text()
    )


def _up(prometheus: Prometheus, job: str) -> float | None:
    return _value(prometheus, f'up{{job="{job}"}}')


def _value(prometheus: Prometheus, expr: str) -> float | None:
    found = prometheus.query(expr)
    return float(found[0]["value"][1]) if len(found) == 1 else None
