"""SNMP benchmark: govnet's snmp probe, prometheus-snmp-exporter and naive pysnmp loops side by side.

Agents: ``--agents`` loopback addresses (127.0.1.1, 127.0.1.2, …) served by ``--agent-processes``
net-snmp ``snmpd`` instances (each listening on its share of the addresses, one UDP port), all
started here and stopped at the end. Every poller fetches the same 5 OIDs from every address
with one SNMPv2c GET: sysUpTime.0 and ifAdminStatus / ifOperStatus / ifHCInOctets /
ifHCOutOctets of ifIndex 1 (``lo``).

Pollers (one after the other, same agents, same run):

- ``govnet`` — ``SnmpProbe.run()`` over all targets, steady state (discovery done in a warm-up
  cycle), ``--cycles`` cycles: the v2c fast path (prepared BER, one UDP socket).
- ``pysnmp hlapi, sequential`` — ``await get_cmd(...)`` one target at a time (one engine).
- ``pysnmp hlapi, semaphore N`` — the same calls under ``asyncio.Semaphore(N)`` with
  ``asyncio.gather``; once with defaults, once with ``lookupMib=False``.
- ``prometheus-snmp-exporter`` — the Debian package's Go exporter with a 5-OID ``get`` module,
  scraped over HTTP keep-alive by ``curl --parallel`` (``--http-concurrency`` transfers at once).

Reported: requests/s (wall), CPU seconds of the poller (process user+system; for the exporter
its own process, the curl load generator separately), CPU of the agents, timeouts or errors.
It asserts nothing. Run as root inside a private network namespace, e.g.
``unshare --net bash -c 'ip link set lo up; .venv/bin/python bench/snmp_bench.py'``.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pysnmp.hlapi.v3arch.asyncio import (
    CommunityData,
    ContextData,
    ObjectIdentity,
    ObjectType,
    SnmpEngine,
    UdpTransportTarget,
    get_cmd,
)

from govnet.probes.base import Target
from govnet.probes.snmp.ber import GET, request_template
from govnet.probes.snmp.fast import SnmpError, V2cClient
from govnet.probes.snmp.plan import SYS_UPTIME
from govnet.probes.snmp.probe import SnmpProbe, SnmpSettings
from tests.helpers import stop

COMMUNITY = "govnet-bench"
OIDS = [
    "1.3.6.1.2.1.1.3.0",
    "1.3.6.1.2.1.2.2.1.7.1",
    "1.3.6.1.2.1.2.2.1.8.1",
    "1.3.6.1.2.1.31.1.1.1.6.1",
    "1.3.6.1.2.1.31.1.1.1.10.1",
]
EXPORTER_MODULE = f"""bench5:
  version: 2
  auth:
    community: {COMMUNITY}
  timeout: 2s
  retries: 1
  get: [{", ".join(OIDS)}]
  metrics:
  - {{name: sysUpTime, oid: 1.3.6.1.2.1.1.3, type: gauge}}
""" + "".join(
    f"  - {{name: {name}, oid: {oid}, type: {kind}, indexes: [{{labelname: ifIndex, type: gauge}}]}}\n"
    for name, oid, kind in [
        ("ifAdminStatus", "1.3.6.1.2.1.2.2.1.7", "gauge"),
        ("ifOperStatus", "1.3.6.1.2.1.2.2.1.8", "gauge"),
        ("ifHCInOctets", "1.3.6.1.2.1.31.1.1.1.6", "counter"),
        ("ifHCOutOctets", "1.3.6.1.2.1.31.1.1.1.10", "counter"),
    ]
)


def addresses(count: int) -> list[str]:
    """127.0.x.y with x from 1, y in 1..250: all of 127/8 is local on Linux loopback."""
    return [f"127.0.{1 + i // 250}.{1 + i % 250}" for i in range(count)]


def proc_cpu(pid: int) -> float:
    """User + system CPU seconds of a running process, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def self_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


@dataclass
class Row:
    poller: str
    requests: int
    wall: float
    cpu: float
    agents_cpu: float
    failed: int
    extra_cpu: float | None = None
    note: str = ""

    @property
    def rate(self) -> float:
        return self.requests / self.wall


