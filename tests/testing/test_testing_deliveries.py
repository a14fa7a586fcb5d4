"""Tests for fmc.testing.deliveries: webhook bodies in Meta's shape and their signatures."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import datetime, timezone
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fmc.testing import (
    StandbyEvent,
    delivery_event,
    delivery_payload,
    echo_event,
    message_event,
    optin_event,
    policy_enforcement_event,
    postback_event,
    reaction_event,
    read_event,
    referral_event,
    signature_headers,
    signed_delivery,
    standby,
    verification_query,
)

SECRET = "app-secret"
WHEN = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)
WHEN_MS = 1772366400000


def expected_signature(body: bytes, secret: str = SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class TestSignedDelivery:
    """signed_delivery and signature_headers."""

    def test_signature_matches_independent_hmac(self) -> None:
        """X-Hub-Signature-256 is sha256= and the HMAC-SHA256 of the exact body."""
        body, headers = signed_delivery(message_event("1", "hi", timestamp=WHEN), SECRET)
        assert headers["X-Hub-Signature-256"] == expected_signature(body)
        legacy = "sha1=" + hmac.new(SECRET.encode(), body, hashlib.sha1).hexdigest()
        assert headers["X-Hub-Signature"] == legacy
        assert headers["Content-Type"] == "application/json"

    def test_signature_is_lowercase_hex(self) -> None:
        """The signature's hex digits are lowercase."""
        _, headers = signed_delivery(message_event("1", "hi"), SECRET)
        digest = headers["X-Hub-Signature-256"].removeprefix("sha256=")
        assert digest == digest.lower()
        assert len(digest) == 64

    def test_other_secret_does_not_match(self) -> None:
        """A different secret gives a different signature."""
        body, headers = signed_delivery(message_event("1", "hi"), SECRET)
        assert headers["X-Hub-Signature-256"] != expected_signature(body, "other")

    def test_envelope_shape(self) -> None:
        """The body is Meta's {object, entry: [{id, time, messaging}]} envelope."""
        event = message_event("1", "hi", timestamp=WHEN)
        body, _ = signed_delivery([event], SECRET, page_id="77", time=WHEN)
        assert json.loads(body) == {
            "object": "page",
            "entry": [{"id": "77", "time": WHEN_MS, "messaging": [event]}],
        }

    def test_single_event_accepted(self) -> None:
        """One event may be given without a list."""
        body, _ = signed_delivery(read_event("1", WHEN), SECRET)
        assert len(json.loads(body)["entry"][0]["messaging"]) == 1

    def test_instagram_object(self) -> None:
        """object= sets the delivery's object."""
        body, _ = signed_delivery(message_event("1", "hi"), SECRET, object="instagram")
        assert json.loads(body)["object"] == "instagram"

    def test_escapes_like_meta(self) -> None:
        """Non-ASCII is \\u-escaped and slashes are escaped, as in Meta's bodies."""
        attachments = [{"type": "image", "payload": {"url": "https://x/y.png"}}]
        body, _ = signed_delivery(message_event("1", "äöå", attachments=attachments), SECRET)
        assert b"\\u00e4\\u00f6\\u00e5" in body
        assert b"https:\\/\\/x\\/y.png" in body
        assert json.loads(body)["entry"][0]["messaging"][0]["message"]["text"] == "äöå"

    def test_standby_events_get_their_own_entry(self) -> None:
        """Standby events go under entry[].standby, others under messaging."""
        active = message_event("1", "a")
        passive = message_event("2", "b")
        payload = delivery_payload([active, standby(passive)], time=WHEN)
        assert [sorted(entry) for entry in payload["entry"]] == [
            ["id", "messaging", "time"],
            ["id", "standby", "time"],
        ]
        assert payload["entry"][1]["standby"] == [passive]

    def test_only_standby(self) -> None:
        """A delivery of standby events only has no messaging entry."""
        payload = delivery_payload([standby(read_event("1", WHEN))], time=WHEN)
        assert [list(entry) for entry in payload["entry"]] == [["id", "time", "standby"]]

    @given(text=st.text(max_size=200), secret=st.text(min_size=1, max_size=40))
    def test_any_text_round_trips_and_verifies(self, text: str, secret: str) -> None:
        """Any text survives the body and the signature verifies over the raw bytes."""
        body, headers = signed_delivery(message_event("1", text, timestamp=WHEN), secret)
        assert headers["X-Hub-Signature-256"] == expected_signature(body, secret)
        assert json.loads(body)["entry"][0]["messaging"][0]["message"]["text"] == text

    def test_signature_headers_of_any_body(self) -> None:
        """signature_headers signs arbitrary bytes."""
        assert signature_headers(b"{}", SECRET)["X-Hub-Signature-256"] == expected_signature(b"{}")


