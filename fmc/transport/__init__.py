"""The Graph API transport: the clients, their retry policy, rate limiter and batches.

Everything a caller needs is importable from here (and the main names from
``fmc`` itself)::

    from fmc.transport import AsyncClient, Client, RateLimiter, RetryPolicy, SendOutcome

Each name is loaded on first use, so that the sync client does not import
asyncio and a program that only redacts a text does not load ``requests``.
:data:`_EXPORTS` is the one list of the public names; the ``TYPE_CHECKING``
block repeats it for type checkers, and ``tests/test_exports.py`` fails when
the two disagree.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from fmc._lazy import lazy_exports

#: Each public name and the module it is loaded from, on first use.
_EXPORTS: dict[str, str] = {
    "DEFAULT_API_VERSION": "fmc.transport.core",
    "DEFAULT_BASE_URL": "fmc.transport.core",
    "DEFAULT_CONCURRENCY": "fmc.transport.client",
    "DEFAULT_IN_FLIGHT": "fmc.transport.async_client",
    "DEFAULT_PROFILE_FIELDS": "fmc.transport.profile",
    "MAX_BATCH_SIZE": "fmc.transport.batch",
    "AsyncClient": "fmc.transport.async_client",
    "BatchAnswer": "fmc.transport.batch",
    "BatchCall": "fmc.transport.batch",
    "Client": "fmc.transport.client",
    "RateLimiter": "fmc.transport.ratelimit",
    "RetryAttempt": "fmc.transport.retry",
    "RetryPolicy": "fmc.transport.retry",
    "SendOutcome": "fmc.transport.outcome",
    "UserProfile": "fmc.transport.profile",
    "appsecret_proof": "fmc.transport.redact",
    "install_log_redaction": "fmc.transport.redact",
    "is_retryable": "fmc.transport.retry",
    "redact_text": "fmc.transport.redact",
    "redact_url": "fmc.transport.redact",
    "remove_log_redaction": "fmc.transport.redact",
}

__all__ = sorted(_EXPORTS)

if TYPE_CHECKING:
    # The same names as _EXPORTS, for type checkers ("X as X" marks a re-export).
    from fmc.transport.async_client import DEFAULT_IN_FLIGHT as DEFAULT_IN_FLIGHT
    from fmc.transport.async_client import AsyncClient as AsyncClient
    from fmc.transport.batch import MAX_BATCH_SIZE as MAX_BATCH_SIZE
    from fmc.transport.batch import BatchAnswer as BatchAnswer
    from fmc.transport.batch import BatchCall as BatchCall
    from fmc.transport.client import DEFAULT_CONCURRENCY as DEFAULT_CONCURRENCY
    from fmc.transport.client import Client as Client
    from fmc.transport.core import DEFAULT_API_VERSION as DEFAULT_API_VERSION
    from fmc.transport.core import DEFAULT_BASE_URL as DEFAULT_BASE_URL
    from fmc.transport.outcome import SendOutcome as SendOutcome
    from fmc.transport.profile import DEFAULT_PROFILE_FIELDS as DEFAULT_PROFILE_FIELDS
    from fmc.transport.profile import UserProfile as UserProfile
    from fmc.transport.ratelimit import RateLimiter as RateLimiter
    from fmc.transport.redact import appsecret_proof as appsecret_proof
    from fmc.transport.redact import install_log_redaction as install_log_redaction
    from fmc.transport.redact import redact_text as redact_text
    from fmc.transport.redact import redact_url as redact_url
    from fmc.transport.redact import remove_log_redaction as remove_log_redaction
    from fmc.transport.retry import RetryAttempt as RetryAttempt
    from fmc.transport.retry import RetryPolicy as RetryPolicy
    from fmc.transport.retry import is_retryable as is_retryable
else:
    __getattr__, __dir__ = lazy_exports(globals(), _EXPORTS)
