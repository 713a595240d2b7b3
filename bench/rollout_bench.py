"""Rollout on the full-city lab: plan + apply + verify of 255 units, timed, with the CPU it costs.

Issue #5 sets the target: 255 lab devices, a 20-line change, plan + apply + verify within 15 s at
concurrency 50. This brings up ``govnet lab up --units N`` (state in a temporary folder) and runs
the real CLI, one process per step, exactly as an engineer would:

1. ``first``: the first party rollout to a fresh lab (every device gets the baseline + party
   parts it lacks, ~40 lines);
2. ``change``: the change the target names: ten more management networks in the inventory, which
   the baseline turns into 20 new ACL lines per device (management and SNMP ACLs), rolled out to
   the party segment's devices;
3. ``again``: a plan of the same scope afterwards, which must be empty (idempotency).

Each step records its wall time, the CPU seconds of the govnet process (``wait4`` rusage) and the
CPU seconds the lab's device simulator processes spent meanwhile (``/proc/PID/stat``), so a run on
a shared machine still says where the time went. Results print as a Markdown table and, with
``--json FILE``, as JSON. Run as root inside a private network namespace:

    unshare --net -- bash -c 'ip link set lo up && .venv/bin/python bench/rollout_bench.py'

With ``--timing PROFILE`` every lab device plays a timing profile (``govnet lab up --timing``,
``govnet/lab/devsim/timing.py``: a real switch's login, per-line answer, show and save delays)
and each step also reports its *floor*: the least wall time its concurrency allows, waves × the
slowest device's own time. A device's own time is the sum of the profile's delays over what
govnet makes it do (``device_seconds``); the waves are ``ceil(units / concurrency)`` for a plan,
and for an apply the canary units one at a time, then ``ceil(rest / concurrency)``
(``govnet.rollout.runner.Runner``). ``wall / floor`` says what govnet adds on top.

It tears the lab down at the end, also on Ctrl-C.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import asdict, dataclass
from ipaddress import IPv4Network
from pathlib import Path

import yaml

from govnet.lab.devsim.timing import PROFILES, Delays

ROOT = Path(__file__).resolve().parent.parent
NETWORK = "198.18.0.0/15"
EXTRA_MANAGEMENT = 10
"""Networks added to the site's management list in ``change``: 2 ACL lines each per device."""


@dataclass
class Step:
    name: str
    command: str
    wall_s: float
    govnet_cpu_s: float
    simulator_cpu_s: float
    devices: int
    changed: int
    lines_per_device: float
    waves: int = 0
    device_s: float = 0.0
    """The slowest device's own time under the timing profile (plan + apply), 0 without one."""
    floor_s: float = 0.0
    plan_wall_s: float = 0.0
    plan_floor_s: float = 0.0

    @property
    def ratio(self) -> float:
        return self.wall_s / self.floor_s if self.floor_s else 0.0


CANARY = 1
"""``govnet rollout apply``'s default ``--canary``: units changed one at a time before the rest."""


def device_seconds(
    delays: Delays, platform: str, *, lines: int, sizes: tuple[int, int], apply: bool
) -> float:
    """What a timed device spends on govnet's sequence: the profile's delays, nothing else.

    A session answers a bare Enter, the paging command (and ``enable`` on IOS) at login and its
    logout word at the end; a plan reads the running config once; an apply reads it, enters
    configuration mode, answers every line, leaves, saves, and reads it again to verify.
    ``sizes``: the running config's bytes before and after the change (what each read prints).
    """
    before, after = sizes
    answers = 3 + (platform == "cisco_ios")
    seconds = delays.login + delays.of("show", before)
    if apply:
        answers += 1 + lines + 1 + 1 + 1  # backup read, enter, lines, leave, save ... verify read
        seconds += delays.save + delays.of("show", after)
    return seconds + answers * delays.answer


def floor(
    profile: str,
    platforms: dict[str, str],
    lines: dict[str, int],
    sizes: tuple[int, int],
    concurrency: int,
    apply: bool,
) -> tuple[int, float, float, float]:
    """(waves, slowest device's seconds, floor seconds, the plan's part of the floor) of a plan
    (and apply) of these devices."""
    timing = PROFILES[profile]
    units = len(platforms)
    plan_waves = math.ceil(units / concurrency)
    slowest_plan = max(
        device_seconds(timing.delays(p), p, lines=0, sizes=sizes, apply=False) for p in platforms.values()
    )
    if not apply:
        return plan_waves, slowest_plan, plan_waves * slowest_plan, plan_waves * slowest_plan
    canary = min(CANARY, units)
    apply_waves = canary + math.ceil((units - canary) / concurrency)
    slowest_apply = max(
        device_seconds(timing.delays(p), p, lines=lines.get(u, 0), sizes=sizes, apply=True)
        for u, p in platforms.items()
    )
    return (
        plan_waves + apply_waves,
        slowest_plan + slowest_apply,
        plan_waves * slowest_plan + apply_waves * slowest_apply,
        plan_waves * slowest_plan,
    )