class TestEventBuilders:
    """The event builders' shapes."""

    def test_message(self) -> None:
        """A message event has sender, recipient, timestamp and message."""
        event = message_event(
            "1",
            "hi",
            page_id="9",
            timestamp=WHEN,
            mid="m_1",
            quick_reply_payload="Q",
            reply_to="m_0",
        )
        assert event == {
            "sender": {"id": "1"},
            "recipient": {"id": "9"},
            "timestamp": WHEN_MS,
            "message": {
                "mid": "m_1",
                "text": "hi",
                "quick_reply": {"payload": "Q"},
                "reply_to": {"mid": "m_0"},
            },
        }

    def test_mid_is_stable(self) -> None:
        """The same event built twice has the same mid; a different one differs."""
        first = message_event("1", "hi", timestamp=WHEN)["message"]["mid"]
        assert message_event("1", "hi", timestamp=WHEN)["message"]["mid"] == first
        assert message_event("1", "ho", timestamp=WHEN)["message"]["mid"] != first

    @pytest.mark.parametrize("timestamp", [WHEN, WHEN_MS], ids=["datetime", "millis"])
    def test_timestamps(self, timestamp: datetime | int) -> None:
        """Timestamps may be aware datetimes or epoch milliseconds."""
        assert read_event("1", timestamp, timestamp=timestamp) == {
            "sender": {"id": "1"},
            "recipient": {"id": "1234567890"},
            "timestamp": WHEN_MS,
            "read": {"watermark": WHEN_MS},
        }

    def test_default_timestamp_is_now(self) -> None:
        """Without a timestamp, the event is stamped with the current time."""
        before = int(datetime.now(timezone.utc).timestamp() * 1000)
        stamp = message_event("1", "x")["timestamp"]
        assert before - 1 <= stamp <= before + 5000

    def test_echo(self) -> None:
        """An echo is sent by the Page to the person, with is_echo and app_id."""
        event = echo_event("1", "hi", timestamp=WHEN, metadata="meta")
        assert (event["sender"], event["recipient"]) == ({"id": "1234567890"}, {"id": "1"})
        assert event["message"]["is_echo"] is True
        assert event["message"]["app_id"] == 1517776481860111
        assert event["message"]["metadata"] == "meta"

    def test_postback(self) -> None:
        """A postback has title, payload, mid and an optional referral."""
        event = postback_event("1", "GO", referral={"ref": "ad"}, timestamp=WHEN)
        assert event["postback"]["payload"] == "GO"
        assert event["postback"]["title"] == "Get Started"
        assert event["postback"]["referral"] == {"ref": "ad"}
        assert event["postback"]["mid"].startswith("m_")

    def test_notification_messages_optin(self) -> None:
        """A marketing-messages opt-in carries its token and settings."""
        event = optin_event(
            "1",
            token="TOK",
            payload="news",
            title="Daily news",
            frequency="DAILY",
            timezone="UTC",
            token_expiry=WHEN,
            user_token_status="NOT_REFRESHED",
            timestamp=WHEN,
        )
        assert event["optin"] == {
            "type": "notification_messages",
            "payload": "news",
            "title": "Daily news",
            "notification_messages_token": "TOK",
            "notification_messages_frequency": "DAILY",
            "notification_messages_timezone": "UTC",
            "token_expiry_timestamp": WHEN_MS,
            "user_token_status": "NOT_REFRESHED",
        }

    def test_stop_notifications(self) -> None:
        """A STOP NOTIFICATIONS opt-out carries notification_messages_status."""
        event = optin_event("1", token="TOK", notification_status="STOP NOTIFICATIONS")
        assert event["optin"]["notification_messages_status"] == "STOP NOTIFICATIONS"
        assert event["optin"]["notification_messages_token"] == "TOK"

    def test_one_time_optin(self) -> None:
        """A one-time notification opt-in carries one_time_notif_token."""
        event = optin_event("1", type="one_time_notif_req", payload="p", token="OTN")
        assert event["optin"] == {
            "type": "one_time_notif_req",
            "payload": "p",
            "one_time_notif_token": "OTN",
        }

    def test_checkbox_plugin_optin_has_no_sender(self) -> None:
        """A checkbox plugin opt-in identifies the person by user_ref, without a sender."""
        event = optin_event(None, type="plugin", ref="r", user_ref="u")
        assert "sender" not in event
        assert event["optin"] == {"ref": "r", "user_ref": "u"}

    def test_unknown_optin_type(self) -> None:
        """An unknown opt-in type is refused."""
        with pytest.raises(ValueError, match="optin type"):
            optin_event("1", type="smoke_signal")

    def test_delivery(self) -> None:
        """A delivery event carries mids when given and the watermark."""
        event = delivery_event("1", WHEN, mids=["m_1"])
        assert event["delivery"] == {"mids": ["m_1"], "watermark": WHEN_MS}
        assert "mids" not in delivery_event("1", WHEN)["delivery"]

    @pytest.mark.parametrize(
        ("action", "expected"),
        [
            (
                "react",
                {"mid": "m_1", "action": "react", "reaction": "love", "emoji": "\u2764\ufe0f"},
            ),
            ("unreact", {"mid": "m_1", "action": "unreact"}),
        ],
        ids=["react", "unreact"],
    )
    def test_reaction(self, action: str, expected: dict[str, Any]) -> None:
        """A reaction names the message, the action and, when reacting, the reaction."""
        assert reaction_event("1", "m_1", action=action)["reaction"] == expected

    def test_referral(self) -> None:
        """A referral carries ref, source, type and the ad's id."""
        event = referral_event("1", "promo", source="ADS", ad_id="42")
        assert event["referral"] == {
            "ref": "promo",
            "source": "ADS",
            "type": "OPEN_THREAD",
            "ad_id": "42",
        }

    def test_policy_enforcement(self) -> None:
        """A policy enforcement event uses the hyphenated key and has no sender."""
        event = policy_enforcement_event(action="block", reason="spam")
        assert event["policy-enforcement"] == {"action": "block", "reason": "spam"}
        assert "sender" not in event
        assert policy_enforcement_event(action="unblock")["policy-enforcement"] == {
            "action": "unblock"
        }

    def test_verification_query(self) -> None:
        """The handshake query has Meta's hub.* parameters."""
        assert verification_query("vt", "123") == {
            "hub.mode": "subscribe",
            "hub.verify_token": "vt",
            "hub.challenge": "123",
        }