class Agents:
    """``processes`` snmpd instances sharing ``addresses`` between them, all on ``port``."""

    def __init__(self, work: Path, addrs: Sequence[str], processes: int, port: int) -> None:
        self.addrs, self.port, self.procs = list(addrs), port, []
        self.logs = [work / f"snmpd-{n}.log" for n in range(processes)]
        share = -(-len(addrs) // processes)
        for n in range(processes):
            persist = work / f"snmpd-{n}"  # one persistent dir each: they would race creating files
            persist.mkdir()
            env = {**os.environ, "MIBS": "", "MIBDIRS": "/nonexistent", "SNMP_PERSISTENT_DIR": str(persist)}
            conf = work / f"snmpd-{n}.conf"
            conf.write_text(f"rocommunity {COMMUNITY} 127.0.0.0/8\ndontLogTCPWrappersConnects yes\n")
            # listening addresses on the command line: a long agentAddress line is cut at ~2 kB
            listen = [f"udp:{a}:{port}" for a in addrs[n * share : (n + 1) * share]]
            args = ["snmpd", "-f", "-Lf", str(self.logs[n]), "-C", "-c", str(conf), "-I", "-smux", *listen]
            self.procs.append(
                subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            )

    def cpu(self) -> float:
        return sum(proc_cpu(p.pid) for p in self.procs)

    async def wait_ready(self, bound: float = 30.0) -> None:
        """Every address answers a GET (bounded poll)."""
        client = V2cClient(256)
        template = request_template(COMMUNITY.encode(), GET, [SYS_UPTIME])
        waiting = set(self.addrs)
        deadline = time.monotonic() + bound

        async def one(addr: str) -> None:
            try:
                await client.request((addr, self.port), template, 0.2, 0)
                waiting.discard(addr)
            except SnmpError:
                pass

        while waiting and time.monotonic() < deadline:
            for proc, log in zip(self.procs, self.logs, strict=True):
                if proc.poll() is not None:
                    raise SystemExit(f"snmpd exited at start-up: {log.read_text(errors='replace')[-1000:]}")
            await asyncio.gather(*(one(a) for a in sorted(waiting)))
        client.close()
        if waiting:
            raise SystemExit(f"{len(waiting)} agent addresses never answered")

    def close(self) -> None:
        for proc in self.procs:
            stop(proc)


async def bench_govnet(agents: Agents, cycles: int, in_flight: int) -> Row:
    targets = [
        Target(f"u{i}", "intranet", addr, agents.port, params={"community": COMMUNITY, "interfaces": ["lo"]})
        for i, addr in enumerate(agents.addrs)
    ]
    columns = ("admin_status", "in_octets", "out_octets")
    probe = SnmpProbe(SnmpSettings(timeout=2.0, retries=1, max_in_flight=in_flight, columns=columns))
    warm = await probe.run(targets, 60)  # discovery: walks + trial GET, not measured
    assert all(r.success for r in warm), [r.detail for r in warm if not r.success][:3]
    plan = probe._units[targets[0].key].plan
    assert plan is not None and [len(p.oids) for p in plan.pdus] == [5], (
        "the bench must poll 5 OIDs in one PDU"
    )
    cpu0, agents0, t0 = self_cpu(), agents.cpu(), time.perf_counter()
    failed = 0
    for _ in range(cycles):
        results = await probe.run(targets, 60)
        failed += sum(not r.success for r in results)
    wall = time.perf_counter() - t0
    row = Row(
        f"govnet snmp probe (max_in_flight {in_flight})",
        cycles * len(targets),
        wall,
        self_cpu() - cpu0,
        agents.cpu() - agents0,
        failed,
    )
    await probe.close()
    return row


async def bench_hlapi(agents: Agents, count: int, concurrency: int | None, lookup_mib: bool) -> Row:
    engine = SnmpEngine()
    auth = CommunityData(COMMUNITY)
    context = ContextData()
    addrs = [agents.addrs[i % len(agents.addrs)] for i in range(count)]
    transports = {
        a: await UdpTransportTarget.create((a, agents.port), timeout=2, retries=1) for a in set(addrs)
    }
    failed = 0

    async def one(addr: str) -> None:
        nonlocal failed
        objects = [ObjectType(ObjectIdentity(oid)) for oid in OIDS]
        indication, status, _, varbinds = await get_cmd(
            engine, auth, transports[addr], context, *objects, lookupMib=lookup_mib
        )
        if indication or status or len(varbinds) != len(OIDS):
            failed += 1

    warm_gate = asyncio.Semaphore(64)

    async def warm(addr: str) -> None:
        async with warm_gate:
            await one(addr)

    # engine start-up and pysnmp's per-target configuration (first request to each), not measured
    await asyncio.gather(*(warm(a) for a in transports))
    failed = 0
    cpu0, agents0, t0 = self_cpu(), agents.cpu(), time.perf_counter()
    if concurrency is None:
        for addr in addrs:
            await one(addr)
        name = "pysnmp hlapi get_cmd, awaited one at a time"
    else:
        gate = asyncio.Semaphore(concurrency)

        async def gated(addr: str) -> None:
            async with gate:
                await one(addr)

        await asyncio.gather(*(gated(a) for a in addrs))
        name = f"pysnmp hlapi get_cmd, semaphore {concurrency}"
    wall = time.perf_counter() - t0
    engine.close_dispatcher()
    note = "lookupMib=False" if not lookup_mib else "defaults"
    return Row(name, count, wall, self_cpu() - cpu0, agents.cpu() - agents0, failed, note=note)


class AgentSet(Protocol):
    """What the exporter driver needs of a bench's agents (this one's, ``health_bench``'s)."""

    addrs: list[str]
    port: int

    def cpu(self) -> float: ...


@dataclass(frozen=True)
class ExporterModule:
    """The exporter's module: its name in the scrape URL and its ``snmp.yml`` text."""

    name: str = "bench5"
    text: str = EXPORTER_MODULE


@contextmanager
def exporter(
    work: Path, port: int, module: ExporterModule = ExporterModule()
) -> Iterator[subprocess.Popen[bytes]]:
    config = work / "snmp.yml"
    config.write_text(module.text)
    log = work / "exporter.log"
    args = [
        "prometheus-snmp-exporter",
        f"--config.file={config}",
        f"--web.listen-address=127.0.0.1:{port}",
        "--log.level=error",
    ]
    with log.open("wb") as errors:
        proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=errors)
    deadline = time.monotonic() + 15
    try:
        while True:  # bounded poll until it serves HTTP
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=1):
                    break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"prometheus-snmp-exporter did not start: {log.read_text()}") from None
                time.sleep(0.05)
        yield proc
    finally:
        stop(proc)


