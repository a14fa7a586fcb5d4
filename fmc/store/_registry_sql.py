"""The app and account registry on SQL, one implementation for SQLite and PostgreSQL.

A mixin of the SQL stores, next to :class:`~fmc.store._journal_sql.SQLJournal`,
whose dialect and transaction runners it reuses. Only column lists are
formatted into the SQL; every value is bound (hence the S608 exemption).
"""

# ruff: noqa: S608

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from typing import Any

from fmc.store._checks import check_page_size
from fmc.store._dialect import Dialect
from fmc.store._journal_sql import Transaction
from fmc.store.registry import StoredAccount, StoredApp

__all__ = ["SQLRegistry", "registry_migration"]


def registry_migration(dialect: Dialect) -> tuple[str, ...]:
    """The statements that add the registry's tables (schema version 4)."""
    t = dialect.time_type
    return (
        f"""CREATE TABLE platform_apps (
            app_id TEXT PRIMARY KEY,
            name TEXT,
            sealed TEXT NOT NULL,
            updated_at {t} NOT NULL
        )""",
        f"""CREATE TABLE platform_accounts (
            object TEXT NOT NULL,
            account_id TEXT NOT NULL,
            page_id TEXT,
            app_id TEXT NOT NULL,
            name TEXT,
            sealed_token TEXT NOT NULL,
            redirect_to TEXT,
            permissions TEXT NOT NULL DEFAULT '[]',
            status TEXT NOT NULL,
            status_reason TEXT,
            updated_at {t} NOT NULL,
            PRIMARY KEY (object, account_id)
        )""",
        "CREATE INDEX platform_accounts_app ON platform_accounts (app_id, object, account_id)",
        """CREATE TABLE platform_revision (
            singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
            revision BIGINT NOT NULL
        )""",
        "INSERT INTO platform_revision (singleton, revision) VALUES (1, 0)",
    )


_APP_COLUMNS = "app_id, sealed, name, updated_at"
_ACCOUNT_COLUMNS = (
    "object, account_id, app_id, sealed_token, name, redirect_to, permissions, status, "
    "status_reason, updated_at, page_id"
)
_BUMP = "UPDATE platform_revision SET revision = revision + 1 WHERE singleton = 1"


def _fetch(query: str, params: Sequence[Any]) -> Callable[[Any], list[Any]]:
    return lambda conn: list(conn.execute(query, params).fetchall())


