"""The alert bridge's cost per notification: Alertmanager-style webhooks posted to
`govnet alert-bridge`'s HTTP handler (in process), delivered to a loopback DingTalk stand-in that
checks every signature and a loopback SMS gateway stand-in. Loopback only.

    .venv/bin/python bench/bridge_bench.py [--notifications 500] [--concurrency 1,8]

Prints notifications/s and the median and 95th percentile of one webhook's round trip (the
bridge signs, formats and posts to both channels before it answers).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from govnet.inventory.loader import load
from govnet.notify.bridge import Bridge, serve
from govnet.notify.channels import Policy
from govnet.secrets import SecretResolver
from tests.export.standins import dingtalk_answer, http_standin, sms_answer
from tests.notify.test_bridge import SECRET, TOKEN, inventory, post
from tests.notify.test_messages import payload


def run(url: str, count: int, workers: int) -> tuple[float, list[float]]:
    def one(_: int) -> float:
        start = time.perf_counter()
        code = post(f"{url}/notify/both", payload(count=3))
        assert code == 200, code
        return time.perf_counter() - start

    begun = time.perf_counter()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        took = list(pool.map(one, range(count)))
    return time.perf_counter() - begun, took


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--notifications", type=int, default=500)
    parser.add_argument("--concurrency", default="1,8")
    args = parser.parse_args()
    with (
        tempfile.TemporaryDirectory() as tmp,
        http_standin(dingtalk_answer(TOKEN, SECRET)) as robot,
        http_standin(sms_answer) as gateway,
    ):
        path = inventory(Path(tmp), robot, gateway)
        # one contact with both bridged channels: fgw-it's robot plus party-security's gateway
        text = path.read_text().replace(
            "    email: liming@example.gov.cn\n",
            "    email: liming@example.gov.cn\n"
            f"    sms: {{url: '{gateway.base}/sms', numbers: ['13800000002']}}\n",
        )
        path.write_text(
            text.replace("  fgw-it:\n", "  both:\n").replace("[fgw-it, party-security]", "[both]")
        )
        bridge = Bridge(load(path).inventory, SecretResolver(), Policy(timeout=5, attempts=1))
        server = serve(bridge, "127.0.0.1", 0)
        url = f"http://127.0.0.1:{server.server_address[1]}"
        print("| concurrency | notifications | wall s | notifications/s | round trip ms (median / p95) |")
        print("|---|---|---|---|---|")
        for workers in (int(w) for w in args.concurrency.split(",")):
            wall, took = run(url, args.notifications, workers)
            p95 = statistics.quantiles(took, n=20)[-1]
            print(
                f"| {workers} | {args.notifications} | {wall:.2f} | {args.notifications / wall:.0f} | "
                f"{1000 * statistics.median(took):.1f} / {1000 * p95:.1f} |"
            )
        assert robot.refused == [], robot.refused
        server.shutdown()
        server.server_close()


if __name__ == "__main__":
    main()
