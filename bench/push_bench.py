"""Push benchmark: a plain netmiko thread pool and govnet's session layer, side by side in one run.

255 simulated devices per platform (Huawei VRP on 127.0.10.x, H3C Comware on 127.0.11.x, Cisco
IOS on 127.0.12.x), served by ``python -m govnet.lab.devsim`` in a separate process so that the
client's and the simulator's CPU are apart (2 cores). Each device gets the same 20-line change
(a fresh tag per scenario) at the same concurrency (50 threads), once per scenario:

- plain netmiko, the script an engineer would write: ``ConnectHandler``, ``enable()`` on IOS,
  ``send_config_set(lines)``, ``save_config()``, ``disconnect()``; with ``cisco_ios`` (no
  silence waits: the anchor), once without any host-key check (as FIELD-NOTES measured it)
  and once strict against a 255-entry known_hosts; and with the stock ``huawei`` /
  ``hp_comware`` drivers (strict);
- govnet: ``open_session`` (strict host keys, credentials from ``file:`` references),
  ``push(lines)``, ``save()``, ``close()``, per platform.

Per device: seconds from connect to disconnect, mean over the devices; wall: the whole pool.
CPU: client (this process) and simulator (its /proc stat), user + system. Loopback only; one
run each; asserts nothing but reports failed devices (exit 1 if any).
``.venv/bin/python bench/push_bench.py [--devices 255] [--concurrency 50] [--skip-stock-huawei]
[--only TEXT]…``
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import resource
import selectors
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import paramiko  # type: ignore[import-untyped]
from netmiko import ConnectHandler

from govnet.devices import Timeouts, open_session
from govnet.inventory.models import Device
from govnet.secrets import SecretResolver

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "Bench-pw-7731"
ENABLE = "Bench-en-7731"
NETS = {"huawei_vrp": "127.0.10", "h3c_comware": "127.0.11", "cisco_ios": "127.0.12"}
STOCK = {"huawei_vrp": "huawei", "h3c_comware": "hp_comware", "cisco_ios": "cisco_ios"}
PREFIX = {"huawei_vrp": "hw", "h3c_comware": "h3c", "cisco_ios": "ios"}


def change(platform_name: str, tag: str) -> list[str]:
    """A 20-line change every personality accepts: three interfaces, SNMP, an ACL, a route."""
    if platform_name == "cisco_ios":
        return [
            "interface GigabitEthernet0/1",
            f" description uplink-{tag}",
            "exit",
            "interface GigabitEthernet0/2",
            f" description access-{tag}",
            "exit",
            "interface Loopback1",
            f" description loopback-{tag}",
            " ip address 10.254.1.1 255.255.255.255",
            "exit",
            f"snmp-server location bench-{tag}",
            f"snmp-server contact noc-{tag}",
            "logging host 10.10.0.250",
            "ntp server 10.10.0.251",
            "ip access-list extended BENCH",
            " permit ip 10.10.0.0 0.0.0.255 any",
            " deny ip any any",
            "exit",
            "ip route 10.200.0.0 255.255.0.0 10.10.0.254",
            f"ip domain name bench-{tag}.invalid",
        ]
    port = "GigabitEthernet0/0/" if platform_name == "huawei_vrp" else "GigabitEthernet1/0/"
    acl = "acl number 3001" if platform_name == "huawei_vrp" else "acl advanced 3001"
    return [
        f"interface {port}1",
        f" description uplink-{tag}",
        "quit",
        f"interface {port}2",
        f" description access-{tag}",
        "quit",
        "interface LoopBack1",
        f" description loopback-{tag}",
        " ip address 10.254.1.1 255.255.255.255",
        "quit",
        f"snmp-agent sys-info location bench-{tag}",
        f"snmp-agent sys-info contact noc-{tag}",
        "info-center loghost 10.10.0.250",
        "ntp-service unicast-server 10.10.0.251",
        acl,
        " rule 5 permit ip source 10.10.0.0 0.0.0.255",
        " rule 10 deny ip",
        "quit",
        "ip route-static 10.200.0.0 255.255.0.0 10.10.0.254",
        "dns domain bench.invalid",
    ]


@dataclass
class Sim:
    proc: subprocess.Popen[str]
    devices: dict[str, list[dict[str, Any]]]
    known_hosts: dict[str, Path]
    """One file per platform, as a city's would be: 255 entries."""

    def cpu(self) -> float:
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def start_sim(folder: Path, count: int, platforms: Sequence[str]) -> Sim:
    specs = [
        {
            "name": f"{PREFIX[p]}-{i:03d}",
            "platform": p,
            "address": f"{NETS[p]}.{i}",
            "port": 0,
            "username": "netops",
            "password": PASSWORD,
            "enable_secret": ENABLE,
            "state_dir": "state",
        }
        for p in platforms
        for i in range(1, count + 1)
    ]
    spec = folder / "spec.json"
    spec.write_text(json.dumps({"devices": specs}))
    ready, known_hosts = folder / "ready.json", folder / "known_hosts"
    argv = [sys.executable, "-m", "govnet.lab.devsim", "--spec", str(spec), "--log-level", "WARNING"]
    argv += ["--ready-file", str(ready), "--known-hosts", str(known_hosts)]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True, env=env)
    assert proc.stdout is not None
    selector = selectors.DefaultSelector()
    selector.register(proc.stdout, selectors.EVENT_READ)
    if not selector.select(timeout=120) or proc.stdout.readline().strip() != "ready":
        proc.kill()
        raise SystemExit("devsim did not start")
    bound = {d["name"]: d for d in json.loads(ready.read_text())["devices"]}
    by_platform = {
        p: [{**s, "port": bound[s["name"]]["port"]} for s in specs if s["platform"] == p] for p in platforms
    }
    lines = known_hosts.read_text().splitlines()
    files = {}
    for p in platforms:
        files[p] = folder / f"known_hosts.{p}"
        files[p].write_text("".join(f"{x}\n" for x in lines if x.startswith(f"[{NETS[p]}.")))
    return Sim(proc, by_platform, files)


