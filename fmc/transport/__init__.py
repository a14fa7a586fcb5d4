"""The Graph API transport: the clients, their retry policy, rate limiter and batches.

Everything a caller needs is importable from here (and the main names from
``fmc`` itself)::

    from fmc.transport import AsyncClient, Client, RateLimiter, RetryPolicy, SendOutcome

:class:`AsyncClient` is loaded on first use, so that the sync client does not
import asyncio.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from fmc.transport.batch import MAX_BATCH_SIZE, BatchAnswer, BatchCall
from fmc.transport.client import DEFAULT_CONCURRENCY, Client
from fmc.transport.outcome import SendOutcome
from fmc.transport.profile import DEFAULT_PROFILE_FIELDS, UserProfile
from fmc.transport.ratelimit import RateLimiter
from fmc.transport.redact import appsecret_proof, redact_text, redact_url
from fmc.transport.retry import RetryAttempt, RetryPolicy, is_retryable

if TYPE_CHECKING:
    from fmc.transport.async_client import DEFAULT_IN_FLIGHT, AsyncClient

__all__ = [
    "DEFAULT_CONCURRENCY",
    "DEFAULT_IN_FLIGHT",
    "DEFAULT_PROFILE_FIELDS",
    "MAX_BATCH_SIZE",
    "AsyncClient",
    "BatchAnswer",
    "BatchCall",
    "Client",
    "RateLimiter",
    "RetryAttempt",
    "RetryPolicy",
    "SendOutcome",
    "UserProfile",
    "appsecret_proof",
    "is_retryable",
    "redact_text",
    "redact_url",
]

_LAZY = {
    "AsyncClient": "fmc.transport.async_client",
    "DEFAULT_IN_FLIGHT": "fmc.transport.async_client",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'fmc.transport' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
