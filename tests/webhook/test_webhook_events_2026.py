"""Event shapes fmc used to get wrong (issue 15), from Meta's documented example bodies.

Each payload below is Meta's reference example with its placeholders filled
in; the page it comes from is named above it.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fmc.webhook import (
    DeliveryEvent,
    FeedbackAnswer,
    HandoverEvent,
    MessageEvent,
    MessagingFeedbackEvent,
    Referral,
    ResponseFeedbackEvent,
    UnknownEvent,
    parse_events,
)
from fmc.webhook.kinds import SECONDS_BELOW

PAGE = "106437718793432"
PSID = "6514567891234567"
ENTRY_TIME = 1717171717199


def delivered(item: dict[str, Any], *, time: int | None = ENTRY_TIME) -> Any:
    """Parse a body holding one messaging item in one entry (with ``time`` unless None)."""
    entry: dict[str, Any] = {"id": PAGE, "messaging": [item]}
    if time is not None:
        entry["time"] = time
    (event,) = parse_events({"object": "page", "entry": [entry]})
    return event


# message_deliveries Webhook Event Reference (Updated Jun 21, 2022):
# Meta developer docs, /documentation/business-messaging/messenger-platform/
# webhooks/webhook-events/message-deliveries -- the example has no timestamp.
META_DELIVERY = {
    "sender": {"id": PSID},
    "recipient": {"id": PAGE},
    "delivery": {"mids": ["mid.1458668856218:ed81099e15d3f4f233"], "watermark": 1458668856253},
}


class TestDeliveryWithoutTimestamp:
    def test_meta_example_is_a_delivery(self) -> None:
        """Meta's documented delivery, which has no timestamp, is a DeliveryEvent."""
        event = delivered(META_DELIVERY)
        assert isinstance(event, DeliveryEvent)
        assert event.mids == ("mid.1458668856218:ed81099e15d3f4f233",)

    def test_timestamp_falls_back_to_entry_time(self) -> None:
        """Without its own timestamp an item takes the entry's time."""
        event = delivered(META_DELIVERY)
        assert event.timestamp == datetime.fromtimestamp(ENTRY_TIME / 1000, tz=timezone.utc)

    def test_own_timestamp_wins_over_entry_time(self) -> None:
        """An item's own timestamp is used when present."""
        event = delivered({**META_DELIVERY, "timestamp": 1458668856463})
        assert event.timestamp == datetime.fromtimestamp(1458668856.463, tz=timezone.utc)

    def test_no_timestamp_anywhere_is_unknown(self) -> None:
        """With neither a timestamp nor an entry time, the item stays unknown, saying why."""
        event = delivered(META_DELIVERY, time=None)
        assert isinstance(event, UnknownEvent)
        assert "timestamp" in event.reason


# messaging_handovers Webhook Event Reference (Updated Sep 14, 2021), app_roles:
# Meta developer docs, /documentation/business-messaging/messenger-platform/
# webhooks/webhook-events/messaging_handovers -- the example has no sender.
META_APP_ROLES = {
    "recipient": {"id": PAGE},
    "timestamp": 1458692752478,
    "app_roles": {"123456789": ["primary_receiver"]},
}
# Same page, pass_thread_control: previous owner null means the thread was idle.
META_PASS = {
    "sender": {"id": PSID},
    "recipient": {"id": PAGE},
    "timestamp": 1458692752478,
    "pass_thread_control": {
        "previous_owner_app_id": None,
        "new_owner_app_id": "123456789",
        "metadata": "Additional content that the caller wants to set",
    },
}


class TestHandoverWithoutSender:
    def test_app_roles_without_sender_is_typed(self) -> None:
        """Meta's app_roles example, which has no sender, is a HandoverEvent."""
        event = delivered(META_APP_ROLES)
        assert isinstance(event, HandoverEvent)
        assert event.sender_id is None
        assert event.app_roles == {"123456789": ("primary_receiver",)}

    def test_pass_from_idle_has_no_previous_owner(self) -> None:
        """A pass from an idle thread carries previous_owner_app_id None."""
        event = delivered(META_PASS)
        assert isinstance(event, HandoverEvent)
        assert (event.sender_id, event.new_owner_app_id, event.previous_owner_app_id) == (
            PSID,
            "123456789",
            None,
        )


