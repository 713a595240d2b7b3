"""The alert bridge: Alertmanager's webhooks in, DingTalk robots and SMS gateways out.

Alertmanager drives WeChat Work and e-mail itself but has no DingTalk receiver (whose robots
want each request signed) and no SMS one. ``govnet export alertmanager`` points each contact
with such a channel at ``<bridge>/notify/<contact id>``; the bridge reads the same inventory,
so it knows the contact's robot and gateway, and it alone holds their secrets (resolved once, at
start: a missing one stops it with one line, not at 3 a.m. on the first alert).

Why a process of its own and not part of the daemon: the daemon probes from inside the
government networks with CAP_NET_RAW; the bridge needs the way out to DingTalk's servers (or to
the carrier's SMS gateway) and nothing else. Apart, each runs where its network access is, under
its own account, and a slow robot never delays a probe cycle.

Alertmanager may be told to send a bearer token (``alert-bridge --token``, the export's
``--bridge-token-file``): then nothing else on the host can make the bridge message a contact.

Each delivery is logged in one line (contact, channel, status, alerts, result, attempts); the
line goes through the resolver's mask, and the URLs that carry tokens and signatures are never
part of it. The answer to Alertmanager is 200 when every channel took it, 502 otherwise (so
Alertmanager's ``alertmanager_notifications_failed_total`` counts it and it retries the group).
"""

from __future__ import annotations

import hmac
import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from zoneinfo import ZoneInfo

from govnet.errors import ConfigError, GovnetError
from govnet.inventory.models import Contact, Inventory
from govnet.notify import channels, messages
from govnet.secrets import SecretResolver

LOG = logging.getLogger("govnet.notify")
MAX_BODY = 1 << 20
"""Alertmanager's notifications are a few kB; anything past 1 MiB is refused, not read."""


@dataclass(frozen=True)
class Robot:
    url: str
    token: str
    secret: str


@dataclass(frozen=True)
class Gateway:
    url: str
    numbers: list[str]
    token: str | None


@dataclass(frozen=True)
class ContactChannels:
    """The channels of one contact that the bridge drives, their secrets resolved."""

    robot: Robot | None = None
    gateway: Gateway | None = None


def targets(inventory: Inventory, resolver: SecretResolver) -> dict[str, ContactChannels]:
    """Every contact with a DingTalk robot or an SMS gateway, by id (raises ``ConfigError``)."""
    return {
        ident: _target(ident, contact, resolver)
        for ident, contact in inventory.contacts.items()
        if contact.dingtalk is not None or contact.sms is not None
    }


def _target(ident: str, contact: Contact, resolver: SecretResolver) -> ContactChannels:
    def secret(field: str, reference: str) -> str:
        try:
            return resolver.resolve(reference)
        except GovnetError as exc:
            raise ConfigError(f"contact {ident}: {field}: {exc}") from None

    robot = gateway = None
    if contact.dingtalk is not None:
        talk = contact.dingtalk
        robot = Robot(talk.url, secret("dingtalk.token", talk.token), secret("dingtalk.secret", talk.secret))
    if contact.sms is not None:
        sms = contact.sms
        token = secret("sms.token", sms.token) if sms.token is not None else None
        gateway = Gateway(sms.url, list(sms.numbers), token)
    return ContactChannels(robot, gateway)