def plain_netmiko(driver: str, spec: dict[str, Any], lines: list[str], known_hosts: Path | None) -> None:
    """The script as an engineer writes it; ``known_hosts`` None: no host-key check at all."""
    keys: dict[str, Any] = {"ssh_strict": False}
    if known_hosts is not None:
        keys = {"ssh_strict": True, "alt_host_keys": True, "alt_key_file": str(known_hosts)}
    conn = ConnectHandler(
        device_type=driver,
        host=spec["address"],
        port=spec["port"],
        username=spec["username"],
        password=PASSWORD,
        secret=ENABLE,
        system_host_keys=False,
        **keys,
    )
    try:
        if driver == "cisco_ios":
            conn.enable()
        conn.send_config_set(lines)
        conn.save_config()
    finally:
        conn.disconnect()


def govnet_session(
    spec: dict[str, Any], lines: list[str], known_hosts: Path, resolver: SecretResolver, secrets: Path
) -> None:
    device = Device(
        name=spec["name"],
        platform=spec["platform"],
        host=spec["address"],
        port=spec["port"],
        credentials={
            "username": spec["username"],
            "password": f"file:{secrets}/password",
            "enable": f"file:{secrets}/enable",
        },
    )
    with open_session(device, resolver=resolver, known_hosts=known_hosts, timeouts=Timeouts()) as session:
        session.push(lines)
        session.save()


@dataclass
class Result:
    label: str
    platform: str
    wall: float
    per_device: float
    p95: float
    client_cpu: float
    server_cpu: float
    failures: int


Job = Callable[[dict[str, Any]], None]


def run(label: str, platform_name: str, sim: Sim, concurrency: int, job: Job) -> Result:
    specs = sim.devices[platform_name]
    durations: list[float] = []
    failures: list[str] = []

    def one(spec: dict[str, Any]) -> None:
        start = time.perf_counter()
        try:
            job(spec)
        except Exception as exc:
            failures.append(f"{spec['name']}: {type(exc).__name__}: {str(exc).strip()[:160]}")
        durations.append(time.perf_counter() - start)

    usage0, server0 = resource.getrusage(resource.RUSAGE_SELF), sim.cpu()
    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        list(pool.map(one, specs))
    wall = time.perf_counter() - start
    usage1, server1 = resource.getrusage(resource.RUSAGE_SELF), sim.cpu()
    client = (usage1.ru_utime - usage0.ru_utime) + (usage1.ru_stime - usage0.ru_stime)
    for failure in failures[:5]:
        print(f"  FAILED {failure}", file=sys.stderr)
    ordered = sorted(durations)
    p95 = ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]
    result = Result(
        label, platform_name, wall, statistics.mean(durations), p95, client, server1 - server0, len(failures)
    )
    print(
        f"{label:<38} wall {wall:6.2f} s  per device {result.per_device:6.3f} s  "
        f"client user/sys {usage1.ru_utime - usage0.ru_utime:5.1f}/{usage1.ru_stime - usage0.ru_stime:4.1f} s  "
        f"devsim {result.server_cpu:4.1f} s  failures {len(failures)}",
        file=sys.stderr,
    )
    return result


def ratio(value: float, anchor: Result | None) -> str:
    return "" if anchor is None else f"{value / anchor.wall:.2f}x"


