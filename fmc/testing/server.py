"""``python -m fmc.testing.server``: the fake Graph API as a command, serving on loopback.

It prints its URL on the first line of stdout and serves until stdin closes or
it gets SIGTERM::

    python -m fmc.testing.server --port 0 --latency 0.05 --fault rate_limit:ratio=0.1

Its state is read and changed over HTTP: ``GET /_fake/deliveries``
(``?since=N``), ``GET /_fake/requests``, ``GET``/``POST /_fake/faults``,
``POST /_fake/reset`` and ``POST /_fake/users``. In Python, use
:class:`~fmc.testing.FakeGraphServer` (also importable from here) or
:meth:`FakeGraphAPI.serve <fmc.testing.FakeGraphAPI.serve>`.
"""

from __future__ import annotations

import argparse
import json
import os
import selectors
import signal
import sys
import threading
from collections.abc import Sequence
from types import FrameType
from typing import IO

from fmc.testing.fake_graph import DEFAULT_PAGE_ID, FakeGraphAPI, FakeGraphServer
from fmc.testing.faults import Fault

__all__ = ["FakeGraphServer", "main"]


def _fault_arg(text: str) -> Fault:
    text = text.strip()
    try:
        if text.startswith("{"):
            return Fault.from_dict(json.loads(text))
        return Fault.parse(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m fmc.testing.server",
        description="Serve fmc's fake Graph API on loopback. Prints its URL on the first line "
        "of stdout and serves until stdin closes or SIGTERM. The access token and app secret "
        "may also come from FMC_FAKE_ACCESS_TOKEN and FMC_FAKE_APP_SECRET.",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks an ephemeral port")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds added per request")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--page-id", default=DEFAULT_PAGE_ID)
    parser.add_argument("--api-version", default=None)
    parser.add_argument("--backlog", type=int, default=1024)
    parser.add_argument(
        "--ignore-stdin", action="store_true", help="serve until SIGTERM, whatever stdin does"
    )
    parser.add_argument(
        "--fault",
        action="append",
        type=_fault_arg,
        default=[],
        help="KIND[:key=value,...] or a JSON object; repeatable",
    )
    return parser


def _serve_until_done(done: threading.Event, stdin: IO[bytes] | None) -> None:
    """Wait for SIGTERM (``done``) or the end of stdin, reading stdin's raw descriptor.

    Reading the raw descriptor from this thread, rather than the buffered stream
    from a daemon thread, leaves no thread holding stdin's lock at exit.
    """
    if stdin is None:
        while not done.wait(0.5):
            pass
        return
    descriptor = stdin.fileno()
    with selectors.DefaultSelector() as selector:
        selector.register(descriptor, selectors.EVENT_READ)
        while not done.is_set():
            if selector.select(0.5) and not os.read(descriptor, 65536):
                return


def main(argv: Sequence[str] | None = None, *, stdin: IO[bytes] | None = None) -> int:
    """Run the fake Graph server until stdin closes or SIGTERM.

    Args:
        argv: Command-line arguments (``sys.argv[1:]`` when ``None``).
        stdin: The stream whose end stops the server (``sys.stdin`` by default).

    Returns:
        The exit code.
    """
    args = _parser().parse_args(argv)
    fake = FakeGraphAPI(
        page_id=args.page_id,
        access_token=os.environ.get("FMC_FAKE_ACCESS_TOKEN"),
        app_secret=os.environ.get("FMC_FAKE_APP_SECRET"),
        api_version=args.api_version,
        latency=args.latency,
        seed=args.seed,
        faults=args.fault,
    )
    done = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        done.set()

    in_main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, on_signal) if in_main_thread else None
    server = FakeGraphServer(fake, host=args.host, port=args.port, backlog=args.backlog).start()
    try:
        sys.stdout.write(server.url + "\n")
        sys.stdout.flush()
        _serve_until_done(done, None if args.ignore_stdin else (stdin or sys.stdin.buffer))
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
        if in_main_thread:
            signal.signal(signal.SIGTERM, previous)
    return 0


if __name__ == "__main__":
    sys.exit(main())