def _ticks(pid: int) -> int:
    """utime + stime of ``pid`` in clock ticks (0 once it is gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0
    fields = stat[stat.rindex(")") + 2 :].split()
    return int(fields[11]) + int(fields[12])


class Bench:
    def __init__(self, args: argparse.Namespace, work: Path) -> None:
        self.args = args
        self.work = work
        self.name = "rb" + uuid.uuid4().hex[:5]
        self.env = dict(os.environ, GOVNET_LAB_STATE=str(work / "lab"), GOVNET_STATE=str(work / "state"))
        self.steps: list[Step] = []
        self.reaped_cpu = 0.0

    def govnet(self, *args: str) -> tuple[subprocess.CompletedProcess[str], float, float]:
        """Run the CLI; (result, wall seconds, CPU seconds of that process and its children)."""
        started = time.perf_counter()
        result = subprocess.run(
            [sys.executable, "-m", "govnet", *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            check=False,
        )
        wall = time.perf_counter() - started
        cpu = self.children_cpu()
        if result.returncode not in (0, 3):
            raise SystemExit(
                f"govnet {' '.join(args)} exited {result.returncode}: {result.stderr.strip()[-2000:]}"
            )
        return result, wall, cpu

    def children_cpu(self) -> float:
        """CPU seconds of the children reaped since the last call (rusage of all children, delta)."""
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        total = usage.ru_utime + usage.ru_stime
        delta, self.reaped_cpu = total - self.reaped_cpu, total
        return delta

    def simulator_pids(self) -> list[int]:
        pids = Path(self.info["state"]) / "pids"
        return [int(p.read_text()) for p in pids.glob("devsim*.pid")]

    def up(self) -> None:
        started = time.perf_counter()
        timing = ["--timing", self.args.timing] if self.args.timing else []
        self.govnet(
            "lab", "up", "--name", self.name, "--units", str(self.args.units), "--network", NETWORK, *timing
        )  # fmt: skip
        status, _, _ = self.govnet("lab", "status", "--name", self.name, "--json")
        self.info = json.loads(status.stdout)
        print(f"[bench] lab {self.name}: {self.args.units} units up in {time.perf_counter() - started:.1f} s")
        lab_inventory = Path(self.info["inventory"])
        self.inventory = self.work / "inventory.yml"
        self.inventory.write_text(lab_inventory.read_text(encoding="utf-8"), encoding="utf-8")
        self.known_hosts = lab_inventory.parent / "known_hosts"
        self.platforms = {e["id"]: e["platform"] for e in [*self.info["units"], *self.info["nodes"]]}

    def step(self, name: str, *, apply: bool) -> None:
        sims = self.simulator_pids()
        size_before = self.config_bytes()
        before = sum(map(_ticks, sims))
        plan_file = self.work / f"{name}.plan.json"
        common = ["--inventory", str(self.inventory), "--known-hosts", str(self.known_hosts)]
        concurrency = ["--concurrency", str(self.args.concurrency)]
        if self.args.processes is not None:
            concurrency += ["--processes", str(self.args.processes)]
        _, plan_wall, plan_cpu = self.govnet(
            "rollout", "plan", "--segment", self.args.segment, *common, *concurrency,
            "--out", str(plan_file), "--json",
        )  # fmt: skip
        plan = json.loads(plan_file.read_text())
        units = [u for u in plan["units"] if u["status"] != "refused"]
        changing = [u for u in units if u["status"] == "change"]
        lines = sum(len(u["commands"]) for u in changing) / max(1, len(changing))
        wall, cpu = plan_wall, plan_cpu
        if apply and changing:
            applied, apply_wall, apply_cpu = self.govnet(
                "rollout", "apply", str(plan_file), *common, *concurrency, "--yes", "--json"
            )
            bad = [u for u in json.loads(applied.stdout)["units"] if u["result"] in ("failed", "restored")]
            if bad:
                raise SystemExit(f"{name}: {len(bad)} unit(s) failed, e.g. {bad[0]}")
            wall, cpu = wall + apply_wall, cpu + apply_cpu
            print(f"[bench] {name}: plan {plan_wall:.1f} s ({plan_cpu:.1f} CPU-s), "
                  f"apply {apply_wall:.1f} s ({apply_cpu:.1f} CPU-s)")  # fmt: skip
        ticks = os.sysconf("SC_CLK_TCK")
        command = "plan + apply + verify" if apply else "plan"
        step = Step(
            name,
            command,
            wall,
            cpu,
            (sum(map(_ticks, sims)) - before) / ticks,
            len(units),
            len(changing),
            lines,
        )
        if self.args.timing:
            platforms = {u["id"]: self.platforms[u["id"]] for u in units}
            counts = {u["id"]: len(u["commands"]) for u in changing}
            step.plan_wall_s = plan_wall
            step.waves, step.device_s, step.floor_s, step.plan_floor_s = floor(
                self.args.timing, platforms, counts, (size_before, self.config_bytes()), self.args.concurrency, apply and bool(changing)
            )  # fmt: skip
        self.steps.append(step)
        print(f"[bench] {name}: {len(changing)}/{len(units)} devices to change, {wall:.1f} s")

    def config_bytes(self) -> int:
        """The largest running configuration a lab device holds now (what a show prints); the
        simulator writes it out within ``devsim.device.FLUSH_DELAY`` of a change, and before any
        exec prompt, so after a step it is current."""
        files = (Path(self.info["state"]) / "devices").glob("*.running.cfg")
        return max((f.stat().st_size for f in files), default=0)

    def widen_management(self) -> None:
        """The 20-line change: ten more management networks inside the lab's own space."""
        data = yaml.safe_load(self.inventory.read_text(encoding="utf-8"))
        spare = list(IPv4Network("198.19.240.0/20").subnets(new_prefix=24))[:EXTRA_MANAGEMENT]
        data["site"]["management"] = [*data["site"]["management"], *map(str, spare)]
        self.inventory.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")

    def down(self) -> None:
        subprocess.run(
            [sys.executable, "-m", "govnet", "lab", "down", "--name", self.name],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            check=False,
        )


