"""Daemon benchmark: ``govnet daemon`` holding N units (default 10,000) on loopback addresses.

Issue #6 asks: RSS <= 150 MB, one ``/metrics`` scrape <= 50 ms (rendered once per cycle, not per
scrape; gzip when asked). This runs the real daemon as a child process on an inventory from
``bench/gen_inventory.py`` (every address in 127.0.0.0/8; the Linux loopback answers them all)
and measures, after ``--cycles`` ICMP cycles per segment and two SNMP cycles:

- the daemon's RSS (VmRSS, and the peak VmHWM) from /proc;
- ``/metrics`` scrape latency over a fresh TCP connection each, median / p95 of ``--scrapes``,
  plain and with ``Accept-Encoding: gzip``, and the exposition's size;
- each job's last cycle duration (``govnet_probe_duration_seconds``) and the render time of the
  exposition (``govnet_exposition_render_seconds``);
- start-up: process start to first ``/healthz``, and to every job having finished a cycle.

SNMP: with ``--snmp agents`` (default) one net-snmp ``snmpd`` listens on UDP 161 of every
loopback address and answers for all N devices (v2c, interface ``lo``); ``--snmp off`` disables
the SNMP job. ``--health on`` runs the health kind too, against the real vendor set the health
bench's agents serve (``bench/health_bench.py`` ``overrides()``: the same snmpd also answers
HUAWEI-ENTITY-EXTENT-MIB, ENTITY-MIB and the uplinks' IF-MIB rows), every device's inventory
uplink being one of the agent's uplinks (`HEALTH_UPLINK`), so health polls ~20 series per unit. It asserts nothing. Run as root inside a private network namespace:

    unshare --net bash -c 'ip link set lo up; .venv/bin/python bench/daemon_bench.py'
    unshare --net bash -c 'ip link set lo up; .venv/bin/python bench/daemon_bench.py --shards 2'

``--shards N`` runs N daemons side by side on the same inventory, each ``--shard K/N`` (one
``snmpd`` answers them all), and reports each one's figures in a column of its own.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import http.client
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import yaml
from prometheus_client.parser import text_string_to_metric_families

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import health_bench  # noqa: E402
from bench.gen_inventory import MANAGEMENT, inventory  # noqa: E402

COMMUNITY = "bench"
HEALTH_UPLINK = health_bench.UPLINKS[1]
"""The inventory's uplink with ``--health on``: one of the two the agent serves optics and IF-MIB
rows for (as ``bench/health_bench.py``'s memory child polls one uplink per unit)."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def proc_status(pid: int) -> dict[str, int]:
    """VmRSS / VmHWM in kB."""
    out = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            out[key] = int(value.split()[0])
    return out


def cpu_seconds(pid: int, children: bool = False) -> float:
    """utime + stime (+ cutime + cstime: the render and load children it has reaped)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = int(fields[11]) + int(fields[12]) + (int(fields[13]) + int(fields[14]) if children else 0)
    return ticks / os.sysconf("SC_CLK_TCK")


class ChildWatch(threading.Thread):
    """Samples the daemon's forked children (renders): the most private memory one held."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid, self.peak_kb, self.seen, self.stopping = pid, 0, 0, threading.Event()

    def run(self) -> None:
        known: set[str] = set()
        while not self.stopping.wait(0.05):
            try:
                kids = Path(f"/proc/{self.pid}/task/{self.pid}/children").read_text().split()
            except OSError:
                continue
            for kid in kids:
                known.add(kid)
                try:
                    rollup = Path(f"/proc/{kid}/smaps_rollup").read_text()
                except OSError:
                    continue
                private = sum(
                    int(line.split()[1]) for line in rollup.splitlines() if line.startswith("Private_")
                )
                self.peak_kb = max(self.peak_kb, private)
            self.seen = len(known)


def get(port: int, path: str, gzip: bool = False) -> tuple[float, int, bytes]:
    """(seconds, status, body) of one request over a fresh connection."""
    started = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("GET", path, headers={"Accept-Encoding": "gzip"} if gzip else {})
    answer = conn.getresponse()
    body = answer.read()
    conn.close()
    return time.perf_counter() - started, answer.status, body


def samples(port: int) -> dict[str, list[tuple[dict[str, str], float]]]:
    _, _, body = get(port, "/metrics")
    out: dict[str, list[tuple[dict[str, str], float]]] = {}
    for family in text_string_to_metric_families(body.decode()):
        for sample in family.samples:
            out.setdefault(sample.name, []).append((dict(sample.labels), float(sample.value)))
    return out


def lines(port: int, *names: str) -> dict[str, list[tuple[dict[str, str], float]]]:
    """Only the samples of ``names`` (their lines picked out of the text before parsing): the
    bench polls this every few seconds and must not burn a core parsing 300,000 series."""
    _, _, body = get(port, "/metrics")
    text = "\n".join(
        line for line in body.decode().splitlines() if line.startswith(names) and not line.startswith("#")
    )
    out: dict[str, list[tuple[dict[str, str], float]]] = {}
    for family in text_string_to_metric_families(text + "\n"):
        for sample in family.samples:
            out.setdefault(sample.name, []).append((dict(sample.labels), float(sample.value)))
    return out


def until(what: Callable[[], Any], bound: float, message: str) -> Any:
    deadline = time.monotonic() + bound
    while time.monotonic() < deadline:
        found = what()
        if found:
            return found
        time.sleep(2.0)
    raise SystemExit(f"timed out: {message}")


class Snmpd:
    """One snmpd answering v2c on UDP 161 of every address (agentAddress udp:161)."""

    def __init__(self, work: Path) -> None:
        conf = work / "snmpd.conf"
        conf.write_text(f"rocommunity {COMMUNITY} 127.0.0.0/8\nagentAddress udp:161\n")
        env = {**os.environ, "MIBS": "", "SNMP_PERSISTENT_DIR": str(work / "snmpd")}
        argv = ["snmpd", "-f", "-C", "-c", str(conf), "-I", "-smux", "-Lf", str(work / "snmpd.log")]
        self.proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)


