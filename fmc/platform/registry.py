"""The registry: apps and Pages in the store, sealed at rest, cached in memory.

Lookups by id are dictionary hits. A write through this registry drops the
entry it changed; a write by another process (``fmc pages connect`` while
``fmc serve`` runs) bumps the store's revision, which the registry reads at
most once per ``refresh_every`` seconds, dropping its whole cache when it
moved. The cache holds opened records only for the registered ids looked up (a miss
is not cached, so requests naming random ids cannot grow it).
"""

from __future__ import annotations

import functools
import json
import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from typing import TypeVar

from fmc.platform.errors import UnknownAccountError
from fmc.platform.keys import KeyRing
from fmc.platform.records import App, PageRecord, PageStatus
from fmc.store.registry import RegistryStore, StoredAccount, StoredApp

__all__ = ["PAGE", "Registry"]

#: The ``object`` of a Facebook Page's account row.
PAGE = "page"

_S = TypeVar("_S")
_V = TypeVar("_V")


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


class Registry:
    """Apps and Pages, sealed in a store, opened and cached on lookup.

    Args:
        store: Any fmc store (they all implement
            :class:`~fmc.store.registry.RegistryStore`).
        keys: Seals and opens the secrets.
        refresh_every: Seconds between checks for another process's changes.
        clock: Aware UTC now, for ``updated_at``.
        monotonic: Seconds, for ``refresh_every``.
    """

    def __init__(
        self,
        store: RegistryStore,
        keys: KeyRing,
        *,
        refresh_every: float = 2.0,
        clock: Callable[[], datetime] = _utcnow,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store = store
        self.keys = keys
        self._refresh_every = refresh_every
        self._clock = clock
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._apps: dict[str, App] = {}
        self._pages: dict[str, PageRecord] = {}
        self._revision = store.registry_revision()
        self._checked = monotonic()
        self._listeners: list[Callable[[str | None], None]] = []

    def __repr__(self) -> str:
        return f"Registry(apps={len(self._apps)}, pages={len(self._pages)} cached)"

    def on_change(self, listener: Callable[[str | None], None]) -> None:
        """Call ``listener(page_id)`` when a Page changes (``None``: anything may have)."""
        self._listeners.append(listener)

    # -- cache -------------------------------------------------------------------------

    def _fresh(self) -> None:
        now = self._monotonic()
        if now - self._checked < self._refresh_every:
            return
        self._checked = now
        revision = self.store.registry_revision()
        if revision != self._revision:
            self._revision = revision
            self.invalidate()

    def invalidate(self, page_id: str | None = None) -> None:
        """Drop a Page from the cache (every app and Page when ``page_id`` is ``None``)."""
        with self._lock:
            if page_id is None:
                self._apps = {}
                self._pages = {}
            else:
                self._pages.pop(page_id, None)
        for listener in self._listeners:
            listener(page_id)

    def _load(
        self,
        cache: dict[str, _V],
        key: str,
        fetch: Callable[[str], _S | None],
        open_: Callable[[_S], _V],
    ) -> _V | None:
        """The stored record under ``key``, opened and put in ``cache``; ``None`` if none is stored.

        A miss is not cached: webhook paths and entry ids come from the
        network, and random ones must not grow the cache. The opened record
        goes into the ``cache`` the lookup started with, so one dropped by
        :meth:`invalidate` meanwhile does not refill the new cache.
        """
        stored = fetch(key)
        if stored is None:
            return None
        found = open_(stored)
        with self._lock:
            cache[key] = found
        return found

    # -- apps ------------------------------------------------------------------------

    def _seal_app(self, app: App) -> StoredApp:
        secret = json.dumps({"secrets": list(app.secrets), "verify_token": app.verify_token})
        return StoredApp(app.id, self.keys.seal(secret), app.name, self._clock())

    def _open_app(self, stored: StoredApp) -> App:
        data = json.loads(self.keys.open(stored.sealed, what=f"the secrets of app {stored.app_id}"))
        return App(stored.app_id, tuple(data["secrets"]), data["verify_token"], stored.name)

    def add_app(self, app: App) -> None:
        """Register an app, or replace its secrets, verify token and name."""
        self.store.registry_app_put(self._seal_app(app))
        # Every Page's channel holds its app's secret: rebuild them all now.
        self.invalidate()

    def app(self, app_id: str) -> App | None:
        """The app with this id, or ``None``."""
        self._fresh()
        cached = self._apps.get(app_id)
        if cached is not None:
            return cached
        return self._load(self._apps, app_id, self.store.registry_app_get, self._open_app)

    def require_app(self, app_id: str) -> App:
        """The app with this id.

        Raises:
            UnknownAccountError: no such app is registered.
        """
        found = self.app(app_id)
        if found is None:
            raise UnknownAccountError(
                f"no app {app_id!r} is registered: add it with `fmc apps add` or "
                "Platform.add_app(App(...))"
            )
        return found

    def apps(self) -> list[App]:
        """Every registered app, by id."""
        return [self._open_app(a) for a in self.store.registry_apps()]

    # -- Pages -----------------------------------------------------------------------

    def _seal_page(self, page: PageRecord) -> StoredAccount:
        return StoredAccount(
            PAGE,
            page.id,
            page.app_id,
            self.keys.seal(page.access_token),
            page.name,
            page.redirect_to,
            tuple(page.permissions),
            page.status.value,
            page.status_reason,
            self._clock(),
        )

    def _open_page(self, stored: StoredAccount) -> PageRecord:
        return PageRecord(
            stored.account_id,
            stored.app_id,
            self.keys.open(stored.sealed_token, what=f"the token of Page {stored.account_id}"),
            name=stored.name,
            redirect_to=stored.redirect_to,
            permissions=stored.permissions,
            status=PageStatus(stored.status),
            status_reason=stored.status_reason,
        )

    def put_page(self, page: PageRecord) -> None:
        """Store a Page (insert or replace)."""
        self.store.registry_account_put(self._seal_page(page))
        self.invalidate(page.id)

    def page(self, page_id: str) -> PageRecord | None:
        """The Page with this id (whatever its status), or ``None``; O(1) once cached."""
        self._fresh()
        cached = self._pages.get(page_id)
        if cached is not None:
            return cached
        fetch = functools.partial(self.store.registry_account_get, PAGE)
        return self._load(self._pages, page_id, fetch, self._open_page)

    def pages(self, *, app_id: str | None = None) -> Iterator[PageRecord]:
        """Every stored Page (of one app), by id, streamed from the store."""
        for stored in self.store.registry_accounts(PAGE, app_id=app_id):
            yield self._open_page(stored)

    def set_status(self, page_id: str, status: PageStatus, *, reason: str | None = None) -> None:
        """Change a Page's status.

        Raises:
            UnknownAccountError: no such Page.
        """
        if not self.store.registry_account_status(
            PAGE, page_id, PageStatus(status).value, reason=reason, at=self._clock()
        ):
            raise UnknownAccountError(f"no Page {page_id!r} is registered")
        self.invalidate(page_id)

    def rotate_keys(self) -> int:
        """Re-seal every app secret and Page token with the newest key; how many were."""
        count = 0
        for stored_app in self.store.registry_apps():
            what = f"the secrets of app {stored_app.app_id}"
            self.store.registry_app_put(
                StoredApp(
                    stored_app.app_id,
                    self.keys.reseal(stored_app.sealed, what=what),
                    stored_app.name,
                    self._clock(),
                )
            )
            count += 1
        for account in list(self.store.registry_accounts(PAGE)):
            what = f"the token of Page {account.account_id}"
            sealed = self.keys.reseal(account.sealed_token, what=what)
            self.store.registry_account_put(
                StoredAccount(
                    account.object, account.account_id, account.app_id, sealed, account.name,
                    account.redirect_to, account.permissions, account.status,
                    account.status_reason, self._clock(), account.page_id,
                )
            )  # fmt: skip
            count += 1
        self.invalidate()
        return count
