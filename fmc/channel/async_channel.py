"""The Channel for asyncio code: notify through an :class:`~fmc.AsyncClient`.

:class:`AsyncChannel` wraps a :class:`~fmc.Channel` rather than copying it:
the Page, store, policy, webhook and the Page's block state stay the
Channel's, and the policy decision and the store effects of a send are the
very code :meth:`fmc.Channel.notify` runs. Only the HTTP request is awaited.

The store is blocking (SQLite, PostgreSQL), so every store call (the
subscriber lookup before the decision, marking a person unavailable, spending
a token after the send) runs in a worker thread through
:func:`asyncio.to_thread`; the event loop only waits for it.

Broadcasts stay synchronous (their journal, leases and worker pool live in
:class:`~fmc.channel.BroadcastRun`); run one from async code with
``await asyncio.to_thread(channel.broadcast, message, purpose)``.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from fmc.errors import RecipientUnavailableError

if TYPE_CHECKING:
    from fmc.channel.channel import Channel
    from fmc.channel.utility_route import TemplateParameters
    from fmc.models import Message
    from fmc.models.send import SendResult
    from fmc.models.subscriber import Subscriber
    from fmc.policy import Decision, Purpose
    from fmc.transport import AsyncClient
    from fmc.webhook import WebhookHandler

__all__ = ["AsyncChannel"]


class AsyncChannel:
    """A :class:`~fmc.Channel` whose sends are awaited on an :class:`~fmc.AsyncClient`.

    Args:
        channel: The Page's Channel (its store, policy, webhook and block state are shared).
        client: The asyncio Graph client sends go through (for the same Page).

    Raises:
        ValueError: the client is for another Page than the Channel.

    Example:
        >>> import asyncio, fmc
        >>> page = fmc.Page(id="1234", access_token="page-token", app_secret="app-secret")
        >>> channel = fmc.Channel(
        ...     page,
        ...     client=fmc.Client(page),
        ...     store=fmc.MemoryStore(),
        ...     policy=fmc.MessagingPolicy(permissions={"pages_messaging"}),
        ... )
        >>> async def count() -> int:
        ...     async with fmc.AsyncClient(page) as client:
        ...         return await fmc.AsyncChannel(channel, client=client).subscriber_count()
        >>> asyncio.run(count())
        0
    """

    def __init__(self, channel: Channel, *, client: AsyncClient) -> None:
        if client.page.id != channel.page.id:
            raise ValueError(
                f"AsyncChannel: the client is for Page {client.page.id!r} but the "
                f"channel is Page {channel.page.id!r}; give a client made with the channel's page"
            )
        self.channel = channel
        self.client = client

    def __repr__(self) -> str:
        return f"AsyncChannel({self.channel!r})"

    @property
    def webhook(self) -> WebhookHandler:
        """The Channel's webhook handler (see :attr:`fmc.Channel.webhook`)."""
        return self.channel.webhook

    async def subscriber(self, psid: str) -> Subscriber | None:
        """The stored subscriber with this PSID, or ``None`` (read in a thread)."""
        return await asyncio.to_thread(self.channel.subscriber, psid)

    async def subscriber_count(self) -> int:
        """How many subscribers the Page has (counted in a thread)."""
        return await asyncio.to_thread(self.channel.subscriber_count)

    async def opt_out(self, psid: str, *, reason: str = "opted out") -> None:
        """Record that a person does not want notifications any more (in a thread)."""
        await asyncio.to_thread(self.channel.opt_out, psid, reason=reason)

    async def decide(self, subscriber_or_psid: Subscriber | str, purpose: Purpose) -> Decision:
        """What the policy says about sending this purpose to this person now."""
        return await asyncio.to_thread(self.channel.decide, subscriber_or_psid, purpose)

    async def notify(
        self,
        subscriber_or_psid: Subscriber | str,
        message: Message,
        purpose: Purpose,
        *,
        template_parameters: TemplateParameters | None = None,
    ) -> SendResult:
        """Send one message after the policy allows it, awaiting the request.

        The same decisions, errors and store effects as :meth:`fmc.Channel.notify`:
        a refusal raises :class:`~fmc.errors.PolicyRefused` before anything is
        sent, a person Meta reports unavailable is marked so before the error
        is raised, and a success spends the decision's token.

        Args:
            subscriber_or_psid: The subscriber, or their PSID.
            message: What to send.
            purpose: Why, as the policy judges it.
            template_parameters: The utility template's values, used only on that route.

        Returns:
            Meta's answer.

        Raises:
            PolicyRefused: the policy does not allow it; ``.decision.reason`` says why.
            fmc.errors.GraphAPIError: Meta refused the send.
        """
        channel = self.channel
        # The Channel's own planning and settling: one set of rules for both APIs.
        planned = await asyncio.to_thread(
            channel._plan_send, subscriber_or_psid, message, purpose, template_parameters
        )
        try:
            result = await self.client.send_request(planned.request)
        except RecipientUnavailableError as error:
            await asyncio.to_thread(channel._refused_by_meta, planned, error)
            raise
        await asyncio.to_thread(channel._settle_send, planned)
        return result
