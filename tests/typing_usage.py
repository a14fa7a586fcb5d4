"""A typed tour of the public API, checked by ``mypy --strict`` (``nox -s typecheck``).

It is not run as a test; it fails the type check when a public signature
changes in a way that would break users' typed code.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

import fmc
from fmc.adapters.wsgi import make_app


def send_examples(client: fmc.Client) -> fmc.SendResult:
    recipient = fmc.Recipient(id="PSID")
    client.sender_action(recipient, fmc.SenderAction.TYPING_ON)
    quick = fmc.QuickReply(title="Yes", payload="YES")
    client.send(recipient, fmc.Text("Ready?", quick_replies=(quick,)))
    button = fmc.PostbackButton("Start", "START")
    return client.send_request(
        fmc.SendRequest(
            recipient,
            fmc.ButtonTemplate("Pick one", (button,)),
            tag=fmc.MessageTag.POST_PURCHASE_UPDATE,
        )
    )


def many(client: fmc.Client, psids: list[str]) -> Iterator[fmc.SendOutcome]:
    requests = (fmc.SendRequest(fmc.Recipient(id=p), fmc.Text("hi")) for p in psids)
    return client.send_many(requests, concurrency=32, batch_size=50)


def channel_examples(page: fmc.Page, client: fmc.Client) -> fmc.BroadcastReport:
    channel = fmc.Channel(
        page,
        client=client,
        store=fmc.SQLiteStore("fmc.db"),
        policy=fmc.MessagingPolicy(permissions={"pages_messaging"}),
        verify_token="verify",
    )
    handler: fmc.WebhookHandler = channel.webhook

    @handler.on(fmc.MessageEvent)
    def echo(event: fmc.MessageEvent) -> None:
        if event.text:
            channel.notify(event.sender_id, fmc.Text(event.text), fmc.Purpose.RESPONSE)

    response: fmc.Response = handler.respond("POST", {}, {}, b"{}")
    assert response.status in (200, 400, 403)
    make_app(handler)
    decision: fmc.Decision = channel.decide("PSID", fmc.Purpose.NEWS)
    assert isinstance(decision.reason, str)
    return channel.broadcast(fmc.Text("Breaking"), fmc.Purpose.NEWS, batch_size=50)


def platform_2026(client: fmc.Client, subscriber: fmc.Subscriber, now: datetime) -> str | None:
    from fmc.models import MarketingOptInRequest, Sticker, UtilityTemplate
    from fmc.policy import MessagingPolicy, Route
    from fmc.transport.marketing import send_marketing_message
    from fmc.transport.routing import owns_thread, thread_owner
    from fmc.transport.templates import MessageTemplate, list_page_templates

    policy = MessagingPolicy(
        {"pages_messaging"},
        honour={Route.ACCOUNT_UPDATE_TAG},
        utility_templates={fmc.Purpose.TRANSACTIONAL: "order_shipped"},
    )
    decision: fmc.Decision = policy.decide(subscriber, fmc.Purpose.TRANSACTIONAL, now)
    templates: tuple[MessageTemplate, ...] = list_page_templates(client)
    assert all(template.name for template in templates)
    client.send(fmc.Recipient(subscriber.psid), Sticker(767226160478561))
    client.send(fmc.Recipient(subscriber.psid), MarketingOptInRequest("Deals", "promotional"))
    if decision.template is not None:
        client.send(fmc.Recipient(subscriber.psid), UtilityTemplate(decision.template))
    send_marketing_message(client, "act_1", subscriber, fmc.Text("20% off"), now=now)
    owner: str | None = thread_owner(client, subscriber.psid)
    return owner if owns_thread(owner, "42") else None


async def async_channel_examples(channel: fmc.Channel, client: fmc.AsyncClient) -> fmc.SendResult:
    async_channel = fmc.AsyncChannel(channel, client=client)
    count: int = await async_channel.subscriber_count()
    assert count >= 0
    decision: fmc.Decision = await async_channel.decide("PSID", fmc.Purpose.RESPONSE)
    assert isinstance(decision.allowed, bool)
    return await async_channel.notify("PSID", fmc.Text("hi"), fmc.Purpose.RESPONSE)


def async_webhook_app(channel: fmc.Channel, client: fmc.AsyncClient) -> object:
    from fmc.adapters import asgi

    replies = fmc.AsyncChannel(channel, client=client)
    handler = replies.webhook

    @handler.on(fmc.MessageEvent)
    async def answer(event: fmc.MessageEvent) -> None:
        await replies.notify(event.sender_id, fmc.Text("hi"), fmc.Purpose.RESPONSE)

    return asgi.make_app(handler)
