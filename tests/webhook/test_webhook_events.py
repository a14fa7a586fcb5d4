"""Parsing deliveries into typed events: every documented kind, unknown kinds, broken shapes."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from webhook_support import fixture_bytes, fixture_names

from fmc.errors import PayloadError
from fmc.webhook import (
    AccountLinkingEvent,
    Coordinates,
    Delivery,
    DeliveryEvent,
    EchoEvent,
    Event,
    GamePlayEvent,
    HandoverEvent,
    MessageEditEvent,
    MessageEvent,
    MessagingEvent,
    OptinEvent,
    PolicyEnforcementEvent,
    PostbackEvent,
    ReactionEvent,
    ReadEvent,
    Referral,
    ReferralEvent,
    UnknownEvent,
    make_event_converter,
    parse_events,
)

PAGE = "106437718793432"
PSID = "6514567891234567"
TS = datetime(2024, 5, 31, 16, 8, 36, 999000, tzinfo=timezone.utc)
WATERMARK = datetime.fromtimestamp(1458668856.253, tz=timezone.utc)


def only(name: str) -> Event:
    """The single event of a fixture."""
    events = parse_events(fixture_bytes(name))
    assert len(events) == 1
    return events[0]


KINDS: list[tuple[str, type[Event], dict[str, Any]]] = [
    (
        "message_text",
        MessageEvent,
        {"mid": "m_1457764197618:41d102a3e1ae206a38", "text": "hello, world!"},
    ),
    ("message_non_ascii", MessageEvent, {"text": "äöå — Grüße 🙂"}),
    (
        "message_quick_reply",
        MessageEvent,
        {"text": "Red", "quick_reply_payload": "DEVELOPER_DEFINED_PAYLOAD_FOR_PICKING_RED"},
    ),
    ("message_reply", MessageEvent, {"reply_to_mid": "m_original1"}),
    (
        "echo",
        EchoEvent,
        {
            "app_id": "1517776481860111",
            "metadata": "sent-by-fmc",
            "sender_id": PAGE,
            "recipient_id": PSID,
        },
    ),
    (
        "delivery",
        DeliveryEvent,
        {"mids": ("mid.1458668856218:ed81099e15d3f4f233",), "watermark": WATERMARK},
    ),
    ("delivery_without_mids", DeliveryEvent, {"mids": (), "watermark": WATERMARK}),
    ("read", ReadEvent, {"watermark": WATERMARK}),
    (
        "postback",
        PostbackEvent,
        {"title": "Get Started", "payload": "GET_STARTED", "mid": "m_postback1"},
    ),
    (
        "postback_referral",
        PostbackEvent,
        {"referral": Referral(ref="spring-sale", source="SHORTLINK", type="OPEN_THREAD")},
    ),
    ("optin_plugin", OptinEvent, {"type": None, "ref": "PASS_THROUGH_PARAM", "sender_id": PSID}),
    ("optin_checkbox", OptinEvent, {"user_ref": "UNIQUE_REF_PARAM", "sender_id": None}),
    (
        "optin_one_time",
        OptinEvent,
        {
            "type": "one_time_notif_req",
            "payload": "back-in-stock:sku-42",
            "one_time_notif_token": "OTN-TOKEN-SECRET-abc123",
        },
    ),
    (
        "optin_notification_messages",
        OptinEvent,
        {
            "type": "notification_messages",
            "notification_messages_token": "NM-TOKEN-SECRET-def456",
            "frequency": "DAILY",
            "timezone": "Europe/Berlin",
            "title": "Daily news",
            "token_expiry": datetime(2025, 1, 1, tzinfo=timezone.utc),
            "user_token_status": "NOT_REFRESHED",
            "status": None,
        },
    ),
    ("optin_notification_stop", OptinEvent, {"status": "STOP NOTIFICATIONS", "stopped": True}),
    ("optin_notification_resume", OptinEvent, {"status": "RESUME NOTIFICATIONS", "resumed": True}),
    (
        "referral",
        ReferralEvent,
        {
            "referral": Referral(
                ref="summer-campaign",
                source="ADS",
                type="OPEN_THREAD",
                ad_id="6045246247433",
                referer_uri="https://shop.example.com/landing",
            )
        },
    ),
    (
        "reaction",
        ReactionEvent,
        {"action": "react", "reaction": "love", "emoji": "❤️", "mid": "m_reacted1"},
    ),
    ("unreaction", ReactionEvent, {"action": "unreact", "reaction": None}),
    (
        "account_linking_linked",
        AccountLinkingEvent,
        {"status": "linked", "authorization_code": "AUTH-CODE-SECRET-789"},
    ),
    (
        "account_linking_unlinked",
        AccountLinkingEvent,
        {"status": "unlinked", "authorization_code": None},
    ),
    (
        "handover_pass",
        HandoverEvent,
        {"action": "pass_thread_control", "new_owner_app_id": "123456789"},
    ),
    (
        "handover_take",
        HandoverEvent,
        {"action": "take_thread_control", "previous_owner_app_id": "123456789"},
    ),
    (
        "handover_request",
        HandoverEvent,
        {
            "action": "request_thread_control",
            "requested_owner_app_id": "123456789",
            "metadata": "please",
        },
    ),
    (
        "handover_app_roles",
        HandoverEvent,
        {
            "action": "app_roles",
            "app_roles": {"123456789": ("primary_receiver",), "987654321": ("secondary_receiver",)},
        },
    ),
    ("policy_enforcement", PolicyEnforcementEvent, {"action": "block", "sender_id": None}),
    (
        "game_play",
        GamePlayEvent,
        {
            "game_id": "1814478728879392",
            "context_type": "THREAD",
            "score": 99.0,
            "payload": '{"level": 3}',
        },
    ),
    (
        "message_edit",
        MessageEditEvent,
        {"mid": "m_edited1", "text": "hello, world (edited)", "num_edit": 1},
    ),
    ("standby_message", MessageEvent, {"standby": True, "mid": "m_standby1"}),
    (
        "unknown_kind",
        UnknownEvent,
        {"reason": "unknown event kind", "sender_id": PSID, "timestamp": TS},
    ),
]


class TestKinds:
    @pytest.mark.parametrize(("name", "cls", "fields"), KINDS, ids=[kind[0] for kind in KINDS])
    def test_fixture_parses_to_its_kind(
        self, name: str, cls: type[Event], fields: dict[str, Any]
    ) -> None:
        """Each documented payload becomes its typed event with its fields."""
        event = only(name)
        assert type(event) is cls
        for field, value in fields.items():
            assert getattr(event, field) == value, field

    @pytest.mark.parametrize("name", [kind[0] for kind in KINDS])
    def test_envelope_and_raw(self, name: str) -> None:
        """Every event keeps page id, timestamp and the raw item it came from."""
        event = only(name)
        item = json.loads(fixture_bytes(name))["entry"][0]
        raw_item = (item.get("messaging") or item.get("standby"))[0]
        assert event.raw == raw_item
        assert event.page_id == PAGE
        assert event.timestamp == TS
        assert event.timestamp.tzinfo is timezone.utc

    def test_every_fixture_is_covered(self) -> None:
        """The kinds table names every single-event fixture."""
        assert {kind[0] for kind in KINDS} | {"message_attachments", "multi_entry"} == set(
            fixture_names()
        )

    def test_attachments(self) -> None:
        """Media, sticker, location and fallback attachments keep their parts, in order."""
        event = only("message_attachments")
        assert isinstance(event, MessageEvent)
        image, sticker, location, fallback, file = event.attachments
        assert (image.type, image.url) == (
            "image",
            "https://scontent.xx.fbcdn.net/v/t1.15752-9/image.png",
        )
        assert sticker.sticker_id == 369239263222822
        assert location.coordinates == Coordinates(52.52, 13.405)
        assert location.title == "Pinned Location"
        assert (fallback.type, fallback.title, fallback.url) == (
            "fallback",
            "fmc docs",
            "https://fmc.example.org/docs",
        )
        assert file.url is not None
        assert file.url.endswith("report.pdf")

    def test_messaging_events_share_a_base(self) -> None:
        """Kinds with a full envelope derive from MessagingEvent; all derive from Event."""
        assert isinstance(only("message_text"), MessagingEvent)
        assert not isinstance(only("policy_enforcement"), MessagingEvent)
        assert all(isinstance(only(kind[0]), Event) for kind in KINDS)


class TestSecretsInRepr:
    @pytest.mark.parametrize(
        ("name", "secret"),
        [
            ("optin_one_time", "OTN-TOKEN-SECRET-abc123"),
            ("optin_notification_messages", "NM-TOKEN-SECRET-def456"),
            ("account_linking_linked", "AUTH-CODE-SECRET-789"),
            ("optin_checkbox", "UNIQUE_REF_PARAM"),
        ],
        ids=["otn-token", "notification-token", "authorization-code", "user-ref"],
    )
    def test_tokens_not_in_repr(self, name: str, secret: str) -> None:
        """Tokens and codes never appear in an event's repr (raw is hidden too)."""
        assert secret not in repr(only(name))