class HealthAgents:
    """With ``--health on``: ``bench/health_bench.py``'s agents (its ``Agents``: snmpd processes
    sharing the addresses, each serving the Huawei-like health set of its ``overrides()``:
    board CPU/memory/temperature, two transceivers' power and thresholds, a fan, ENTITY-MIB rows
    and the IF-MIB rows of ``XGigabitEthernet0/0/1`` and ``/2``) on UDP 161 of every device
    address of the inventory. Why several processes: one snmpd answering discovery walks and
    two kinds' GETs for 10,101 devices fell behind on the loaded machine, and health timeouts
    measure the agent, not the daemon."""

    def __init__(self, work: Path, units: int, per_agg: int, processes: int) -> None:
        aggs = -(-units // per_agg)
        hosts = [MANAGEMENT + 1, *(MANAGEMENT + 256 + a for a in range(aggs))]
        hosts += [MANAGEMENT + 65536 + i for i in range(units)]
        (work / "agents").mkdir()
        self.agents = health_bench.Agents(work / "agents", [str(h) for h in hosts], processes, 161)
        asyncio.run(self.agents.wait_ready(120))

    def stop(self) -> None:
        self.agents.close()


def config(work: Path, port: int, args: argparse.Namespace, name: str = "daemon.yml") -> Path:
    probes: dict[str, Any] = {
        "icmp": {"interval": args.icmp_interval, "count": 3, "rate": args.rate, "echo_interval": 0.02},
        "snmp": {
            "interval": args.snmp_interval,
            "timeout": 2.0,
            "retries": 1,
            "enabled": args.snmp == "agents",
        },
        "tcp": {"enabled": False},
    }
    if (
        args.health == "on"
    ):  # device health on every device's uplink (`HEALTH_UPLINK`, the agent's vendor set)
        probes["health"] = {"interval": args.health_interval, "timeout": 2.0, "retries": 1}
    path = work / name
    path.write_text(
        yaml.safe_dump(
            {
                "inventory": "inventory.yml",
                "allowed_networks": ["127.0.0.0/8"],
                "listen": f"127.0.0.1:{port}",
                "state": "state",
                "probes": probes,
                "path": {"enabled": False},
            },
            sort_keys=False,
        )
    )
    return path


class Measured:
    """One daemon process (one shard) and what was measured of it."""

    def __init__(self, work: Path, shard: str | None, args: argparse.Namespace, env: dict[str, str]) -> None:
        self.shard, self.port = shard, free_port()
        suffix = f"-{shard.replace('/', 'of')}" if shard else ""
        path = config(work, self.port, args, f"daemon{suffix}.yml")
        self.log = (work / f"daemon{suffix}.log").open("wb")
        self.started = time.monotonic()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "govnet", "daemon", "--config", str(path)]
            + (["--shard", shard] if shard else []),
            cwd=ROOT,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        self.ready = self.first = 0.0
        self.memory: dict[str, int] = {}
        self.memory_after: dict[str, int] = {}
        self.plain: list[tuple[float, int, bytes]] = []
        self.zipped: list[tuple[float, int, bytes]] = []
        self.metrics: dict[str, list[tuple[dict[str, str], float]]] = {}
        self.cpu = (0.0, 0.0)
        self.coverage = 0.0
        self.code = -1
        self.watch = ChildWatch(self.proc.pid)

    def cycles_done(self, jobs: list[tuple[str, str]], needed: dict[str, int]) -> bool:
        found = lines(self.port, "govnet_probe_cycles_total").get("govnet_probe_cycles_total", [])
        done = {(ls["probe"], ls["segment"]): v for ls, v in found}
        return all(done.get(j, 0) >= needed[j[0]] for j in jobs)

    def health_covered(self, share: float) -> bool:
        """Whether ``share`` of the devices answered the last health cycle (each has one board CPU
        series): discovery of 10,101 devices takes a few cycles on a loaded machine."""
        metric = "govnet_device_cpu_ratio"
        units = lines(self.port, "govnet_units_watched").get("govnet_units_watched", [({}, 0.0)])[0][1]
        answered = len(lines(self.port, metric).get(metric, []))
        self.coverage = answered / (units + -(-units // 100) + 1)
        return self.coverage >= share

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        self.code = self.proc.wait(30)
        self.log.close()


def needed(icmp: int, devices: int) -> dict[str, int]:
    """Cycles each kind's jobs must have finished: ICMP per segment, SNMP and health."""
    return {"icmp": icmp, "snmp": devices, "health": devices}


def agents(args: argparse.Namespace, work: Path) -> tuple[Snmpd | HealthAgents | None, dict[str, str]]:
    """Write the inventory, start the SNMP agents; the daemon's environment (the community)."""
    health = args.health == "on" and args.snmp == "agents"
    (work / "inventory.yml").write_text(
        yaml.dump(
            inventory(args.units, uplink=HEALTH_UPLINK if health else "lo"),
            allow_unicode=True,
            Dumper=getattr(yaml, "CSafeDumper", yaml.SafeDumper),
        )
    )
    agent: Snmpd | HealthAgents | None = None
    if health:
        agent = HealthAgents(work, args.units, 100, args.agent_processes)
    elif args.snmp == "agents":
        agent = Snmpd(work)
    community = health_bench.COMMUNITY if health else COMMUNITY
    return agent, {**os.environ, "GOVNET_BENCH_COMMUNITY": community, "GOVNET_BENCH_PASSWORD": "unused"}


def run(args: argparse.Namespace) -> None:
    work = Path(tempfile.mkdtemp(prefix="govnet-daemon-bench-"))
    agent, env = agents(args, work)
    health = isinstance(agent, HealthAgents)
    shards: list[str | None] = (
        [f"{k}/{args.shards}" for k in range(1, args.shards + 1)] if args.shards > 1 else [None]
    )
    daemons = [Measured(work, shard, args, env) for shard in shards]
    jobs = [("icmp", s) for s in ("intranet", "party", "extranet")]
    jobs += [("snmp", "management")] if agent else []
    jobs += [("health", "management")] if agent and args.health == "on" else []
    try:
        for d in daemons:
            until(partial(_healthz, d.port), 600, "the daemon's /healthz")
            d.ready = time.monotonic() - d.started
            d.watch.start()
        for d in daemons:
            until(partial(d.cycles_done, jobs, needed(1, 1)), 900, "a first cycle of every job")
            d.first = time.monotonic() - d.started
        for d in daemons:
            until(partial(d.cycles_done, jobs, needed(args.cycles, 2)), 900, "the measured cycles")
            if health:
                until(partial(d.health_covered, args.health_coverage), 1800, "health from most devices")
        wall_before = time.monotonic()
        before = [(cpu_seconds(d.proc.pid), cpu_seconds(d.proc.pid, children=True)) for d in daemons]
        for d in daemons:
            d.memory = proc_status(d.proc.pid)
            d.plain = [get(d.port, "/metrics") for _ in range(args.scrapes)]
            d.zipped = [get(d.port, "/metrics", gzip=True) for _ in range(args.scrapes)]
        for d in daemons:
            until(partial(d.cycles_done, jobs, needed(args.cycles + 1, 2)), 900, "one more cycle")
        wall = time.monotonic() - wall_before
        for d, (own, total) in zip(daemons, before, strict=True):
            d.cpu = (
                (cpu_seconds(d.proc.pid) - own) / wall,
                (cpu_seconds(d.proc.pid, children=True) - total) / wall,
            )
            d.watch.stopping.set()
            d.metrics = samples(d.port)
            d.memory_after = proc_status(d.proc.pid)
    finally:
        for d in daemons:
            if d.proc.poll() is None:
                d.stop()
        if agent:
            agent.stop()
    report(args, work, daemons)
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)


def _healthz(port: int) -> bool:
    try:
        return get(port, "/healthz")[1] in (200, 503)
    except OSError:
        return False


def report(args: argparse.Namespace, work: Path, daemons: list[Measured]) -> None:
    def ms(values: list[tuple[float, int, bytes]], q: float) -> str:
        times = sorted(v[0] for v in values)
        return f"{1000 * (statistics.median(times) if q == 0.5 else times[int(q * (len(times) - 1))]):.2f}"

    def row(measure: str, value: Callable[[Measured], str], target: str = "") -> None:
        print(f"| {measure} | " + " | ".join(value(d) for d in daemons) + f" | {target} |")

    print(
        f"# govnet daemon bench, {datetime.date.today()}, {platform.node()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, load average {os.getloadavg()[0]:.1f}"
    )
    print(
        f"units {args.units}; SNMP {args.snmp}; ICMP every {args.icmp_interval} s at {args.rate:g} pps; "
        f"work dir {work}; daemon exit codes {[d.code for d in daemons]}\n"
    )
    heads = [f"shard {d.shard}" if d.shard else "value" for d in daemons]
    print("| measure | " + " | ".join(heads) + " | target |\n|---|" + "---|" * len(daemons) + "---|")
    row("units watched", lambda d: f"{d.metrics.get('govnet_units_watched', [({}, 0.0)])[0][1]:,.0f}")
    row(
        f"RSS after {args.cycles} ICMP cycles (VmRSS)",
        lambda d: f"{d.memory['VmRSS'] / 1024:.0f} MB",
        "≤ 150 MB",
    )
    row("RSS one cycle later", lambda d: f"{d.memory_after['VmRSS'] / 1024:.0f} MB")
    row("peak RSS (VmHWM, start-up included)", lambda d: f"{d.memory_after['VmHWM'] / 1024:.0f} MB")
    row(
        f"/metrics plain, median / p95 of {args.scrapes}",
        lambda d: f"{ms(d.plain, 0.5)} / {ms(d.plain, 0.95)} ms",
        "≤ 50 ms",
    )
    row(
        f"/metrics gzip, median / p95 of {args.scrapes}",
        lambda d: f"{ms(d.zipped, 0.5)} / {ms(d.zipped, 0.95)} ms",
        "≤ 50 ms",
    )
    row(
        "exposition size plain / gzip",
        lambda d: f"{len(d.plain[0][2]) / 1e6:.1f} MB / {len(d.zipped[0][2]) / 1e6:.2f} MB",
    )
    row("series exposed", lambda d: f"{sum(len(v) for v in d.metrics.values()):,}")
    row("of which health (device, optics, interface)", lambda d: f"{_health_series(d.metrics):,}")
    row("devices answering health when measured", lambda d: f"{100 * d.coverage:.1f} %")
    row(
        "render of the exposition (forked child, once per change)",
        lambda d: f"{d.metrics.get('govnet_exposition_render_seconds', [({}, float('nan'))])[0][1]:.2f} s",
    )
    row("render child, most private memory", lambda d: f"{d.watch.peak_kb / 1024:.0f} MB")
    devices = [("snmp", "management"), ("health", "management")]
    for probe, segment in [("icmp", s) for s in ("intranet", "party", "extranet")] + devices:

        def cycle(d: Measured, probe: str = probe, segment: str = segment) -> str:
            found = [
                v
                for ls, v in d.metrics.get("govnet_probe_duration_seconds", [])
                if ls["probe"] == probe and ls["segment"] == segment
            ]
            return f"{found[0]:.2f} s" if found else "—"

        row(f"cycle {probe}/{segment}", cycle)
    row(
        "daemon CPU, steady state: itself / with its render children",
        lambda d: f"{100 * d.cpu[0]:.0f} % / {100 * d.cpu[1]:.0f} % of one core",
    )
    row("start to /healthz (inventory load)", lambda d: f"{d.ready:.1f} s")
    row("start to every job's first cycle", lambda d: f"{d.first:.1f} s")


def _health_series(metrics: dict[str, list[tuple[dict[str, str], float]]]) -> int:
    """The health kind's series: proof that it read the agent's vendor set, not just sysUpTime."""
    prefixes = ("govnet_device_", "govnet_optics_", "govnet_interface_")
    return sum(len(v) for name, v in metrics.items() if name.startswith(prefixes))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=10_000)
    parser.add_argument("--snmp", choices=("agents", "off"), default="agents")
    parser.add_argument("--health", choices=("on", "off"), default="off", help="the health probe too")
    parser.add_argument("--cycles", type=int, default=3, help="ICMP cycles per segment before measuring")
    parser.add_argument("--scrapes", type=int, default=50)
    parser.add_argument("--icmp-interval", type=float, default=10.0)
    parser.add_argument("--snmp-interval", type=float, default=30.0)
    parser.add_argument(
        "--health-interval",
        type=float,
        default=60.0,
        help="the kind's default: discovery of 10,000 units fits",
    )
    parser.add_argument("--agent-processes", type=int, default=4, help="snmpd processes with --health on")
    parser.add_argument(
        "--health-coverage",
        type=float,
        default=0.95,
        help="share of devices health must answer before measuring",
    )
    parser.add_argument("--rate", type=float, default=20_000, help="ICMP packets/s per segment job")
    parser.add_argument("--shards", type=int, default=1, help="N daemons, each --shard K/N, side by side")
    parser.add_argument("--keep", action="store_true", help="keep the work dir (daemon log, config)")
    args = parser.parse_args()
    if os.geteuid() != 0:
        raise SystemExit("run as root in a private network namespace (see the module doc)")
    run(args)


if __name__ == "__main__":
    main()