class TestAgainstTheWebhookHandler:
    """fmc's own webhook handler accepts what the builders make."""

    def test_every_builder_parses_as_its_kind(self) -> None:
        """Each builder's event is parsed by fmc.webhook as the matching event class."""
        from fmc.webhook import WebhookHandler

        events: list[dict[str, Any] | StandbyEvent] = [
            message_event("1", "hi"),
            echo_event("1", "yo"),
            postback_event("1", "GO"),
            optin_event("1", token="T", frequency="DAILY"),
            read_event("1", WHEN),
            delivery_event("1", WHEN, mids=["m_1"]),
            reaction_event("1", "m_1"),
            referral_event("1", "ref"),
            policy_enforcement_event(),
            standby(message_event("2", "sb")),
        ]
        body, headers = signed_delivery(events, SECRET)
        parsed = WebhookHandler(app_secret=SECRET, verify_token="vt").handle(body, headers)
        assert [type(event).__name__ for event in parsed] == [
            "MessageEvent",
            "EchoEvent",
            "PostbackEvent",
            "OptinEvent",
            "ReadEvent",
            "DeliveryEvent",
            "ReactionEvent",
            "ReferralEvent",
            "PolicyEnforcementEvent",
            "MessageEvent",
        ]
        assert parsed[-1].standby is True

    def test_handshake_query(self) -> None:
        """verification_query passes the handler's subscription handshake."""
        from fmc.webhook import WebhookHandler

        handler = WebhookHandler(app_secret=SECRET, verify_token="vt")
        assert handler.respond("GET", verification_query("vt", "42"), {}, b"").body == b"42"
