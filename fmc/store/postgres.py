"""The production subscriber store on PostgreSQL (psycopg 3, the ``postgres`` extra).

psycopg is imported when a :class:`PostgresStore` is created, never when
``fmc`` is imported.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime, timedelta
from types import TracebackType
from typing import Any, TypeVar

from fmc.errors import ConfigurationError
from fmc.models.outbox import OutboxItem
from fmc.models.subscriber import NotificationToken, Subscriber, SubscriberStatus, TokenStatus
from fmc.store import _postgres_delivery as delivery_sql
from fmc.store import _postgres_schema as sql
from fmc.store._codec import (
    merge_events,
    tokens_to_data,
    utc,
)
from fmc.store._dialect import POSTGRES
from fmc.store._journal_sql import SQLJournal
from fmc.store._postgres_pool import PostgresPool, redact_dsn
from fmc.store._registry_sql import SQLRegistry
from fmc.store.base import EventRecord
from fmc.store.delivery import DeliveryResult, DeliveryWrite

__all__ = ["PostgresStore", "redact_dsn"]

_T = TypeVar("_T")
_PURGE_EVERY = 1000
_SCHEMA_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")


def _opt_utc(value: datetime | None, name: str) -> datetime | None:
    return None if value is None else utc(value, name)


def _check_dsn(dsn: object) -> None:
    # Name the fix for the DSN mistakes libpq reports obscurely; the DSN itself
    # is never quoted (it may hold a password).
    if dsn is None:
        raise ConfigurationError(
            "PostgresStore needs a DSN such as 'postgresql://user@host/dbname', got None; "
            "if it comes from an environment variable, that variable is not set"
        )
    if not isinstance(dsn, str):
        raise ConfigurationError(f"PostgresStore needs a DSN string, got {type(dsn).__name__}")
    scheme, sep, _ = dsn.partition("://")
    base, plus, driver = scheme.partition("+")
    if sep and plus and base.lower() in ("postgresql", "postgres"):
        raise ConfigurationError(
            f"PostgresStore takes a libpq DSN, not an SQLAlchemy URL: drop the driver "
            f"suffix '+{driver}' and start the DSN with '{base}://'"
        )


class PostgresStore(SQLJournal, SQLRegistry):
    """A :class:`~fmc.store.SubscriberStore` on PostgreSQL, for several processes and hosts.

    Thread-safe: a small lock-protected pool of autocommit connections, each
    used by one thread at a time; every write is one short transaction,
    batches lock rows in key order, and a deadlock or serialization failure
    is retried. Iteration reads one keyset page per query, with no
    transaction kept open between pages. Broadcast claims are
    ``INSERT ... ON CONFLICT DO NOTHING RETURNING``, so workers in several
    processes can share one broadcast. The schema is versioned in
    ``schema_version`` and migrated on open under an advisory lock.

    Args:
        dsn: A libpq connection string or URL. Its password never appears in
            ``repr`` or error messages.
        schema: Keep the tables in this schema (created if missing) instead of
            the connection's default; useful for tests and for sharing a
            database.
        max_connections: The pool's size; threads beyond it wait.
        connect_timeout: Seconds to wait for a connection to be established.
        acquire_timeout: Seconds a thread waits for a free pooled connection.
        retries: How many times a transaction that hit a deadlock or a
            serialization failure is retried.
        sleep: Called with the seconds to wait between those retries.

    Raises:
        ConfigurationError: psycopg is not installed or an option is invalid.
        StoreError: the server cannot be reached or the schema migrated.
    """

    def __init__(
        self,
        dsn: str,
        *,
        schema: str | None = None,
        max_connections: int = 8,
        connect_timeout: float = 10.0,
        acquire_timeout: float = 30.0,
        retries: int = 3,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        """Connect, then create or migrate the schema."""
        _check_dsn(dsn)
        if schema is not None and not _SCHEMA_NAME.fullmatch(schema):
            raise ConfigurationError("schema must be a plain SQL identifier (letters, digits, _)")
        if max_connections < 1 or retries < 0 or connect_timeout <= 0 or acquire_timeout <= 0:
            raise ConfigurationError(
                "max_connections must be >= 1, retries >= 0, timeouts positive"
            )
        self._dsn = dsn
        self._schema = schema
        self._pool = PostgresPool(
            dsn,
            schema=schema,
            max_connections=max_connections,
            connect_timeout=connect_timeout,
            acquire_timeout=acquire_timeout,
            retries=retries,
            sleep=sleep,
        )
        self._lock = threading.Lock()
        self._dedup_calls = 0
        self._init_journal(
            POSTGRES,
            write=self._pool.run,
            read=lambda what, op: self._pool.run(what, op, write=False),
        )
        self._pool.run("migrate the schema", lambda c: sql.migrate(c, schema), write=False)

    def __repr__(self) -> str:
        return f"PostgresStore({redact_dsn(self._dsn)!r}, schema={self._schema!r})"

    def schema_version(self) -> int:
        """Return the schema version of the database."""
        return int(
            self._pool.rows("read the schema version", "SELECT max(version) FROM schema_version")[
                0
            ][0]
        )

    # -- subscribers -----------------------------------------------------------------

    def get(self, page_id: str, psid: str) -> Subscriber | None:
        """See :meth:`fmc.store.SubscriberStore.get`."""
        rows = self._pool.rows("read a subscriber", sql.SELECT_SUBSCRIBER, (page_id, psid))
        return sql.subscriber_from_row(rows[0]) if rows else None

    def record_event(
        self, page_id: str, psid: str, *, at: datetime, interaction: bool, human_agent: bool = False
    ) -> None:
        """See :meth:`fmc.store.SubscriberStore.record_event`."""
        self.record_events([EventRecord(page_id, psid, at, interaction, human_agent)])

    def record_events(self, records: Iterable[EventRecord]) -> None:
        """See :meth:`fmc.store.SubscriberStore.record_events`."""
        merged = merge_events(records)
        if not merged:
            return
        params = (
            [e.page_id for e in merged],
            [e.psid for e in merged],
            [e.first_at for e in merged],
            [e.interaction_at for e in merged],
            [e.human_agent_at for e in merged],
            [e.ad_referral_at for e in merged],
        )
        self._pool.run("record events", lambda c: c.execute(sql.RECORD_EVENTS, params))

    def set_status(
        self,
        page_id: str,
        psid: str,
        status: SubscriberStatus,
        *,
        reason: str | None = None,
        at: datetime,
    ) -> None:
        """See :meth:`fmc.store.SubscriberStore.set_status`."""
        at = utc(at, "at")
        params = (page_id, psid, SubscriberStatus(status).value, reason, at, at)
        self._pool.run("set a status", lambda c: c.execute(sql.SET_STATUS, params))

    def update_profile(
        self,
        page_id: str,
        psid: str,
        *,
        name: str | None = None,
        locale: str | None = None,
        timezone: float | None = None,
    ) -> None:
        """See :meth:`fmc.store.SubscriberStore.update_profile`."""
        params = (page_id, psid, name, locale, timezone)
        self._pool.run("update a profile", lambda c: c.execute(sql.UPDATE_PROFILE, params))

    def _change_tokens(
        self,
        what: str,
        page_id: str,
        psid: str,
        change: Callable[[list[dict[str, Any]]], list[dict[str, Any]] | None],
        *,
        create: bool,
    ) -> bool:
        jsonb = self._pool.pg.types.json.Jsonb

        def run(conn: Any) -> bool:
            if create:
                conn.execute(sql.INSERT_BARE, (page_id, psid))
            row = conn.execute(
                "SELECT tokens FROM subscribers WHERE page_id = %s AND psid = %s FOR UPDATE",
                (page_id, psid),
            ).fetchone()
            # Dicts, not models: they carry each token's newer-wins time (see _effects).
            tokens = None if row is None else change(list(row[0]))
            if tokens is None:
                raise _NoChangeError
            conn.execute(
                "UPDATE subscribers SET tokens = %s WHERE page_id = %s AND psid = %s",
                (jsonb(tokens), page_id, psid),
            )
            return True

        try:
            return self._pool.run(what, run)
        except _NoChangeError:
            return False

    def add_token(self, page_id: str, psid: str, token: NotificationToken) -> None:
        """See :meth:`fmc.store.SubscriberStore.add_token`."""
        data = tokens_to_data([token])  # rejects naive datetimes before the transaction
        self._change_tokens(
            "add a token",
            page_id,
            psid,
            lambda tokens: [*(t for t in tokens if t["token"] != token.token), *data],
            create=True,
        )

    def set_token_status(self, page_id: str, psid: str, token: str, status: TokenStatus) -> bool:
        """See :meth:`fmc.store.SubscriberStore.set_token_status`."""
        status = TokenStatus(status)

        def change(tokens: list[dict[str, Any]]) -> list[dict[str, Any]] | None:
            if all(t["token"] != token for t in tokens):
                return None
            return [{**t, "status": status.value} if t["token"] == token else t for t in tokens]

        return self._change_tokens("set a token status", page_id, psid, change, create=False)

    def count(self, page_id: str, *, status: SubscriberStatus | None = None) -> int:
        """See :meth:`fmc.store.SubscriberStore.count`."""
        if status is None:
            rows = self._pool.rows(
                "count subscribers",
                "SELECT count(*) FROM subscribers WHERE page_id = %s",
                (page_id,),
            )
        else:
            rows = self._pool.rows(
                "count subscribers",
                "SELECT count(*) FROM subscribers WHERE page_id = %s AND status = %s",
                (page_id, SubscriberStatus(status).value),
            )
        return int(rows[0][0])

    def iter_subscribers(
        self,
        page_id: str,
        *,
        status: SubscriberStatus | None = None,
        after_psid: str | None = None,
        page_size: int = 500,
    ) -> Iterator[Subscriber]:
        """See :meth:`fmc.store.SubscriberStore.iter_subscribers`."""
        if page_size < 1:
            raise ValueError("page_size must be at least 1")
        query = sql.SUBSCRIBERS_PAGE if status is None else sql.SUBSCRIBERS_PAGE_BY_STATUS
        extra = () if status is None else (SubscriberStatus(status).value,)
        return self._pages(
            query, page_id, extra, after_psid or "", page_size, sql.subscriber_from_row
        )

    def _pages(
        self,
        query: str,
        scope: str,
        extra: tuple[Any, ...],
        after: str,
        page_size: int,
        decode: Callable[[Sequence[Any]], _T],
    ) -> Iterator[_T]:
        while True:
            rows = self._pool.rows("read a page", query, (scope, after, *extra, page_size))
            for row in rows:
                yield decode(row)
            if len(rows) < page_size:
                return
            after = rows[-1][1]

    # -- webhook durability ------------------------------------------------------------

    def dedup_check_and_mark(self, key: str, *, now: datetime, window: timedelta) -> bool:
        """See :meth:`fmc.store.SubscriberStore.dedup_check_and_mark`."""
        now = utc(now, "now")
        cutoff = now - window
        purge = self._count_dedup_call()

        def mark(conn: Any) -> bool:
            marked = conn.execute(sql.DEDUP_MARK, (key, now, cutoff)).fetchone() is not None
            if purge:
                conn.execute("DELETE FROM dedup WHERE seen_at <= %s", (cutoff,))
            return not marked

        return self._pool.run("check a dedup key", mark)

    def apply_delivery(
        self, write: DeliveryWrite, *, timeout: float | None = None
    ) -> DeliveryResult:
        """See :meth:`fmc.store.SubscriberStore.apply_delivery`."""
        apply = delivery_sql.transaction(
            write, purge=self._count_dedup_call(), jsonb=self._pool.pg.types.json.Jsonb
        )
        return self._pool.run("commit a webhook delivery", apply, timeout=timeout)

    def _count_dedup_call(self) -> bool:
        with self._lock:
            self._dedup_calls += 1
            return self._dedup_calls % _PURGE_EVERY == 0

    def outbox_put(self, item: OutboxItem) -> int:
        """See :meth:`fmc.store.SubscriberStore.outbox_put`."""
        params = delivery_sql.outbox_params(item, self._pool.pg.types.json.Jsonb)
        query = delivery_sql.OUTBOX_INSERT
        return self._pool.run(
            "store an outbox item", lambda c: int(c.execute(query, params).fetchone()[0])
        )

    def outbox_due(self, now: datetime, limit: int) -> list[OutboxItem]:
        """See :meth:`fmc.store.SubscriberStore.outbox_due`."""
        rows = self._pool.rows("read the outbox", sql.OUTBOX_DUE, (utc(now, "now"), limit))
        return [sql.outbox_item_from_row(row) for row in rows]

    def outbox_ack(self, item_id: int) -> None:
        """See :meth:`fmc.store.SubscriberStore.outbox_ack`."""
        self._pool.run(
            "ack an outbox item",
            lambda c: c.execute("DELETE FROM outbox WHERE id = %s", (item_id,)),
        )

    def outbox_defer(
        self, item_id: int, *, next_attempt_at: datetime, attempts: int, last_error: str
    ) -> None:
        """See :meth:`fmc.store.SubscriberStore.outbox_defer`."""
        query = (
            "UPDATE outbox SET next_attempt_at = %s, attempts = %s, last_error = %s WHERE id = %s"
        )
        params = (utc(next_attempt_at, "next_attempt_at"), attempts, last_error, item_id)
        self._pool.run("defer an outbox item", lambda c: c.execute(query, params))

    def outbox_count(self) -> int:
        """See :meth:`fmc.store.SubscriberStore.outbox_count`."""
        return int(self._pool.rows("count the outbox", "SELECT count(*) FROM outbox")[0][0])

    # -- lifecycle ---------------------------------------------------------------------

    def close(self) -> None:
        """Close the idle connections; connections in use close when released."""
        self._pool.close()

    def __enter__(self) -> PostgresStore:
        """Return the store itself."""
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Close the store."""
        self.close()


class _NoChangeError(Exception):
    """Raised inside a token transaction to roll it back when nothing changes."""