class TestSecondsOrMilliseconds:
    @pytest.mark.parametrize(
        ("value", "expected"),
        [
            (1458692752478, datetime(2016, 3, 23, 0, 25, 52, 478000, tzinfo=timezone.utc)),
            (1458692752, datetime(2016, 3, 23, 0, 25, 52, tzinfo=timezone.utc)),
            (SECONDS_BELOW, datetime(1973, 3, 3, 9, 46, 40, tzinfo=timezone.utc)),
            (SECONDS_BELOW - 1, datetime(5138, 11, 16, 9, 46, 39, tzinfo=timezone.utc)),
        ],
        ids=["millis", "seconds", "smallest-millis", "largest-seconds"],
    )
    def test_magnitude_decides_the_unit(self, value: int, expected: datetime) -> None:
        """Below 10**11 a timestamp is seconds, from there on milliseconds."""
        item = {**META_PASS, "timestamp": value}
        assert delivered(item).timestamp == expected

    def test_referral_in_seconds_is_recent(self) -> None:
        """A referral timestamped in seconds lands on its day, not in 1970."""
        # messaging_referrals reference (Updated Jul 1, 2025), ad referral example.
        item = {
            "sender": {"id": PSID},
            "recipient": {"id": PAGE},
            "timestamp": 1764547200,
            "referral": {
                "ref": "spring",
                "ad_id": "6045246247433",
                "source": "ADS",
                "type": "OPEN_THREAD",
            },
        }
        assert delivered(item).timestamp == datetime(2025, 12, 1, tzinfo=timezone.utc)

    @given(
        instant=st.datetimes(
            min_value=datetime(1973, 3, 4),
            max_value=datetime(4000, 1, 1),
            timezones=st.just(timezone.utc),
        ).map(lambda moment: moment.replace(microsecond=0))
    )
    def test_seconds_and_millis_of_one_instant_agree(self, instant: datetime) -> None:
        """The same instant in seconds or in milliseconds parses to the same datetime."""
        seconds = int(instant.timestamp())
        as_seconds = delivered({**META_PASS, "timestamp": seconds}).timestamp
        as_millis = delivered({**META_PASS, "timestamp": seconds * 1000}).timestamp
        assert as_seconds == as_millis == instant

    def test_watermark_in_seconds(self) -> None:
        """A delivery watermark in seconds is read as seconds too."""
        item = {**META_DELIVERY, "delivery": {"watermark": 1458668856}}
        event = delivered(item)
        assert isinstance(event, DeliveryEvent)
        assert event.watermark == datetime(2016, 3, 22, 17, 47, 36, tzinfo=timezone.utc)


# response_feedback Webhook Event Reference (Updated Oct 8, 2024):
# Meta developer docs, /documentation/business-messaging/messenger-platform/
# webhooks/webhook-events/response_feedback
META_RESPONSE_FEEDBACK = {
    "sender": {"id": PSID},
    "recipient": {"id": PAGE},
    "timestamp": 1458668856463,
    "response_feedback": {"feedback": "Good response", "mid": "m_AG5Hz2Uq7tuwNEhX"},
}
# The customer feedback template page (Meta developer docs, /docs/messenger-platform/
# send-messages/templates/customer-feedback-template): answers arrive per screen and
# question id, with an optional free-form follow-up.
META_MESSAGING_FEEDBACK = {
    "sender": {"id": PSID},
    "recipient": {"id": PAGE},
    "timestamp": 1458668856463,
    "messaging_feedback": {
        "feedback_screens": [
            {
                "screen_id": 0,
                "questions": {
                    "hauydmns8": {
                        "type": "csat",
                        "payload": "4",
                        "follow_up": {"type": "free_form", "payload": "Quick and friendly"},
                    }
                },
            }
        ]
    },
}


class TestFeedbackEvents:
    def test_response_feedback_is_typed(self) -> None:
        """A thumbs up on a message is a ResponseFeedbackEvent."""
        event = delivered(META_RESPONSE_FEEDBACK)
        assert isinstance(event, ResponseFeedbackEvent)
        assert (event.feedback, event.mid, event.positive) == (
            "Good response",
            "m_AG5Hz2Uq7tuwNEhX",
            True,
        )
        assert event.kind == "response_feedback"

    def test_bad_response_is_not_positive(self) -> None:
        """A thumbs down is not positive."""
        item = {**META_RESPONSE_FEEDBACK, "response_feedback": {"feedback": "Bad response"}}
        assert delivered(item).positive is False

    def test_messaging_feedback_is_typed(self) -> None:
        """A survey answer is a MessagingFeedbackEvent with one answer per question."""
        event = delivered(META_MESSAGING_FEEDBACK)
        assert isinstance(event, MessagingFeedbackEvent)
        assert event.kind == "messaging_feedback"
        assert event.answers == (
            FeedbackAnswer(
                screen_id=0,
                question_id="hauydmns8",
                type="csat",
                payload="4",
                follow_up="Quick and friendly",
            ),
        )

    @pytest.mark.parametrize(
        ("key", "value", "reason"),
        [
            ("response_feedback", {"mid": "m"}, "feedback"),
            ("messaging_feedback", {"feedback_screens": {}}, "feedback_screens"),
            ("messaging_feedback", {"feedback_screens": [{"screen_id": "0"}]}, "screen_id"),
        ],
        ids=["no-feedback", "screens-not-list", "screen-id-text"],
    )
    def test_broken_feedback_is_unknown(self, key: str, value: Any, reason: str) -> None:
        """A feedback event with a broken field is kept as unknown, naming the field."""
        item = {"sender": {"id": PSID}, "recipient": {"id": PAGE}, "timestamp": 1, key: value}
        event = delivered(item)
        assert isinstance(event, UnknownEvent)
        assert reason in event.reason


