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
the SNMP job. It asserts nothing. Run as root inside a private network namespace:

    unshare --net bash -c 'ip link set lo up; .venv/bin/python bench/daemon_bench.py'
"""

from __future__ import annotations

import argparse
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
from pathlib import Path
from typing import Any

import yaml
from prometheus_client.parser import text_string_to_metric_families

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.gen_inventory import inventory  # noqa: E402

COMMUNITY = "bench"


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


def until(what: Callable[[], Any], bound: float, message: str) -> Any:
    deadline = time.monotonic() + bound
    while time.monotonic() < deadline:
        found = what()
        if found:
            return found
        time.sleep(0.2)
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


def config(work: Path, units: int, port: int, args: argparse.Namespace) -> Path:
    (work / "inventory.yml").write_text(
        yaml.dump(inventory(units), allow_unicode=True, Dumper=getattr(yaml, "CSafeDumper", yaml.SafeDumper))
    )
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
    path = work / "daemon.yml"
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


def run(args: argparse.Namespace) -> None:
    work = Path(tempfile.mkdtemp(prefix="govnet-daemon-bench-"))
    port = free_port()
    path = config(work, args.units, port, args)
    agent = Snmpd(work) if args.snmp == "agents" else None
    env = {**os.environ, "GOVNET_BENCH_COMMUNITY": COMMUNITY, "GOVNET_BENCH_PASSWORD": "unused"}
    log = (work / "daemon.log").open("wb")
    started = time.monotonic()
    daemon = subprocess.Popen(
        [sys.executable, "-m", "govnet", "daemon", "--config", str(path)],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        until(lambda: _healthz(port), 600, "the daemon's /healthz")
        ready = time.monotonic() - started
        jobs = [("icmp", s) for s in ("intranet", "party", "extranet")]
        jobs += [("snmp", "management")] if agent else []

        def cycles_done(needed: dict[str, int]) -> bool:
            found = samples(port).get("govnet_probe_cycles_total", [])
            done = {(ls["probe"], ls["segment"]): v for ls, v in found}
            return all(done.get(j, 0) >= needed[j[0]] for j in jobs)

        watch = ChildWatch(daemon.pid)
        watch.start()
        until(lambda: cycles_done({"icmp": 1, "snmp": 1}), 900, "a first cycle of every job")
        first = time.monotonic() - started
        until(lambda: cycles_done({"icmp": args.cycles, "snmp": 2}), 900, "the measured cycles")
        cpu_before, wall_before = cpu_seconds(daemon.pid), time.monotonic()
        all_before = cpu_seconds(daemon.pid, children=True)
        memory = proc_status(daemon.pid)
        plain = [get(port, "/metrics") for _ in range(args.scrapes)]
        zipped = [get(port, "/metrics", gzip=True) for _ in range(args.scrapes)]
        until(lambda: cycles_done({"icmp": args.cycles + 1, "snmp": 2}), 900, "one more ICMP cycle")
        wall = time.monotonic() - wall_before
        cpu = (cpu_seconds(daemon.pid) - cpu_before) / wall
        cpu_all = (cpu_seconds(daemon.pid, children=True) - all_before) / wall
        watch.stopping.set()
        metrics = samples(port)
        memory_after = proc_status(daemon.pid)
    finally:
        daemon.send_signal(signal.SIGTERM)
        code = daemon.wait(30)
        if agent:
            agent.stop()
        log.close()
    report(
        args, work, ready, first, memory, memory_after, plain, zipped, metrics, (cpu, cpu_all), code, watch
    )
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)


def _healthz(port: int) -> bool:
    try:
        return get(port, "/healthz")[1] in (200, 503)
    except OSError:
        return False


def report(
    args: argparse.Namespace,
    work: Path,
    ready: float,
    first: float,
    memory: dict[str, int],
    memory_after: dict[str, int],
    plain: list[tuple[float, int, bytes]],
    zipped: list[tuple[float, int, bytes]],
    metrics: dict[str, list[tuple[dict[str, str], float]]],
    cpu: tuple[float, float],
    code: int,
    watch: ChildWatch,
) -> None:
    def ms(values: list[tuple[float, int, bytes]], q: float) -> str:
        times = sorted(v[0] for v in values)
        return f"{1000 * (statistics.median(times) if q == 0.5 else times[int(q * (len(times) - 1))]):.2f}"

    series = sum(len(v) for v in metrics.values())
    print(
        f"# govnet daemon bench, {datetime.date.today()}, {platform.node()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, load average {os.getloadavg()[0]:.1f}"
    )
    print(
        f"units {args.units}; SNMP {args.snmp}; ICMP every {args.icmp_interval} s at {args.rate:g} pps; "
        f"work dir {work}; daemon exit code {code}\n"
    )
    print("| measure | value | target |\n|---|---|---|")
    print(f"| RSS after {args.cycles} ICMP cycles (VmRSS) | {memory['VmRSS'] / 1024:.0f} MB | ≤ 150 MB |")
    print(f"| RSS one cycle later | {memory_after['VmRSS'] / 1024:.0f} MB | |")
    print(f"| peak RSS (VmHWM, start-up included) | {memory_after['VmHWM'] / 1024:.0f} MB | |")
    print(
        f"| /metrics plain, median / p95 of {len(plain)} | {ms(plain, 0.5)} / {ms(plain, 0.95)} ms | ≤ 50 ms |"
    )
    print(
        f"| /metrics gzip, median / p95 of {len(zipped)} | {ms(zipped, 0.5)} / {ms(zipped, 0.95)} ms | ≤ 50 ms |"
    )
    print(
        f"| exposition size plain / gzip | {len(plain[0][2]) / 1e6:.1f} MB / {len(zipped[0][2]) / 1e6:.2f} MB | |"
    )
    print(f"| series exposed | {series:,} | |")
    render = metrics.get("govnet_exposition_render_seconds", [({}, float("nan"))])[0][1]
    print(f"| render of the exposition (forked child, once per change) | {render:.2f} s | |")
    print(f"| render child, most private memory (COW copies + its own) | {watch.peak_kb / 1024:.0f} MB | |")
    for labels, value in sorted(metrics.get("govnet_probe_duration_seconds", []), key=lambda x: str(x[0])):
        print(f"| cycle {labels['probe']}/{labels['segment']} | {value:.2f} s | |")
    print(
        f"| daemon CPU, steady state: itself / with its render children | {100 * cpu[0]:.0f} % / {100 * cpu[1]:.0f} % of one core | |"
    )
    print(f"| start to /healthz (inventory load) | {ready:.1f} s | |")
    print(f"| start to every job's first cycle | {first:.1f} s | |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=10_000)
    parser.add_argument("--snmp", choices=("agents", "off"), default="agents")
    parser.add_argument("--cycles", type=int, default=3, help="ICMP cycles per segment before measuring")
    parser.add_argument("--scrapes", type=int, default=50)
    parser.add_argument("--icmp-interval", type=float, default=10.0)
    parser.add_argument("--snmp-interval", type=float, default=30.0)
    parser.add_argument("--rate", type=float, default=20_000, help="ICMP packets/s per segment job")
    parser.add_argument("--keep", action="store_true", help="keep the work dir (daemon log, config)")
    args = parser.parse_args()
    if os.geteuid() != 0:
        raise SystemExit("run as root in a private network namespace (see the module doc)")
    run(args)


if __name__ == "__main__":
    main()