class TestBatches:
    def test_multi_entry_in_order(self) -> None:
        """Several entries and several items per entry are all kept, in order."""
        events = parse_events(fixture_bytes("multi_entry"))
        assert [type(event) for event in events] == [
            MessageEvent,
            ReadEvent,
            MessageEvent,
            UnknownEvent,
            PostbackEvent,
        ]
        assert [event.standby for event in events] == [False, False, True, False, False]
        assert events[4].page_id == "999000111222333"

    def test_messaging_and_standby_in_one_entry(self) -> None:
        """An entry with both messaging and standby items yields both, flagged."""
        item = json.loads(fixture_bytes("message_text"))["entry"][0]["messaging"][0]
        body = {
            "object": "page",
            "entry": [{"id": PAGE, "time": 1, "messaging": [item], "standby": [item]}],
        }
        assert [event.standby for event in parse_events(json.dumps(body))] == [False, True]

    def test_empty_entry_list(self) -> None:
        """A delivery with no entries has no events."""
        assert parse_events(b'{"object":"page","entry":[]}') == []

    def test_entry_without_items_is_kept(self) -> None:
        """An entry with neither messaging nor standby becomes an UnknownEvent."""
        (event,) = parse_events(b'{"object":"page","entry":[{"id":"1","time":1}]}')
        assert isinstance(event, UnknownEvent)
        assert event.page_id == "1"

    def test_changes_items_are_kept(self) -> None:
        """Feed 'changes' items become UnknownEvents rather than vanishing."""
        body = b'{"object":"page","entry":[{"id":"1","time":1,"changes":[{"field":"feed"}]}]}'
        (event,) = parse_events(body)
        assert isinstance(event, UnknownEvent)
        assert event.raw == {"field": "feed"}

    def test_accepts_dict_and_text(self) -> None:
        """parse_events takes bytes, text or an already decoded dict."""
        raw = fixture_bytes("message_text")
        assert parse_events(raw) == parse_events(raw.decode()) == parse_events(json.loads(raw))


