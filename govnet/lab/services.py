"""TCP services of the lab's units (e.g. the information-sharing systems' port 8443).

One process listens on every (namespace, address, port) it is given, sockets created inside each
unit's namespace through ``in_netns``; each connection gets a one-line banner and is closed.
That is all a TCP connect check needs, and it makes a ``device-down`` or ``link-down`` fault
visible to the service checks the same way it is to ICMP.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import signal
import socket
import sys
from pathlib import Path

from govnet.errors import GovnetError
from govnet.lab.devsim import check_address
from govnet.osutil.netns import in_netns


def _listener(address: str, port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((address, port))
    sock.listen(64)
    sock.setblocking(False)
    return sock


async def _serve(spec: list[dict[str, object]]) -> None:
    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"govnet-lab service\r\n")
        try:
            await writer.drain()
        finally:
            writer.close()

    servers = []
    for entry in spec:
        address, port, netns = str(entry["address"]), int(str(entry["port"])), str(entry["netns"])
        check_address(address)
        sock = in_netns(netns, functools.partial(_listener, address, port))
        servers.append(await asyncio.start_server(answer, sock=sock))
    print("ready", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    for server in servers:
        server.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m govnet.lab.services", description=__doc__)
    parser.add_argument("--spec", required=True, help="JSON list of {netns, address, port}")
    args = parser.parse_args(argv)
    try:
        spec = json.loads(Path(args.spec).read_text())
        asyncio.run(_serve(spec))
    except (GovnetError, OSError, ValueError, KeyError) as exc:
        print(f"services: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
