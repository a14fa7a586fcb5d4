"""What keeps a broadcast run honest with other runs: its heartbeat, why it stops, its identity.

* :class:`Heartbeat` renews the run's lease in the store, so other runs of the
  same broadcast know it is alive and never take its claims.
* :class:`StopReason` says why a run stopped before the end (a stop request, a
  dead token, a restricted Page, a long throttle) and when to resume.
* :func:`broadcast_fingerprint` and :func:`broadcast_id_for` give a broadcast
  an identity made of what it sends to whom, so running the same broadcast
  twice resumes it instead of sending it again.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from collections.abc import Callable
from datetime import datetime, timedelta

import attrs

from fmc.errors import (
    AmbiguousSendError,
    AuthenticationError,
    GraphAPIError,
    NetworkError,
    PageRestrictedError,
    PageThrottledError,
    RateLimitError,
    StoreError,
    TransientError,
)
from fmc.models.broadcast import JournalState

__all__ = [
    "DEFAULT_LEASE",
    "Heartbeat",
    "StopReason",
    "broadcast_fingerprint",
    "broadcast_id_for",
    "failure_state",
    "page_stop_reason",
]

logger = logging.getLogger("fmc.channel")

#: How long a run may go without a heartbeat before other runs presume it dead.
DEFAULT_LEASE = timedelta(seconds=30)


@attrs.frozen
class StopReason:
    """Why a broadcast run stopped before it reached the end of its audience.

    Attributes:
        reason: In words, e.g. ``"the Page token is invalid (190/463)"``.
        resume_at: When resuming can succeed, if Meta said (a throttle).
        requested: ``True`` when the caller asked the run to stop (a stop
            event, a signal), ``False`` when the Page or the store stopped it.
    """

    reason: str
    resume_at: datetime | None = None
    requested: bool = False


def page_stop_reason(error: BaseException) -> StopReason | None:
    """The stop an error means for the whole Page, or ``None`` if it concerns one person.

    A dead or wrong token (190), a Page restricted from sending (10/1893063)
    and permission errors of the Page stop every later send the same way, so
    the broadcast pauses instead of failing everyone; a throttle longer than
    the client may wait pauses it until Meta's time.
    """
    if isinstance(error, PageThrottledError):
        return StopReason(
            f"Meta throttled the Page until {error.resume_at:%Y-%m-%d %H:%M:%S} UTC "
            f"({_codes(error)})",
            resume_at=error.resume_at,
        )
    if isinstance(error, GraphAPIError) and error.stops_page:
        return StopReason(f"{_describe(error)} ({_codes(error)})")
    return None


#: Errors after which sending again later may succeed: the entry becomes RETRYABLE.
_RETRYABLE_ERRORS = (RateLimitError, TransientError, NetworkError)


def failure_state(error: BaseException) -> tuple[JournalState, StopReason | None]:
    """The journal state a failed send takes, and the stop it means for the Page, if any.

    An error about the whole Page leaves the entry RETRYABLE (a resume sends it
    once the Page is fixed); a send that may have gone out is AMBIGUOUS;
    throttling, transient and network errors are RETRYABLE; the rest FAILED.
    """
    stop = page_stop_reason(error)
    if stop is not None:
        return JournalState.RETRYABLE, stop
    if isinstance(error, AmbiguousSendError):
        return JournalState.AMBIGUOUS, None
    if isinstance(error, _RETRYABLE_ERRORS):
        return JournalState.RETRYABLE, None
    return JournalState.FAILED, None


def _codes(error: GraphAPIError) -> str:
    return f"{error.code}" if error.subcode is None else f"{error.code}/{error.subcode}"


def _describe(error: GraphAPIError) -> str:
    if isinstance(error, AuthenticationError):
        return "the Page token is invalid or expired"
    if isinstance(error, PageRestrictedError):
        return "Meta has temporarily restricted the Page from sending"
    return f"the Page lacks a permission Meta requires: {error.message}"


def broadcast_fingerprint(
    page_id: str, purpose: str, message_json: str, audience: str | None = None
) -> str:
    """A stable hash of what a broadcast sends to whom.

    Args:
        page_id: The Page.
        purpose: The purpose's value.
        message_json: The message as canonical Graph JSON (sorted keys).
        audience: A description of the audience (``None``: every subscriber).

    Returns:
        A hex digest; equal inputs give equal fingerprints.
    """
    canonical = json.dumps([page_id, purpose, message_json, audience], ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def broadcast_id_for(page_id: str, idempotency_key: str) -> str:
    """The broadcast id that an idempotency key always maps to, for one Page.

    Two calls of :meth:`fmc.Channel.broadcast` with the same key are the same
    broadcast: the second resumes the first and sends nobody anything twice.

    Example:
        >>> from fmc.channel import broadcast_id_for
        >>> broadcast_id_for("1234", "spring-sale") == broadcast_id_for("1234", "spring-sale")
        True
        >>> broadcast_id_for("1234", "spring-sale").startswith("bc-")
        True
    """
    if not isinstance(idempotency_key, str) or not idempotency_key:
        raise ValueError("idempotency_key must be a non-empty string")
    digest = hashlib.sha256(f"{page_id}\x00{idempotency_key}".encode()).hexdigest()
    return f"bc-{digest[:24]}"


class Heartbeat:
    """Renews a run's lease in the store from a thread of its own until stopped.

    A run whose main thread waits (a long throttle, a slow audience query)
    still beats, so other runs never mistake it for a dead one.

    Args:
        beat: Renews the lease; returns ``False`` if the run is no longer known.
        interval: Seconds between beats.
        on_lost: Called once if ``beat`` says the run is no longer known.
    """

    def __init__(
        self,
        beat: Callable[[], bool],
        *,
        interval: float,
        on_lost: Callable[[], None],
    ) -> None:
        self._beat = beat
        self._interval = interval
        self._on_lost = on_lost
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name="fmc-heartbeat", daemon=True)

    def start(self) -> None:
        """Start beating."""
        self._thread.start()

    def stop(self) -> None:
        """Stop beating and wait for the thread."""
        self._stopped.set()
        if self._thread.is_alive():
            self._thread.join()

    def _run(self) -> None:
        while not self._stopped.wait(self._interval):
            try:
                alive = self._beat()
            except StoreError as exc:
                # The next beat may get through; the lease is several beats long.
                logger.warning("could not renew the broadcast run's lease: %s", exc)
                continue
            if not alive:
                self._on_lost()
                return
