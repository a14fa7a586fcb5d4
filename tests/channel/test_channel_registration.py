"""The Channel's webhook registers and refreshes subscribers from events."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from channel_support import APP_SECRET, NOW

import fmc
import fmc.testing
from fmc.testing import (
    delivery_event,
    echo_event,
    message_event,
    optin_event,
    policy_enforcement_event,
    postback_event,
    reaction_event,
    read_event,
    signed_delivery,
)


def deliver(
    channel: fmc.Channel, *events: dict[str, Any], page_id: str | None = None
) -> fmc.Response:
    body, headers = signed_delivery(list(events), APP_SECRET, page_id=page_id or channel.page.id)
    return channel.webhook.respond("POST", {}, headers, body)


def at(hours_ago: float) -> datetime:
    return NOW - timedelta(hours=hours_ago)


def test_a_message_registers_the_sender(channel: fmc.Channel) -> None:
    """Someone who writes to the Page becomes an active subscriber."""
    response = deliver(channel, message_event("p1", "hi", page_id=channel.page.id, timestamp=at(1)))
    subscriber = channel.subscriber("p1")
    assert response.status == 200
    assert subscriber is not None
    assert subscriber.status is fmc.SubscriberStatus.ACTIVE
    assert subscriber.first_seen_at == at(1)
    assert subscriber.last_interaction_at == at(1)


def test_postback_and_reaction_open_the_window(channel: fmc.Channel) -> None:
    """Postbacks and reactions are interactions."""
    pid = channel.page.id
    deliver(
        channel,
        postback_event("p1", "GET_STARTED", page_id=pid, timestamp=at(3)),
        reaction_event("p2", "m_x", page_id=pid, timestamp=at(2)),
    )
    assert channel.subscriber("p1").last_interaction_at == at(3)  # type: ignore[union-attr]
    assert channel.subscriber("p2").last_interaction_at == at(2)  # type: ignore[union-attr]


def test_reads_and_deliveries_register_without_opening_the_window(channel: fmc.Channel) -> None:
    """A read or a delivery registers the person but is not an interaction."""
    pid = channel.page.id
    deliver(
        channel,
        read_event("p1", at(2), page_id=pid, timestamp=at(1)),
        delivery_event("p2", at(2), page_id=pid, timestamp=at(1)),
    )
    for psid in ("p1", "p2"):
        subscriber = channel.subscriber(psid)
        assert subscriber is not None
        assert subscriber.first_seen_at == at(1)
        assert subscriber.last_interaction_at is None


def test_first_seen_never_moves_later(channel: fmc.Channel) -> None:
    """A later event keeps the earlier first-seen time and moves the interaction forward."""
    pid = channel.page.id
    deliver(channel, message_event("p1", "one", page_id=pid, timestamp=at(5)))
    deliver(channel, message_event("p1", "two", page_id=pid, timestamp=at(1)))
    subscriber = channel.subscriber("p1")
    assert subscriber is not None
    assert (subscriber.first_seen_at, subscriber.last_interaction_at) == (at(5), at(1))


def test_an_inbox_echo_records_a_human_agent_reply(channel: fmc.Channel) -> None:
    """An echo with no app id is a reply typed by a person in the Page inbox."""
    pid = channel.page.id
    deliver(channel, echo_event("p1", "hello from Ann", page_id=pid, timestamp=at(2), app_id=None))
    subscriber = channel.subscriber("p1")
    assert subscriber is not None
    assert subscriber.last_human_agent_at == at(2)
    assert subscriber.last_interaction_at is None


def test_an_app_echo_is_not_a_human_agent_reply(channel: fmc.Channel) -> None:
    """An echo of a message an app sent records no human-agent reply."""
    deliver(channel, echo_event("p1", "automated", page_id=channel.page.id, timestamp=at(2)))
    subscriber = channel.subscriber("p1")
    assert subscriber is not None
    assert subscriber.last_human_agent_at is None


def test_a_notification_opt_in_stores_a_token_without_opening_the_window(
    channel: fmc.Channel,
) -> None:
    """A notification_messages opt-in keeps the token and its topic; the window stays shut."""
    event = optin_event(
        "p1",
        page_id=channel.page.id,
        timestamp=at(30),
        payload="news",
        token="tok-1",
        frequency="WEEKLY",
    )
    deliver(channel, event)
    subscriber = channel.subscriber("p1")
    assert subscriber is not None
    assert subscriber.last_interaction_at is None
    (token,) = subscriber.tokens
    assert (token.kind, token.token, token.topic) == (
        fmc.TokenKind.NOTIFICATION_MESSAGES,
        "tok-1",
        "news",
    )
    assert token.status is fmc.TokenStatus.ACTIVE


def test_stop_notifications_revokes_the_token(channel: fmc.Channel) -> None:
    """A STOP NOTIFICATIONS opt-in event stops the stored token."""
    pid = channel.page.id
    deliver(channel, optin_event("p1", page_id=pid, timestamp=at(3), payload="news", token="t"))
    deliver(
        channel,
        optin_event(
            "p1",
            page_id=pid,
            timestamp=at(2),
            payload="news",
            token="t",
            notification_status="STOP NOTIFICATIONS",
        ),
    )
    (token,) = channel.subscriber("p1").tokens  # type: ignore[union-attr]
    assert token.status is fmc.TokenStatus.STOPPED


def test_a_one_time_notification_opt_in_stores_a_one_time_token(channel: fmc.Channel) -> None:
    """A one_time_notif_req opt-in keeps a one-time token."""
    event = optin_event(
        "p1",
        type="one_time_notif_req",
        page_id=channel.page.id,
        timestamp=at(1),
        payload="news",
        token="otn-1",
    )
    deliver(channel, event)
    (token,) = channel.subscriber("p1").tokens  # type: ignore[union-attr]
    assert (token.kind, token.token) == (fmc.TokenKind.ONE_TIME, "otn-1")


def test_a_stop_keyword_opts_out_and_start_opts_back_in(channel: fmc.Channel) -> None:
    """Writing STOP opts the person out; START opts them back in."""
    pid = channel.page.id
    deliver(channel, message_event("p1", " Stop ", page_id=pid, timestamp=at(2)))
    assert channel.subscriber("p1").status is fmc.SubscriberStatus.OPTED_OUT  # type: ignore[union-attr]
    deliver(channel, message_event("p1", "start", page_id=pid, timestamp=at(1)))
    assert channel.subscriber("p1").status is fmc.SubscriberStatus.ACTIVE  # type: ignore[union-attr]


def test_writing_again_clears_unavailable(channel: fmc.Channel) -> None:
    """A person Meta reported unavailable who writes again is reachable again."""
    channel.store.set_status(
        channel.page.id, "p1", fmc.SubscriberStatus.UNAVAILABLE, reason="551", at=at(5)
    )
    deliver(channel, message_event("p1", "back", page_id=channel.page.id, timestamp=at(1)))
    assert channel.subscriber("p1").status is fmc.SubscriberStatus.ACTIVE  # type: ignore[union-attr]


def test_page_policy_enforcement_registers_nobody(channel: fmc.Channel) -> None:
    """A policy-enforcement event about the Page is answered 200 and registers no one."""
    response = deliver(channel, policy_enforcement_event(page_id=channel.page.id))
    assert response.status == 200
    assert channel.subscriber_count() == 0


def test_a_redelivery_is_registered_once(channel: fmc.Channel) -> None:
    """Facebook's redelivery of the same message does not register it twice."""
    event = message_event("p1", "hi", page_id=channel.page.id, timestamp=at(1), mid="m_1")
    deliver(channel, event)
    channel.store.set_status(channel.page.id, "p1", fmc.SubscriberStatus.OPTED_OUT, at=at(0))
    deliver(channel, event)
    assert channel.subscriber("p1").status is fmc.SubscriberStatus.OPTED_OUT  # type: ignore[union-attr]


