"""Soak: the real daemon on a full-city lab for N minutes under random faults and heals.

Issue #8 asks for no growth in RSS, file descriptors or asyncio tasks beyond a small bound and
no missed cycles over 30 minutes on a 255-unit lab. This brings up ``govnet lab up --units N``
(its state in a temporary folder), runs ``govnet daemon`` on the lab's own daemon config (its
intervals, ICMP 5 s and SNMP/TCP/isolation 10 s, times ``--interval-scale``, default 3; the listen
port and state folder changed) and, seeded and bounded, puts faults on random units (link-down, device-down, loss,
latency, isolation-leak; sometimes an aggregation node's link) and heals each after a while. Every
``--sample`` seconds it records the daemon's RSS and open file descriptors (/proc) and scrapes
``/metrics`` for ``govnet_daemon_tasks`` and every job's cycle counters.

The last part of the run has no faults: every unit must be up again before the end (state
correct after the storm). Then it prints a table and PASS/FAIL against the bounds:

- RSS growth: mean of the last 5 samples minus mean of the first 5 after warm-up;
- fds growth: the same, on the open file descriptor count;
- tasks: the floor (minimum of a window) must not rise; a leak raises it, a running SNMP cycle
  (one task per device) only raises the peaks;
- missed cycles per job: expected (elapsed / interval) minus cycles run, from the warm-up sample
  to the last one; skipped cycles (a cycle still running when the next was due) count as missed.

It stops by itself and tears everything down (daemon SIGTERM, ``lab down``) also on Ctrl-C or
SIGTERM. Run as root inside a private network namespace, by ``scripts/soak [ARGS]`` or:

    unshare --net -- bash -c 'ip link set lo up && .venv/bin/python bench/soak.py --minutes 30'
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

import yaml
from prometheus_client.parser import text_string_to_metric_families

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.labkit import govnet  # noqa: E402

NETWORK = "198.18.0.0/15"


class Stop(Exception):
    """Ctrl-C or SIGTERM: tear down and report what was measured so far."""


def on_signal(_signum: int, _frame: FrameType | None) -> None:
    raise Stop


@dataclass
class Sample:
    at: float
    rss_mib: float
    fds: int
    tasks: float
    cycles: dict[str, float]
    skipped: dict[str, float]
    up: int
    entries: int
    """(element, segment) pairs the daemon watches, and how many of them are up."""
    faults: int


@dataclass
class Soak:
    args: argparse.Namespace
    work: Path
    name: str = field(default_factory=lambda: "sk" + uuid.uuid4().hex[:6])
    daemon: subprocess.Popen[bytes] | None = None
    base: str = ""
    intervals: dict[str, float] = field(default_factory=dict)
    samples: list[Sample] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    active: dict[str, tuple[str, float]] = field(default_factory=dict)
    """Faulted unit -> (kind, heal at)."""
    lab_up: bool = False
    worker: ThreadPoolExecutor = field(default_factory=lambda: ThreadPoolExecutor(max_workers=1))
    pending: list[Future[None]] = field(default_factory=list)

    # -- the lab and the daemon ------------------------------------------------------------
    def govnet(self, *args: str, check: bool = True) -> str:
        """The CLI's output (tests/labkit.py runs it); a failed command is a RuntimeError here."""
        try:
            return govnet(self.work / "lab-state", *args, check=check, timeout=600).stdout
        except AssertionError as exc:
            raise RuntimeError(str(exc).strip()) from None

    def up(self) -> dict[str, Any]:
        started = time.monotonic()
        self.lab_up = True
        self.govnet("lab", "up", "--name", self.name, "--units", str(self.args.units), "--network", NETWORK)
        info: dict[str, Any] = json.loads(self.govnet("lab", "status", "--name", self.name, "--json"))
        log(f"lab {self.name}: {len(info['units'])} units up in {time.monotonic() - started:.1f} s")
        return info

    def start_daemon(self, info: dict[str, Any]) -> None:
        config = yaml.safe_load(Path(info["daemon_config"]).read_text())
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        config["listen"] = f"127.0.0.1:{port}"
        config["state"] = str(self.work / "daemon-state")
        for block in config["probes"].values():  # lab speed × scale (see --interval-scale)
            block["interval"] = block["interval"] * self.args.interval_scale
        self.intervals = {kind: float(block["interval"]) for kind, block in config["probes"].items()}
        path = self.work / "daemon.yml"
        path.write_text(yaml.safe_dump(config, sort_keys=False, allow_unicode=True))
        self.base = f"http://127.0.0.1:{port}"
        with (self.work / "daemon.log").open("ab") as out:
            self.daemon = subprocess.Popen(
                [sys.executable, "-m", "govnet", "daemon", "--config", str(path)],
                cwd=ROOT,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        log(f"daemon pid {self.daemon.pid} on {self.base}; intervals {self.intervals}")

    def stop_daemon(self) -> int | None:
        if self.daemon is None or self.daemon.poll() is not None:
            return None if self.daemon is None else self.daemon.returncode
        self.daemon.send_signal(signal.SIGTERM)
        try:
            return self.daemon.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.daemon.kill()
            self.daemon.wait()
            return None

    def down(self) -> None:
        if self.lab_up:
            self.govnet("lab", "down", "--name", self.name, check=False)
            self.lab_up = False

    # -- measuring -------------------------------------------------------------------------
    def metrics(self) -> dict[str, list[tuple[dict[str, str], float]]]:
        with urllib.request.urlopen(self.base + "/metrics", timeout=30) as answer:
            text = answer.read().decode()
        out: dict[str, list[tuple[dict[str, str], float]]] = {}
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                out.setdefault(sample.name, []).append((dict(sample.labels), float(sample.value)))
        return out

    def status_units(self) -> list[dict[str, Any]]:
        with urllib.request.urlopen(self.base + "/api/status", timeout=30) as answer:
            return list(json.loads(answer.read())["units"])

    def sample(self) -> Sample:
        assert self.daemon is not None
        pid = self.daemon.pid
        rss = 0.0
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1]) / 1024
        fds = len(os.listdir(f"/proc/{pid}/fd"))
        m = self.metrics()

        def by_job(name: str) -> dict[str, float]:
            return {f"{ls['probe']}/{ls['segment']}": v for ls, v in m.get(name, [])}

        tasks = m.get("govnet_daemon_tasks", [({}, float("nan"))])[0][1]
        entries = self.status_units()
        up = sum(1 for u in entries if u["state"] == "up")
        found = Sample(
            time.monotonic(),
            rss,
            fds,
            tasks,
            by_job("govnet_probe_cycles_total"),
            by_job("govnet_probe_cycles_skipped_total"),
            up,
            len(entries),
            len(self.active),
        )
        self.samples.append(found)
        return found

    # -- faults ----------------------------------------------------------------------------
    def fault(self, rng: random.Random, info: dict[str, Any], now: float) -> None:
        units = [u for u in info["units"] if u["id"] not in self.active]
        aggs = [n for n in info["nodes"] if n["id"].startswith("agg") and n["id"] not in self.active]
        kinds = ["link-down"] * 3 + ["device-down"] * 2 + ["loss", "loss", "latency", "latency"]
        kind = rng.choice([*kinds, "isolation-leak", "agg"])
        if (
            kind == "agg"
            and aggs
            and not any(k == "link-down" and u in aggs for u, (k, _) in self.active.items())
        ):
            target, kind = rng.choice(aggs)["id"], "link-down"
        else:
            if kind == "agg":
                kind = "link-down"
            if kind == "isolation-leak":
                units = [u for u in units if {"intranet", "party"} <= set(u["segments"])]
            if not units:
                return
            target = rng.choice(units)["id"]
        if kind == "loss":
            kind = f"loss={rng.randint(10, 60)}"
        elif kind == "latency":
            kind = f"latency={rng.choice((50, 200, 500, 1500))}"
        hold = rng.uniform(self.args.hold_min, self.args.hold_max)
        self.active[target] = (kind, now + hold)  # its heal waits for the fault (one worker)
        self.events.append({"at": now, "fault": target, "kind": kind, "hold": round(hold)})
        self.pending.append(self.worker.submit(self._act, "fault", target, kind))

    def heal(self, target: str, now: float) -> None:
        kind, _ = self.active.pop(target)
        self.events.append({"at": now, "heal": target, "kind": kind})
        self.pending.append(self.worker.submit(self._act, "heal", target))

    def _act(self, verb: str, target: str, *kind: str) -> None:
        """One ``govnet lab`` call, off the sampling loop (a call takes seconds on a busy machine)."""
        try:
            self.govnet("lab", verb, target, *kind, "--name", self.name)
        except (RuntimeError, subprocess.TimeoutExpired) as exc:
            self.events.append({"at": time.monotonic(), "error": f"{verb} {target} {' '.join(kind)}: {exc}"})
            log(f"{verb} {target} {' '.join(kind)} failed: {exc}")

    def drain(self) -> None:
        """Wait for every queued fault and heal to be done."""
        for future in self.pending:
            future.result()
        self.pending.clear()

    # -- the run ---------------------------------------------------------------------------
    def run(self) -> dict[str, Any]:
        a = self.args
        info = self.up()
        self.start_daemon(info)
        rng = random.Random(a.seed)
        total_units = len(info["units"]) + len(info["nodes"])
        started = time.monotonic()
        end = started + a.minutes * 60
        faults_until = end - max(a.settle, 0.15 * a.minutes * 60)
        warm_until = started + a.warmup
        # faults start inside the warm-up: the first one imports what only faults use (scapy for
        # path localisation, ~20 MB once), and that belongs before the baseline, not in "growth"
        next_fault, next_sample, applied = started + a.warmup / 3, started + 5, 0
        baseline_at: float | None = None
        while time.monotonic() < end:
            now = time.monotonic()
            if self.daemon is None or self.daemon.poll() is not None:
                raise RuntimeError("the daemon exited during the soak (see daemon.log)")
            for target in [t for t, (_, at) in self.active.items() if at <= now or now >= faults_until]:
                self.heal(target, now)
            if now >= faults_until and self.pending:
                self.drain()
                log("every fault healed; settling")
            if now >= next_fault and now < faults_until and applied < a.faults:
                # one call at a time, and no backlog: a `govnet lab` call takes seconds here
                busy = sum(1 for f in self.pending if not f.done())
                if len(self.active) < a.concurrent and busy == 0:
                    self.fault(rng, info, now)
                    applied += 1
                next_fault = now + rng.uniform(a.gap_min, a.gap_max)
            if now >= next_sample:
                try:
                    s = self.sample()
                except OSError as exc:  # a scrape that timed out on a loaded machine is a sample lost
                    log(f"sample lost: {exc}")
                else:
                    if baseline_at is None and now >= warm_until:
                        baseline_at = s.at
                    log(
                        f"t={now - started:6.0f}s rss={s.rss_mib:6.1f}MiB fds={s.fds:3d} tasks={s.tasks:4.0f} "
                        f"up={s.up}/{s.entries} faults={s.faults} applied={applied}"
                    )
                next_sample = now + a.sample
            time.sleep(0.5)
        return self.report(started, baseline_at, applied, total_units)

    def report(self, started: float, baseline_at: float | None, applied: int, total: int) -> dict[str, Any]:
        a = self.args
        after = [s for s in self.samples if baseline_at is not None and s.at >= baseline_at]
        if len(after) < 10:
            raise RuntimeError(f"only {len(after)} samples after warm-up: run longer (--minutes)")
        first, last = after[:5], after[-5:]
        window = max(5, len(after) // 4)

        def mean(xs: list[float]) -> float:
            return statistics.fmean(xs)

        rss_growth = mean([s.rss_mib for s in last]) - mean([s.rss_mib for s in first])
        fds_growth = mean([float(s.fds) for s in last]) - mean([float(s.fds) for s in first])
        task_floor_first = min(s.tasks for s in after[:window])
        task_floor_last = min(s.tasks for s in after[-window:])
        task_max = max(s.tasks for s in after)
        span = after[-1].at - after[0].at
        jobs = []
        for job, interval in sorted(
            (job, self.intervals[job.split("/")[0]])
            for job in after[-1].cycles
            if job.split("/")[0] in self.intervals
        ):
            ran = after[-1].cycles.get(job, 0) - after[0].cycles.get(job, 0)
            skipped = after[-1].skipped.get(job, 0) - after[0].skipped.get(job, 0)
            expected = span / interval
            jobs.append(
                {
                    "job": job,
                    "interval": interval,
                    "expected": round(expected, 1),
                    "ran": ran,
                    "skipped": skipped,
                    "missed": max(0.0, round(expected - ran, 1)),
                }
            )
        final_up, entries = after[-1].up, after[-1].entries
        not_up = [
            f"{u['unit']}/{u['segment']}={u['state']}" for u in self.status_units() if u["state"] != "up"
        ]
        checks = {
            f"RSS growth {rss_growth:+.1f} MiB <= {a.rss_bound} MiB": rss_growth <= a.rss_bound,
            f"fds growth {fds_growth:+.1f} <= {a.fd_bound}": fds_growth <= a.fd_bound,
            f"task floor {task_floor_first:.0f} -> {task_floor_last:.0f} (rise <= {a.task_bound})": (
                task_floor_last - task_floor_first <= a.task_bound
            ),
            f"task peak {task_max:.0f} <= {a.task_peak}": task_max <= a.task_peak,
            "no missed cycles (<= 2 per job: a counter read at each edge of the window may be one "
            "cycle short), none skipped": all(j["missed"] <= 2.0 and j["skipped"] == 0 for j in jobs),
            f"every unit and node up on every segment at the end ({final_up}/{entries})": final_up == entries,
            "daemon alive all along": self.daemon is not None and self.daemon.poll() is None,
        }
        return {
            "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
            "host": {"cpus": os.cpu_count(), "python": platform.python_version(), "load": os.getloadavg()},
            "args": vars(a),
            "lab": self.name,
            "units": total,
            "minutes": round((time.monotonic() - started) / 60, 1),
            "faults_applied": applied,
            "not_up_at_end": not_up,
            "fault_kinds": sorted({str(e["kind"]).split("=")[0] for e in self.events if "fault" in e}),
            "samples": len(self.samples),
            "rss_mib": {
                "warm": round(mean([s.rss_mib for s in first]), 1),
                "end": round(mean([s.rss_mib for s in last]), 1),
                "max": round(max(s.rss_mib for s in after), 1),
                "growth": round(rss_growth, 1),
            },
            "fds": {
                "warm": mean([float(s.fds) for s in first]),
                "end": mean([float(s.fds) for s in last]),
                "max": max(s.fds for s in after),
            },
            "tasks": {"floor_first": task_floor_first, "floor_last": task_floor_last, "max": task_max},
            "jobs": jobs,
            "checks": checks,
            "passed": all(checks.values()),
            "events": self.events,
            "series": [asdict(s) for s in self.samples],
        }


def log(message: str) -> None:
    stamp = datetime.datetime.now(datetime.UTC).strftime("%H:%M:%S")
    print(f"[soak {stamp}] {message}", flush=True)


def table(result: dict[str, Any]) -> str:
    r, f, t = result["rss_mib"], result["fds"], result["tasks"]
    lines = [
        f"soak: {result['units']} elements, {result['minutes']} min, {result['faults_applied']} faults "
        f"({', '.join(result['fault_kinds'])}), seed {result['args']['seed']}, {result['samples']} samples",
        "",
        "| measure | after warm-up | end | max | growth |",
        "|---|---|---|---|---|",
        f"| daemon RSS (MiB) | {r['warm']} | {r['end']} | {r['max']} | {r['growth']:+} |",
        f"| open fds | {f['warm']:.0f} | {f['end']:.0f} | {f['max']} | {f['end'] - f['warm']:+.0f} |",
        f"| asyncio tasks (floor of a window / peak) | {t['floor_first']:.0f} | {t['floor_last']:.0f} "
        f"| {t['max']:.0f} | {t['floor_last'] - t['floor_first']:+.0f} |",
        "",
        "| job | interval s | expected | ran | skipped | missed |",
        "|---|---|---|---|---|---|",
    ]
    for j in result["jobs"]:
        lines.append(
            f"| {j['job']} | {j['interval']:g} | {j['expected']} | {j['ran']:.0f} | {j['skipped']:.0f} | {j['missed']} |"
        )
    if result["not_up_at_end"]:
        lines.append(f"\nnot up at the end: {', '.join(result['not_up_at_end'])}")
    lines.append("")
    for check, ok in result["checks"].items():
        lines.append(f"{'PASS' if ok else 'FAIL'}  {check}")
    lines.append("")
    lines.append("SOAK PASSED" if result["passed"] else "SOAK FAILED")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--minutes", type=float, default=30.0)
    p.add_argument("--units", type=int, default=255)
    p.add_argument("--seed", type=int, default=8)
    p.add_argument(
        "--interval-scale",
        type=float,
        default=3.0,
        help="the lab's daemon intervals (ICMP 5 s, SNMP/TCP/isolation 10 s) times this",
    )
    p.add_argument("--faults", type=int, default=120, help="at most this many faults in the run")
    p.add_argument("--concurrent", type=int, default=6, help="at most this many faults at once")
    p.add_argument("--gap-min", type=float, default=8.0, help="seconds between two faults (min)")
    p.add_argument("--gap-max", type=float, default=30.0)
    p.add_argument("--hold-min", type=float, default=15.0, help="seconds a fault stays (min)")
    p.add_argument("--hold-max", type=float, default=120.0)
    p.add_argument("--warmup", type=float, default=120.0, help="seconds before the baseline sample")
    p.add_argument("--settle", type=float, default=180.0, help="fault-free seconds at the end")
    p.add_argument("--sample", type=float, default=20.0, help="seconds between samples")
    p.add_argument("--rss-bound", type=float, default=32.0, help="MiB of RSS growth allowed")
    p.add_argument("--fd-bound", type=float, default=8.0)
    p.add_argument("--task-bound", type=float, default=8.0, help="rise of the task floor allowed")
    p.add_argument("--task-peak", type=float, default=1200.0)
    p.add_argument("--out", type=Path, help="write the full result (samples, events) as JSON here")
    p.add_argument("--keep", action="store_true", help="keep the work folder (daemon log)")
    args = p.parse_args(argv)
    if os.geteuid() != 0:
        p.error("needs root (network namespaces): run it through scripts/soak")
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    work = Path(tempfile.mkdtemp(prefix="govnet-soak-"))
    soak = Soak(args, work)
    result: dict[str, Any] | None = None
    code = 1
    try:
        result = soak.run()
        code = 0 if result["passed"] else 1
    except Stop:
        log("interrupted: tearing down")
        code = 130
    except RuntimeError as exc:
        log(f"error: {exc}")
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not skip the teardown
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        soak.worker.shutdown(wait=True, cancel_futures=True)
        rc = soak.stop_daemon()
        log(f"daemon stopped (exit {rc})")
        soak.down()
        log(f"lab {soak.name} down; daemon log: {work / 'daemon.log'}")
        if result is not None:
            result["daemon_exit"] = rc
            print(table(result), flush=True)
            if args.out:
                args.out.write_text(json.dumps(result, indent=1, default=str))
        if not args.keep and code == 0:
            subprocess.run(["rm", "-rf", str(work)], check=False)
    return code


if __name__ == "__main__":
    sys.exit(main())