class SQLRegistry:
    """The :class:`~fmc.store.registry.RegistryStore` methods on SQL."""

    _d: Dialect
    _jwrite: Transaction[Any]
    _jread: Transaction[Any]

    def _write_bumped(self, what: str, statement: str, params: Sequence[Any]) -> int:
        query = self._d.sql(statement)

        def run(conn: Any) -> int:
            count = int(conn.execute(query, params).rowcount)
            if count:
                conn.execute(_BUMP)
            return count

        return int(self._jwrite(what, run))

    def _app(self, row: Sequence[Any]) -> StoredApp:
        updated = self._d.decode_time(row[3])
        assert updated is not None
        return StoredApp(row[0], row[1], row[2], updated)

    def _account(self, row: Sequence[Any]) -> StoredAccount:
        updated = self._d.decode_time(row[9])
        assert updated is not None
        return StoredAccount(
            row[0], row[1], row[2], row[3], row[4], row[5], json.loads(row[6]), row[7], row[8],
            updated, row[10],
        )  # fmt: skip

    def registry_revision(self) -> int:
        """See :meth:`fmc.store.registry.RegistryStore.registry_revision`."""
        query = "SELECT revision FROM platform_revision WHERE singleton = 1"
        return int(
            self._jread("read the registry revision", lambda c: c.execute(query).fetchone())[0]
        )

    def registry_app_put(self, app: StoredApp) -> None:
        """See :meth:`fmc.store.registry.RegistryStore.registry_app_put`."""
        self._write_bumped(
            "store an app",
            f"INSERT INTO platform_apps ({_APP_COLUMNS}) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (app_id) DO UPDATE SET sealed = excluded.sealed, "
            "name = excluded.name, updated_at = excluded.updated_at",
            (app.app_id, app.sealed, app.name, self._d.encode_time(app.updated_at, "updated_at")),
        )

    def registry_app_get(self, app_id: str) -> StoredApp | None:
        """See :meth:`fmc.store.registry.RegistryStore.registry_app_get`."""
        query = self._d.sql(f"SELECT {_APP_COLUMNS} FROM platform_apps WHERE app_id = ?")
        row = self._jread("read an app", lambda c: c.execute(query, (app_id,)).fetchone())
        return None if row is None else self._app(row)

    def registry_apps(self) -> list[StoredApp]:
        """See :meth:`fmc.store.registry.RegistryStore.registry_apps`."""
        query = f"SELECT {_APP_COLUMNS} FROM platform_apps ORDER BY app_id"
        rows = self._jread("read the apps", lambda c: c.execute(query).fetchall())
        return [self._app(row) for row in rows]

    def registry_account_put(self, account: StoredAccount) -> None:
        """See :meth:`fmc.store.registry.RegistryStore.registry_account_put`."""
        updates = ", ".join(f"{c} = excluded.{c}" for c in _ACCOUNT_COLUMNS.split(", ")[2:])
        self._write_bumped(
            "store an account",
            f"INSERT INTO platform_accounts ({_ACCOUNT_COLUMNS}) "
            f"VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
            f"ON CONFLICT (object, account_id) DO UPDATE SET {updates}",
            (
                account.object,
                account.account_id,
                account.app_id,
                account.sealed_token,
                account.name,
                account.redirect_to,
                json.dumps(list(account.permissions)),
                account.status,
                account.status_reason,
                self._d.encode_time(account.updated_at, "updated_at"),
                account.page_id,
            ),
        )

    def registry_account_get(self, object: str, account_id: str) -> StoredAccount | None:
        """See :meth:`fmc.store.registry.RegistryStore.registry_account_get`."""
        query = self._d.sql(
            f"SELECT {_ACCOUNT_COLUMNS} FROM platform_accounts WHERE object = ? AND account_id = ?"
        )
        row = self._jread(
            "read an account", lambda c: c.execute(query, (object, account_id)).fetchone()
        )
        return None if row is None else self._account(row)

    def registry_accounts(
        self, object: str = "page", *, app_id: str | None = None, page_size: int = 500
    ) -> Iterator[StoredAccount]:
        """See :meth:`fmc.store.registry.RegistryStore.registry_accounts`."""
        check_page_size(page_size)  # now, not at the first next()
        return self._account_pages(object, app_id, page_size)

    def _account_pages(
        self, object: str, app_id: str | None, page_size: int
    ) -> Iterator[StoredAccount]:
        where = "object = ? AND account_id > ?" + (" AND app_id = ?" if app_id else "")
        query = self._d.sql(
            f"SELECT {_ACCOUNT_COLUMNS} FROM platform_accounts WHERE {where} "
            "ORDER BY account_id LIMIT ?"
        )
        after = ""
        while True:
            params = (object, after, app_id, page_size) if app_id else (object, after, page_size)
            rows: list[Any] = self._jread("read accounts", _fetch(query, params))
            for row in rows:
                yield self._account(row)
            if len(rows) < page_size:
                return
            after = rows[-1][1]

    def registry_account_status(
        self, object: str, account_id: str, status: str, *, reason: str | None, at: datetime
    ) -> bool:
        """See :meth:`fmc.store.registry.RegistryStore.registry_account_status`."""
        changed = self._write_bumped(
            "set an account's status",
            "UPDATE platform_accounts SET status = ?, status_reason = ?, updated_at = ? "
            "WHERE object = ? AND account_id = ?",
            (status, reason, self._d.encode_time(at, "at"), object, account_id),
        )
        return changed == 1
