"""Device-health benchmark: govnet's health probe and prometheus-snmp-exporter side by side,
then the memory the probe adds for 10,000 units with health on the uplinks only.

Agents: ``--agents`` loopback addresses served by ``--agent-processes`` net-snmp ``snmpd``
(started and stopped here). Each answers the same Huawei-style health set through ``override``
lines: HUAWEI-ENTITY-EXTENT-MIB CPU/memory/temperature of one board, rx/tx power and thresholds of
two transceivers, one fan; ENTITY-MIB rows aliased to ifIndex 2 and 3; IF-MIB rows for those two
"uplinks" (ifIndex 1, ``lo``, is the kernel's). The health set per device per cycle is 33
varbinds: sysUpTime, 3 board values, the fan, 4 optical readings and 8 IF-MIB columns of 3 uplinks.

Pollers, same agents, same run:

- ``govnet`` — ``HealthProbe.poll()`` over all agents, steady state (discovery walks done in a
  warm-up cycle), ``--cycles`` cycles: one 33-varbind GET per device on the fast v2c path.
- ``prometheus-snmp-exporter`` — a generated module ``get``-ting the same 33 OIDs, scraped by
  ``curl --parallel`` (``--http-concurrency`` transfers at once), one scrape = one device cycle.

Then ``--units`` (default 10,000) targets spread over the agents (several units per address) are
polled by one probe in a fresh child process, whose peak RSS (``ru_maxrss``) and RSS after the
cycle, with the HealthState filled and scraped once, are reported next to the same child's RSS
before the probe was imported and used. It asserts nothing. Run as root in a private network
namespace: ``unshare --net bash -c 'ip link set lo up; .venv/bin/python bench/health_bench.py'``.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from prometheus_client import CollectorRegistry, generate_latest

from bench.snmp_bench import ExporterModule, Row, addresses, bench_exporter, proc_cpu, self_cpu, table
from govnet.probes.base import Target
from govnet.probes.health import HealthCollector, HealthProbe, HealthSettings, HealthState
from govnet.probes.health.probe import FORK_AT, load_plan
from govnet.probes.snmp.ber import GET, request_template
from govnet.probes.snmp.fast import SnmpError, V2cClient
from govnet.probes.snmp.plan import SYS_UPTIME
from tests.helpers import stop

COMMUNITY = "govnet-bench"
HW = "1.3.6.1.4.1.2011.5.25.31.1.1"
ENT = "1.3.6.1.2.1.47.1.1.1.1"
BOARD, PORTS = 67108873, {67469518: 2, 67469582: 3}
UPLINKS = ["lo", "XGigabitEthernet0/0/1", "XGigabitEthernet0/0/2"]
IF_COLUMNS = {  # IF-MIB column -> override type for the two simulated uplinks
    "1.3.6.1.2.1.2.2.1.9": "integer",  # override knows no TimeTicks
    "1.3.6.1.2.1.2.2.1.13": "counter",
    "1.3.6.1.2.1.2.2.1.14": "counter",
    "1.3.6.1.2.1.2.2.1.19": "counter",
    "1.3.6.1.2.1.2.2.1.20": "counter",
    "1.3.6.1.2.1.31.1.1.1.6": "counter",
    "1.3.6.1.2.1.31.1.1.1.10": "counter",
    "1.3.6.1.2.1.31.1.1.1.15": "unsigned",
}


def overrides() -> list[str]:
    """snmpd.conf ``override`` lines: the health tables every bench agent serves."""
    lines = [
        f"override .{HW}.1.1.{col}.{BOARD} integer {v}" for col, v in ((5, 12), (6, 95), (7, 40), (11, 41))
    ]
    lines.append(f"override .{HW}.10.1.7.0.0 integer 1")
    rows = [
        (16777216, 3, 0, "S5720-56C-PWR-EI-AC", "2102350DLS10H3000123"),
        (BOARD, 9, 16777216, "MPU Board 0", ""),
    ]
    for entity, ifindex in PORTS.items():
        name = UPLINKS[ifindex - 1]
        rows.append((entity, 10, BOARD, name, ""))
        lines.append(
            f"override .1.3.6.1.2.1.47.1.3.2.1.2.{entity}.0 object_id .1.3.6.1.2.1.2.2.1.1.{ifindex}"
        )
        lines += [
            f"override .{HW}.3.1.{c}.{entity} integer {v}"
            for c, v in ((8, -520), (9, -210), (13, -2000), (14, 50), (15, -800), (16, 100))
        ]
        lines.append(f'override .1.3.6.1.2.1.31.1.1.1.1.{ifindex} octet_str "{name}"')
        lines += [f"override .{oid}.{ifindex} {kind} {ifindex * 1000}" for oid, kind in IF_COLUMNS.items()]
    for entity, cls, parent, name, serial in rows:
        lines += [
            f'override .{ENT}.2.{entity} octet_str "{name}"',
            f"override .{ENT}.4.{entity} integer {parent}",
            f"override .{ENT}.5.{entity} integer {cls}",
            f'override .{ENT}.7.{entity} octet_str "{name}"',
        ]
        if serial:
            lines.append(f'override .{ENT}.11.{entity} octet_str "{serial}"')
    return lines


def health_oids() -> list[str]:
    """The 33 OIDs of one steady-state cycle (what the exporter's module ``get``s)."""
    oids = ["1.3.6.1.2.1.1.3.0"] + [f"{HW}.1.1.{c}.{BOARD}" for c in (5, 7, 11)] + [f"{HW}.10.1.7.0.0"]
    oids += [f"{HW}.3.1.{c}.{e}" for e in PORTS for c in (8, 9)]
    oids += [f"{oid}.{i}" for i in (1, 2, 3) for oid in IF_COLUMNS]
    return oids


def exporter_module() -> str:
    oids = health_oids()
    lines = [
        "health:",
        "  version: 2",
        "  auth:",
        f"    community: {COMMUNITY}",
        "  timeout: 2s",
        "  retries: 1",
    ]
    lines.append(f"  get: [{', '.join(oids)}]")
    lines.append("  metrics:")
    columns: dict[str, int] = {}
    for oid in oids:
        column, arcs = (
            (oid[:-2], 0) if oid.endswith(".0.0") and "10.1.7" in oid else (oid.rsplit(".", 1)[0], 1)
        )
        columns.setdefault(column, 2 if arcs == 0 else 1)
    columns["1.3.6.1.2.1.1.3"] = 0  # sysUpTime.0 is a scalar: no index
    for n, (column, count) in enumerate(columns.items()):
        indexes = ", ".join(f"{{labelname: i{k}, type: gauge}}" for k in range(count))
        lines.append(f"  - {{name: m{n}, oid: {column}, type: gauge, indexes: [{indexes}]}}")
    return "\n".join(lines) + "\n"


class Agents:
    """``processes`` snmpd instances sharing ``addrs``, each with the health overrides."""

    def __init__(self, work: Path, addrs: Sequence[str], processes: int, port: int) -> None:
        self.addrs, self.port, self.procs = list(addrs), port, []
        share = -(-len(addrs) // processes)
        conf = work / "snmpd.conf"
        conf.write_text("\n".join([f"rocommunity {COMMUNITY} 127.0.0.0/8", *overrides()]) + "\n")
        for n in range(processes):
            persist = work / f"snmpd-{n}"
            persist.mkdir()
            env = {**os.environ, "MIBS": "", "MIBDIRS": "/nonexistent", "SNMP_PERSISTENT_DIR": str(persist)}
            listen = [f"udp:{a}:{port}" for a in addrs[n * share : (n + 1) * share]]
            log = work / f"snmpd-{n}.log"
            args = ["snmpd", "-f", "-Lf", str(log), "-C", "-c", str(conf), "-I", "-smux", *listen]
            self.procs.append(
                subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            )

    def cpu(self) -> float:
        return sum(proc_cpu(p.pid) for p in self.procs)

    async def wait_ready(self, bound: float = 30.0) -> None:
        client = V2cClient(256)
        template = request_template(COMMUNITY.encode(), GET, [SYS_UPTIME])
        waiting, deadline = set(self.addrs), time.monotonic() + bound

        async def one(addr: str) -> None:
            try:
                await client.request((addr, self.port), template, 0.2, 0)
                waiting.discard(addr)
            except SnmpError:
                pass

        while waiting and time.monotonic() < deadline:
            await asyncio.gather(*(one(a) for a in sorted(waiting)))
        client.close()
        if waiting:
            raise SystemExit(f"{len(waiting)} agent addresses never answered")

    def close(self) -> None:
        for proc in self.procs:
            stop(proc)


def targets(addrs: Sequence[str], port: int, units: int, uplinks: Sequence[str] = UPLINKS) -> list[Target]:
    params = {"community": COMMUNITY, "uplinks": list(uplinks), "vendor": "huawei"}
    return [Target(f"u{i}", "intranet", addrs[i % len(addrs)], port, params=params) for i in range(units)]


async def bench_govnet(agents: Agents, cycles: int, in_flight: int) -> Row:
    probe = HealthProbe(HealthSettings(timeout=2.0, retries=1, max_in_flight=in_flight))
    batch = targets(agents.addrs, agents.port, len(agents.addrs))
    warm = await probe.poll(batch, 120)
    assert all(w.result.success for w in warm), [w.result.detail for w in warm if not w.result.success][:3]
    blob = probe.plans.get(batch[0].unit + "|" + batch[0].address)
    assert blob is not None and len(load_plan(blob).oids()) + 1 == len(health_oids()), (
        "33 varbinds per device"
    )
    cpu0, agents0, t0 = self_cpu(), agents.cpu(), time.perf_counter()
    failed = 0
    for _ in range(cycles):
        failed += sum(not item.result.success for item in await probe.poll(batch, 120))
    wall = time.perf_counter() - t0
    row = Row(
        f"govnet health probe (max_in_flight {in_flight})",
        cycles * len(batch),
        wall,
        self_cpu() - cpu0,
        agents.cpu() - agents0,
        failed,
    )
    await probe.close()
    return row


def memory_child(addrs: Sequence[str], port: int, units: int, fork: bool = True) -> dict[str, float]:
    """In a fresh process: RSS before, and peak / current RSS after one health cycle over ``units``
    (``fork``: discovery in a forked child, as the daemon does; else in this process)."""

    def rss() -> float:
        return int(Path("/proc/self/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20

    before = rss()
    probe = HealthProbe(HealthSettings(timeout=2.0, retries=1), fork_at=FORK_AT if fork else None)
    batch = targets(addrs, port, units, UPLINKS[1:2])  # the inventory names one uplink per device
    state = HealthState()

    async def cycles() -> int:
        failed = 0
        for _ in range(2):  # discovery, then steady state
            results = await probe.poll(batch, 600)
            failed = sum(not r.result.success for r in results)
            state.update([(r.result.target.unit, r.health) for r in results])
        await probe.close()
        return failed

    failed = asyncio.run(cycles())
    polled = rss()
    peak_polled = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    registry = CollectorRegistry()
    registry.register(HealthCollector(state))
    size = len(generate_latest(registry))
    return {
        "before_mb": before,
        "after_cycles_mb": polled,
        "after_render_mb": rss(),
        "peak_cycles_mb": peak_polled,
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "failed": failed,
        "exposition_mb": size / 2**20,
        "units": units,
        "forked_discovery": fork,
    }


def memory_run(args: argparse.Namespace, fork: str) -> dict[str, float]:
    child = [
        sys.executable,
        __file__,
        "--memory-child",
        "--agents",
        str(args.agents),
        "--port",
        str(args.port),
    ]
    done = subprocess.run(
        [*child, "--units", str(args.units), "--fork", fork], capture_output=True, text=True, check=True
    )
    result: dict[str, float] = json.loads(done.stdout)
    return result


def memory_only(args: argparse.Namespace, addrs: Sequence[str]) -> int:
    """The memory child with discovery forked and in process, on the same agents (``--memory-only``)."""
    with tempfile.TemporaryDirectory(prefix="govnet-health-bench-") as tmp:
        agents = Agents(Path(tmp), addrs, args.agent_processes, args.port)
        try:
            asyncio.run(agents.wait_ready())
            for fork in ("off", "on"):
                print(f"fork {fork}: {json.dumps(memory_run(args, fork))}", flush=True)
        finally:
            agents.close()
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--agents", type=int, default=1000)
    parser.add_argument("--agent-processes", type=int, default=4)
    parser.add_argument("--port", type=int, default=16161)
    parser.add_argument("--cycles", type=int, default=5)
    parser.add_argument("--in-flight", type=int, default=256)
    parser.add_argument("--exporter-requests", type=int, default=5000)
    parser.add_argument("--http-concurrency", type=int, nargs="+", default=[64, 256])
    parser.add_argument("--exporter-port", type=int, default=19117)
    parser.add_argument("--units", type=int, default=10000, help="units for the memory measurement")
    parser.add_argument("--fork", choices=["on", "off"], default="on", help="discovery in a forked child")
    parser.add_argument("--memory-only", action="store_true", help="only the memory measurement")
    parser.add_argument("--memory-child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    addrs = addresses(args.agents)
    if args.memory_child:
        print(json.dumps(memory_child(addrs, args.port, args.units, args.fork == "on")))
        return 0
    if args.memory_only:
        return memory_only(args, addrs)
    for tool in ("snmpd", "curl", "prometheus-snmp-exporter"):
        if shutil.which(tool) is None:
            print(f"missing {tool}: apt-get install snmpd curl prometheus-snmp-exporter", file=sys.stderr)
            return 1
    started = datetime.datetime.now(datetime.UTC)
    with tempfile.TemporaryDirectory(prefix="govnet-health-bench-") as tmp:
        work = Path(tmp)
        agents = Agents(work, addrs, args.agent_processes, args.port)
        rows: list[Row] = []
        try:
            asyncio.run(agents.wait_ready())
            govnet = asyncio.run(bench_govnet(agents, args.cycles, args.in_flight))
            rows.append(govnet)
            for concurrency in args.http_concurrency:
                module = ExporterModule("health", exporter_module())
                rows.append(
                    bench_exporter(
                        work, agents, args.exporter_requests, concurrency, args.exporter_port, module
                    )
                )
            memory = memory_run(args, args.fork)
        finally:
            agents.close()
    print(f"## Health benchmark, {started:%Y-%m-%d %H:%M} UTC")
    print()
    print(
        f"{args.agents} agent addresses on {args.agent_processes} snmpd processes, {len(health_oids())} varbinds "
        f"per device per cycle (v2c); {os.cpu_count()} CPUs, Linux {platform.release()}, Python {platform.python_version()}"
    )
    print()
    print(table(rows, govnet))
    print()
    print(f"memory, {memory['units']:,} units (health on 1 uplink each), fresh process: {json.dumps(memory)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
