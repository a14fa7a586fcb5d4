"""``fmc broadcast --page ID`` / ``--all-pages``: one journaled broadcast per connected Page."""

from __future__ import annotations

import argparse
import hashlib
import threading
import uuid
from datetime import date, datetime, timedelta, timezone

from fmc.channel import broadcast_id_for
from fmc.cli.broadcast import (
    SAME_BROADCAST_WINDOW,
    run_options,
    say_resuming,
    stop_on_signals,
    unfinished_exit,
)
from fmc.cli.command import ExitCode, Streams
from fmc.cli.config import Config
from fmc.cli.platform import open_platform
from fmc.platform import Platform

__all__ = ["run_platform_broadcast"]


def run_platform_broadcast(args: argparse.Namespace, config: Config, streams: Streams) -> int:
    """Broadcast to the named Pages (or every connected one), each under its own policy.

    ``--resume KEY`` runs the same broadcast again: every Page's part resumes
    without sending anyone anything twice (a Page reconnected after a dead
    token gets what it missed). Without ``--again``, running the same command
    (same text and purpose) again within a day resumes it the same way.
    ``--dry-run`` sends nothing and journals
    nothing: it prints, per Page, what its policy would do (counts per rule).

    Returns:
        0 when every Page's broadcast finished (or after a dry run), 5 when one paused (a dead
        token, a restricted Page, a throttle) or a Page was not sent to.
    """
    pages = None if args.all_pages else list(args.page)
    if args.dry_run:
        with open_platform(config) as platform:
            plan = platform.plan_broadcast(args.purpose, pages=pages)
        streams.out.write(plan.summary() + "\n")
        return int(ExitCode.OK)

    stop = threading.Event()
    with stop_on_signals(stop, streams) as received, open_platform(config) as platform:
        key = _key(args, platform, pages, streams)
        streams.err.write(
            f"fmc: broadcast {key} ({args.purpose.value}) to "
            f"{'every connected Page' if pages is None else ', '.join(pages)}; "
            f"finish it if interrupted with the same command and --resume {key}\n"
        )
        report = platform.broadcast(
            args.text,
            args.purpose,
            pages=pages,
            idempotency_key=key,
            **run_options(args, stop),
        )
    streams.out.write(report.summary() + "\n")
    if report.paused or report.not_sent:
        streams.err.write(
            "fmc: some Pages were not finished; fix them (`fmc pages check`, "
            f"`fmc pages connect`) and resume with --resume {key}\n"
        )
        return int(unfinished_exit(received))
    return int(ExitCode.OK)


def _content_key(args: argparse.Namespace, day: date) -> str:
    digest = hashlib.sha256(f"{args.purpose.value}\x00{args.text.text}".encode()).hexdigest()
    return f"pbc-{digest[:16]}-{day:%Y%m%d}"


def _key(
    args: argparse.Namespace, platform: Platform, pages: list[str] | None, streams: Streams
) -> str:
    """The broadcast's key: ``--resume``, else the same broadcast begun within a day, else new.

    Without ``--again``, the key is made from the text, the purpose and the
    day, so the same command run again resumes every Page's part instead of
    sending it twice (as ``fmc broadcast`` does for one Page).
    """
    if args.resume:
        return str(args.resume)
    now = datetime.now(timezone.utc)
    if args.again:
        return f"pbc-{uuid.uuid4().hex[:16]}"
    ids = pages if pages is not None else [p.id for p in platform.registry.pages()]
    for day in (now.date(), now.date() - timedelta(days=1)):
        key = _content_key(args, day)
        for page_id in ids:
            found = platform.store.broadcast_get(broadcast_id_for(page_id, f"{key}:{page_id}"))
            if found is not None and found.created_at >= now - SAME_BROADCAST_WINDOW:
                say_resuming(streams, key, found.created_at)
                return key
    return _content_key(args, now.date())
