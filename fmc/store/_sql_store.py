"""The subscriber store on SQL, one implementation for SQLite and PostgreSQL.

:class:`SQLStore` holds everything but the connections: a backend
(:class:`~fmc.store.SQLiteStore`, :class:`~fmc.store.PostgresStore`) gives it
a :class:`Pool` and a :class:`~fmc.store._dialect.Dialect`. The journal and
the registry are its mixins, on the same pool and dialect.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime, timedelta
from typing import Any, Protocol, TypeVar

from fmc._closing import Closing
from fmc.models.outbox import OutboxItem
from fmc.models.subscriber import NotificationToken, Subscriber, SubscriberStatus, TokenStatus
from fmc.store import _sql_delivery as delivery
from fmc.store._checks import check_page_size
from fmc.store._codec import merge_events, tokens_to_data, utc
from fmc.store._dialect import Dialect
from fmc.store._journal_sql import SQLJournal
from fmc.store._registry_sql import SQLRegistry
from fmc.store._rows import outbox_decoder, subscriber_decoder
from fmc.store._statements import statements
from fmc.store.base import EventRecord
from fmc.store.delivery import DeliveryResult, DeliveryWrite

__all__ = ["Pool", "SQLStore"]

_T = TypeVar("_T")
#: Forget expired dedup marks once every this many checks.
_PURGE_EVERY = 1000


class Pool(Protocol):
    """The connections of one SQL store (both backends' pools have this interface)."""

    def read(self, what: str, operation: Callable[[Any], _T]) -> _T:
        """Run ``operation`` on a connection outside any explicit transaction."""
        ...

    def write(
        self,
        what: str,
        operation: Callable[[Any], _T],
        *,
        timeout: float | None = None,
        single_statement: bool = False,
    ) -> _T:
        """Run ``operation`` in one write transaction, retried whole after a retryable error.

        With ``single_statement``, ``operation`` runs one statement, atomic by
        itself, and the pool may skip the explicit transaction around it.
        """
        ...

    def close(self) -> None:
        """Close idle connections; connections in use close when released."""
        ...


def _fetchall(query: str, params: Sequence[Any]) -> Callable[[Any], list[Any]]:
    return lambda conn: list(conn.execute(query, params).fetchall())


def _fetchone(query: str, params: Sequence[Any] = ()) -> Callable[[Any], Any]:
    return lambda conn: conn.execute(query, params).fetchone()


class SQLStore(SQLJournal, SQLRegistry, Closing):
    """A :class:`~fmc.store.SubscriberStore` on a :class:`Pool` of one SQL dialect.

    Not used directly: the backends call :meth:`_init_sql` from their constructors.
    """

    _pool: Pool

    def _init_sql(self, dialect: Dialect, pool: Pool) -> None:
        """Use ``pool`` for every operation, in ``dialect``."""
        self._pool = pool
        self._q = statements(dialect)
        self._subscriber = subscriber_decoder(dialect)
        self._outbox_item = outbox_decoder(dialect)
        self._dedup_lock = threading.Lock()
        self._dedup_calls = 0
        self._init_journal(
            dialect,
            write=pool.write,
            read=pool.read,
            one=functools.partial(pool.write, single_statement=True),
        )

    def schema_version(self) -> int:
        """Return the schema version of the database."""
        row = self._pool.read("read the schema version", _fetchone(self._q.schema_version))
        return int(row[0])

    # -- subscribers -----------------------------------------------------------------

    def get(self, page_id: str, psid: str) -> Subscriber | None:
        """See :meth:`fmc.store.SubscriberStore.get`."""
        query = self._q.select_subscriber
        row = self._pool.read("read a subscriber", _fetchone(query, (page_id, psid)))
        return None if row is None else self._subscriber(row)

    def record_event(
        self, page_id: str, psid: str, *, at: datetime, interaction: bool, human_agent: bool = False
    ) -> None:
        """See :meth:`fmc.store.SubscriberStore.record_event`."""
        self.record_events([EventRecord(page_id, psid, at, interaction, human_agent)])

    def record_events(self, records: Iterable[EventRecord]) -> None:
        """See :meth:`fmc.store.SubscriberStore.record_events`."""
        merged = merge_events(records)
        if merged:
            d, q = self._d, self._q
            self._pool.write("record events", lambda c: delivery.record(c, d, q, merged))

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
        when = self._d.encode_time(at, "at")
        params = (page_id, psid, SubscriberStatus(status).value, reason, when, when)
        query = self._q.set_status
        self._pool.write("set a status", lambda c: c.execute(query, params))

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
        query = self._q.update_profile
        self._pool.write("update a profile", lambda c: c.execute(query, params))

    def _change_tokens(
        self,
        what: str,
        page_id: str,
        psid: str,
        change: Callable[[list[dict[str, Any]]], list[dict[str, Any]] | None],
        *,
        create: bool,
    ) -> bool:
        d, q = self._d, self._q
        return self._pool.write(
            what, lambda c: delivery.change_tokens(c, d, q, page_id, psid, change, create=create)
        )

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
        query = self._q.count
        params: tuple[str, ...] = (page_id,)
        if status is not None:
            query = self._q.count_by_status
            params = (page_id, SubscriberStatus(status).value)
        return int(self._pool.read("count subscribers", _fetchone(query, params))[0])

    def iter_subscribers(
        self,
        page_id: str,
        *,
        status: SubscriberStatus | None = None,
        after_psid: str | None = None,
        page_size: int = 500,
    ) -> Iterator[Subscriber]:
        """See :meth:`fmc.store.SubscriberStore.iter_subscribers`."""
        check_page_size(page_size)
        extra: tuple[str, ...] = ()
        query = self._q.subscribers_page
        if status is not None:
            query = self._q.subscribers_page_by_status
            extra = (SubscriberStatus(status).value,)
        return self._subscriber_pages(query, page_id, extra, after_psid or "", page_size)

    def _subscriber_pages(
        self, query: str, page_id: str, extra: tuple[Any, ...], after: str, page_size: int
    ) -> Iterator[Subscriber]:
        decode = self._subscriber
        while True:
            params = (page_id, after, *extra, page_size)
            rows = self._pool.read("read a page", _fetchall(query, params))
            yield from map(decode, rows)
            if len(rows) < page_size:
                return
            after = rows[-1][1]

    # -- webhook durability ------------------------------------------------------------

    def dedup_check_and_mark(self, key: str, *, now: datetime, window: timedelta) -> bool:
        """See :meth:`fmc.store.SubscriberStore.dedup_check_and_mark`."""
        when = self._d.encode_time(now, "now")
        cutoff = self._d.encode_time(utc(now, "now") - window, "now")
        purge = self._count_dedup_call()
        mark, forget = self._q.dedup_mark, self._q.dedup_purge

        def check(conn: Any) -> bool:
            marked = conn.execute(mark, (key, when, cutoff)).rowcount == 1
            if purge:
                conn.execute(forget, (cutoff,))
            return not marked

        return self._pool.write("check a dedup key", check)

    def apply_delivery(
        self, write: DeliveryWrite, *, timeout: float | None = None
    ) -> DeliveryResult:
        """See :meth:`fmc.store.SubscriberStore.apply_delivery`."""
        apply = delivery.transaction(self._d, write, purge=self._count_dedup_call())
        return self._pool.write("commit a webhook delivery", apply, timeout=timeout)

    def _count_dedup_call(self) -> bool:
        with self._dedup_lock:
            self._dedup_calls += 1
            return self._dedup_calls % _PURGE_EVERY == 0

    def outbox_put(self, item: OutboxItem) -> int:
        """See :meth:`fmc.store.SubscriberStore.outbox_put`."""
        d, params = self._d, delivery.outbox_params(self._d, item)
        query = self._q.outbox_insert
        return self._pool.write("store an outbox item", lambda c: d.insert_id(c, query, params))

    def outbox_due(self, now: datetime, limit: int) -> list[OutboxItem]:
        """See :meth:`fmc.store.SubscriberStore.outbox_due`."""
        params = (self._d.encode_time(now, "now"), limit)
        rows = self._pool.read("read the outbox", _fetchall(self._q.outbox_due, params))
        return [self._outbox_item(row) for row in rows]

    def outbox_ack(self, item_id: int) -> None:
        """See :meth:`fmc.store.SubscriberStore.outbox_ack`."""
        query = self._q.outbox_ack
        self._pool.write("ack an outbox item", lambda c: c.execute(query, (item_id,)))

    def outbox_defer(
        self, item_id: int, *, next_attempt_at: datetime, attempts: int, last_error: str
    ) -> None:
        """See :meth:`fmc.store.SubscriberStore.outbox_defer`."""
        when = self._d.encode_time(next_attempt_at, "next_attempt_at")
        params = (when, attempts, last_error, item_id)
        query = self._q.outbox_defer
        self._pool.write("defer an outbox item", lambda c: c.execute(query, params))

    def outbox_count(self) -> int:
        """See :meth:`fmc.store.SubscriberStore.outbox_count`."""
        return int(self._pool.read("count the outbox", _fetchone(self._q.outbox_count))[0])

    # -- lifecycle ---------------------------------------------------------------------

    def close(self) -> None:
        """Close the idle connections; connections in use close when released."""
        self._pool.close()
