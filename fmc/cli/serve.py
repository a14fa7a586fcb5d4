"""``fmc serve``: the Page's webhook on the development server, until SIGINT or SIGTERM."""

from __future__ import annotations

import argparse
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

from fmc.cli.config import Config
from fmc.cli.context import open_channel
from fmc.cli.entry import ExitCode, Streams
from fmc.cli.server import WebhookServer

__all__ = ["add_parsers", "run_serve"]

_DESCRIPTION = """\
Serve the Page's webhook: verify Meta's handshake and signatures, register
everyone who writes in the SQLite store, and forward deliveries to their
redirect_to address when FMC_FORWARD_ALLOW lists its host.

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
    parser = commands.add_parser(
        "serve",
        parents=[common],
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
    parser.set_defaults(command=run_serve)


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
    config.require("page_id", "page_token", "app_secret", "verify_token")
    stop = threading.Event()
    with open_channel(
        config, forwarding=True, allow_private_forwarding=args.allow_private_forwarding
    ) as channel:
        handler = channel.webhook
        try:
            server = WebhookServer(handler, host=args.host, port=args.port)
        except OSError as error:
            streams.err.write(
                f"fmc: cannot listen on {args.host}:{args.port}: {error.strerror or error}; "
                "choose another --port or --host\n"
            )
            return int(ExitCode.FAILURE)
        forwarding = ", ".join(config.forward_allow) if config.forward_allow else "off"
        with _stop_on_signals(stop), server:
            streams.out.write(
                f"fmc serve: webhook of page {config.page_id} at {server.url} "
                f"(store {config.db}; forwarding {forwarding}). "
                "Development server: use gunicorn or waitress in production. Ctrl-C stops.\n"
            )
            streams.out.flush()
            while not stop.wait(0.5):
                pass
        streams.out.write("fmc serve: stopped\n")
    return int(ExitCode.OK)
