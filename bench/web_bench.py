"""What the guarded surface (``--web.config.file``) costs: bcrypt checks and a scrape over TLS.

- one ``bcrypt.checkpw`` at cost 10 and 12 (median of ``--rounds``): what an uncached basic-auth
  check costs (in a worker thread of the daemon, one at a time);
- ``BasicAuth.allows`` with the success cached (median of 1,000): what every later scrape costs;
- ``/metrics`` over a fresh connection each (median / p95 of ``--scrapes``) from the real daemon
  (minimal inventory, probes off), plain HTTP without auth and HTTPS with basic auth (cached).

It asserts nothing. Loopback only:

    .venv/bin/python bench/web_bench.py
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import functools
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import bcrypt
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from govnet.metrics.webauth import BasicAuth  # noqa: E402
from tests.monitor.daemonkit import DaemonProcess, free_port  # noqa: E402
from tests.security.webkit import (  # noqa: E402
    PASSWORD,
    USER,
    GuardedDaemon,
    client_context,
    fetch,
    make_pki,
    web_config,
)


def median_ms(run: Callable[[], object], rounds: int) -> tuple[float, float]:
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        run()
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.95) - 1 if len(times) > 1 else 0]


def bcrypt_rows(rounds: int) -> None:
    for cost in (10, 12):
        hashed = bcrypt.hashpw(b"scrape-me", bcrypt.gensalt(cost))
        med, _ = median_ms(lambda h=hashed: bcrypt.checkpw(b"scrape-me", h), rounds)  # type: ignore[misc]
        print(f"| bcrypt.checkpw, cost {cost} | {med:.1f} ms |")
    auth = BasicAuth({USER: bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(10))})
    header = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()

    async def cached() -> float:
        await auth.allows(header)  # the one bcrypt check
        started = time.perf_counter()
        for _ in range(1000):
            await auth.allows(header)
        return (time.perf_counter() - started) * 1000

    print(f"| BasicAuth.allows, success cached (mean of 1,000) | {asyncio.run(cached()):.3f} µs |")


def scrape_rows(scrapes: int, work: Path) -> None:
    pki = make_pki(work)
    web = web_config(work, pki, {USER: PASSWORD})
    os.environ.setdefault("GOVNET_SNMP_COMMUNITY", "bench")
    for label, tls in (("HTTP, no auth", False), ("HTTPS + basic auth (cached)", True)):
        config = work / "daemon.yml"
        config.write_text(
            yaml.safe_dump(
                {
                    "inventory": str(ROOT / "tests" / "data" / "valid" / "minimal.yml"),
                    "allowed_networks": ["10.0.0.0/8"],
                    "listen": f"127.0.0.1:{free_port()}",
                    "state": str(work / "state"),
                    "probes": {kind: {"enabled": False} for kind in ("icmp", "snmp", "tcp")},
                }
            )
        )
        log = work / "daemon.log"
        daemon = GuardedDaemon(config, log, web, pki) if tls else DaemonProcess(config, log)
        daemon.start()
        try:
            url = daemon.base + "/metrics"
            context = client_context(pki) if tls else None
            auth = (USER, PASSWORD) if tls else None
            run = functools.partial(fetch, url, context, auth)
            run()
            med, p95 = median_ms(run, scrapes)
            print(f"| `/metrics`, {label}, fresh connection | {med:.1f} ms (p95 {p95:.1f}) |")
        finally:
            daemon.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--scrapes", type=int, default=100)
    args = parser.parse_args()
    print("| what | time (median) |\n|---|---|")
    bcrypt_rows(args.rounds)
    with tempfile.TemporaryDirectory() as tmp:
        scrape_rows(args.scrapes, Path(tmp))


if __name__ == "__main__":
    main()