def broken(message: dict[str, Any] | None = None, **envelope: Any) -> dict[str, Any]:
    """A messaging item with the given message and envelope overrides."""
    item: dict[str, Any] = {
        "sender": {"id": PSID},
        "recipient": {"id": PAGE},
        "timestamp": 1717171716999,
        "message": {"mid": "m1", "text": "x"} if message is None else message,
    }
    item.update(envelope)
    return {k: v for k, v in item.items() if v is not ...}


BROKEN = [
    ("mid-missing", broken({"text": "x"}), "mid"),
    ("mid-number", broken({"mid": 5}), "mid"),
    ("text-number", broken({"mid": "m", "text": 5}), "text"),
    ("message-list", broken([1]), "message must be an object"),
    ("timestamp-string", broken(timestamp="yesterday"), "timestamp"),
    ("timestamp-huge", broken(timestamp=10**30), "out of range"),
    ("timestamp-missing", broken(timestamp=...), "timestamp"),
    ("sender-missing", broken(sender=...), "sender"),
    ("sender-string", broken(sender="abc"), "sender"),
    ("recipient-missing", broken(recipient=...), "recipient"),
    ("attachments-dict", broken({"mid": "m", "attachments": {"type": "image"}}), "attachments"),
    ("attachment-no-type", broken({"mid": "m", "attachments": [{"payload": {}}]}), "type"),
    (
        "coordinates-text",
        broken(
            {"mid": "m", "attachments": [{"type": "location", "payload": {"coordinates": "x"}}]}
        ),
        "coordinates",
    ),
    ("quick-reply-list", broken({"mid": "m", "quick_reply": []}), "quick_reply"),
]


def other(key: str, value: Any, **envelope: Any) -> dict[str, Any]:
    """A messaging item of another kind with the given value."""
    item: dict[str, Any] = {
        "sender": {"id": PSID},
        "recipient": {"id": PAGE},
        "timestamp": 1,
        key: value,
    }
    item.update(envelope)
    return {k: v for k, v in item.items() if v is not ...}


