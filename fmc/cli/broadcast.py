"""``fmc broadcast``: run, resume, pause and stop a broadcast from the command line.

SIGINT (Ctrl-C) and SIGTERM (what systemd and Docker send) stop the broadcast
gracefully: nothing more is claimed, the sends in flight finish and are
recorded, what was never sent is released, and the command prints how to
resume. A second Ctrl-C quits at once. Running the same broadcast command again
within a day resumes the first run instead of sending the message twice.
"""

from __future__ import annotations

import argparse
import shlex
import signal
import threading
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta
from types import FrameType
from typing import TypedDict

from fmc.channel import BroadcastReport, Channel
from fmc.cli.command import ExitCode, Streams
from fmc.cli.config import Config
from fmc.cli.context import open_channel
from fmc.cli.progress import ProgressPrinter
from fmc.errors import ConfigurationError, RecipientUnavailableError

__all__ = [
    "SAME_BROADCAST_WINDOW",
    "SIGNAL_EXIT",
    "RunOptions",
    "run_broadcast",
    "run_options",
    "say_resuming",
    "stop_on_signals",
    "unfinished_exit",
]

#: Running the same broadcast again within this time resumes it (unless ``--again``).
SAME_BROADCAST_WINDOW = timedelta(hours=24)

#: The exit code of a broadcast stopped by each signal.
SIGNAL_EXIT: dict[int, ExitCode] = {
    signal.SIGINT: ExitCode.INTERRUPTED,
    signal.SIGTERM: ExitCode.TERMINATED,
}


class RunOptions(TypedDict):
    """How ``fmc broadcast``'s flags make a broadcast run, for one Page or many."""

    at_least_once: bool
    concurrency: int | None
    batch_size: int | None
    stop: threading.Event


def run_options(args: argparse.Namespace, stop: threading.Event) -> RunOptions:
    """The run options of ``--at-least-once``, ``--concurrency`` and ``--batch-size``.

    Args:
        args: The parsed arguments of ``fmc broadcast``.
        stop: Set on SIGINT or SIGTERM (see :func:`stop_on_signals`).
    """
    return RunOptions(
        at_least_once=args.at_least_once,
        concurrency=args.concurrency,
        batch_size=args.batch_size,
        stop=stop,
    )


def say_resuming(streams: Streams, broadcast_id: str, started_at: datetime) -> None:
    """Say on stderr that the same broadcast, begun earlier, is resumed rather than sent again."""
    streams.err.write(
        f"fmc: the same broadcast ({broadcast_id}) started at "
        f"{started_at:%Y-%m-%d %H:%M:%S} UTC; resuming it, so nobody gets "
        "it twice (use --again to send it once more)\n"
    )


def unfinished_exit(received: Sequence[int]) -> ExitCode:
    """The exit code of a broadcast that did not finish: the signal's that stopped it, else paused.

    Args:
        received: The signals received while it ran (see :func:`stop_on_signals`).
    """
    if received:
        return SIGNAL_EXIT.get(received[0], ExitCode.INTERRUPTED)
    return ExitCode.PAUSED


def run_broadcast(args: argparse.Namespace, config: Config, streams: Streams) -> int:
    """Run ``fmc broadcast``: progress on stderr, the report on stdout.

    Args:
        args: The parsed arguments.
        config: The configuration.
        streams: Where to write.

    Returns:
        0 when every send was accepted or skipped by the policy, or went to a
        person Meta reports unavailable; 4 when other sends failed or may
        not have reached Meta (see the report); 5 when the broadcast paused
        on an error about the whole Page (a dead token, a restricted Page, a
        long throttle); 130 or 143 when SIGINT or SIGTERM stopped it.

    Raises:
        ConfigurationError: ``--resume`` names a broadcast started with another
            text or purpose, or one that does not exist.
    """
    if getattr(args, "page", None) or getattr(args, "all_pages", False):
        from fmc.cli.broadcast_platform import run_platform_broadcast

        return run_platform_broadcast(args, config, streams)
    if args.dry_run:
        from fmc.cli.send import dry_run

        return dry_run(config, args.purpose, streams)
    with open_channel(config, create=False) as channel:
        broadcast_id = _broadcast_id(args, config, channel, streams)
        progress = ProgressPrinter(streams.err, total=channel.subscriber_count())
        streams.err.write(
            f"fmc: broadcast {broadcast_id} ({args.purpose.value}); if it is interrupted, "
            f"finish it with the same command and --resume {broadcast_id}\n"
        )
        stop = threading.Event()
        with stop_on_signals(stop, streams) as received:
            try:
                report = channel.broadcast(
                    args.text,
                    args.purpose,
                    broadcast_id=broadcast_id,
                    progress=progress,
                    **run_options(args, stop),
                )
            finally:
                progress.finish()
    streams.out.write(report.summary() + "\n")
    resume = _resume_command(args, report.broadcast_id)
    if report.paused is None:
        streams.out.write(f"resume or inspect with: --resume {report.broadcast_id}\n")
        return int(_exit_code(report))
    streams.err.write(f"fmc: paused: {report.paused}\n")
    if report.resume_at is not None:
        streams.err.write(
            f"fmc: Meta asks to wait until {report.resume_at:%Y-%m-%d %H:%M:%S} UTC\n"
        )
    fix = "" if report.stop_requested else "fix it and "
    streams.err.write(f"fmc: {fix}resume with: {resume}\n")
    return int(unfinished_exit(received))


def _broadcast_id(
    args: argparse.Namespace, config: Config, channel: Channel, streams: Streams
) -> str:
    if args.resume is not None:
        if channel.store.broadcast_get(args.resume) is None:
            raise ConfigurationError(
                f"no broadcast {args.resume!r} in {config.db}; check the id the first run printed"
            )
        return str(args.resume)
    if not args.again:
        earlier = channel.find_broadcast(args.text, args.purpose, within=SAME_BROADCAST_WINDOW)
        if earlier is not None:
            say_resuming(streams, earlier.broadcast_id, earlier.created_at)
            return earlier.broadcast_id
    return f"bc-{uuid.uuid4().hex[:16]}"


def _resume_command(args: argparse.Namespace, broadcast_id: str) -> str:
    words = ["fmc", "broadcast", "--purpose", args.purpose.value, "--text", args.text.text]
    words += ["--resume", broadcast_id]
    if args.batch_size:
        words += ["--batch-size", str(args.batch_size)]
    return shlex.join(words)


@contextmanager
def stop_on_signals(stop: threading.Event, streams: Streams) -> Iterator[list[int]]:
    """Turn SIGINT and SIGTERM into ``stop`` while the block runs; a second SIGINT quits."""
    received: list[int] = []
    if threading.current_thread() is not threading.main_thread():
        yield received  # signals are delivered to the main thread only
        return

    def handle(signum: int, _frame: FrameType | None) -> None:
        if received and signum == signal.SIGINT:
            raise KeyboardInterrupt
        received.append(signum)
        stop.set()
        streams.err.write(
            f"\nfmc: {signal.Signals(signum).name}: stopping; the sends in flight finish and "
            "are recorded (Ctrl-C again quits at once)\n"
        )

    previous = {signum: signal.signal(signum, handle) for signum in SIGNAL_EXIT}
    try:
        yield received
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def _exit_code(report: BroadcastReport) -> ExitCode:
    failed = {kind for kind, count in report.failed.items() if count}
    if report.ambiguous or failed - {RecipientUnavailableError.__name__}:
        return ExitCode.GRAPH_ERROR
    return ExitCode.OK
