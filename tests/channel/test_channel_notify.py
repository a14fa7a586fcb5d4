"""Channel.notify: one message, sent only when the policy allows it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from channel_support import NOW

import fmc
from fmc.testing import FakeGraphAPI, Fault


def register(channel: fmc.Channel, psid: str, hours_ago: float) -> None:
    channel.store.record_event(
        channel.page.id, psid, at=NOW - timedelta(hours=hours_ago), interaction=True
    )


def test_a_reply_inside_the_window_is_sent_as_response(
    channel: fmc.Channel, fake_graph: FakeGraphAPI
) -> None:
    """Inside 24 h a reply goes to the PSID with messaging_type RESPONSE."""
    register(channel, "p1", hours_ago=2)
    result = channel.notify("p1", fmc.Text("hello"), fmc.Purpose.RESPONSE)
    (delivery,) = fake_graph.delivered_to("p1")
    assert result.message_id == delivery.message_id
    assert delivery.messaging_type == "RESPONSE"


def test_a_refusal_raises_policy_refused_with_the_reason(
    channel: fmc.Channel, fake_graph: FakeGraphAPI
) -> None:
    """Outside the window a reply is refused before any HTTP call, with the reason."""
    register(channel, "p1", hours_ago=31)
    with pytest.raises(fmc.PolicyRefused) as refused:
        channel.notify("p1", fmc.Text("hello"), fmc.Purpose.RESPONSE)
    assert "31 h ago" in str(refused.value)
    assert refused.value.decision.allowed is False
    assert fake_graph.http_request_count == 0


def test_an_unknown_person_is_refused(channel: fmc.Channel, fake_graph: FakeGraphAPI) -> None:
    """A PSID the store has never seen has no open window."""
    with pytest.raises(fmc.PolicyRefused):
        channel.notify("stranger", fmc.Text("hello"), fmc.Purpose.NEWS)
    assert fake_graph.http_request_count == 0


def test_a_tagged_update_goes_out_after_the_window(
    channel: fmc.Channel, fake_graph: FakeGraphAPI
) -> None:
    """A post-purchase update outside the window goes with its tag where the route is honoured."""
    # The tag is reported removed since 2026-04-27 and refused by default (issue 15).
    channel.policy = fmc.MessagingPolicy({"pages_messaging"}, honour={"post_purchase_update_tag"})
    register(channel, "p1", hours_ago=50)
    channel.notify("p1", fmc.Text("shipped"), fmc.Purpose.POST_PURCHASE_UPDATE)
    (delivery,) = fake_graph.delivered_to("p1")
    assert (delivery.messaging_type, delivery.tag) == ("MESSAGE_TAG", "POST_PURCHASE_UPDATE")


def test_an_unavailable_recipient_is_marked(channel: fmc.Channel, fake_graph: FakeGraphAPI) -> None:
    """When Meta answers 551 the subscriber is marked unavailable and the error raised."""
    register(channel, "p1", hours_ago=1)
    fake_graph.faults.add(Fault.unavailable(["p1"]))
    with pytest.raises(fmc.RecipientUnavailableError):
        channel.notify("p1", fmc.Text("hello"), fmc.Purpose.RESPONSE)
    assert channel.subscriber("p1").status is fmc.SubscriberStatus.UNAVAILABLE  # type: ignore[union-attr]


def test_a_one_time_token_is_spent_by_its_send(
    channel: fmc.Channel, fake_graph: FakeGraphAPI
) -> None:
    """A one-time notification token is used once, then marked used."""
    register(channel, "p1", hours_ago=40)
    token = fmc.NotificationToken(kind=fmc.TokenKind.ONE_TIME, token="otn-1", topic="news")
    channel.store.add_token(channel.page.id, "p1", token)
    channel.notify("p1", fmc.Text("news!"), fmc.Purpose.NEWS)
    assert fake_graph.deliveries[0].recipient == {"one_time_notif_token": "otn-1"}
    (stored,) = channel.subscriber("p1").tokens  # type: ignore[union-attr]
    assert stored.status is fmc.TokenStatus.USED
    with pytest.raises(fmc.PolicyRefused):
        channel.notify("p1", fmc.Text("more news"), fmc.Purpose.NEWS)


def test_a_human_agent_reply_is_recorded(make_channel: object, fake_graph: FakeGraphAPI) -> None:
    """A HUMAN_AGENT send within 7 days is tagged and recorded as the last agent reply."""
    channel: fmc.Channel = make_channel("pages_messaging", "human_agent")  # type: ignore[operator]
    register(channel, "p1", hours_ago=72)
    channel.notify("p1", fmc.Text("Ann here"), fmc.Purpose.HUMAN_AGENT)
    assert fake_graph.deliveries[0].tag == "HUMAN_AGENT"
    assert channel.subscriber("p1").last_human_agent_at == NOW  # type: ignore[union-attr]