def test_events_for_another_page_are_ignored(channel: fmc.Channel) -> None:
    """Events addressed to another Page do not register subscribers for this one."""
    deliver(channel, message_event("p1", "hi", page_id="999", timestamp=at(1)), page_id="999")
    assert channel.subscriber_count() == 0


def test_a_page_block_stops_sending_until_unblocked(channel: fmc.Channel) -> None:
    """While Meta's policy enforcement blocks the Page, notify refuses with Meta's reason."""
    deliver(channel, message_event("p1", "hi", page_id=channel.page.id, timestamp=at(1)))
    deliver(
        channel, policy_enforcement_event(page_id=channel.page.id, reason="spam", timestamp=at(0.5))
    )
    assert channel.blocked_reason == "spam"
    with pytest.raises(fmc.PolicyRefused, match="policy enforcement: spam"):
        channel.notify("p1", fmc.Text("hello"), fmc.Purpose.RESPONSE)
    deliver(
        channel,
        policy_enforcement_event(page_id=channel.page.id, action="unblock", timestamp=at(0.2)),
    )
    assert channel.blocked_reason is None


def test_a_callback_can_reply_to_a_first_message(
    channel: fmc.Channel, fake_graph: fmc.testing.FakeGraphAPI
) -> None:
    """Registration runs before callbacks, so a reply to a newcomer's first message is allowed."""
    replies: list[fmc.SendResult] = []

    @channel.webhook.on(fmc.MessageEvent)
    def answer(event: fmc.MessageEvent) -> None:
        replies.append(channel.notify(event.sender_id, fmc.Text("welcome"), fmc.Purpose.RESPONSE))

    deliver(channel, message_event("new", "hello", page_id=channel.page.id, timestamp=at(0)))
    assert len(replies) == 1
    assert fake_graph.delivered_to("new")[0].text == "welcome"


