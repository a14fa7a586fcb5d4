"""The production subscriber store on PostgreSQL (psycopg 3, the ``postgres`` extra).

psycopg is imported when a :class:`PostgresStore` is created, never when
``fmc`` is imported.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable

from fmc.errors import ConfigurationError
from fmc.store import _postgres_schema as sql
from fmc.store._dialect import POSTGRES
from fmc.store._postgres_pool import PostgresPool, redact_dsn
from fmc.store._sql_store import SQLStore

__all__ = ["PostgresStore", "redact_dsn"]

_SCHEMA_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")


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


class PostgresStore(SQLStore):
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
        pool = PostgresPool(
            dsn,
            schema=schema,
            max_connections=max_connections,
            connect_timeout=connect_timeout,
            acquire_timeout=acquire_timeout,
            retries=retries,
            sleep=sleep,
        )
        self._init_sql(POSTGRES, pool)
        pool.read("migrate the schema", lambda c: sql.migrate(c, schema))

    def __repr__(self) -> str:
        return f"PostgresStore({redact_dsn(self._dsn)!r}, schema={self._schema!r})"