def curl_scrapes(
    work: Path,
    port: int,
    agents: AgentSet,
    count: int,
    concurrency: int,
    module: ExporterModule = ExporterModule(),
) -> tuple[int, float, float]:
    """(failed, wall, curl CPU) for ``count`` scrapes spread over the agent addresses."""
    urls = work / "urls.curl"
    lines = []
    for i in range(count):
        addr = agents.addrs[i % len(agents.addrs)]
        lines.append(
            f'url = "http://127.0.0.1:{port}/snmp?module={module.name}&target={addr}:{agents.port}"\n'
            'output = "/dev/null"\n'
        )
    urls.write_text("".join(lines))
    args = [
        "curl",
        "-s",
        "--parallel",
        "--parallel-max",
        str(concurrency),
        "-K",
        str(urls),
        "-w",
        "%{http_code}\n",
    ]
    cpu0, t0 = children_cpu(), time.perf_counter()
    done = subprocess.run(args, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - t0
    codes = done.stdout.split()
    return count - codes.count("200"), wall, children_cpu() - cpu0


def bench_exporter(
    work: Path,
    agents: AgentSet,
    count: int,
    concurrency: int,
    port: int,
    module: ExporterModule = ExporterModule(),
) -> Row:
    """The exporter with ``module``, ``count`` scrapes by ``curl --parallel`` after a warm-up pass."""
    with exporter(work, port, module) as proc:
        curl_scrapes(work, port, agents, len(agents.addrs), concurrency, module)  # warm-up, not measured
        cpu0, agents0 = proc_cpu(proc.pid), agents.cpu()
        failed, wall, curl_cpu = curl_scrapes(work, port, agents, count, concurrency, module)
        row = Row(
            f"prometheus-snmp-exporter, curl --parallel-max {concurrency}",
            count,
            wall,
            proc_cpu(proc.pid) - cpu0,
            agents.cpu() - agents0,
            failed,
            extra_cpu=curl_cpu,
        )
    return row


def table(rows: Sequence[Row], govnet: Row) -> str:
    out = [
        "| poller | requests | wall s | req/s | poller CPU s | load-generator CPU s | agents CPU s | timeouts/errors | govnet ÷ this |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        name = f"{r.poller} ({r.note})" if r.note else r.poller
        extra = f"{r.extra_cpu:.2f}" if r.extra_cpu is not None else "–"
        out.append(
            f"| {name} | {r.requests:,} | {r.wall:.2f} | {r.rate:,.0f} | {r.cpu:.2f} | {extra} | {r.agents_cpu:.2f} "
            f"| {r.failed} | {govnet.rate / r.rate:.2f}× |"
        )
    return "\n".join(out)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--agents", type=int, default=1000, help="agent addresses (default 1000)")
    parser.add_argument("--agent-processes", type=int, default=4, help="snmpd processes serving them")
    parser.add_argument("--port", type=int, default=16161, help="agents' UDP port")
    parser.add_argument("--cycles", type=int, default=10, help="govnet probe cycles over all agents")
    parser.add_argument("--in-flight", type=int, default=256, help="govnet max_in_flight")
    parser.add_argument("--hlapi-requests", type=int, default=3000, help="requests per naive pysnmp variant")
    parser.add_argument("--hlapi-concurrency", type=int, default=64)
    parser.add_argument("--exporter-requests", type=int, default=10000)
    parser.add_argument("--http-concurrency", type=int, nargs="+", default=[64, 256])
    parser.add_argument("--exporter-port", type=int, default=19116)
    args = parser.parse_args(argv)
    for tool in ("snmpd", "curl", "prometheus-snmp-exporter"):
        if shutil.which(tool) is None:
            print(f"missing {tool}: apt-get install snmpd curl prometheus-snmp-exporter", file=sys.stderr)
            return 1
    started = datetime.datetime.now(datetime.UTC)
    with tempfile.TemporaryDirectory(prefix="govnet-snmp-bench-") as tmp:
        work = Path(tmp)
        agents = Agents(work, addresses(args.agents), args.agent_processes, args.port)
        rows: list[Row] = []
        try:
            asyncio.run(agents.wait_ready())
            govnet = asyncio.run(bench_govnet(agents, args.cycles, args.in_flight))
            rows.append(govnet)
            for concurrency in args.http_concurrency:
                rows.append(
                    bench_exporter(work, agents, args.exporter_requests, concurrency, args.exporter_port)
                )
            rows.append(asyncio.run(bench_hlapi(agents, args.hlapi_requests // 3, None, True)))
            rows.append(asyncio.run(bench_hlapi(agents, args.hlapi_requests, args.hlapi_concurrency, True)))
            rows.append(asyncio.run(bench_hlapi(agents, args.hlapi_requests, args.hlapi_concurrency, False)))
        finally:
            agents.close()
    print(f"## SNMP benchmark, {started:%Y-%m-%d %H:%M} UTC")
    print()
    print(
        f"{args.agents} agent addresses on {args.agent_processes} snmpd processes, 5 OIDs per GET (v2c); "
        f"{os.cpu_count()} CPUs ({platform.processor() or platform.machine()}), Linux {platform.release()}, "
        f"Python {platform.python_version()}"
    )
    print()
    print(table(rows, govnet))
    return 0


if __name__ == "__main__":
    sys.exit(main())