def test_the_documented_policy_enforcement_key_is_understood(channel: fmc.Channel) -> None:
    """Meta's reference spells the key policy_enforcement; it blocks the Page like the other."""
    event = policy_enforcement_event(page_id=channel.page.id, reason="spam", timestamp=at(0.5))
    event["policy_enforcement"] = event.pop("policy-enforcement")
    deliver(channel, event)
    assert channel.blocked_reason == "spam"


@pytest.mark.parametrize(
    ("source", "inside_message", "recorded"),
    [
        ("ADS", True, True),
        ("ADS", False, True),
        ("SHORTLINK", True, False),
        ("CUSTOMER_CHAT_PLUGIN", False, False),
    ],
    ids=["ad-in-message", "ad-beside-message", "shortlink", "chat-plugin"],
)
def test_only_a_message_from_an_ad_records_the_ad_time(
    channel: fmc.Channel, source: str, inside_message: bool, recorded: bool
) -> None:
    """A message whose referral's source is ADS records ``ad_referral_at``; other sources do not."""
    item = message_event("p1", "hi", page_id=channel.page.id, timestamp=at(5))
    referral = {"ref": "spring-sale", "source": source, "type": "OPEN_THREAD"}
    if inside_message:
        item["message"]["referral"] = referral
    else:
        item["referral"] = referral
    deliver(channel, item)
    subscriber = channel.subscriber("p1")
    assert subscriber is not None
    assert subscriber.ad_referral_at == (at(5) if recorded else None)


def test_a_referral_from_an_ad_records_the_ad_time(channel: fmc.Channel) -> None:
    """A ``messaging_referrals`` event from an ad records the time too."""
    pid = channel.page.id
    deliver(
        channel,
        fmc.testing.referral_event("p1", "sale", source="ADS", page_id=pid, timestamp=at(2)),
        fmc.testing.referral_event("p2", "sale", source="SHORTLINK", page_id=pid, timestamp=at(2)),
    )
    assert channel.subscriber("p1").ad_referral_at == at(2)  # type: ignore[union-attr]
    assert channel.subscriber("p2").ad_referral_at is None  # type: ignore[union-attr]