BROKEN_OTHERS = [
    ("mids-not-strings", other("delivery", {"mids": [1], "watermark": 1}), "mids"),
    ("watermark-missing", other("read", {}), "watermark"),
    ("read-no-sender", other("read", {"watermark": 1}, sender=...), "sender"),
    ("postback-payload-number", other("postback", {"payload": 5}), "payload"),
    ("postback-referral-list", other("postback", {"referral": []}), "referral"),
    (
        "optin-expiry-text",
        other("optin", {"token_expiry_timestamp": "soon"}),
        "token_expiry_timestamp",
    ),
    ("referral-ad-id-float", other("referral", {"ad_id": 1.5}), "ad_id"),
    ("reaction-no-action", other("reaction", {"mid": "m"}), "action"),
    ("linking-no-status", other("account_linking", {}), "status"),
    ("app-roles-not-lists", other("app_roles", {"1": "primary"}), "app_roles"),
    ("handover-metadata-number", other("pass_thread_control", {"metadata": 1}), "metadata"),
    ("policy-no-action", other("policy-enforcement", {"reason": "x"}), "action"),
    ("game-no-id", other("game_play", {"player_id": "1"}), "game_id"),
    ("game-score-text", other("game_play", {"game_id": "1", "score": "high"}), "score"),
    ("edit-num-text", other("message_edit", {"mid": "m", "num_edit": "1"}), "num_edit"),
    ("edit-no-mid", other("message_edit", {"text": "x"}), "mid"),
    (
        "sticker-text",
        broken({"mid": "m", "attachments": [{"type": "image", "payload": {"sticker_id": "s"}}]}),
        "sticker_id",
    ),
    (
        "coordinates-half",
        broken(
            {
                "mid": "m",
                "attachments": [{"type": "location", "payload": {"coordinates": {"lat": 1}}}],
            }
        ),
        "lat and long",
    ),
    (
        "attachment-payload-list",
        broken({"mid": "m", "attachments": [{"type": "file", "payload": []}]}),
        "payload",
    ),
    ("reply-to-text", broken({"mid": "m", "reply_to": "m0"}), "reply_to"),
    ("recipient-id-list", broken(recipient={"id": []}), "id"),
]


