"""Build the objects a command works with from its :class:`~fmc.cli.config.Config`."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

from fmc.channel import Channel
from fmc.cli.config import Config
from fmc.errors import ConfigurationError
from fmc.store import SQLiteStore
from fmc.transport import Client
from fmc.webhook import Forwarder

__all__ = ["open_channel", "open_store"]


def open_store(config: Config, *, create: bool = True) -> SQLiteStore:
    """Open the SQLite store the configuration names.

    Args:
        config: The configuration.
        create: Create the file if it is missing. Commands that only read
            subscribers do not, so a mistyped ``FMC_DB`` is an error rather
            than an empty store.

    Returns:
        The store; the caller closes it.

    Raises:
        ConfigurationError: ``create`` is false and the file does not exist.
    """
    if not create and not Path(config.db).is_file():
        raise ConfigurationError(
            f"no store at {config.db!r}; check FMC_DB or --db "
            "(fmc serve creates it when the first person writes)"
        )
    return SQLiteStore(config.db)


@contextmanager
def open_channel(
    config: Config,
    *,
    create: bool = True,
    forwarding: bool = False,
    allow_private_forwarding: bool = False,
    persist_first: bool = False,
) -> Iterator[Channel]:
    """A Channel for the configured Page, closed (with everything it owns) on exit.

    Args:
        config: The configuration.
        create: Create the store's file if it is missing (see :func:`open_store`).
        forwarding: Forward webhook deliveries to the allowed ``redirect_to``
            hosts (when ``forward_allow`` is set).
        allow_private_forwarding: Also allow plain http and private addresses
            for the allowed hosts (local development only).
        persist_first: Keep every forwarded delivery in the store's outbox
            before answering Meta (see :class:`~fmc.webhook.Forwarder`).

    Yields:
        The channel.

    Raises:
        ConfigurationError: The Page id or token is missing or malformed, or
            the store is missing and ``create`` is false.
    """
    page = config.page()
    with ExitStack() as stack:
        client = stack.enter_context(
            Client(page, base_url=config.graph_url, rate_limit=config.rate_limit)
        )
        store = stack.enter_context(open_store(config, create=create))
        forwarder = None
        if forwarding and config.forward_allow:
            forwarder = Forwarder(
                config.forward_allow,
                allow_private=allow_private_forwarding,
                outbox=store,
                persist_first=persist_first,
            )
            # Closed before the store (ExitStack unwinds in reverse): unsent
            # deliveries still reach the durable outbox.
            stack.callback(forwarder.close)
            forwarder.start()
        yield Channel(
            page,
            client=client,
            store=store,
            policy=config.policy(),
            verify_token=config.verify_token,
            forwarder=forwarder,
        )