# messaging_referrals reference (Updated Jul 1, 2025), "Ad Referral": the same
# referral object rides on the first message a person sends from a
# Click-to-Messenger ad (messages reference, Meta developer docs, /docs/
# messenger-platform/reference/webhook-events/messages).
AD_REFERRAL = {
    "ref": "spring-sale",
    "ad_id": "6045246247433",
    "source": "ADS",
    "type": "OPEN_THREAD",
    "ads_context_data": {"ad_title": "Spring sale", "post_id": "106437718793432_1"},
}


class TestMessageFromAd:
    @pytest.mark.parametrize("inside", [True, False], ids=["in-message", "beside-message"])
    def test_ad_referral_is_kept(self, inside: bool) -> None:
        """A message carrying an ad referral keeps it as a typed field."""
        message: dict[str, Any] = {"mid": "m_ad1", "text": "Is this still available?"}
        item: dict[str, Any] = {
            "sender": {"id": PSID},
            "recipient": {"id": PAGE},
            "timestamp": 1458692752478,
        }
        if inside:
            message["referral"] = AD_REFERRAL
        else:
            item["referral"] = AD_REFERRAL
        item["message"] = message
        event = delivered(item)
        assert isinstance(event, MessageEvent)
        assert event.referral == Referral(
            ref="spring-sale", source="ADS", type="OPEN_THREAD", ad_id="6045246247433"
        )
        assert event.from_ad is True

    def test_plain_message_is_not_from_an_ad(self) -> None:
        """A message without a referral has none and is not from an ad."""
        item = {
            "sender": {"id": PSID},
            "recipient": {"id": PAGE},
            "timestamp": 1458692752478,
            "message": {"mid": "m1", "text": "hi"},
        }
        event = delivered(item)
        assert (event.referral, event.from_ad) == (None, False)


class TestStickerAttachment:
    def test_sticker_attachment_keeps_its_id(self) -> None:
        """The June 2026 'sticker' attachment type arrives with its sticker_id."""
        # Messenger changelog, Jun 1, 2026 ("Sticker API for Messenger Platform"):
        # during the transition (until Aug 30, 2026) image and sticker both come.
        item = {
            "sender": {"id": PSID},
            "recipient": {"id": PAGE},
            "timestamp": 1780000000000,
            "message": {
                "mid": "m_sticker1",
                "attachments": [
                    {
                        "type": "image",
                        "payload": {
                            "url": "https://scontent.xx.fbcdn.net/s.png",
                            "sticker_id": 767226160478561,
                        },
                    },
                    {
                        "type": "sticker",
                        "payload": {
                            "url": "https://scontent.xx.fbcdn.net/s.png",
                            "sticker_id": 767226160478561,
                        },
                    },
                ],
            },
        }
        event = delivered(item)
        assert isinstance(event, MessageEvent)
        image, sticker = event.attachments
        assert (sticker.type, sticker.sticker_id) == ("sticker", 767226160478561)
        assert image.sticker_id == sticker.sticker_id


class TestOursToAnswer:
    @pytest.mark.parametrize(("key", "ours"), [("messaging", True), ("standby", False)])
    def test_only_messaging_items_are_ours(self, key: str, ours: bool) -> None:
        """An event from messaging[] is ours to answer; one from standby[] is not."""
        # standby reference (updated 25 Sep 2024): the same items, for threads another app owns.
        item = {
            "sender": {"id": PSID},
            "recipient": {"id": PAGE},
            "timestamp": 1458692752478,
            "message": {"mid": "m_1", "text": "hello"},
        }
        (event,) = parse_events({"object": "page", "entry": [{"id": PAGE, key: [item]}]})
        assert event.ours_to_answer is ours


@pytest.mark.parametrize(("source", "from_ad"), [("ADS", True), ("SHORTLINK", False)])
def test_a_referral_says_whether_it_came_from_an_ad(source: str, from_ad: bool) -> None:
    """A messaging_referrals event from an ad says so."""
    # messaging_referrals reference (updated 1 Jul 2025): "Ad Referral" and "m.me Link".
    item = {
        "sender": {"id": PSID},
        "recipient": {"id": PAGE},
        "timestamp": 1458692752478,
        "referral": {"ref": "spring", "source": source, "type": "OPEN_THREAD"},
    }
    assert delivered(item).from_ad is from_ad
