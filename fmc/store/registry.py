"""The registry of apps and connected accounts many businesses share (used by :mod:`fmc.platform`).

The store keeps *sealed* values only: app secrets, verify tokens and access
tokens arrive already encrypted by :class:`fmc.platform.KeyRing` and leave the
same way, so no database file or dump holds them in clear. An account is keyed
by ``(object, account_id)``: ``object`` is ``"page"`` for a Facebook Page and
leaves room for ``"instagram"`` accounts (with ``page_id`` naming the Page an
account is linked to) without a schema change.

Every write also bumps a revision number, so a process that caches the
registry (``fmc serve``) notices another process's change with one cheap read.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

import attrs

from fmc.store._checks import aware, non_empty

__all__ = ["RegistryStore", "StoredAccount", "StoredApp"]


def _sorted_unique(value: Any) -> tuple[str, ...]:
    return tuple(sorted({str(v) for v in value}))


@attrs.frozen
class StoredApp:
    """A Facebook app as the store keeps it.

    Attributes:
        app_id: The app's id (also its webhook path key).
        sealed: The app's secrets and verify token, encrypted (never in clear).
        name: A display name.
        updated_at: When it was last written.
    """

    app_id: str = attrs.field(validator=non_empty)
    sealed: str = attrs.field(validator=non_empty, repr=False)
    name: str | None
    updated_at: datetime = attrs.field(validator=aware)


@attrs.frozen
class StoredAccount:
    """A connected account (a Facebook Page today) as the store keeps it.

    Attributes:
        object: ``"page"`` (``"instagram"`` is reserved for Instagram accounts).
        account_id: The Page's (or account's) id.
        app_id: The app it is connected to.
        sealed_token: Its access token, encrypted (never in clear).
        name: A display name.
        redirect_to: Where its deliveries are forwarded by default.
        permissions: The permissions its token was granted.
        status: ``active``, ``token_invalid``, ``restricted`` or ``disconnected``.
        status_reason: Why the status was last changed.
        updated_at: When it was last written.
        page_id: For an Instagram account, the Page it is linked to.
    """

    object: str = attrs.field(validator=non_empty)
    account_id: str = attrs.field(validator=non_empty)
    app_id: str = attrs.field(validator=non_empty)
    sealed_token: str = attrs.field(validator=non_empty, repr=False)
    name: str | None
    redirect_to: str | None
    permissions: tuple[str, ...] = attrs.field(converter=_sorted_unique)
    status: str = attrs.field(validator=non_empty)
    status_reason: str | None
    updated_at: datetime = attrs.field(validator=aware)
    page_id: str | None = None


@runtime_checkable
class RegistryStore(Protocol):
    """Where :class:`fmc.platform.Platform` keeps its apps and accounts.

    :class:`~fmc.store.SQLiteStore`, :class:`~fmc.store.PostgresStore` and
    :class:`~fmc.store.MemoryStore` implement it, beside the subscriber store.
    """

    def registry_revision(self) -> int:
        """A number that changes whenever an app or account is written."""
        ...

    def registry_app_put(self, app: StoredApp) -> None:
        """Insert or replace an app."""
        ...

    def registry_app_get(self, app_id: str) -> StoredApp | None:
        """The app with this id, or ``None``."""
        ...

    def registry_apps(self) -> list[StoredApp]:
        """Every app, by id."""
        ...

    def registry_account_put(self, account: StoredAccount) -> None:
        """Insert or replace an account."""
        ...

    def registry_account_get(self, object: str, account_id: str) -> StoredAccount | None:
        """The account with this key, or ``None``."""
        ...

    def registry_accounts(
        self, object: str = "page", *, app_id: str | None = None, page_size: int = 500
    ) -> Iterator[StoredAccount]:
        """Stream accounts by id (of one app when ``app_id`` is given), in keyset pages."""
        ...

    def registry_account_status(
        self, object: str, account_id: str, status: str, *, reason: str | None, at: datetime
    ) -> bool:
        """Set an account's status; whether the account exists."""
        ...