class TestBrokenShapes:
    @pytest.mark.parametrize(
        ("item", "reason"), [b[1:] for b in BROKEN], ids=[b[0] for b in BROKEN]
    )
    def test_broken_known_kind_kept_as_unknown(self, item: dict[str, Any], reason: str) -> None:
        """A known kind with a broken field becomes an UnknownEvent naming the problem."""
        (event,) = parse_events({"object": "page", "entry": [{"id": PAGE, "messaging": [item]}]})
        assert isinstance(event, UnknownEvent)
        assert reason in event.reason
        assert event.raw == item

    @pytest.mark.parametrize(
        ("item", "reason"), [b[1:] for b in BROKEN_OTHERS], ids=[b[0] for b in BROKEN_OTHERS]
    )
    def test_broken_other_kinds_kept_as_unknown(self, item: dict[str, Any], reason: str) -> None:
        """Every kind's required and typed fields are checked; a broken one is kept as unknown."""
        (event,) = parse_events({"object": "page", "entry": [{"id": PAGE, "messaging": [item]}]})
        assert isinstance(event, UnknownEvent)
        assert reason in event.reason

    def test_numeric_ids_accepted(self) -> None:
        """Ids that arrive as numbers (app ids, page ids) become strings."""
        item = other("game_play", {"game_id": 1814478728879392, "player_id": 5})
        (event,) = parse_events(
            {"object": "page", "entry": [{"id": 106437718793432, "messaging": [item]}]}
        )
        assert isinstance(event, GamePlayEvent)
        assert (event.game_id, event.player_id, event.page_id) == ("1814478728879392", "5", PAGE)

    def test_broken_event_does_not_cost_the_others(self) -> None:
        """One broken item leaves the other events of the delivery intact."""
        good = broken()
        body = {"object": "page", "entry": [{"id": PAGE, "messaging": [broken({"mid": 1}), good]}]}
        first, second = parse_events(body)
        assert isinstance(first, UnknownEvent)
        assert isinstance(second, MessageEvent)

    def test_entry_without_id(self) -> None:
        """Items of an entry without an id are kept as UnknownEvents."""
        (event,) = parse_events({"object": "page", "entry": [{"messaging": [broken()]}]})
        assert isinstance(event, UnknownEvent)
        assert "no id" in event.reason

    @pytest.mark.parametrize(
        ("body", "reason"),
        [
            (b"not json", "not valid JSON"),
            (b"\xff\xfe\x00", "not valid JSON"),
            (b"[" * 100_000, "not valid JSON"),
            (b"[]", "not a JSON object"),
            (b'{"entry":[]}', "object"),
            (b'{"object":"instagram","entry":[]}', "object"),
            (b'{"object":"page"}', "entry"),
            (b'{"object":"page","entry":{}}', "entry"),
            (b'{"object":"page","entry":[1]}', "entry"),
            (b'{"object":"page","entry":[{"id":"1","messaging":{}}]}', "messaging"),
            (b'{"object":"page","entry":[{"id":"1","messaging":["x"]}]}', "messaging"),
            (b'{"object":"page","entry":[{"id":"1","standby":7}]}', "standby"),
            (b'{"object":"page","entry":[{"id":"1","changes":[1]}]}', "changes"),
        ],
        ids=[
            "not-json",
            "invalid-utf8",
            "deep-nesting",
            "array",
            "no-object",
            "other-object",
            "no-entry",
            "entry-dict",
            "entry-item-number",
            "messaging-dict",
            "messaging-item-string",
            "standby-number",
            "changes-item-number",
        ],
    )
    def test_structurally_broken_body(self, body: bytes, reason: str) -> None:
        """A body that is not a delivery raises PayloadError with a short reason."""
        with pytest.raises(PayloadError, match=reason):
            parse_events(body)

    def test_other_objects_when_accepted(self) -> None:
        """Another object value parses when the caller accepts it."""
        assert parse_events(b'{"object":"instagram","entry":[]}', objects={"instagram"}) == []


class TestConverter:
    def test_structure_delivery(self) -> None:
        """The cattrs converter structures a body into a Delivery."""
        converter = make_event_converter()
        delivery = converter.structure(json.loads(fixture_bytes("multi_entry")), Delivery)
        assert delivery.object == "page"
        assert len(delivery.events) == 5

    def test_unstructure_gives_raw(self) -> None:
        """Unstructuring an event gives back the raw item."""
        event = only("reaction")
        assert make_event_converter().unstructure(event) == event.raw


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=6), children, max_size=4)
    ),
    max_leaves=20,
)
KEYS = [
    "message",
    "postback",
    "delivery",
    "read",
    "optin",
    "reaction",
    "referral",
    "account_linking",
    "pass_thread_control",
    "app_roles",
    "policy-enforcement",
    "game_play",
    "message_edit",
    "other",
]


class TestProperties:
    @given(
        key=st.sampled_from(KEYS),
        value=json_values,
        sender=json_values,
        timestamp=json_values,
    )
    def test_any_item_parses_to_some_event(
        self, key: str, value: Any, sender: Any, timestamp: Any
    ) -> None:
        """Any messaging item, however wrong its fields, becomes an event; nothing raises."""
        item = {"sender": sender, "recipient": {"id": PAGE}, "timestamp": timestamp, key: value}
        (event,) = parse_events({"object": "page", "entry": [{"id": PAGE, "messaging": [item]}]})
        assert event.raw is item

    # From 10**11 up a timestamp is milliseconds; below, seconds (issue 15):
    # tests/webhook/test_webhook_events_2026.py covers the seconds side.
    @given(mid=st.text(min_size=1), text=st.text(), ts=st.integers(10**11, 4_102_444_800_000))
    def test_text_message_fields_survive(self, mid: str, text: str, ts: int) -> None:
        """Any mid, text and in-range millisecond timestamp come through unchanged."""
        item = {
            "sender": {"id": PSID},
            "recipient": {"id": PAGE},
            "timestamp": ts,
            "message": {"mid": mid, "text": text},
        }
        (event,) = parse_events(
            json.dumps({"object": "page", "entry": [{"id": PAGE, "messaging": [item]}]})
        )
        assert isinstance(event, MessageEvent)
        assert (event.mid, event.text) == (mid, text)
        assert round(event.timestamp.timestamp() * 1000) == ts
