"""One run of a broadcast: stream the audience, ask the policy, claim, send, settle.

The journal (:class:`fmc.JournalState`; the state machine is drawn in the
security docs) makes a broadcast safe to run again and to run in several
processes at once. A run registers itself with a heartbeat, recovers the
entries of runs that died, then per subscriber: asks the policy (a refusal is
``SKIPPED``), **claims** the entry (``PENDING``, owned by this run) in small
groups just before the client pulls the requests, **hands it off**
(``SENDING``) in the client's ``before_send`` hook right before its HTTP
request goes out, and **settles** the outcome. Every step is a compare-and-set
in the store, so no other run can take this run's claims or overwrite its
outcomes.

A run stops early without consuming anyone when its stop event is set or an
error concerns the whole Page (a dead token, a restricted Page, a long
throttle, a policy-enforcement block): it claims nothing more, withdraws the
sends not yet handed to HTTP, lets those in flight finish and releases what it
never sent.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import attrs

from fmc.channel.control import DEFAULT_LEASE, Heartbeat, StopReason, failure_state
from fmc.channel.outcomes import mark_unavailable, spend_token
from fmc.channel.report import BroadcastProgress, BroadcastReport, _Tally
from fmc.channel.utility_route import TemplateParameters, message_or_refusal, sent_json
from fmc.errors import (
    ConfigurationError,
    RecipientUnavailableError,
    SendWithdrawnError,
    StoreError,
)
from fmc.models.broadcast import CLAIMED_STATES, FINAL_STATES, JournalEntry, JournalState
from fmc.models.send import SendRequest
from fmc.models.subscriber import Subscriber
from fmc.store._journal_rules import new_run_id
from fmc.transport.clocks import utc_now

if TYPE_CHECKING:
    from fmc.models import Message
    from fmc.models.subscriber import NotificationToken
    from fmc.policy import Decision, MessagingPolicy, Purpose
    from fmc.store import SubscriberStore
    from fmc.transport import Client, SendOutcome

__all__ = ["BroadcastRun", "ProgressCallback"]

ProgressCallback = Callable[[BroadcastProgress], None]
"""What :meth:`fmc.Channel.broadcast` calls with a :class:`BroadcastProgress` as it goes."""


#: Subscribers read from the store per query when no audience is given.
_AUDIENCE_PAGE = 2000

#: A subscriber the policy allows: the decision, the message, whether it is a resend.
_Chosen = tuple["Decision", "Message", bool]


@attrs.frozen
class _InFlight:
    request: SendRequest
    psid: str
    token: NotificationToken | None
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
        stop: threading.Event | None = None,
        template_parameters: TemplateParameters | None = None,
        blocked: Callable[[], str | None] | None = None,
        fingerprint: str | None = None,
        lease: timedelta = DEFAULT_LEASE,
        wall_clock: Callable[[], datetime] = utc_now,
        chunk_size: int = 200,
        claim_size: int = 16,
        flush_every: int = 500,
        flush_interval: float = 0.2,
        progress_interval: float = 0.1,
    ) -> None:
        if lease <= timedelta(0):
            raise ConfigurationError("lease must be a positive timedelta")
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
        self._stop_requested = stop
        self._template_parameters = template_parameters
        self._blocked = blocked
        self._fingerprint = fingerprint
        self._lease = lease
        # Leases measure whether processes are alive: real time, whatever ``clock``
        # says (tests and demos freeze ``clock`` for the policy's windows).
        self._wall_clock = wall_clock
        self._chunk_size = chunk_size
        # Batched, a claim covers four batches: fewer writes for SQLite's one writer.
        self._claim_size = max(claim_size, 4 * (batch_size or 0))
        # Outcomes are settled before every claim anyway; the count bounds the tail.
        self._flush_every = flush_every
        self._flush_interval = flush_interval
        self._progress_interval = progress_interval
        self.run_id = new_run_id()
        self._lock = threading.Lock()
        self._tally = _Tally()
        self._in_flight: dict[int, _InFlight] = {}
        self._outcomes: list[JournalEntry] = []
        self._releases: list[str] = []
        self._stopped: StopReason | None = None
        self._first_run = False  # the journal held nothing for it when this run began

    # -- the run --------------------------------------------------------------------------------

    def run(self) -> BroadcastReport:
        """Run the broadcast until its audience is done or it stops, and return its report."""
        started_at = self._clock()
        self._begin(started_at)
        store, bid = self._store, self._broadcast_id
        store.broadcast_run_start(bid, self.run_id, at=self._wall_clock())
        released, ambiguous = store.journal_recover(bid, now=self._wall_clock(), lease=self._lease)
        self._tally.recovered = released + ambiguous
        self._first_run = next(iter(store.journal_entries(bid, page_size=1)), None) is None
        heartbeat = Heartbeat(
            lambda: store.broadcast_run_beat(self.run_id, at=self._wall_clock()),
            interval=self._lease.total_seconds() / 6,
            on_lost=lambda: self._halt(StopReason("this run's lease was lost")),
        )
        heartbeat.start()
        try:
            self._send_all()
        finally:
            heartbeat.stop()
            store.broadcast_run_end(self.run_id, at=self._wall_clock())
        self._report_progress()
        with self._lock:
            return self._tally.report(
                self._broadcast_id,
                self._purpose.value,
                started_at,
                self._clock(),
                run_id=self.run_id,
                stopped=self._stopped,
            )

    def _send_all(self) -> None:
        last_flush = last_progress = time.monotonic()
        outcomes: Iterator[SendOutcome] = self._client.send_many(
            self._requests(),
            concurrency=self._concurrency,
            batch_size=self._batch_size,
            before_send=self._before_send,
        )
        try:
            for outcome in outcomes:
                self._record(outcome)
                now = time.monotonic()
                if (
                    len(self._outcomes) + len(self._releases) >= self._flush_every
                    or now - last_flush >= self._flush_interval
                ):
                    self._flush()
                    last_flush = now
                if self._progress is not None and now - last_progress >= self._progress_interval:
                    last_progress = now
                    self._report_progress()
        finally:
            # Known outcomes reach the journal, whatever stops the run.
            self._flush()

    def _begin(self, now: datetime) -> None:
        message_json = sent_json(self._message, self._template_parameters)
        info = self._store.broadcast_begin(
            self._broadcast_id,
            page_id=self._page_id,
            purpose=self._purpose.value,
            message=message_json,
            created_at=now,
            fingerprint=self._fingerprint,
        )
        if info.message != message_json or info.purpose != self._purpose.value:
            raise ConfigurationError(
                f"broadcast {self._broadcast_id!r} was started with another message or "
                "purpose; resume it with the same ones, or use a new broadcast id"
            )

    # -- stopping -------------------------------------------------------------------------------

    def _halt(self, reason: StopReason) -> None:
        with self._lock:
            if self._stopped is None:
                self._stopped = reason

    def _stopping(self) -> bool:
        if self._stopped is not None:
            return True
        if self._stop_requested is not None and self._stop_requested.is_set():
            self._halt(StopReason("stopped on request", requested=True))
            return True
        blocked = self._blocked() if self._blocked is not None else None
        if blocked is not None:
            self._halt(StopReason(f"Meta's policy enforcement blocked the Page: {blocked}"))
            return True
        return False

    # -- the audience ---------------------------------------------------------------------------

    def _requests(self) -> Iterator[SendRequest]:
        chunk: list[Subscriber | str] = []
        audience = self._audience
        if audience is None:
            # Each page is a round trip in which the main thread gives up the GIL
            # and waits to get it back: few, larger pages (still bounded memory).
            audience = self._store.iter_subscribers(self._page_id, page_size=_AUDIENCE_PAGE)
        for item in audience:
            if self._stopping():
                return
            chunk.append(item)
            if len(chunk) >= self._chunk_size:
                yield from self._requests_for(chunk)
                chunk = []
        if chunk and not self._stopping():
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
        # Nothing to resume if the journal was empty at the start (claims stay CAS).
        psids = [s.psid for s in subscribers]
        states = {} if self._first_run else self._store.journal_states(bid, psids)
        now = self._clock()
        skipped: list[JournalEntry] = []
        fresh: set[str] = set()
        chosen: dict[str, _Chosen] = {}
        with self._lock:
            for subscriber in subscribers:
                self._tally.audience += 1
                state = states.get(subscriber.psid)
                if state in FINAL_STATES:
                    self._tally.already_sent += 1
                    continue
                if state in CLAIMED_STATES or subscriber.psid in chosen:
                    # Claimed by another live run (dead runs were recovered at the start).
                    self._tally.elsewhere += 1
                    continue
                was_ambiguous = state is JournalState.AMBIGUOUS
                if was_ambiguous and not self._at_least_once:
                    self._tally.ambiguous += 1
                    continue
                decision = self._policy.decide(subscriber, self._purpose, now)
                message, rule, reason = message_or_refusal(
                    decision, self._message, self._template_parameters
                )
                if message is None:
                    self._tally.skip(rule, reason)
                    skipped.append(
                        JournalEntry(bid, subscriber.psid, JournalState.SKIPPED, None, reason, now)
                    )
                    continue
                chosen[subscriber.psid] = (decision, message, was_ambiguous)
                if state is None:
                    fresh.add(subscriber.psid)
        if skipped:
            self._store.journal_record(skipped)
        # Claim in small groups (whole batches), just before the client pulls the
        # requests, so a stop leaves little to release and other runs find work to share.
        allowed = list(chosen.items())
        for start in range(0, len(allowed), self._claim_size):
            if self._stopping():
                with self._lock:
                    self._tally.left += len(allowed) - start
                return
            group = allowed[start : start + self._claim_size]
            yield from self._claim_and_build(group, fresh_psids=fresh, at=now)

    def _claim_and_build(
        self,
        group: list[tuple[str, _Chosen]],
        *,
        fresh_psids: set[str],
        at: datetime,
    ) -> Iterator[SendRequest]:
        bid, run_id = self._broadcast_id, self.run_id
        fresh = [psid for psid, _ in group if psid in fresh_psids]
        again = [psid for psid, _ in group if psid not in fresh_psids]
        # Known outcomes reach the journal before new claims.
        self._flush()
        claimed = set(self._store.journal_claim(bid, fresh, at=at, run_id=run_id))
        if again:
            claimed.update(
                self._store.journal_reclaim(
                    bid, again, from_states=self._reclaimable(), at=at, run_id=run_id
                )
            )
        mine = [(psid, chosen) for psid, chosen in group if psid in claimed]
        with self._lock:
            # Another run of the same broadcast took these first.
            self._tally.elsewhere += len(group) - len(mine)
        for index, (psid, (decision, message, again_ambiguous)) in enumerate(mine):
            if self._stopping():
                unsent = [p for p, _ in mine[index:]]
                self._store.journal_release(bid, unsent, run_id=run_id)
                with self._lock:
                    self._tally.left += len(unsent)
                return
            assert decision.recipient is not None
            kind, tag = decision.messaging_type, decision.tag
            request = SendRequest(decision.recipient, message, messaging_type=kind, tag=tag)
            sending = _InFlight(request, psid, decision.token, again_ambiguous)
            with self._lock:
                self._in_flight[id(request)] = sending
                self._tally.in_flight += 1
            yield request

    def _reclaimable(self) -> frozenset[JournalState]:
        states = {JournalState.RETRYABLE, JournalState.SKIPPED}
        if self._at_least_once:
            states.add(JournalState.AMBIGUOUS)
        return frozenset(states)

    # -- handing off and recording --------------------------------------------------------------

    def _before_send(self, requests: Sequence[SendRequest]) -> list[bool]:
        """Journal SENDING right before the HTTP request; refuse when stopping or not ours."""
        if self._stopping():
            return [False] * len(requests)
        with self._lock:
            psids = [self._in_flight[id(request)].psid for request in requests]
        try:
            moved = set(
                self._store.journal_handoff(
                    self._broadcast_id, psids, run_id=self.run_id, at=self._clock()
                )
            )
        except StoreError as exc:
            # Nothing may go out that the journal does not know about.
            self._halt(StopReason(f"the store could not record a send: {exc}"))
            return [False] * len(requests)
        return [psid in moved for psid in psids]

    def _record(self, outcome: SendOutcome) -> None:
        now, error, bid = self._clock(), outcome.error, self._broadcast_id
        if error is None:
            with self._lock:
                sent = self._in_flight.pop(id(outcome.request))
                self._tally.in_flight -= 1
                self._tally.sent += 1
                self._tally.resent_ambiguous += sent.resending_ambiguous
            message_id = outcome.result.message_id if outcome.result is not None else None
            self._outcomes.append(
                JournalEntry(bid, sent.psid, JournalState.SENT, message_id, None, now)
            )
            if sent.token is not None:
                spend_token(self._store, self._page_id, sent.psid, sent.token)
            return
        with self._lock:
            sent = self._in_flight.pop(id(outcome.request))
            self._tally.in_flight -= 1
        if isinstance(error, SendWithdrawnError):
            self._releases.append(sent.psid)
            with self._lock:
                self._tally.left += 1
            return
        kind = type(error).__name__
        state, stop = failure_state(error)
        if stop is not None:
            self._halt(stop)
        self._outcomes.append(JournalEntry(bid, sent.psid, state, None, f"{kind}: {error}", now))
        with self._lock:
            if stop is not None:
                self._tally.left += 1
            elif state is JournalState.AMBIGUOUS:
                self._tally.ambiguous += 1
            else:
                self._tally.failed[kind] += 1
        if isinstance(error, RecipientUnavailableError):
            mark_unavailable(self._store, self._page_id, sent.psid, error, now)
            with self._lock:
                self._tally.marked_unavailable += 1

    def _flush(self) -> None:
        if self._outcomes:
            self._store.journal_settle(self.run_id, self._outcomes)
            self._outcomes = []
        if self._releases:
            self._store.journal_release(self._broadcast_id, self._releases, run_id=self.run_id)
            self._releases = []

    def _report_progress(self) -> None:
        if self._progress is None:
            return
        with self._lock:
            snapshot = self._tally.progress(self._broadcast_id)
        self._progress(snapshot)
