"""The one retry loop of the SQL stores' pools: growing pauses, bounded by a deadline.

SQLite retries a transaction the database refused as busy; PostgreSQL one
that hit a deadlock or a serialization failure. Both wait the same growing
pause between attempts and re-raise the last error, unchanged, once the
retries (or the time) run out, so each pool turns it into its own
:class:`~fmc.errors.StoreError`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

__all__ = ["backoff", "retrying"]

_T = TypeVar("_T")

#: The first pause, its growth factor per attempt, and the longest pause (seconds).
_FIRST = 0.05
_GROWTH = 2
_LONGEST = 1.0
#: With a deadline, no new attempt starts when less than this is left.
_TOO_LATE = 0.01


def backoff(attempt: int) -> float:
    """The pause after failed attempt number ``attempt`` (0 for the first)."""
    return min(float(_FIRST * _GROWTH**attempt), _LONGEST)


def retrying(
    operation: Callable[[], _T],
    *,
    retries: int,
    retryable: Callable[[BaseException], bool],
    sleep: Callable[[float], None],
    deadline: float | None = None,
) -> _T:
    """Run ``operation``, again up to ``retries`` times while it fails with a retryable error.

    Args:
        operation: One attempt; run again from scratch after a retryable error.
        retries: How many times it is run again at most.
        retryable: Whether an exception the attempt raised may be retried.
        sleep: Called with each pause.
        deadline: A :func:`time.monotonic` time after which no attempt starts;
            a pause is cut to half the time left.

    Returns:
        What the first successful attempt returned.

    Raises:
        Exception: The attempt's own error when it is not retryable, or when
            the retries or the time ran out.
    """
    for attempt in range(retries + 1):
        try:
            return operation()
        except Exception as exc:
            if not retryable(exc) or attempt == retries:
                raise
            pause = backoff(attempt)
            if deadline is not None:
                remaining = deadline - time.monotonic()
                if remaining <= _TOO_LATE:
                    raise
                pause = min(pause, remaining / 2)
            sleep(pause)
    raise AssertionError("unreachable")  # pragma: no cover
