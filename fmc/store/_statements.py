"""The SQL of subscribers, dedup marks and the outbox, written once for both dialects.

Statements are written with ``?`` placeholders and the hooks of
:class:`~fmc.store._dialect.Dialect` (``{least}``, ``{greatest}``, the batch
source, row locks); :func:`statements` renders them for one dialect. The
tables themselves (``CREATE``/``ALTER``) are each dialect's migrations, in
``_sqlite_schema`` and ``_postgres_schema``. Only placeholders, column lists
and function names are formatted into the SQL; every value is bound (hence
the file-wide S608 exemption).
"""

# ruff: noqa: S608

from __future__ import annotations

import functools

import attrs

from fmc.errors import StoreError
from fmc.store._dialect import Dialect
from fmc.store._rows import SUBSCRIBER_COLUMNS

__all__ = ["Statements", "migrations_to_apply", "statements"]

_SELECT_SUBSCRIBERS = f"SELECT {', '.join(SUBSCRIBER_COLUMNS)} FROM subscribers "
_RECORD_COLUMNS = (
    "page_id, psid, first_seen_at, last_interaction_at, last_human_agent_at, ad_referral_at"
)

# Scalar min/max return NULL when an argument is NULL on SQLite (LEAST and
# GREATEST ignore NULLs on PostgreSQL); the coalesces make NULL mean "no value"
# on both.
_RECORD_EVENTS = """
INSERT INTO subscribers ({columns})
{source}
ON CONFLICT (page_id, psid) DO UPDATE SET
    first_seen_at = {least}(
        coalesce(subscribers.first_seen_at, excluded.first_seen_at), excluded.first_seen_at),
    last_interaction_at = {greatest}(
        coalesce(subscribers.last_interaction_at, excluded.last_interaction_at),
        coalesce(excluded.last_interaction_at, subscribers.last_interaction_at)),
    last_human_agent_at = {greatest}(
        coalesce(subscribers.last_human_agent_at, excluded.last_human_agent_at),
        coalesce(excluded.last_human_agent_at, subscribers.last_human_agent_at)),
    ad_referral_at = {greatest}(
        coalesce(subscribers.ad_referral_at, excluded.ad_referral_at),
        coalesce(excluded.ad_referral_at, subscribers.ad_referral_at))
"""

_SET_STATUS = """
INSERT INTO subscribers (page_id, psid, status, status_reason, first_seen_at, status_at)
VALUES (?, ?, ?, ?, ?, ?)
ON CONFLICT (page_id, psid) DO UPDATE SET
    status = excluded.status,
    status_reason = excluded.status_reason,
    first_seen_at = coalesce(subscribers.first_seen_at, excluded.first_seen_at),
    status_at = excluded.status_at
"""

# Newer wins: the same as _SET_STATUS, skipped when the stored change is newer.
_SET_STATUS_IF_NEWER = (
    _SET_STATUS
    + "WHERE subscribers.status_at IS NULL OR subscribers.status_at <= excluded.status_at\n"
)

# {states} becomes "?, ?, ...": only from these statuses, and only if newer.
_CHANGE_STATUS_FROM = """
UPDATE subscribers SET status = ?, status_reason = ?, status_at = ?
WHERE page_id = ? AND psid = ? AND status IN ({states})
  AND (status_at IS NULL OR status_at <= ?)
"""

_UPDATE_PROFILE = """
INSERT INTO subscribers (page_id, psid, name, locale, timezone) VALUES (?, ?, ?, ?, ?)
ON CONFLICT (page_id, psid) DO UPDATE SET
    name = coalesce(excluded.name, subscribers.name),
    locale = coalesce(excluded.locale, subscribers.locale),
    timezone = coalesce(excluded.timezone, subscribers.timezone)
"""

_DEDUP_MARK = """
INSERT INTO dedup (key, seen_at) VALUES (?, ?)
ON CONFLICT (key) DO UPDATE SET seen_at = excluded.seen_at WHERE dedup.seen_at <= ?
"""

_OUTBOX_DUE = """
SELECT id, url, body, headers, order_key, created_at, attempts, next_attempt_at, last_error
FROM outbox
WHERE id IN (SELECT min(id) FROM outbox GROUP BY order_key)
  AND (next_attempt_at IS NULL OR next_attempt_at <= ?)
ORDER BY id LIMIT ?
"""