class Bridge:
    """Delivers one notification to one contact's channels and logs each delivery."""

    def __init__(
        self,
        inventory: Inventory,
        resolver: SecretResolver,
        policy: channels.Policy,
        clock: Callable[[], float] = time.time,
        token: str | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.targets = targets(inventory, resolver)
        self.token = token
        """When set, a request must carry ``Authorization: Bearer <token>``."""
        self.zone = ZoneInfo(inventory.site.timezone)
        self.policy = policy
        self.resolver = resolver
        self.clock = clock
        self.sleep = sleep
        self._pacers: dict[tuple[str, str], channels.Pacer] = {}
        self._lock = threading.Lock()

    def reload(self, inventory: Inventory) -> None:
        """Take the inventory's contacts (secrets resolved again); raises, keeping the old ones, on
        anything wrong. Requests under way finish with the contacts they started with."""
        fresh = targets(inventory, self.resolver)
        self.targets, self.zone = fresh, ZoneInfo(inventory.site.timezone)

    def deliver(self, contact: str, payload: dict[str, Any]) -> list[channels.Delivery]:
        target = self.targets[contact]
        done: list[channels.Delivery] = []
        if target.robot is not None:
            done.append(self._log(contact, "dingtalk", payload, self._dingtalk(target.robot, payload)))
        if target.gateway is not None:
            done.append(self._log(contact, "sms", payload, self._sms(target.gateway, payload)))
        return done

    def _dingtalk(self, robot: Robot, payload: dict[str, Any]) -> channels.Delivery:
        title, text = messages.title(payload), messages.markdown(payload, self.zone)
        timeout = self.policy.timeout
        pacer = self._pacer(robot)
        wait = pacer.reserve(self.policy.pace_wait)
        if wait is None:
            return channels.Delivery(False, 0, f"the robot's {pacer.limit} posts a minute are used up")
        self.sleep(wait)

        def send() -> None:
            try:
                channels.send_dingtalk(robot.url, robot.token, robot.secret, title, text, timeout, self.clock)
            except channels.Limited:
                pacer.used_up()
                raise

        return channels.attempt(send, self.policy, self.sleep)

    def _pacer(self, robot: Robot) -> channels.Pacer:
        """The robot's pacer, kept across reloads (two contacts may share one robot)."""
        with self._lock:
            return self._pacers.setdefault((robot.url, robot.token), channels.Pacer())

    def _sms(self, gateway: Gateway, payload: dict[str, Any]) -> channels.Delivery:
        text = messages.sms_text(payload, self.zone)
        return channels.attempt(
            lambda: channels.send_sms(gateway.url, gateway.numbers, text, gateway.token, self.policy.timeout),
            self.policy,
        )

    def _log(
        self, contact: str, channel: str, payload: dict[str, Any], delivery: channels.Delivery
    ) -> channels.Delivery:
        result = "delivered" if delivery.ok else f"failed: {delivery.error}"
        line = (
            f"contact={contact} channel={channel} status={payload.get('status')} "
            f"alerts={len(payload.get('alerts') or [])} group={payload.get('groupKey', '')!s:.80} "
            f"attempts={delivery.attempts} {result}"
        )
        LOG.log(logging.INFO if delivery.ok else logging.WARNING, "%s", self.resolver.mask(line))
        return delivery


def authorised(given: str, token: str | None) -> bool:
    """Whether an ``Authorization`` header carries the bridge's token (any, when it has none).

    >>> authorised("", None), authorised("Bearer t0k", "t0k"), authorised("Bearer x", "t0k")
    (True, True, False)
    """
    return token is None or hmac.compare_digest(given.encode(), f"Bearer {token}".encode())


def read_payload(request: BaseHTTPRequestHandler) -> dict[str, Any] | None:
    """The request's Alertmanager notification (a JSON object with a list of alerts), or None."""
    length = int(request.headers.get("Content-Length") or 0)
    if length <= 0 or length > MAX_BODY:
        return None
    try:
        body = json.loads(request.rfile.read(length))
    except ValueError:
        return None
    return body if isinstance(body, dict) and isinstance(body.get("alerts"), list) else None


def handler(bridge: Bridge) -> type[BaseHTTPRequestHandler]:
    """The request handler: ``POST /notify/<contact>``, ``GET /healthz``."""

    class Handler(BaseHTTPRequestHandler):
        server_version = "govnet-alert-bridge"

        def do_GET(self) -> None:
            self._answer(200 if self.path == "/healthz" else 404, "ok\n" if self.path == "/healthz" else "")

        def do_POST(self) -> None:
            if not authorised(self.headers.get("Authorization", ""), bridge.token):
                LOG.warning("refused: %.80s without the bridge's bearer token", self.path)
                self._answer(401, "unauthorised\n")
                return
            contact = self.path.removeprefix("/notify/") if self.path.startswith("/notify/") else None
            if contact is None or contact not in bridge.targets:
                LOG.warning("refused: no contact with a DingTalk or SMS channel at %.80s", self.path)
                self._answer(404, "no such contact\n")
                return
            payload = read_payload(self)
            if payload is None:
                LOG.warning("refused: contact=%s: not an Alertmanager notification", contact)
                self._answer(400, "not an Alertmanager notification\n")
                return
            done = bridge.deliver(contact, payload)
            self._answer(200 if all(d.ok for d in done) else 502, "")

        def _answer(self, code: int, text: str) -> None:
            data = text.encode()
            self.send_response(code)
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            pass  # one line per delivery is logged by the bridge, not one per request

    return Handler


def serve(bridge: Bridge, host: str, port: int) -> ThreadingHTTPServer:
    """A started server (its thread is a daemon thread); ``shutdown()`` stops it."""
    server = ThreadingHTTPServer((host, port), handler(bridge))
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, name="alert-bridge", daemon=True).start()
    return server
