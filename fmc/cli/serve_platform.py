"""``fmc serve --platform``: every registered app's webhook on one development server.

Each app answers at ``/webhook/<app-id>`` (see :mod:`fmc.platform.webhook`);
Pages connected later with ``fmc pages connect`` are served without a
restart (the registry is re-read when it changes). Secrets come from the
sealed registry, opened with ``FMC_ENCRYPTION_KEYS`` (from the environment
``main`` was given, like every setting).
"""

from __future__ import annotations

import argparse
import threading
from wsgiref.simple_server import make_server

from fmc.cli.command import ExitCode, Streams
from fmc.cli.config import Config
from fmc.cli.context import open_store
from fmc.cli.platform import keyring
from fmc.cli.server import _RequestHandler, _ThreadingWSGIServer
from fmc.platform import Platform, make_wsgi_app
from fmc.webhook import Forwarder

__all__ = ["run_platform_serve"]


def run_platform_serve(
    args: argparse.Namespace, config: Config, streams: Streams, stop: threading.Event
) -> int:
    """Serve every registered app until ``stop`` is set.

    Args:
        args: The parsed ``fmc serve`` arguments (``host``, ``port`` …).
        config: The configuration (``db``, ``graph_url``, ``forward_allow``).
        streams: Where to write.
        stop: Set by SIGINT or SIGTERM.

    Returns:
        The exit code.
    """
    with open_store(config) as store:
        forwarder = None
        if config.forward_allow:
            forwarder = Forwarder(
                config.forward_allow,
                allow_private=args.allow_private_forwarding,
                outbox=store,
                persist_first=not args.forward_from_memory,
            )
            forwarder.start()
        platform = Platform(
            store,
            keys=keyring(config),
            base_url=config.graph_url,
            rate_limit=config.rate_limit,
            forwarder=forwarder,
        )
        try:
            try:
                server = make_server(
                    args.host,
                    args.port,
                    make_wsgi_app(platform.webhook),
                    server_class=_ThreadingWSGIServer,
                    handler_class=_RequestHandler,
                )
            except OSError as error:
                streams.err.write(
                    f"fmc: cannot listen on {args.host}:{args.port}: "
                    f"{error.strerror or error}; choose another --port or --host\n"
                )
                return int(ExitCode.FAILURE)
            apps = [app.id for app in platform.registry.apps()]
            pages = sum(1 for _ in platform.registry.pages())
            address = server.server_address[0]
            host = address.decode() if isinstance(address, bytes) else str(address)
            port = server.server_address[1]
            streams.out.write(
                f"fmc serve --platform: {len(apps)} apps, {pages} Pages at "
                f"http://{host}:{port}/webhook/<app-id> ({', '.join(apps) or 'none yet'}; "
                f"store {config.db}). Development server. Ctrl-C stops.\n"
            )
            streams.out.flush()
            thread = threading.Thread(
                target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=False
            )
            thread.start()
            try:
                while not stop.wait(0.5):
                    pass
            finally:
                server.shutdown()
                thread.join()
                server.server_close()
        finally:
            if forwarder is not None:
                forwarder.close()
            platform.close()
    streams.out.write("fmc serve: stopped\n")
    return int(ExitCode.OK)
