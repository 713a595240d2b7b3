"""``python -m govnet.lab.devsim --spec FILE.json``: serve simulated devices until signalled.

A device binds in the namespace the process was started in, or in the network namespace its
``netns`` field names, so the lab may run one process per namespace or one for all (~45 MB
for 255 devices). The spec file is ``{"devices": [DeviceSpec fields…]}`` (or a bare list);
relative paths are resolved against the spec file's folder. ``device-down`` faults are acted
on (the device stops listening until healed, then boots from its startup configuration).

Once every listener is bound it prints ``ready`` on stdout and, with ``--ready-file``, writes
the bound devices there as JSON, so the caller knows the ports. SIGTERM or SIGINT stops it
cleanly. Logs go to stderr, never secrets.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import signal
import sys
from dataclasses import replace
from pathlib import Path

from govnet.errors import GovnetError, LabError
from govnet.lab.devsim.device import DeviceSpec
from govnet.lab.devsim.server import serve, write_known_hosts
from govnet.osutil.files import write_atomically

log = logging.getLogger("govnet.lab.devsim")


def load_specs(path: Path) -> list[DeviceSpec]:
    """Read a spec file; every problem is a ``LabError`` naming the file and device."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise LabError(f"{path}: cannot read: {exc.strerror}") from None
    except json.JSONDecodeError as exc:
        raise LabError.at(f"invalid JSON: {exc.msg}", str(path), exc.lineno) from None
    if isinstance(data, dict):
        unknown = sorted(set(data) - {"devices"})
        if unknown:
            raise LabError(f"{path}: unknown keys: {', '.join(unknown)}")
        data = data.get("devices")
    if not isinstance(data, list):
        raise LabError(f"{path}: expected a list of devices under 'devices'")
    specs = []
    for index, item in enumerate(data):
        if not isinstance(item, dict):
            raise LabError(f"{path}: devices[{index}]: expected an object")
        spec = DeviceSpec.from_dict(item, where=f"{path}: devices[{index}]")
        specs.append(_resolve(spec, path.parent))
    return specs


def _resolve(spec: DeviceSpec, base: Path) -> DeviceSpec:
    state = spec.state_dir if spec.state_dir.is_absolute() else base / spec.state_dir
    key = spec.host_key_path
    if key is not None and not key.is_absolute():
        key = base / key
    return replace(spec, state_dir=state, host_key_path=key)


async def _run(args: argparse.Namespace) -> None:
    specs = load_specs(Path(args.spec))
    handle = await serve(specs, watch_interval=args.watch_interval)
    try:
        bound = handle.specs
        if args.known_hosts:
            write_known_hosts(Path(args.known_hosts), bound)
        if args.ready_file:
            ready = [{"name": s.name, "address": s.address, "port": s.port} for s in bound]
            write_atomically(Path(args.ready_file), json.dumps({"devices": ready}) + "\n", mode=0o644)
        print("ready", flush=True)
        log.info("serving %d devices", len(bound))
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await stop.wait()
        log.info("stopping")
    finally:
        await handle.aclose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m govnet.lab.devsim", description=__doc__)
    parser.add_argument("--spec", required=True, help="JSON file listing the devices")
    parser.add_argument("--ready-file", help="write the bound devices here once listening")
    parser.add_argument("--known-hosts", help="write an OpenSSH known_hosts file here")
    parser.add_argument(
        "--watch-interval",
        type=float,
        default=0.25,
        help="seconds between checks for device-down faults (default 0.25)",
    )
    parser.add_argument("--log-level", default="INFO", help="DEBUG, INFO, WARNING (default INFO)")
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=args.log_level.upper(),
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    logging.getLogger("asyncssh").setLevel(logging.WARNING)
    try:
        asyncio.run(_run(args))
    except GovnetError as exc:
        for line in exc.lines():
            print(f"devsim: {line}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
