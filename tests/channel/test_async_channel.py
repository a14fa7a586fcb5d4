"""AsyncChannel.notify: the Channel's decisions and store effects, the request awaited."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import TypeVar

import pytest
from channel_support import NOW

import fmc
from fmc.testing import AsyncFakeTransport, FakeGraphAPI, Fault
from fmc.testing.pytest_plugin import FAKE_ACCESS_TOKEN

T = TypeVar("T")


def register(channel: fmc.Channel, psid: str, hours_ago: float) -> None:
    channel.store.record_event(
        channel.page.id, psid, at=NOW - timedelta(hours=hours_ago), interaction=True
    )


def run_async(
    channel: fmc.Channel,
    fake_graph: FakeGraphAPI,
    use: Callable[[fmc.AsyncChannel], Awaitable[T]],
) -> T:
    """Run ``use`` with an AsyncChannel whose AsyncClient answers from the fake in process."""

    async def main() -> T:
        page = fmc.Page(fake_graph.page_id, FAKE_ACCESS_TOKEN)
        retry = fmc.RetryPolicy(attempts=1, timeout=None)
        async with fmc.AsyncClient(
            page, transport=AsyncFakeTransport(fake_graph), retry=retry
        ) as client:
            return await use(fmc.AsyncChannel(channel, client=client))

    return asyncio.run(main())


def test_a_reply_inside_the_window_is_sent_as_response(
    channel: fmc.Channel, fake_graph: FakeGraphAPI
) -> None:
    """Inside 24 h an awaited reply goes to the PSID with messaging_type RESPONSE."""
    register(channel, "p1", hours_ago=2)
    result = run_async(
        channel, fake_graph, lambda ac: ac.notify("p1", fmc.Text("hello"), fmc.Purpose.RESPONSE)
    )
    (delivery,) = fake_graph.delivered_to("p1")
    assert result.message_id == delivery.message_id
    assert delivery.messaging_type == "RESPONSE"


def test_a_refusal_raises_policy_refused_and_sends_nothing(
    channel: fmc.Channel, fake_graph: FakeGraphAPI
) -> None:
    """Outside the window news without a token is refused, with the Channel's reason."""
    register(channel, "p1", hours_ago=30)
    expected = channel.decide("p1", fmc.Purpose.NEWS)
    with pytest.raises(fmc.PolicyRefused) as refused:
        run_async(
            channel, fake_graph, lambda ac: ac.notify("p1", fmc.Text("news"), fmc.Purpose.NEWS)
        )
    assert refused.value.decision == expected
    assert fake_graph.deliveries == []


def test_an_unavailable_recipient_is_marked(channel: fmc.Channel, fake_graph: FakeGraphAPI) -> None:
    """When Meta answers 551 the subscriber is marked unavailable and the error raised."""
    register(channel, "p1", hours_ago=1)
    fake_graph.faults.add(Fault.unavailable(["p1"]))
    with pytest.raises(fmc.RecipientUnavailableError):
        run_async(
            channel, fake_graph, lambda ac: ac.notify("p1", fmc.Text("hi"), fmc.Purpose.RESPONSE)
        )
    assert channel.subscriber("p1").status is fmc.SubscriberStatus.UNAVAILABLE  # type: ignore[union-attr]


def test_a_one_time_token_is_spent_by_its_send(
    channel: fmc.Channel, fake_graph: FakeGraphAPI
) -> None:
    """A one-time notification token is used by the awaited send, then refused again."""
    register(channel, "p1", hours_ago=40)
    token = fmc.NotificationToken(kind=fmc.TokenKind.ONE_TIME, token="otn-1", topic="news")
    channel.store.add_token(channel.page.id, "p1", token)
    run_async(channel, fake_graph, lambda ac: ac.notify("p1", fmc.Text("n"), fmc.Purpose.NEWS))
    assert fake_graph.deliveries[0].recipient == {"one_time_notif_token": "otn-1"}
    (stored,) = channel.subscriber("p1").tokens  # type: ignore[union-attr]
    assert stored.status is fmc.TokenStatus.USED


def test_a_human_agent_reply_is_recorded(make_channel: object, fake_graph: FakeGraphAPI) -> None:
    """An awaited HUMAN_AGENT send is recorded as the last agent reply."""
    channel: fmc.Channel = make_channel("pages_messaging", "human_agent")  # type: ignore[operator]
    register(channel, "p1", hours_ago=72)
    run_async(
        channel, fake_graph, lambda ac: ac.notify("p1", fmc.Text("Ann"), fmc.Purpose.HUMAN_AGENT)
    )
    assert fake_graph.deliveries[0].tag == "HUMAN_AGENT"
    assert channel.subscriber("p1").last_human_agent_at == NOW  # type: ignore[union-attr]


def test_a_blocked_page_refuses_before_sending(
    channel: fmc.Channel, fake_graph: FakeGraphAPI
) -> None:
    """The Channel's policy-enforcement block applies to the async sends too."""
    register(channel, "p1", hours_ago=1)
    block = fmc.PolicyEnforcementEvent(
        page_id=channel.page.id,
        recipient_id=channel.page.id,
        timestamp=NOW,
        action="block",
        reason="spam",
        raw={},
    )
    channel._enforced(block)  # what the webhook does on this event
    with pytest.raises(fmc.PolicyRefused, match="blocked"):
        run_async(
            channel, fake_graph, lambda ac: ac.notify("p1", fmc.Text("hi"), fmc.Purpose.RESPONSE)
        )
    assert fake_graph.deliveries == []


def test_store_calls_answer_like_the_channel(
    channel: fmc.Channel, fake_graph: FakeGraphAPI
) -> None:
    """subscriber(), subscriber_count() and opt_out() answer like the Channel's own."""
    register(channel, "p1", hours_ago=1)

    async def use(ac: fmc.AsyncChannel) -> tuple[int, fmc.SubscriberStatus | None]:
        await ac.opt_out("p1")
        found = await ac.subscriber("p1")
        return await ac.subscriber_count(), None if found is None else found.status

    assert run_async(channel, fake_graph, use) == (1, fmc.SubscriberStatus.OPTED_OUT)


def test_a_client_for_another_page_is_refused(channel: fmc.Channel) -> None:
    """Mixing Pages is a clear ValueError naming both Pages."""
    other = fmc.AsyncClient(fmc.Page("9999", "other-token"))
    with pytest.raises(ValueError, match="9999"):
        fmc.AsyncChannel(channel, client=other)
