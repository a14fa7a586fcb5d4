"""``fmc serve``: the Page's webhook on the development server, until SIGINT or SIGTERM."""

from __future__ import annotations

import argparse
import math
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

from fmc.channel import Channel
from fmc.cli.command import ExitCode, Streams, add_command
from fmc.cli.config import Config
from fmc.cli.context import open_channel
from fmc.cli.server import WebhookServer
from fmc.webhook.commit import DEFAULT_COMMIT_TIMEOUT

__all__ = ["add_parsers", "run_serve"]

_DESCRIPTION = """\
Serve the Page's webhook: verify Meta's handshake and signatures, register
everyone who writes in the SQLite store, and forward deliveries to their
redirect_to address when FMC_FORWARD_ALLOW lists its host.

A delivery is answered 200 only once it is in the store: its registrations,
its dedup marks and, when it is forwarded, its outbox item, in one transaction.
If the store cannot take it within --commit-timeout seconds (5) the answer is
503 and Meta delivers it again later. So a kill -9 loses nothing that was answered 200; on Ctrl-C or
SIGTERM, requests in flight finish and deliveries not yet forwarded stay in
the outbox, forwarded after the next start. --forward-from-memory trades that
for one store write less per forwarded delivery.

This is the standard library's threaded wsgiref server, meant for development.
In production, run the same WSGI application under a production server, e.g.
gunicorn or waitress, from a module of yours that builds it:
    app = fmc.adapters.wsgi.make_app(channel.webhook)
(see the command-line guide). Stops cleanly on Ctrl-C or SIGTERM.

Needs FMC_PAGE_ID, FMC_PAGE_TOKEN, FMC_APP_SECRET and FMC_VERIFY_TOKEN.
"""


def add_parsers(commands: Any, common: argparse.ArgumentParser) -> None:
    """Add ``serve`` to the command's subparsers.

    Args:
        commands: The subparsers action of the ``fmc`` parser.
        common: The parser holding the options every command takes.
    """
    parser = add_command(
        commands,
        common,
        "serve",
        run_serve,
        help="serve the Page's webhook (development server)",
        description=_DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on [127.0.0.1]")
    parser.add_argument("--port", type=int, default=8080, help="port to listen on [8080]")
    parser.add_argument(
        "--allow-private-forwarding",
        action="store_true",
        help="also forward to plain http and private addresses of allowed hosts (development)",
    )
    parser.add_argument(
        "--commit-timeout",
        type=_seconds,
        default=DEFAULT_COMMIT_TIMEOUT,
        metavar="SECONDS",
        help="answer 503 when the store cannot take a delivery within this time "
        f"[{DEFAULT_COMMIT_TIMEOUT:g}]; Meta waits about 20 s",
    )
    parser.add_argument(
        "--forward-from-memory",
        action="store_true",
        help="queue forwarded deliveries in memory before the outbox (one write less; "
        "a kill -9 then loses the deliveries waiting in memory)",
    )
    parser.add_argument(
        "--platform",
        action="store_true",
        help="serve every app registered with `fmc apps add` at /webhook/<app-id> "
        "(many businesses; see `fmc pages`) instead of one Page",
    )


def _seconds(text: str) -> float:
    """A positive number of seconds, for ``--commit-timeout``."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive number of seconds")
    return value


@contextmanager
def _stop_on_signals(stop: threading.Event) -> Iterator[None]:
    """Set ``stop`` on SIGINT and SIGTERM (only the main thread can take signals)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handle(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, handle) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def run_serve(args: argparse.Namespace, config: Config, streams: Streams) -> int:
    """Run ``fmc serve`` until a signal asks it to stop.

    Args:
        args: The parsed arguments (``host``, ``port``, ``allow_private_forwarding``).
        config: The configuration.
        streams: Where to write.

    Returns:
        The exit code.

    Raises:
        ConfigurationError: The Page, its app secret or the verify token is missing.
    """
    stop = threading.Event()
    if getattr(args, "platform", False):
        from fmc.cli.serve_platform import run_platform_serve

        with _stop_on_signals(stop):
            return run_platform_serve(args, config, streams, stop)
    config.require("page_id", "page_token", "app_secret", "verify_token")
    with open_channel(
        config,
        forwarding=True,
        allow_private_forwarding=args.allow_private_forwarding,
        persist_first=not args.forward_from_memory,
    ) as channel:
        handler = channel.webhook
        handler.commit_timeout = args.commit_timeout
        try:
            server = WebhookServer(handler, host=args.host, port=args.port)
        except OSError as error:
            streams.err.write(
                f"fmc: cannot listen on {args.host}:{args.port}: {error.strerror or error}; "
                "choose another --port or --host\n"
            )
            return int(ExitCode.FAILURE)
        forwarding = ", ".join(config.forward_allow) if config.forward_allow else "off"
        if config.forward_allow:
            forwarding += " from memory" if args.forward_from_memory else " through the outbox"
        with _stop_on_signals(stop), server:
            streams.out.write(
                f"fmc serve: webhook of page {config.page_id} at {server.url} "
                f"(store {config.db}; forwarding {forwarding}). "
                "Development server: use gunicorn or waitress in production. Ctrl-C stops.\n"
            )
            streams.out.flush()
            while not stop.wait(0.5):
                pass
        streams.out.write(_stopped(channel))
    return int(ExitCode.OK)


def _stopped(channel: Channel) -> str:
    """Stop forwarding (what was not sent stays in the outbox) and say what waits."""
    forwarder = channel.webhook.forwarder
    if forwarder is None:
        return "fmc serve: stopped\n"
    forwarder.close()
    waiting = channel.store.outbox_count()
    if not waiting:
        return "fmc serve: stopped\n"
    return (
        f"fmc serve: stopped; {waiting} deliveries wait in the outbox "
        "and are forwarded after the next start\n"
    )
