"""Hold every packet of an NFQUEUE for a fixed time, then let it go: ``latency=MS`` without netem.

The kernel here has no netem, so `kfaults` sends a link's egress to an NFQUEUE and runs this
process in the same namespace (queues are per namespace).  Packets are only metadata-copied
(``COPY_META``) and released in arrival order from a deadline heap, so one process adds a constant
delay without reordering.  Run as ``python -m govnet.lab.delayer --queue N --delay-ms MS``;
it prints ``ready`` once bound, so its starter knows when the iptables rule may point at it.
"""

from __future__ import annotations

import argparse
import heapq
import itertools
import select
import signal
import sys
import time
from types import FrameType

from netfilterqueue import COPY_META, NetfilterQueue, Packet

QUEUE_MAX_LEN = 65536


class Delayer:
    def __init__(self, delay_seconds: float) -> None:
        self.delay = delay_seconds
        self.held: list[tuple[float, int, Packet]] = []
        self._seq = itertools.count()
        self.stopping = False

    def on_packet(self, packet: Packet) -> None:
        deadline = time.monotonic() + self.delay
        heapq.heappush(self.held, (deadline, next(self._seq), packet))

    def release_due(self, now: float) -> float | None:
        """Accept every packet whose time has come; return seconds until the next one."""
        while self.held and self.held[0][0] <= now:
            heapq.heappop(self.held)[2].accept()
        return self.held[0][0] - now if self.held else None

    def release_all(self) -> None:
        while self.held:
            heapq.heappop(self.held)[2].accept()

    def stop(self, _signum: int, _frame: FrameType | None) -> None:
        self.stopping = True


def serve(queue: int, delay_ms: int) -> None:
    delayer = Delayer(delay_ms / 1000.0)
    signal.signal(signal.SIGTERM, delayer.stop)
    signal.signal(signal.SIGINT, delayer.stop)
    nfq = NetfilterQueue()
    nfq.bind(queue, delayer.on_packet, max_len=QUEUE_MAX_LEN, mode=COPY_META)
    fd = nfq.get_fd()
    print("ready", flush=True)
    try:
        while not delayer.stopping:
            wait = delayer.release_due(time.monotonic())
            try:
                readable, _, _ = select.select([fd], [], [], 1.0 if wait is None else wait)
            except InterruptedError:
                continue
            if readable:
                nfq.run(block=False)
    finally:
        delayer.release_all()
        nfq.unbind()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="govnet.lab.delayer", description=__doc__)
    parser.add_argument("--queue", type=int, required=True)
    parser.add_argument("--delay-ms", type=int, required=True)
    args = parser.parse_args(argv)
    if not 0 <= args.delay_ms <= 60_000:
        parser.error("--delay-ms must be between 0 and 60000")
    serve(args.queue, args.delay_ms)
    return 0


if __name__ == "__main__":
    sys.exit(main())
