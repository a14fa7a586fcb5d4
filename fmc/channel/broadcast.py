"""One run of a broadcast: stream the audience, ask the policy, journal, send, record.

The journal is what makes a broadcast safe to run again. For every subscriber
the run first records the *intent* (a ``PENDING`` entry claimed atomically in
the store) and only then hands the send to the client; the outcome replaces the
intent. A later run with the same broadcast id therefore:

* never sends again to anyone whose entry is ``SENT`` (or ``FAILED`` for good);
* sends again to ``RETRYABLE`` entries (throttled or transient failures) and
  asks the policy again for ``SKIPPED`` ones;
* treats ``PENDING`` entries — the process died between claiming and recording
  — and ``AMBIGUOUS`` ones as *ambiguous*: the send may have reached Meta, so
  they are reported, not resent, unless the caller chose ``at_least_once``.

Claims are taken lazily, in small groups, as the client pulls requests, and
the outcomes already known are journaled before each new claim, so a crash
(even SIGKILL) leaves at most the client's window plus one claim group
``PENDING``.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from typing import TYPE_CHECKING

import attrs

from fmc.channel.outcomes import mark_unavailable, spend_token
from fmc.channel.report import BroadcastProgress, BroadcastReport, _Tally
from fmc.convert import to_wire
from fmc.errors import (
    AmbiguousSendError,
    ConfigurationError,
    NetworkError,
    RateLimitError,
    RecipientUnavailableError,
    TransientError,
)
from fmc.models.broadcast import JournalEntry, JournalState
from fmc.models.send import SendRequest
from fmc.models.subscriber import Subscriber

if TYPE_CHECKING:
    from fmc.models import Message
    from fmc.policy import Decision, MessagingPolicy, Purpose
    from fmc.store import SubscriberStore
    from fmc.transport import Client, SendOutcome

__all__ = ["BroadcastRun", "ProgressCallback"]

ProgressCallback = Callable[[BroadcastProgress], None]
"""What :meth:`fmc.Channel.broadcast` calls with a :class:`BroadcastProgress` as it goes."""

#: Errors after which sending again later may succeed: the entry becomes RETRYABLE.
_RETRYABLE_ERRORS = (RateLimitError, TransientError, NetworkError)


@attrs.frozen
class _InFlight:
    request: SendRequest
    psid: str
    decision: Decision
    resending_ambiguous: bool


class BroadcastRun:
    """Send one message to an audience, journaled and resumable (see the module docs).

    Use :meth:`fmc.Channel.broadcast`; this class is the engine behind it.
    """

    def __init__(
        self,
        *,
        page_id: str,
        client: Client,
        store: SubscriberStore,
        policy: MessagingPolicy,
        message: Message,
        purpose: Purpose,
        broadcast_id: str,
        audience: Iterable[Subscriber | str] | None,
        at_least_once: bool,
        progress: ProgressCallback | None,
        clock: Callable[[], datetime],
        concurrency: int | None = None,
        batch_size: int | None = None,
        chunk_size: int = 200,
        claim_size: int = 16,
        flush_every: int = 50,
        flush_interval: float = 0.2,
        progress_interval: float = 0.1,
    ) -> None:
        self._page_id = page_id
        self._client = client
        self._store = store
        self._policy = policy
        self._message = message
        self._purpose = purpose
        self._broadcast_id = broadcast_id
        self._audience = audience
        self._at_least_once = at_least_once
        self._progress = progress
        self._clock = clock
        self._concurrency = concurrency
        self._batch_size = batch_size
        self._chunk_size = chunk_size
        self._claim_size = claim_size
        self._flush_every = flush_every
        self._flush_interval = flush_interval
        self._progress_interval = progress_interval
        self._lock = threading.Lock()
        self._tally = _Tally()
        self._in_flight: dict[int, _InFlight] = {}
        self._outcomes: list[JournalEntry] = []

    def run(self) -> BroadcastReport:
        """Run the broadcast to the end and return its report."""
        started_at = self._clock()
        self._begin(started_at)
        last_flush = last_progress = time.monotonic()
        outcomes: Iterator[SendOutcome] = self._client.send_many(
            self._requests(), concurrency=self._concurrency, batch_size=self._batch_size
        )
        try:
            for outcome in outcomes:
                self._record(outcome)
                now = time.monotonic()
                if (
                    len(self._outcomes) >= self._flush_every
                    or now - last_flush >= self._flush_interval
                ):
                    self._flush()
                    last_flush = now
                if self._progress is not None and now - last_progress >= self._progress_interval:
                    last_progress = now
                    self._report_progress()
        finally:
            # Whatever stops the run, the outcomes already known reach the journal,
            # so only sends whose outcome never came back are left ambiguous.
            self._flush()
        self._report_progress()
        with self._lock:
            return self._tally.report(
                self._broadcast_id, self._purpose.value, started_at, self._clock()
            )

    def _begin(self, now: datetime) -> None:
        message_json = json.dumps(to_wire(self._message), sort_keys=True, ensure_ascii=False)
        info = self._store.broadcast_begin(
            self._broadcast_id,
            page_id=self._page_id,
            purpose=self._purpose.value,
            message=message_json,
            created_at=now,
        )
        if info.message != message_json or info.purpose != self._purpose.value:
            raise ConfigurationError(
                f"broadcast {self._broadcast_id!r} was started with another message or "
                "purpose; resume it with the same ones, or use a new broadcast id"
            )

    def _subscribers(self) -> Iterator[Subscriber | str]:
        if self._audience is None:
            return iter(self._store.iter_subscribers(self._page_id))
        return iter(self._audience)

    def _requests(self) -> Iterator[SendRequest]:
        chunk: list[Subscriber | str] = []
        for item in self._subscribers():
            chunk.append(item)
            if len(chunk) >= self._chunk_size:
                yield from self._requests_for(chunk)
                chunk = []
        if chunk:
            yield from self._requests_for(chunk)

    def _resolve(self, items: list[Subscriber | str]) -> list[Subscriber]:
        subscribers: list[Subscriber] = []
        for item in items:
            if isinstance(item, Subscriber):
                subscribers.append(item)
                continue
            found = self._store.get(self._page_id, item)
            if found is not None:
                subscribers.append(found)
                continue
            with self._lock:
                self._tally.audience += 1
                self._tally.skip("unknown_subscriber", "not a subscriber of this Page")
        return subscribers

    def _requests_for(self, items: list[Subscriber | str]) -> Iterator[SendRequest]:
        subscribers = self._resolve(items)
        bid = self._broadcast_id
        states = self._store.journal_states(bid, [s.psid for s in subscribers])
        now = self._clock()
        journal: list[JournalEntry] = []
        fresh: set[str] = set()
        chosen: dict[str, tuple[Decision, bool]] = {}
        with self._lock:
            for subscriber in subscribers:
                self._tally.audience += 1
                state = states.get(subscriber.psid)
                if state in (JournalState.SENT, JournalState.FAILED):
                    self._tally.already_sent += 1
                    continue
                was_ambiguous = state in (JournalState.PENDING, JournalState.AMBIGUOUS)
                if was_ambiguous and not self._at_least_once:
                    self._tally.ambiguous += 1
                    if state is JournalState.PENDING:
                        journal.append(self._interrupted(subscriber.psid, now))
                    continue
                decision = self._policy.decide(subscriber, self._purpose, now)
                if not decision.allowed:
                    self._tally.skip(decision.rule, decision.reason)
                    journal.append(
                        JournalEntry(
                            bid, subscriber.psid, JournalState.SKIPPED, None, decision.reason, now
                        )
                    )
                    continue
                chosen[subscriber.psid] = (decision, was_ambiguous)
                if state is None:
                    fresh.add(subscriber.psid)
        if journal:
            self._store.journal_record(journal)
        # Claim in small groups, just before the client pulls the requests, so a
        # crash leaves at most the client's window plus one group ambiguous.
        allowed = list(chosen.items())
        for start in range(0, len(allowed), self._claim_size):
            group = allowed[start : start + self._claim_size]
            yield from self._claim_and_build(group, fresh_psids=fresh, at=now)

    def _claim_and_build(
        self,
        group: list[tuple[str, tuple[Decision, bool]]],
        *,
        fresh_psids: set[str],
        at: datetime,
    ) -> Iterator[SendRequest]:
        bid = self._broadcast_id
        fresh = [psid for psid, _ in group if psid in fresh_psids]
        again = [psid for psid, _ in group if psid not in fresh_psids]
        # Known outcomes reach the journal before new intents, so what a hard
        # kill leaves PENDING is only in flight or claimed, never already known.
        self._flush()
        claimed = set(self._store.journal_claim(bid, fresh, at=at)) if fresh else set()
        if again:
            claimed.update(
                self._store.journal_reclaim(bid, again, from_states=self._reclaimable(), at=at)
            )
        for psid, (decision, was_ambiguous) in group:
            if psid not in claimed:
                # Another run of the same broadcast took this subscriber first.
                with self._lock:
                    self._tally.already_sent += 1
                continue
            assert decision.recipient is not None
            request = SendRequest(
                decision.recipient,
                self._message,
                messaging_type=decision.messaging_type,
                tag=decision.tag,
            )
            with self._lock:
                self._in_flight[id(request)] = _InFlight(request, psid, decision, was_ambiguous)
                self._tally.in_flight += 1
            yield request

    def _reclaimable(self) -> frozenset[JournalState]:
        states = {JournalState.RETRYABLE, JournalState.SKIPPED}
        if self._at_least_once:
            states |= {JournalState.PENDING, JournalState.AMBIGUOUS}
        return frozenset(states)

    def _interrupted(self, psid: str, now: datetime) -> JournalEntry:
        return JournalEntry(
            self._broadcast_id,
            psid,
            JournalState.AMBIGUOUS,
            None,
            "an earlier run stopped between claiming and recording this send",
            now,
        )

    def _record(self, outcome: SendOutcome) -> None:
        with self._lock:
            sent = self._in_flight.pop(id(outcome.request))
            self._tally.in_flight -= 1
        now = self._clock()
        error = outcome.error
        if error is None:
            message_id = outcome.result.message_id if outcome.result is not None else None
            entry = JournalEntry(
                self._broadcast_id, sent.psid, JournalState.SENT, message_id, None, now
            )
            with self._lock:
                self._tally.sent += 1
                self._tally.resent_ambiguous += 1 if sent.resending_ambiguous else 0
            spend_token(self._store, self._page_id, sent.psid, sent.decision.token)
        else:
            kind = type(error).__name__
            if isinstance(error, AmbiguousSendError):
                state = JournalState.AMBIGUOUS
            elif isinstance(error, _RETRYABLE_ERRORS):
                state = JournalState.RETRYABLE
            else:
                state = JournalState.FAILED
            entry = JournalEntry(
                self._broadcast_id, sent.psid, state, None, f"{kind}: {error}", now
            )
            with self._lock:
                if state is JournalState.AMBIGUOUS:
                    self._tally.ambiguous += 1
                else:
                    self._tally.failed[kind] += 1
            if isinstance(error, RecipientUnavailableError):
                mark_unavailable(self._store, self._page_id, sent.psid, error, now)
                with self._lock:
                    self._tally.marked_unavailable += 1
        self._outcomes.append(entry)

    def _flush(self) -> None:
        if self._outcomes:
            self._store.journal_record(self._outcomes)
            self._outcomes = []

    def _report_progress(self) -> None:
        if self._progress is None:
            return
        with self._lock:
            snapshot = self._tally.progress(self._broadcast_id)
        self._progress(snapshot)