def table(steps: list[Step]) -> str:
    timed = any(s.floor_s for s in steps)
    extra = (
        " waves | slowest device s | floor s | wall / floor | plan: wall / floor s | apply: wall / floor s |"
    )
    extra = extra if timed else ""
    rows = [
        "| step | what | devices (changed) | lines/device | wall s | govnet CPU s | simulator CPU s |"
        + extra,
        "|---|---|---|---|---|---|---|" + ("---|" * 6 if timed else ""),
    ]
    for s in steps:
        row = (
            f"| {s.name} | {s.command} | {s.devices} ({s.changed}) | {s.lines_per_device:.0f} | "
            f"{s.wall_s:.1f} | {s.govnet_cpu_s:.1f} | {s.simulator_cpu_s:.1f} |"
        )
        if timed:
            apply_wall, apply_floor = s.wall_s - s.plan_wall_s, s.floor_s - s.plan_floor_s
            row += f" {s.waves} | {s.device_s:.2f} | {s.floor_s:.1f} | {s.ratio:.2f}x |"
            row += f" {s.plan_wall_s:.1f} / {s.plan_floor_s:.1f} | {apply_wall:.1f} / {apply_floor:.1f} |"
        rows.append(row)
    return "\n".join(rows)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--units", type=int, default=255)
    parser.add_argument("--segment", default="party", choices=["intranet", "party", "extranet"])
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--processes", type=int, help="govnet's --processes (default: govnet's own)")
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument(
        "--timing",
        choices=sorted(PROFILES),
        help="devices play this timing profile; report each step's floor",
    )
    args = parser.parse_args()
    if os.geteuid() != 0:
        print(
            "bench/rollout_bench.py: needs root (the lab twin); run it as the docstring says", file=sys.stderr
        )
        return 2
    with tempfile.TemporaryDirectory(prefix="govnet-rollout-bench-") as tmp:
        bench = Bench(args, Path(tmp))
        try:
            bench.children_cpu()
            bench.up()
            bench.step("first", apply=True)
            bench.widen_management()
            bench.step("change", apply=True)
            bench.step("again", apply=False)
        except KeyboardInterrupt:
            print("[bench] interrupted: tearing down", file=sys.stderr)
            return 130
        finally:
            bench.down()
    load = os.getloadavg()
    print(f"\n{platform.node()} {os.cpu_count()} cores, load {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}, "
          f"{time.strftime('%Y-%m-%d %H:%M')} UTC, concurrency {args.concurrency}, "
          f"processes {args.processes or 'default'}, timing {args.timing or 'none'}\n")  # fmt: skip
    print(table(bench.steps))
    if args.json:
        args.json.write_text(json.dumps([{**asdict(s), "ratio": s.ratio} for s in bench.steps], indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
