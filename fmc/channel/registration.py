"""Registration: turn a webhook delivery's events into subscriber records.

Anyone who writes to the Page becomes a subscriber. What opens the 24-hour
window is recorded as an *interaction*: a message, a postback, a reaction, a
referral, a plugin opt-in. Deliveries, reads and echoes register the person
without opening the window, and so does a notification opt-in by itself.
A message echo that no app sent (``app_id`` absent) is a reply typed by a human
in the Page inbox, and is recorded as the last human-agent reply.

What one event changes is computed as data (:meth:`Registrar.effects`) and the
webhook handler commits the changes of a whole delivery, with its dedup marks,
in one store transaction before answering Meta. Status and opt-in changes
carry the event's time and apply only when newer than the person's last one,
so a late or redelivered "start" never undoes a newer "stop".
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta

import attrs

from fmc.models.subscriber import (
    NotificationToken,
    SubscriberStatus,
    TokenKind,
    TokenStatus,
)
from fmc.store.base import EventRecord
from fmc.store.delivery import (
    NO_EFFECTS,
    DeliveryWrite,
    EventEffects,
    StatusChange,
    TokenChange,
)
from fmc.store.protocols import DeliveryStore
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
from fmc.webhook.invalid import InvalidEvent

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
_CLEARED_BY_INTERACTION = frozenset({SubscriberStatus.UNAVAILABLE, SubscriberStatus.BLOCKED})

_STOP = "STOP NOTIFICATIONS"
_RESUME = "RESUME NOTIFICATIONS"


class Registrar:
    """Registers and refreshes subscribers from webhook events (see the module docs).

    :meth:`effects` says what one event changes, as data the webhook handler
    commits with the delivery's dedup marks in one store transaction (see
    :meth:`fmc.store.DeliveryStore.apply_delivery`); :meth:`notice` runs after
    the commit; :meth:`register` does both at once, for callers without a handler.
    """

    def __init__(
        self,
        *,
        page_id: str,
        store: DeliveryStore,
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
        """Record what one delivery's events say about the people in them, then :meth:`notice`."""
        effects = [self.effects(event) for event in events]
        write = DeliveryWrite(
            keys=[None] * len(effects), effects=effects, now=self._clock(), window=timedelta(0)
        )
        self._store.apply_delivery(write)
        self.notice(events)

    def effects(self, event: Event) -> EventEffects:
        """What one event changes about its person, as data (no store access).

        Status changes carry the event's time, so the store applies them only
        when newer than the person's last status change (*newer wins*).

        Args:
            event: A parsed event.

        Returns:
            Its registrations, status changes and token changes.
        """
        page_id = getattr(event, "page_id", None) or self._page_id
        if page_id != self._page_id or isinstance(event, InvalidEvent):
            return NO_EFFECTS
        if isinstance(event, PolicyEnforcementEvent):
            return self._enforcement(event)
        if isinstance(event, EchoEvent):
            # An echo without a usable person id must not cost the records of
            # everyone else in the delivery (they are stored in one call).
            if not event.recipient_id or event.recipient_id == self._page_id:
                return NO_EFFECTS
            record = EventRecord(
                page_id,
                event.recipient_id,
                event.timestamp,
                interaction=False,
                human_agent=event.app_id is None,
            )
            return EventEffects(records=(record,))
        psid = getattr(event, "sender_id", None)
        at = getattr(event, "timestamp", None)
        if not psid or psid == self._page_id or at is None:
            return NO_EFFECTS
        interaction = isinstance(event, INTERACTION_EVENTS) or _is_plugin_optin(event)
        statuses: list[StatusChange] = []
        if interaction:
            # They wrote, so they can be reached again, unless a newer change says otherwise.
            statuses.append(
                StatusChange(
                    page_id,
                    psid,
                    SubscriberStatus.ACTIVE,
                    at,
                    reason="wrote to the Page again",
                    only_from=_CLEARED_BY_INTERACTION,
                )
            )
        if isinstance(event, MessageEvent) and event.text:
            statuses.extend(self._keywords(psid, event.text, at))
        tokens: tuple[TokenChange, ...] = ()
        if isinstance(event, OptinEvent):
            token = _token_of(event)
            if token is not None:
                if event.status == _STOP:
                    token = attrs.evolve(token, status=TokenStatus.STOPPED)
                tokens = (TokenChange(page_id, psid, token, at),)
        from_ad = isinstance(event, (MessageEvent, ReferralEvent)) and event.from_ad
        record = EventRecord(page_id, psid, at, interaction=interaction, ad_referral=from_ad)
        return EventEffects(records=(record,), statuses=statuses, tokens=tokens)

    def notice(self, events: list[Event]) -> None:
        """After the commit: report Meta's policy enforcement on the Page."""
        for event in events:
            if isinstance(event, PolicyEnforcementEvent) and (
                (event.page_id or self._page_id) == self._page_id
            ):
                _log.warning(
                    "Meta policy enforcement on page %s: %s (%s)",
                    event.page_id,
                    event.action,
                    event.reason or "no reason given",
                )
                if self._on_enforcement is not None:
                    self._on_enforcement(event)

    def _keywords(self, psid: str, text: str, at: datetime) -> list[StatusChange]:
        word = text.strip().casefold()
        if word in self._stop:
            reason = f"wrote {text!r}"
            return [StatusChange(self._page_id, psid, SubscriberStatus.OPTED_OUT, at, reason)]
        if word in self._start:
            return [
                StatusChange(
                    self._page_id,
                    psid,
                    SubscriberStatus.ACTIVE,
                    at,
                    reason="opted in again",
                    only_from={SubscriberStatus.OPTED_OUT},
                )
            ]
        return []

    def _enforcement(self, event: PolicyEnforcementEvent) -> EventEffects:
        person = event.sender_id
        if not person or person == self._page_id:
            return NO_EFFECTS
        status = SubscriberStatus.BLOCKED if event.action == "block" else SubscriberStatus.ACTIVE
        change = StatusChange(self._page_id, person, status, event.timestamp, event.reason)
        return EventEffects(statuses=(change,))


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
