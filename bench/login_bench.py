"""Login benchmark: what the ``legacy`` SSH profile costs per login against the ``modern`` one.

Two simulated Cisco IOS devices, one ``ssh: modern`` (ed25519 host key, curve25519 key exchange)
and one ``ssh: legacy`` (RSA 2048 host key with ``ssh-rsa`` signatures, diffie-hellman-group14-sha1
or group-exchange-sha1, hmac-sha1), served by ``python -m govnet.lab.devsim`` in a separate
process on 127.0.24.x. Each is logged into N times in a row with govnet's ``connect`` (strict
host keys, the matching profile) and closed; reported: mean and median seconds per login, client
CPU per login, and the legacy/modern ratio. Loopback only; one run; asserts nothing.
``.venv/bin/python bench/login_bench.py [--logins 200]``
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from govnet.devices.transport import Channel, connect
from govnet.lab.devsim import DeviceSpec
from govnet.sshalgs import algorithms

PASSWORD = "Bench-login-pw-99"


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def measure(spec: DeviceSpec, known_hosts: Path, logins: int) -> tuple[float, float, float]:
    """Mean and median wall seconds per login, and client CPU seconds per login."""
    times = []
    cpu = _cpu()
    for _ in range(logins):
        start = time.perf_counter()
        conn = connect(
            where=spec.name,
            device_type="cisco_ios",
            host=spec.address,
            port=spec.port,
            username=spec.username,
            password=PASSWORD,
            secret="",
            known_hosts=known_hosts,
            connect_timeout=5.0,
            read_timeout=5.0,
            ssh=algorithms(spec.ssh),
        )
        Channel(conn).close()
        times.append(time.perf_counter() - start)
    return statistics.mean(times), statistics.median(times), (_cpu() - cpu) / logins


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--logins", type=int, default=200)
    args = parser.parse_args()
    state = Path(tempfile.mkdtemp(prefix="login-bench-"))
    specs = [
        DeviceSpec(
            name=f"ios-{profile}",
            platform="cisco_ios",
            address=address,
            port=0,
            username="bench",
            password=PASSWORD,
            state_dir=state,
            ssh=profile,
        )
        for profile, address in (("modern", "127.0.24.1"), ("legacy", "127.0.24.2"))
    ]
    (state / "spec.json").write_text(json.dumps({"devices": [s.to_dict() for s in specs]}))
    ready = state / "ready.json"
    known_hosts = state / "known_hosts"
    argv = [sys.executable, "-m", "govnet.lab.devsim", "--spec", str(state / "spec.json")]
    argv += ["--ready-file", str(ready), "--known-hosts", str(known_hosts)]
    sim = subprocess.Popen(argv, stdout=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while not ready.exists():
            if sim.poll() is not None or time.monotonic() > deadline:
                print("devsim did not start", file=sys.stderr)
                return 1
            time.sleep(0.05)
        ports = {d["name"]: d["port"] for d in json.loads(ready.read_text())["devices"]}
        results = {}
        for spec in specs:
            bound = DeviceSpec(**{**spec.to_dict(), "port": ports[spec.name], "state_dir": state})
            measure(bound, known_hosts, 5)  # warm-up: imports, first key loads
            results[spec.ssh] = measure(bound, known_hosts, args.logins)
            mean, median, cpu = results[spec.ssh]
            print(
                f"{spec.ssh:7} {args.logins} logins: mean {mean * 1000:.1f} ms, median {median * 1000:.1f} ms, "
                f"client CPU {cpu * 1000:.1f} ms/login"
            )
        ratio = results["legacy"][0] / results["modern"][0]
        print(f"legacy/modern (mean wall): {ratio:.2f}")
    finally:
        sim.terminate()
        sim.wait(5)
    return 0


if __name__ == "__main__":
    sys.exit(main())
