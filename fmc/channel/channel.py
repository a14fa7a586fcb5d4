"""The Channel: one Page's subscribers, webhook, policy and sends, tied together."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from datetime import datetime, timezone
from typing import TYPE_CHECKING

from fmc.channel.broadcast import BroadcastRun, ProgressCallback
from fmc.channel.outcomes import mark_unavailable, spend_token
from fmc.channel.registration import Registrar
from fmc.channel.report import BroadcastReport
from fmc.errors import ConfigurationError, PolicyRefused, RecipientUnavailableError
from fmc.models.page import Page
from fmc.models.send import SendRequest, SendResult
from fmc.models.subscriber import Subscriber, SubscriberStatus
from fmc.policy import Decision, MessagingPolicy, Purpose

if TYPE_CHECKING:
    from fmc.models import Message
    from fmc.store import SubscriberStore
    from fmc.transport import Client
    from fmc.webhook import Forwarder, WebhookHandler
    from fmc.webhook.events import PolicyEnforcementEvent

__all__ = ["Channel"]


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


class Channel:
    """A Page's Messenger channel: register who writes, answer, notify, broadcast.

    Args:
        page: The Page (its app secret verifies webhooks).
        client: The Graph client sends go through.
        store: Where subscribers, journals and the forwarding outbox live.
        policy: Decides what may be sent to whom (Meta's messaging rules).
        verify_token: The token Facebook echoes in the webhook handshake;
            needed only for :attr:`webhook`.
        forwarder: Forwards webhook deliveries to their ``redirect_to`` address.
        clock: Returns the current aware UTC time (injectable for tests).
        stop_keywords: Messages that opt a person out of notifications.
        start_keywords: Messages that opt them back in.

    Example:
        >>> import fmc
        >>> page = fmc.Page(id="1234", access_token="page-token", app_secret="app-secret")
        >>> channel = fmc.Channel(
        ...     page,
        ...     client=fmc.Client(page),
        ...     store=fmc.MemoryStore(),
        ...     policy=fmc.MessagingPolicy(permissions={"pages_messaging"}),
        ...     verify_token="my-verify-token",
        ... )
        >>> channel.subscriber_count()
        0
    """

    def __init__(
        self,
        page: Page,
        *,
        client: Client,
        store: SubscriberStore,
        policy: MessagingPolicy,
        verify_token: str | None = None,
        forwarder: Forwarder | None = None,
        clock: Callable[[], datetime] = _utcnow,
        stop_keywords: Iterable[str] = ("stop", "unsubscribe"),
        start_keywords: Iterable[str] = ("start", "subscribe"),
    ) -> None:
        self.page = page
        self.client = client
        self.store = store
        self.policy = policy
        self._verify_token = verify_token
        self._forwarder = forwarder
        self._clock = clock
        self._registrar = Registrar(
            page_id=page.id,
            store=store,
            clock=clock,
            stop_keywords=stop_keywords,
            start_keywords=start_keywords,
            on_enforcement=self._enforced,
        )
        self._webhook: WebhookHandler | None = None
        self._blocked_reason: str | None = None

    def __repr__(self) -> str:
        return f"Channel(page={self.page.id!r}, store={type(self.store).__name__})"

    @property
    def webhook(self) -> WebhookHandler:
        """The Page's webhook handler, wired to register and refresh subscribers.

        Raises:
            ConfigurationError: the page has no app secret or no verify token
                was given (a webhook cannot be verified without them).
        """
        if self._webhook is None:
            from fmc.webhook import WebhookHandler

            if not self.page.app_secret:
                raise ConfigurationError("Channel.webhook needs the page's app_secret")
            if not self._verify_token:
                raise ConfigurationError("Channel.webhook needs a verify_token")
            handler = WebhookHandler(
                self.page.app_secret,
                self._verify_token,
                forwarder=self._forwarder,
                dedup=self.store,
                effects=self._registrar.effects,
            )
            handler.on_delivery(self._registrar.notice)
            self._webhook = handler
        return self._webhook

    @property
    def blocked_reason(self) -> str | None:
        """Why Meta's policy enforcement blocked the Page's messaging, or ``None``.

        Set by a ``messaging_policy_enforcement`` event with action ``block``
        and cleared by ``unblock``; while set, :meth:`notify` and
        :meth:`broadcast` refuse to send (Meta would refuse every send anyway).
        It lives in memory: a restarted process learns of a block again from
        Meta's next event or from the errors of its sends.
        """
        return self._blocked_reason

    def _enforced(self, event: PolicyEnforcementEvent) -> None:
        if event.action == "block":
            self._blocked_reason = event.reason or "Meta blocked the Page's messaging"
        elif event.action == "unblock":
            self._blocked_reason = None

    def _refuse_if_blocked(self) -> None:
        if self._blocked_reason is not None:
            raise PolicyRefused(
                Decision.refuse(
                    f"the Page is blocked by Meta's policy enforcement: {self._blocked_reason}",
                    rule="page_blocked",
                )
            )

    def subscriber(self, psid: str) -> Subscriber | None:
        """The stored subscriber with this PSID, or ``None``."""
        return self.store.get(self.page.id, psid)

    def subscriber_count(self, status: SubscriberStatus | None = None) -> int:
        """How many subscribers the Page has (optionally with one status)."""
        return self.store.count(self.page.id, status=status)

    def opt_out(self, psid: str, *, reason: str = "opted out") -> None:
        """Record that a person does not want notifications any more."""
        self.store.set_status(
            self.page.id, psid, SubscriberStatus.OPTED_OUT, reason=reason, at=self._clock()
        )

    def decide(self, subscriber_or_psid: Subscriber | str, purpose: Purpose) -> Decision:
        """What the policy says about sending this purpose to this person now."""
        subscriber = self._lookup(subscriber_or_psid)
        return self.policy.decide(subscriber, purpose, self._clock())

    def notify(
        self, subscriber_or_psid: Subscriber | str, message: Message, purpose: Purpose
    ) -> SendResult:
        """Send one message after the policy allows it.

        Args:
            subscriber_or_psid: The subscriber, or their PSID.
            message: What to send.
            purpose: Why, as the policy judges it (a reply, news, an update …).

        Returns:
            Meta's answer.

        Raises:
            PolicyRefused: the policy does not allow it; ``.decision.reason`` says why.
            fmc.errors.GraphAPIError: Meta refused the send (a person Meta
                reports unavailable is marked so before the error is raised).
        """
        self._refuse_if_blocked()
        subscriber = self._lookup(subscriber_or_psid)
        now = self._clock()
        decision = self.policy.decide(subscriber, purpose, now)
        if not decision.allowed or decision.recipient is None:
            raise PolicyRefused(decision)
        request = SendRequest(
            decision.recipient, message, messaging_type=decision.messaging_type, tag=decision.tag
        )
        try:
            result = self.client.send_request(request)
        except RecipientUnavailableError as error:
            mark_unavailable(self.store, self.page.id, subscriber.psid, error, self._clock())
            raise
        spend_token(self.store, self.page.id, subscriber.psid, decision.token)
        if purpose is Purpose.HUMAN_AGENT:
            self.store.record_event(
                self.page.id, subscriber.psid, at=now, interaction=False, human_agent=True
            )
        return result

    def broadcast(
        self,
        message: Message,
        purpose: Purpose,
        *,
        audience: Iterable[Subscriber | str] | None = None,
        broadcast_id: str | None = None,
        progress: ProgressCallback | None = None,
        at_least_once: bool = False,
        concurrency: int | None = None,
        batch_size: int | None = None,
    ) -> BroadcastReport:
        """Send a message to every subscriber the policy allows, resumably.

        The audience streams from the store (or from ``audience``); each
        subscriber is judged by the policy, journaled, then sent through
        :meth:`fmc.Client.send_many` (whose rate limit applies). Run it again
        with the same ``broadcast_id`` after a crash: nobody with a recorded
        success is sent the message again.

        Args:
            message: What to send.
            purpose: Why; the policy decides per subscriber.
            audience: Subscribers or PSIDs; every subscriber of the Page when ``None``.
            broadcast_id: Resume this broadcast; a new id is made when ``None``.
            progress: Called with a :class:`~fmc.channel.BroadcastProgress` as it goes.
            at_least_once: Resend to subscribers whose earlier send was ambiguous
                (may reach some people twice; off by default).
            concurrency: Sends in flight (the client's default when ``None``).
            batch_size: Sends per Graph batch request (no batching when ``None``).

        Returns:
            The :class:`~fmc.channel.BroadcastReport`.

        Raises:
            ConfigurationError: ``broadcast_id`` names a broadcast started with
                another message or purpose.
            PolicyRefused: Meta's policy enforcement blocked the Page.
        """
        self._refuse_if_blocked()
        run = BroadcastRun(
            page_id=self.page.id,
            client=self.client,
            store=self.store,
            policy=self.policy,
            message=message,
            purpose=purpose,
            broadcast_id=broadcast_id or f"bc-{uuid.uuid4().hex[:16]}",
            audience=audience,
            at_least_once=at_least_once,
            progress=progress,
            clock=self._clock,
            concurrency=concurrency,
            batch_size=batch_size,
        )
        return run.run()

    def _lookup(self, subscriber_or_psid: Subscriber | str) -> Subscriber:
        if isinstance(subscriber_or_psid, Subscriber):
            return subscriber_or_psid
        found = self.store.get(self.page.id, subscriber_or_psid)
        if found is None:
            # Unknown people are judged as a subscriber with no interaction on
            # record, so the policy explains the refusal like any other.
            return Subscriber(page_id=self.page.id, psid=subscriber_or_psid)
        return found
