"""HTTP basic auth against bcrypt hashes, as the Prometheus exporter-toolkit does it.

bcrypt is slow on purpose: one check of a cost-10 hash takes ~62 ms of CPU on the 2-core test
machine, a cost-12 one ~250 ms (bench/README.md, "bcrypt"). A Prometheus scraping every 15 s must
not cost that per scrape, and the event loop that runs the probes must never wait on it, so:

- a successful check is remembered for ``CACHE_SECONDS`` (keyed by a SHA-256 of user, hash and
  password: the password itself is never kept), as the toolkit caches its checks;
- a check that must run runs in a worker thread (bcrypt releases the GIL), one at a time, so a
  flood of wrong passwords costs at most one core and never blocks a cached scrape;
- an unknown user is checked against a hash of the same cost as the dearest configured one, and
  refused only after that check: the answer's timing does not tell which user names exist.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import hmac
import os
import time
from collections import OrderedDict

import bcrypt

CACHE_SECONDS = 60.0
CACHE_SIZE = 64
MAX_PASSWORD = 72
"""bcrypt reads at most 72 bytes; bcrypt >= 5 refuses longer passwords (they never match here)."""
CHALLENGE = 'Basic realm="govnet", charset="UTF-8"'
"""The ``WWW-Authenticate`` value of a 401."""


def credentials(authorization: str | None) -> tuple[str, bytes] | None:
    """(user, password) from an ``Authorization: Basic …`` value; None if absent or malformed.

    >>> credentials("Basic YWxpY2U6czNjcjp0")
    ('alice', b's3cr:t')
    >>> credentials("Bearer x"), credentials("Basic !!"), credentials(None)
    (None, None, None)
    """
    if not authorization:
        return None
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(token.strip(), validate=True)
    except (binascii.Error, ValueError):
        return None
    user, colon, password = decoded.partition(b":")
    if not colon:
        return None
    try:
        return user.decode("utf-8"), password
    except UnicodeDecodeError:
        return None


class BasicAuth:
    """The users of a web configuration, checked with bcrypt; successes cached briefly."""

    def __init__(self, users: dict[str, bytes]) -> None:
        self.users = users
        self.checks = 0
        """bcrypt computations run (tests read it: a cached scrape runs none)."""
        self._cache: OrderedDict[bytes, float] = OrderedDict()
        self._gate = asyncio.Lock()
        cost = max((int(h.split(b"$")[2]) for h in users.values()), default=10)
        # a hash nobody knows the password of, as dear as the dearest real one
        self._decoy = bcrypt.hashpw(os.urandom(16).hex().encode(), bcrypt.gensalt(cost))

    @property
    def enabled(self) -> bool:
        return bool(self.users)

    async def allows(self, authorization: str | None) -> bool:
        """Whether an ``Authorization`` header value names a configured user and their password."""
        if not self.users:
            return True
        found = credentials(authorization)
        if found is None:
            return False
        user, password = found
        known = user in self.users
        hashed = self.users.get(user, self._decoy)
        key = hashlib.sha256(b"\0".join([user.encode(), hashed, password])).digest()
        if self._cached(key):
            return True
        async with self._gate:
            matched = await asyncio.to_thread(self._check, password, hashed)
        if matched and known:
            self._remember(key)
        return matched and known

    def _check(self, password: bytes, hashed: bytes) -> bool:
        self.checks += 1
        if len(password) > MAX_PASSWORD:  # never matches; still costs what a check costs
            bcrypt.checkpw(password[:MAX_PASSWORD], self._decoy)
            return False
        return bool(bcrypt.checkpw(password, hashed))

    def _cached(self, key: bytes) -> bool:
        now = time.monotonic()
        for old in [k for k, until in self._cache.items() if until <= now]:
            del self._cache[old]
        return any(hmac.compare_digest(key, known) for known in self._cache)

    def _remember(self, key: bytes) -> None:
        self._cache[key] = time.monotonic() + CACHE_SECONDS
        while len(self._cache) > CACHE_SIZE:
            self._cache.popitem(last=False)
