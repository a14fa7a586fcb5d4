"""``fmc apps``, ``fmc pages`` and ``fmc keys``: the registry of a platform serving many Pages.

Secrets never go on the command line (where shell history and process lists
keep them): an app's secret and verify token come from ``FMC_APP_SECRET`` and
``FMC_VERIFY_TOKEN``, a Page token from ``FMC_PAGE_TOKEN``, the encryption
keys from ``FMC_ENCRYPTION_KEYS``. The registry lives in the SQLite store
(``FMC_DB``), sealed with those keys.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from fmc.cli.command import ExitCode, Streams, add_command
from fmc.cli.config import Config
from fmc.cli.context import open_store
from fmc.platform import DEFAULT_FIELDS, App, AppSubscription, KeyRing, PageStatus, Platform

__all__ = ["add_parsers", "keyring", "open_platform", "run_apps", "run_keys", "run_pages"]


def add_parsers(commands: Any, common: argparse.ArgumentParser) -> None:
    """Add ``apps``, ``pages`` and ``keys`` to the command's subparsers.

    Args:
        commands: The subparsers action of the ``fmc`` parser.
        common: The parser holding the options every command takes.
    """
    apps = add_command(
        commands,
        common,
        "apps",
        run_apps,
        help="register and list the Facebook apps a platform serves",
        description="add: register (or update) an app, its secret from FMC_APP_SECRET and its "
        "verify token from FMC_VERIFY_TOKEN; its webhook path is /webhook/<app-id>. "
        "list: the registered apps (never a secret). webhook APP_ID: show the app's webhook "
        "as Meta holds it; with --url, set it (POST /{app-id}/subscriptions with the app "
        "token; Meta checks the URL with the handshake at once, so serve it first); with "
        "--delete, remove it.",
    )
    apps.add_argument("action", choices=("add", "list", "webhook"))
    apps.add_argument("app_id", nargs="?", help="the app's id (add, webhook)")
    apps.add_argument("--name", help="a display name (add)")
    apps.add_argument(
        "--url",
        help="webhook: set the app's callback URL on Meta's side "
        "(https://your-host/webhook/<app-id>) with its verify token and the app token",
    )
    apps.add_argument(
        "--fields",
        help="webhook: the fields to subscribe, comma-separated (default: the Pages' fields)",
    )
    apps.add_argument("--delete", action="store_true", help="webhook: remove the app's webhook")

    pages = add_command(
        commands,
        common,
        "pages",
        run_pages,
        help="connect, list, check and disconnect the Pages a platform serves",
        description="connect APP_ID: check FMC_PAGE_TOKEN with debug_token, subscribe the app "
        "to its Page, store it. list: every Page and its status. check: every token's "
        "health (a dead one is marked token_invalid). disconnect PAGE_ID.",
    )
    pages.add_argument("action", choices=("connect", "list", "check", "disconnect"))
    pages.add_argument("target", nargs="?", help="the app id (connect) or Page id (disconnect)")
    pages.add_argument("--redirect-to", help="forward the Page's deliveries here by default")

    keys = add_command(
        commands,
        common,
        "keys",
        run_keys,
        help="make an encryption key, or re-seal every secret with the newest key",
        description="generate: print a new key to put first in FMC_ENCRYPTION_KEYS. "
        "rotate: re-seal every app secret and Page token with the first key of "
        "FMC_ENCRYPTION_KEYS (the others must still open them), then the old keys can go.",
    )
    keys.add_argument("action", choices=("generate", "rotate"))


def keyring(config: Config) -> KeyRing:
    """The key ring of ``config.encryption_keys``.

    Raises:
        fmc.platform.EncryptionKeyError: no key or a malformed one; the
            message names ``FMC_ENCRYPTION_KEYS``.
    """
    return KeyRing(config.encryption_keys)


@contextmanager
def open_platform(config: Config) -> Iterator[Platform]:
    """The platform on the configured store, sealed with ``config.encryption_keys``.

    The keys come from ``FMC_ENCRYPTION_KEYS`` in the environment ``main`` was
    given (or ``encryption_keys`` in the ``--config`` file), never straight
    from the process environment.
    """
    with open_store(config) as store:
        platform = Platform(store, keys=keyring(config), base_url=config.graph_url)
        try:
            yield platform
        finally:
            platform.close()


def run_apps(args: argparse.Namespace, config: Config, streams: Streams) -> int:
    """Run ``fmc apps add|list|webhook``."""
    with open_platform(config) as platform:
        if args.action in ("add", "webhook") and not args.app_id:
            streams.err.write(
                f"fmc apps {args.action}: name the app id (fmc apps {args.action} APP_ID)\n"
            )
            return int(ExitCode.USAGE)
        if args.action == "webhook":
            return _app_webhook(args, platform, streams)
        if args.action == "add":
            config.require("app_secret", "verify_token")
            assert config.app_secret is not None
            assert config.verify_token is not None
            platform.add_app(App(args.app_id, config.app_secret, config.verify_token, args.name))
            streams.out.write(
                f"app {args.app_id} registered: webhook path /webhook/{args.app_id}\n"
            )
            return int(ExitCode.OK)
        for app in platform.registry.apps():
            pages = sum(1 for _ in platform.registry.pages(app_id=app.id))
            streams.out.write(
                f"{app.id}\t{app.name or '-'}\t/webhook/{app.id}\t{pages} Pages\t"
                f"{len(app.secrets)} secret(s)\n"
            )
    return int(ExitCode.OK)


def _app_webhook(args: argparse.Namespace, platform: Platform, streams: Streams) -> int:
    """Show, set (``--url``) or remove (``--delete``) an app's webhook on Meta's side."""
    if args.delete and args.url:
        streams.err.write("fmc apps webhook: give --url to set it or --delete to remove it\n")
        return int(ExitCode.USAGE)
    if args.delete:
        platform.delete_app_webhook(args.app_id)
        streams.out.write(f"app {args.app_id}: webhook removed; Meta no longer delivers to it\n")
        return int(ExitCode.OK)
    if args.url:
        fields = DEFAULT_FIELDS if args.fields is None else tuple(args.fields.split(","))
        found: AppSubscription | None = platform.set_app_webhook(
            args.app_id, args.url, fields=fields
        )
    else:
        found = platform.app_webhook(args.app_id)
    if found is None:
        streams.out.write(
            f"app {args.app_id}: no Messenger webhook set; set it with "
            f"fmc apps webhook {args.app_id} --url https://your-host/webhook/{args.app_id}\n"
        )
        return int(ExitCode.OK)
    state = "active" if found.active else "inactive"
    streams.out.write(
        f"app {args.app_id} webhook: {found.callback_url} ({state}), "
        f"fields {', '.join(found.fields)}\n"
    )
    return int(ExitCode.OK)


def run_pages(args: argparse.Namespace, config: Config, streams: Streams) -> int:
    """Run ``fmc pages connect|list|check|disconnect``."""
    with open_platform(config) as platform:
        if args.action in ("connect", "disconnect") and not args.target:
            what = "app id" if args.action == "connect" else "Page id"
            streams.err.write(f"fmc pages {args.action}: name the {what}\n")
            return int(ExitCode.USAGE)
        if args.action == "connect":
            config.require("page_token")
            assert config.page_token is not None
            record = platform.connect_page(
                args.target, config.page_token, redirect_to=args.redirect_to
            )
            streams.out.write(
                f"Page {record.id} ({record.name or '-'}) connected to app {record.app_id}\n"
            )
        elif args.action == "disconnect":
            platform.disconnect_page(args.target)
            streams.out.write(f"Page {args.target} disconnected\n")
        elif args.action == "check":
            health = platform.check_pages()
            for item in health:
                reason = f"\t{item.reason}" if item.reason else ""
                streams.out.write(f"{item.page_id}\t{item.app_id}\t{item.status.value}{reason}\n")
            bad = [h for h in health if h.status is not PageStatus.ACTIVE]
            return int(ExitCode.FAILURE if bad else ExitCode.OK)
        else:
            for page in platform.registry.pages():
                reason = f"\t{page.status_reason}" if page.status_reason else ""
                streams.out.write(
                    f"{page.id}\t{page.app_id}\t{page.name or '-'}\t{page.status.value}{reason}\n"
                )
    return int(ExitCode.OK)


def run_keys(args: argparse.Namespace, config: Config, streams: Streams) -> int:
    """Run ``fmc keys generate|rotate``."""
    if args.action == "generate":
        streams.out.write(KeyRing.generate_key() + "\n")
        return int(ExitCode.OK)
    with open_platform(config) as platform:
        count = platform.rotate_keys()
    streams.out.write(f"re-sealed {count} secrets with the newest key\n")
    return int(ExitCode.OK)
