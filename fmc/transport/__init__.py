"""The Graph API transport: the client, its retry policy, rate limiter and batches.

Everything a caller needs is importable from here (and the main names from
``fmc`` itself)::

    from fmc.transport import Client, RateLimiter, RetryPolicy, SendOutcome
"""

from __future__ import annotations

from fmc.transport.batch import MAX_BATCH_SIZE, BatchAnswer, BatchCall
from fmc.transport.client import DEFAULT_CONCURRENCY, Client
from fmc.transport.outcome import SendOutcome
from fmc.transport.profile import DEFAULT_PROFILE_FIELDS, UserProfile
from fmc.transport.ratelimit import RateLimiter
from fmc.transport.redact import appsecret_proof, redact_text, redact_url
from fmc.transport.retry import RetryAttempt, RetryPolicy, is_retryable

__all__ = [
    "DEFAULT_CONCURRENCY",
    "DEFAULT_PROFILE_FIELDS",
    "MAX_BATCH_SIZE",
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
