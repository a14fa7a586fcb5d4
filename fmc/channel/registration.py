"""Registration: turn a webhook delivery's events into subscriber records.

Anyone who writes to the Page becomes a subscriber. What opens the 24-hour
window is recorded as an *interaction*: a message, a postback, a reaction, a
referral, a plugin opt-in. Deliveries, reads and echoes register the person
without opening the window, and so does a notification opt-in by itself.
A message echo that no app sent (``app_id`` absent) is a reply typed by a human
in the Page inbox, and is recorded as the last human-agent reply.

All the records of one delivery go to the store in one call, so registration
costs one transaction per delivery rather than one per event.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from datetime import datetime

from fmc.models.subscriber import (
    NotificationToken,
    SubscriberStatus,
    TokenKind,
    TokenStatus,
)
from fmc.store.base import EventRecord, SubscriberStore
from fmc.webhook.events import (
    EchoEvent,
    Event,
    MessageEvent,
    OptinEvent,
    PolicyEnforcementEvent,
    PostbackEvent,
    ReactionEvent,
    ReferralEvent,
)

__all__ = ["INTERACTION_EVENTS", "Registrar"]

_log = logging.getLogger("fmc.channel")

#: Event classes that open (or refresh) the 24-hour standard messaging window.
INTERACTION_EVENTS: tuple[type[Event], ...] = (
    MessageEvent,
    PostbackEvent,
    ReactionEvent,
    ReferralEvent,
)

#: Statuses a new interaction from the person clears: they wrote, so they can be reached.
_CLEARED_BY_INTERACTION = (SubscriberStatus.UNAVAILABLE, SubscriberStatus.BLOCKED)

_STOP = "STOP NOTIFICATIONS"
_RESUME = "RESUME NOTIFICATIONS"


class Registrar:
    """Registers and refreshes subscribers from webhook events (see the module docs)."""

    def __init__(
        self,
        *,
        page_id: str,
        store: SubscriberStore,
        clock: Callable[[], datetime],
        stop_keywords: Iterable[str],
        start_keywords: Iterable[str],
        on_enforcement: Callable[[PolicyEnforcementEvent], None] | None = None,
    ) -> None:
        self._page_id = page_id
        self._store = store
        self._clock = clock
        self._stop = frozenset(word.casefold() for word in stop_keywords)
        self._start = frozenset(word.casefold() for word in start_keywords)
        self._on_enforcement = on_enforcement

    def register(self, events: list[Event]) -> None:
        """Record what one delivery's events say about the people in them."""
        records: list[EventRecord] = []
        followups: list[Callable[[], None]] = []
        interacted: set[str] = set()
        for event in events:
            page_id = getattr(event, "page_id", None) or self._page_id
            if page_id != self._page_id:
                continue
            if isinstance(event, PolicyEnforcementEvent):
                self._enforcement(event, followups)
                continue
            if isinstance(event, EchoEvent):
                # An echo without a usable person id must not cost the records of
                # everyone else in the delivery (they are stored in one call).
                if not event.recipient_id or event.recipient_id == self._page_id:
                    continue
                records.append(
                    EventRecord(
                        page_id,
                        event.recipient_id,
                        event.timestamp,
                        interaction=False,
                        human_agent=event.app_id is None,
                    )
                )
                continue
            psid = getattr(event, "sender_id", None)
            at = getattr(event, "timestamp", None)
            if not psid or psid == self._page_id or at is None:
                continue
            interaction = isinstance(event, INTERACTION_EVENTS) or _is_plugin_optin(event)
            records.append(EventRecord(page_id, psid, at, interaction=interaction))
            if interaction:
                interacted.add(psid)
            if isinstance(event, MessageEvent) and event.text:
                self._keywords(psid, event.text, at, followups)
            if isinstance(event, OptinEvent):
                self._optin(psid, event, followups)
        if records:
            self._store.record_events(records)
        for followup in followups:
            followup()
        self._reactivate(interacted)

    def _keywords(
        self, psid: str, text: str, at: datetime, followups: list[Callable[[], None]]
    ) -> None:
        word = text.strip().casefold()
        if word in self._stop:
            followups.append(
                lambda: self._store.set_status(
                    self._page_id, psid, SubscriberStatus.OPTED_OUT, reason=f"wrote {text!r}", at=at
                )
            )
        elif word in self._start:
            followups.append(lambda: self._resume(psid, at))

    def _resume(self, psid: str, at: datetime) -> None:
        subscriber = self._store.get(self._page_id, psid)
        if subscriber is not None and subscriber.status is SubscriberStatus.OPTED_OUT:
            self._store.set_status(
                self._page_id, psid, SubscriberStatus.ACTIVE, reason="opted in again", at=at
            )

    def _optin(self, psid: str, event: OptinEvent, followups: list[Callable[[], None]]) -> None:
        token = _token_of(event)
        if token is None:
            return
        if event.status == _STOP:
            followups.append(lambda: self._revoke(psid, token))
        else:
            followups.append(lambda: self._store.add_token(self._page_id, psid, token))

    def _revoke(self, psid: str, token: NotificationToken) -> None:
        # A stop for a token we never stored is kept as a stopped token, so a
        # later opt-in cannot be mistaken for consent given before the stop.
        if not self._store.set_token_status(self._page_id, psid, token.token, TokenStatus.STOPPED):
            self._store.add_token(self._page_id, psid, token)

    def _enforcement(
        self, event: PolicyEnforcementEvent, followups: list[Callable[[], None]]
    ) -> None:
        _log.warning(
            "Meta policy enforcement on page %s: %s (%s)",
            event.page_id,
            event.action,
            event.reason or "no reason given",
        )
        person = event.sender_id
        if person and person != self._page_id:
            status = (
                SubscriberStatus.BLOCKED if event.action == "block" else SubscriberStatus.ACTIVE
            )
            followups.append(
                lambda: self._store.set_status(
                    self._page_id, person, status, reason=event.reason, at=event.timestamp
                )
            )
        if self._on_enforcement is not None:
            self._on_enforcement(event)

    def _reactivate(self, psids: set[str]) -> None:
        for psid in psids:
            subscriber = self._store.get(self._page_id, psid)
            if subscriber is not None and subscriber.status in _CLEARED_BY_INTERACTION:
                self._store.set_status(
                    self._page_id,
                    psid,
                    SubscriberStatus.ACTIVE,
                    reason="wrote to the Page again",
                    at=subscriber.last_interaction_at or self._clock(),
                )


def _is_plugin_optin(event: Event) -> bool:
    """A plugin opt-in (``ref``) opens the window; a notification opt-in alone does not."""
    return (
        isinstance(event, OptinEvent)
        and event.type in (None, "", "plugin")
        and bool(event.ref or event.sender_id)
        and not (event.one_time_notif_token or event.notification_messages_token)
    )


def _token_of(event: OptinEvent) -> NotificationToken | None:
    # The payload is what the Page set when asking for the opt-in (fmc's docs
    # advise the purpose's value, e.g. "news"); the title is text for people.
    topic = event.payload or event.title
    if event.one_time_notif_token:
        return NotificationToken(
            kind=TokenKind.ONE_TIME,
            token=event.one_time_notif_token,
            topic=topic,
            created_at=event.timestamp,
        )
    if event.notification_messages_token:
        return NotificationToken(
            kind=TokenKind.NOTIFICATION_MESSAGES,
            token=event.notification_messages_token,
            topic=topic,
            frequency=event.frequency,
            expires_at=event.token_expiry,
            status=TokenStatus.STOPPED if event.status == _STOP else TokenStatus.ACTIVE,
            created_at=event.timestamp,
        )
    return None