@attrs.frozen
class Statements:
    """Every statement of the SQL store for one dialect (its placeholders applied).

    ``change_status_from`` keeps a ``{states}`` field for the placeholders of
    the statuses; ``outbox_insert`` keeps ``?`` for
    :meth:`~fmc.store._dialect.Dialect.insert_id`, which adds what returns the id.
    """

    select_subscriber: str
    subscribers_page: str
    subscribers_page_by_status: str
    count: str
    count_by_status: str
    record_events: str
    set_status: str
    set_status_if_newer: str
    change_status_from: str
    update_profile: str
    insert_bare: str
    select_tokens: str
    update_tokens: str
    dedup_mark: str
    dedup_purge: str
    outbox_insert: str
    outbox_due: str
    outbox_ack: str
    outbox_defer: str
    outbox_count: str
    schema_version: str


def _batch_source(d: Dialect) -> str:
    if not d.unnest:
        return "VALUES (?, ?, ?, ?, ?, ?)"
    return f"SELECT * FROM {d.rows_source(('text', 'text', 'time', 'time', 'time', 'time'))}"


@functools.cache
def statements(d: Dialect) -> Statements:
    """The statements in dialect ``d`` (rendered once per dialect)."""
    page = "WHERE page_id = ? AND psid > ? ORDER BY psid LIMIT ?"
    record = _RECORD_EVENTS.format(
        columns=_RECORD_COLUMNS, source=_batch_source(d), least=d.least, greatest=d.greatest
    )
    return Statements(
        select_subscriber=d.sql(_SELECT_SUBSCRIBERS + "WHERE page_id = ? AND psid = ?"),
        subscribers_page=d.sql(_SELECT_SUBSCRIBERS + page),
        subscribers_page_by_status=d.sql(
            _SELECT_SUBSCRIBERS + "WHERE page_id = ? AND psid > ? AND status = ? "
            "ORDER BY psid LIMIT ?"
        ),
        count=d.sql("SELECT count(*) FROM subscribers WHERE page_id = ?"),
        count_by_status=d.sql("SELECT count(*) FROM subscribers WHERE page_id = ? AND status = ?"),
        record_events=d.sql(record),
        set_status=d.sql(_SET_STATUS),
        set_status_if_newer=d.sql(_SET_STATUS_IF_NEWER),
        change_status_from=d.sql(_CHANGE_STATUS_FROM),
        update_profile=d.sql(_UPDATE_PROFILE),
        insert_bare=d.sql(
            "INSERT INTO subscribers (page_id, psid) VALUES (?, ?) ON CONFLICT DO NOTHING"
        ),
        select_tokens=d.sql(
            "SELECT tokens FROM subscribers WHERE page_id = ? AND psid = ?" + d.for_update
        ),
        update_tokens=d.sql("UPDATE subscribers SET tokens = ? WHERE page_id = ? AND psid = ?"),
        dedup_mark=d.sql(_DEDUP_MARK),
        dedup_purge=d.sql("DELETE FROM dedup WHERE seen_at <= ?"),
        outbox_insert=(
            "INSERT INTO outbox (url, body, headers, order_key, created_at, attempts, "
            "next_attempt_at, last_error) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
        ),
        outbox_due=d.sql(_OUTBOX_DUE),
        outbox_ack=d.sql("DELETE FROM outbox WHERE id = ?"),
        outbox_defer=d.sql(
            "UPDATE outbox SET next_attempt_at = ?, attempts = ?, last_error = ? WHERE id = ?"
        ),
        outbox_count="SELECT count(*) FROM outbox",
        schema_version="SELECT max(version) FROM schema_version",
    )


def migrations_to_apply(
    applied: set[int], migrations: tuple[tuple[int, tuple[str, ...]], ...]
) -> list[tuple[int, tuple[str, ...]]]:
    """The migrations not applied yet, in list order; both dialects migrate the same way.

    A version merged late (lower than one already applied) is still applied.

    Raises:
        StoreError: the database has a version newer than any in ``migrations``
            (written by a newer fmc).
    """
    current = max(applied, default=0)
    newest = migrations[-1][0]
    if current > newest:
        raise StoreError(
            f"the database has schema version {current}, newer than this fmc knows "
            f"({newest}); upgrade fmc"
        )
    return [(version, steps) for version, steps in migrations if version not in applied]
