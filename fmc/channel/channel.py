"""The Channel: one Page's subscribers, webhook, policy and sends, tied together."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING

import attrs

from fmc.channel.broadcast import BroadcastRun, ProgressCallback
from fmc.channel.control import DEFAULT_LEASE, broadcast_fingerprint, broadcast_id_for
from fmc.channel.outcomes import mark_unavailable, spend_token
from fmc.channel.registration import Registrar
from fmc.channel.report import BroadcastReport
from fmc.channel.utility_route import TemplateParameters, message_for, sent_json
from fmc.errors import ConfigurationError, PolicyRefused, RecipientUnavailableError
from fmc.models.page import Page
from fmc.models.send import SendRequest, SendResult
from fmc.models.subscriber import Subscriber, SubscriberStatus
from fmc.policy import Decision, MessagingPolicy, Purpose

if TYPE_CHECKING:
    from fmc.models import Message
    from fmc.store import BroadcastInfo, SubscriberStore
    from fmc.transport import Client
    from fmc.webhook import Forwarder, WebhookHandler
    from fmc.webhook.events import PolicyEnforcementEvent

__all__ = ["Channel"]


@attrs.frozen
class _PlannedSend:
    """One allowed send of :meth:`Channel.notify`, between the decision and the request."""

    psid: str
    purpose: Purpose
    decision: Decision
    request: SendRequest
    at: datetime


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
        self,
        subscriber_or_psid: Subscriber | str,
        message: Message,
        purpose: Purpose,
        *,
        template_parameters: TemplateParameters | None = None,
    ) -> SendResult:
        """Send one message after the policy allows it.

        When the policy routes the purpose to a utility template (outside
        the window, ``MessagingPolicy(utility_templates=...)``), the
        template ``decision.template`` is sent filled with
        ``template_parameters`` instead of ``message``, or ``message`` itself
        when it is that :class:`~fmc.models.UtilityTemplate`.

        Args:
            subscriber_or_psid: The subscriber, or their PSID.
            message: What to send.
            purpose: Why, as the policy judges it (a reply, news, an update …).
            template_parameters: The utility template's values (a list, or
                placeholder names to values), used only on that route.

        Returns:
            Meta's answer.

        Raises:
            PolicyRefused: the policy does not allow it; ``.decision.reason`` says why.
                :class:`~fmc.channel.UtilityTemplateRequired` (a subclass):
                the utility route, and neither ``template_parameters`` nor
                the policy's template was given.
            fmc.errors.GraphAPIError: Meta refused the send (a person Meta
                reports unavailable is marked so before the error is raised).
        """
        planned = self._plan_send(subscriber_or_psid, message, purpose, template_parameters)
        try:
            result = self.client.send_request(planned.request)
        except RecipientUnavailableError as error:
            self._refused_by_meta(planned, error)
            raise
        self._settle_send(planned)
        return result

    def _plan_send(
        self,
        subscriber_or_psid: Subscriber | str,
        message: Message,
        purpose: Purpose,
        template_parameters: TemplateParameters | None,
    ) -> _PlannedSend:
        """The policy's decision as a request (reads the store; AsyncChannel shares it)."""
        self._refuse_if_blocked()
        subscriber = self._lookup(subscriber_or_psid)
        now = self._clock()
        decision = self.policy.decide(subscriber, purpose, now)
        if not decision.allowed or decision.recipient is None:
            raise PolicyRefused(decision)
        request = SendRequest(
            decision.recipient,
            message_for(decision, message, template_parameters),
            messaging_type=decision.messaging_type,
            tag=decision.tag,
        )
        return _PlannedSend(subscriber.psid, purpose, decision, request, now)

    def _refused_by_meta(self, planned: _PlannedSend, error: RecipientUnavailableError) -> None:
        """Mark a person Meta reports unavailable (writes the store)."""
        mark_unavailable(self.store, self.page.id, planned.psid, error, self._clock())

    def _settle_send(self, planned: _PlannedSend) -> None:
        """Record a successful send: spend its token, note a human agent's reply."""
        spend_token(self.store, self.page.id, planned.psid, planned.decision.token)
        if planned.purpose is Purpose.HUMAN_AGENT:
            self.store.record_event(
                self.page.id, planned.psid, at=planned.at, interaction=False, human_agent=True
            )

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
        idempotency_key: str | None = None,
        stop: threading.Event | None = None,
        lease: timedelta = DEFAULT_LEASE,
        template_parameters: TemplateParameters | None = None,
    ) -> BroadcastReport:
        """Send a message to every subscriber the policy allows, resumably.

        The audience streams from the store (or from ``audience``); each
        subscriber is judged by the policy, journaled, then sent through
        :meth:`fmc.Client.send_many` (whose rate limit applies). Run it again
        with the same ``broadcast_id`` (or ``idempotency_key``) after a crash
        or a pause: nobody with a recorded success is sent the message again.
        Several processes may run the same broadcast at once; they share the
        audience and never send anyone the message twice.

        The run stops early, sending nobody anything twice and consuming
        nobody, when ``stop`` is set (from a signal handler or another
        thread) or when an error concerns the whole Page: a dead token, a
        restricted Page, a policy-enforcement block, or a throttle longer than
        the client may wait. It then claims nothing more, lets the requests in
        flight finish, records their outcomes and returns a report whose
        :attr:`~fmc.channel.BroadcastReport.paused` says why; resume it with
        the same id.

        Args:
            message: What to send.
            purpose: Why; the policy decides per subscriber.
            audience: Subscribers or PSIDs; every subscriber of the Page when ``None``.
            broadcast_id: Resume this broadcast; a new id is made when ``None``
                (and no ``idempotency_key`` is given).
            progress: Called with a :class:`~fmc.channel.BroadcastProgress` as it goes.
            at_least_once: Resend to subscribers whose earlier send was ambiguous
                (may reach some people twice; off by default).
            concurrency: Sends in flight (the client's default when ``None``).
            batch_size: Sends per Graph batch request (no batching when ``None``).
            idempotency_key: Your name for this broadcast (e.g. ``"sale-2026-12"``):
                the same key always means the same broadcast of this Page
                (:func:`fmc.channel.broadcast_id_for`), so calling again resumes
                it instead of sending it twice.
            stop: Set it to stop the run gracefully.
            lease: How long this run may go without a heartbeat before other
                runs of the broadcast presume it dead and recover its claims.
            template_parameters: The utility template's values, for the people
                the policy reaches only through a utility template (as in
                :meth:`notify`); without them, and unless ``message`` is that
                template, those people are skipped with the rule
                ``utility_template_required``.

        Returns:
            The :class:`~fmc.channel.BroadcastReport`.

        Raises:
            ConfigurationError: ``broadcast_id`` names a broadcast started with
                another message or purpose.
            PolicyRefused: Meta's policy enforcement blocked the Page.
            ValueError: Both ``broadcast_id`` and ``idempotency_key`` are given.
        """
        self._refuse_if_blocked()
        if broadcast_id is not None and idempotency_key is not None:
            raise ValueError("give broadcast_id or idempotency_key, not both")
        if idempotency_key is not None:
            broadcast_id = broadcast_id_for(self.page.id, idempotency_key)
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
            stop=stop,
            template_parameters=template_parameters,
            blocked=lambda: self._blocked_reason,
            fingerprint=(
                self._fingerprint(message, purpose, template_parameters)
                if audience is None
                else None
            ),
            lease=lease,
        )
        return run.run()

    def find_broadcast(
        self, message: Message, purpose: Purpose, *, within: timedelta = timedelta(hours=24)
    ) -> BroadcastInfo | None:
        """The newest broadcast of this message and purpose to every subscriber, if recent.

        The ``fmc broadcast`` command uses it so that running the same command
        twice resumes the first broadcast instead of sending it again.

        Args:
            message: The message.
            purpose: The purpose.
            within: How far back to look.

        Returns:
            The broadcast's record, or ``None``.
        """
        return self.store.broadcast_find(
            self.page.id, self._fingerprint(message, purpose), since=self._clock() - within
        )

    def _fingerprint(
        self, message: Message, purpose: Purpose, parameters: TemplateParameters | None = None
    ) -> str:
        return broadcast_fingerprint(self.page.id, purpose.value, sent_json(message, parameters))

    def _lookup(self, subscriber_or_psid: Subscriber | str) -> Subscriber:
        if isinstance(subscriber_or_psid, Subscriber):
            return subscriber_or_psid
        found = self.store.get(self.page.id, subscriber_or_psid)
        if found is None:
            # Unknown people are judged as a subscriber with no interaction on
            # record, so the policy explains the refusal like any other.
            return Subscriber(page_id=self.page.id, psid=subscriber_or_psid)
        return found
