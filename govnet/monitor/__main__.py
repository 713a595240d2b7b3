"""``python -m govnet.monitor --config FILE``: the daemon in a process of its own.

``govnet daemon`` execs this (same PID, same arguments) rather than running inside the CLI: the
CLI imports every command's dependencies (netmiko, paramiko, asyncssh, jinja2, hier_config:
~28 MB of RSS) that a monitoring daemon never uses and would carry for months. Errors are
printed as the CLI prints them (one ``FILE:LINE: …`` line per problem, exit 1); log records of
the loggers the daemon uses have every resolved secret masked.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from pathlib import Path

from govnet.errors import GovnetError, UsageError
from govnet.inventory.select import Shard
from govnet.monitor.daemon import Daemon, run_forever
from govnet.secrets import SecretResolver, mask_logs
from govnet.settings import settings

EXIT_INTERNAL = 70
LOGGERS = ("govnet", "apscheduler", "pysnmp", "asyncio")
LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


def has_place(line: str) -> bool:
    """Lines that already start with ``FILE:LINE:`` are printed as they are (as the CLI does).

    >>> has_place("daemon.yml:3: listen: bad"), has_place("secret env:X is not set")
    (True, False)
    """
    head = line.split(": ", 1)[0]
    return ":" in head or head.endswith((".yml", ".yaml", ".json"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="govnet daemon", description=__doc__.splitlines()[0])
    parser.add_argument("--config", required=True, type=Path, help="Daemon config (YAML).")
    parser.add_argument("--log-level", default="INFO", choices=LEVELS)
    parser.add_argument("--shard", metavar="K/N", help="Watch shard K of N (overrides the config's shard:).")
    parser.add_argument(
        "--web.config.file",
        dest="web_config",
        type=Path,
        metavar="FILE",
        help="Prometheus exporter-toolkit web configuration: TLS and basic auth (overrides web_config_file:).",
    )
    args = parser.parse_args(argv)
    try:
        shard = Shard.parse(args.shard) if args.shard else None
    except UsageError as exc:
        print(f"govnet: {exc}", file=sys.stderr)
        return exc.exit_code
    logging.basicConfig(level=args.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for noisy in ("apscheduler", "pysnmp", "asyncio"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLogger().level))
    resolver = SecretResolver()
    try:
        with mask_logs(resolver, LOGGERS):
            asyncio.run(run_forever(Daemon(args.config, resolver.resolve, shard, web_config=args.web_config)))
    except GovnetError as exc:
        for line in exc.lines():
            print(line if has_place(line) else f"govnet: {line}", file=sys.stderr)
        return exc.exit_code
    except Exception as exc:
        if settings().debug:
            raise
        logging.getLogger("govnet.daemon").exception("internal error")
        print(
            f"govnet: internal error ({type(exc).__name__}: {exc}); this is a bug in govnet", file=sys.stderr
        )
        return EXIT_INTERNAL
    return 0


if __name__ == "__main__":
    sys.exit(main())