def table(results: list[Result], devices: int, concurrency: int) -> str:
    """One row per scenario; ratios against both plain cisco_ios scripts and the stock driver."""
    bare = next((r for r in results if r.label == "netmiko cisco_ios, no host-key check"), None)
    strict = next((r for r in results if r.label == "netmiko cisco_ios"), None)
    gov_ios = next((r for r in results if r.label == "govnet cisco_ios"), None)
    stock = {r.platform: r for r in results if r.label in {f"netmiko {d}" for d in STOCK.values()}}
    out = [
        f"| scenario ({devices} devices, {concurrency} threads) | wall s | per device s | p95 s "
        "| client CPU s | devsim CPU s | wall / plain cisco_ios, no check | wall / plain cisco_ios, strict "
        "| per device / govnet cisco_ios | per device / same platform, stock driver | failed |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        govnet = r.label.startswith("govnet")
        vs_ios = f"{r.per_device / gov_ios.per_device:.2f}x" if gov_ios and govnet else ""
        vs_stock = (
            f"{r.per_device / stock[r.platform].per_device:.2f}x" if govnet and r.platform in stock else ""
        )
        out.append(
            f"| {r.label} | {r.wall:.2f} | {r.per_device:.3f} | {r.p95:.3f} | {r.client_cpu:.1f} "
            f"| {r.server_cpu:.1f} | {ratio(r.wall, bare)} | {ratio(r.wall, strict)} "
            f"| {vs_ios} | {vs_stock} | {r.failures} |"
        )
    return "\n".join(out)


def warm_up(sim: Sim, concurrency: int) -> float:
    """One unmeasured SSH login and logout per device, so that no scenario pays the fresh
    simulator's first-connection costs (measured: +2-3 s of simulator CPU for whichever
    scenario ran first)."""

    def touch(spec: dict[str, Any]) -> None:
        client = paramiko.SSHClient()
        client.set_missing_host_key_policy(paramiko.AutoAddPolicy())
        client.connect(
            spec["address"], spec["port"], spec["username"], PASSWORD, look_for_keys=False, allow_agent=False
        )
        try:
            shell = client.invoke_shell()
            shell.recv(1024)
        finally:
            client.close()

    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        list(pool.map(touch, [s for specs in sim.devices.values() for s in specs]))
    return time.perf_counter() - start


def scenarios(sim: Sim, secrets: Path, platforms: Sequence[str]) -> list[tuple[str, str, Job]]:
    """(label, platform, job) in run order: the anchor, govnet on IOS right after it (both see
    the machine in the same state), then per platform the stock driver and govnet."""
    anchor = partial(plain_netmiko, "cisco_ios", lines=change("cisco_ios", "anchor"), known_hosts=None)
    plan: list[tuple[str, str, Job]] = [("netmiko cisco_ios, no host-key check", "cisco_ios", anchor)]
    for index, name in enumerate(platforms):
        driver, known_hosts = STOCK[name], sim.known_hosts[name]
        lines, resolver = change(name, f"g{index}"), SecretResolver()
        ours = partial(
            govnet_session, lines=lines, known_hosts=known_hosts, resolver=resolver, secrets=secrets
        )
        stock = partial(plain_netmiko, driver, lines=change(name, f"n{index}"), known_hosts=known_hosts)
        pair = [(f"govnet {name}", name, ours), (f"netmiko {driver}", name, stock)]
        plan.extend(pair if name == "cisco_ios" else pair[::-1])
    return plan


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--devices", type=int, default=255, help="devices per platform (1-255)")
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--skip-stock-huawei", action="store_true", help="skip the ~70 s stock huawei run")
    parser.add_argument("--only", action="append", help="run the scenarios whose label holds this text")
    args = parser.parse_args(argv)
    if not 1 <= args.devices <= 255:
        parser.error("--devices must be 1..255")
    platforms = ["cisco_ios", "huawei_vrp", "h3c_comware"]
    with tempfile.TemporaryDirectory(prefix="govnet-push-bench-") as tmp:
        folder = Path(tmp)
        secrets = folder / "secrets"
        secrets.mkdir(mode=0o700)
        for name, value in (("password", PASSWORD), ("enable", ENABLE)):
            fd = os.open(secrets / name, os.O_CREAT | os.O_WRONLY, 0o600)
            os.write(fd, value.encode() + b"\n")
            os.close(fd)
        sim = start_sim(folder, args.devices, platforms)
        results: list[Result] = []
        try:
            print(f"warm-up: {warm_up(sim, args.concurrency):.1f} s", file=sys.stderr)
            for label, name, job in scenarios(sim, secrets, platforms):
                if args.only and not any(o in label for o in args.only):
                    continue
                if args.skip_stock_huawei and label == "netmiko huawei":
                    continue
                results.append(run(label, name, sim, args.concurrency, job))
        finally:
            sim.proc.terminate()
            sim.proc.wait(timeout=30)
    order = {"netmiko": 0, "govnet": 1}
    results.sort(key=lambda r: (order[r.label.split()[0]], platforms.index(r.platform), len(r.label)))
    print(
        f"\n{datetime.date.today()}, {os.cpu_count()} cores, Linux {platform.release()}, "
        f"Python {platform.python_version()}\n"
    )
    print(table(results, args.devices, args.concurrency))
    return 0 if all(r.failures == 0 for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
