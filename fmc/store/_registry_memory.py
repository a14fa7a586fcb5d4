"""The app and account registry in memory, with the same rules as on SQL."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import datetime

import attrs

from fmc.store._checks import check_page_size
from fmc.store._codec import utc
from fmc.store.registry import StoredAccount, StoredApp

__all__ = ["MemoryRegistry"]


class MemoryRegistry:
    """The :class:`~fmc.store.registry.RegistryStore` methods in memory.

    A mixin of :class:`~fmc.store.MemoryStore`; its state is created on first
    use, under the store's lock.
    """

    _lock: threading.RLock
    _reg_apps: dict[str, StoredApp]
    _reg_accounts: dict[tuple[str, str], StoredAccount]
    _reg_revision: int

    def _registry(self) -> None:
        if not hasattr(self, "_reg_apps"):
            self._reg_apps = {}
            self._reg_accounts = {}
            self._reg_revision = 0

    def registry_revision(self) -> int:
        """See :meth:`fmc.store.registry.RegistryStore.registry_revision`."""
        with self._lock:
            self._registry()
            return self._reg_revision

    def registry_app_put(self, app: StoredApp) -> None:
        """See :meth:`fmc.store.registry.RegistryStore.registry_app_put`."""
        with self._lock:
            self._registry()
            self._reg_apps[app.app_id] = attrs.evolve(app, updated_at=utc(app.updated_at))
            self._reg_revision += 1

    def registry_app_get(self, app_id: str) -> StoredApp | None:
        """See :meth:`fmc.store.registry.RegistryStore.registry_app_get`."""
        with self._lock:
            self._registry()
            return self._reg_apps.get(app_id)

    def registry_apps(self) -> list[StoredApp]:
        """See :meth:`fmc.store.registry.RegistryStore.registry_apps`."""
        with self._lock:
            self._registry()
            return [self._reg_apps[k] for k in sorted(self._reg_apps)]

    def registry_account_put(self, account: StoredAccount) -> None:
        """See :meth:`fmc.store.registry.RegistryStore.registry_account_put`."""
        with self._lock:
            self._registry()
            key = (account.object, account.account_id)
            self._reg_accounts[key] = attrs.evolve(account, updated_at=utc(account.updated_at))
            self._reg_revision += 1

    def registry_account_get(self, object: str, account_id: str) -> StoredAccount | None:
        """See :meth:`fmc.store.registry.RegistryStore.registry_account_get`."""
        with self._lock:
            self._registry()
            return self._reg_accounts.get((object, account_id))

    def registry_accounts(
        self, object: str = "page", *, app_id: str | None = None, page_size: int = 500
    ) -> Iterator[StoredAccount]:
        """See :meth:`fmc.store.registry.RegistryStore.registry_accounts`."""
        check_page_size(page_size)
        with self._lock:
            self._registry()
            found = sorted(
                (a for a in self._reg_accounts.values() if a.object == object),
                key=lambda a: a.account_id,
            )
        return iter([a for a in found if app_id is None or a.app_id == app_id])

    def registry_account_status(
        self, object: str, account_id: str, status: str, *, reason: str | None, at: datetime
    ) -> bool:
        """See :meth:`fmc.store.registry.RegistryStore.registry_account_status`."""
        with self._lock:
            self._registry()
            found = self._reg_accounts.get((object, account_id))
            if found is None:
                return False
            self._reg_accounts[(object, account_id)] = attrs.evolve(
                found, status=status, status_reason=reason, updated_at=utc(at)
            )
            self._reg_revision += 1
            return True
