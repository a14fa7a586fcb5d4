"""``fmc broadcast --page ID`` / ``--all-pages``: one journaled broadcast per connected Page."""

from __future__ import annotations

import argparse
import threading
import uuid

from fmc.cli.broadcast import SIGNAL_EXIT, stop_on_signals
from fmc.cli.command import ExitCode, Streams
from fmc.cli.config import Config
from fmc.cli.platform import open_platform

__all__ = ["run_platform_broadcast"]


def run_platform_broadcast(args: argparse.Namespace, config: Config, streams: Streams) -> int:
    """Broadcast to the named Pages (or every connected one), each under its own policy.

    ``--resume KEY`` runs the same broadcast again: every Page's part resumes
    without sending anyone anything twice (a Page reconnected after a dead
    token gets what it missed).

    Returns:
        0 when every Page's broadcast finished, 5 when one paused (a dead
        token, a restricted Page, a throttle) or a Page was not sent to.
    """
    key = args.resume or f"pbc-{uuid.uuid4().hex[:16]}"
    pages = None if args.all_pages else list(args.page)
    streams.err.write(
        f"fmc: broadcast {key} ({args.purpose.value}) to "
        f"{'every connected Page' if pages is None else ', '.join(pages)}; "
        f"finish it if interrupted with the same command and --resume {key}\n"
    )
    stop = threading.Event()
    with stop_on_signals(stop, streams) as received, open_platform(config) as platform:
        report = platform.broadcast(
            args.text,
            args.purpose,
            pages=pages,
            idempotency_key=key,
            concurrency=args.concurrency,
            batch_size=args.batch_size,
            at_least_once=args.at_least_once,
            stop=stop,
        )
    streams.out.write(report.summary() + "\n")
    if report.paused or report.not_sent:
        streams.err.write(
            "fmc: some Pages were not finished; fix them (`fmc pages check`, "
            f"`fmc pages connect`) and resume with --resume {key}\n"
        )
        if received:
            return int(SIGNAL_EXIT.get(received[0], ExitCode.INTERRUPTED))
        return int(ExitCode.PAUSED)
    return int(ExitCode.OK)
