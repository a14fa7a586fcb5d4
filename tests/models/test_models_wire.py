"""The Send API wire format: documented JSON shapes, round trips, and reading answers."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fmc.convert import (
    from_wire,
    make_converter,
    message_from_wire,
    send_request_to_wire,
    send_result_from_wire,
    to_wire,
)
from fmc.models import (
    Attachment,
    BusinessPrivacy,
    ButtonTemplate,
    CallButton,
    CustomerFeedbackTemplate,
    DefaultAction,
    Element,
    FeedbackFollowUp,
    FeedbackQuestion,
    FeedbackScreen,
    GenericTemplate,
    MarketingOptInRequest,
    MediaElement,
    MediaTemplate,
    MenuPostback,
    MenuUrl,
    MessageTag,
    NotificationType,
    OneTimeNotificationRequest,
    Page,
    PostbackButton,
    QuickReply,
    ReceiptAddress,
    ReceiptAdjustment,
    ReceiptElement,
    ReceiptSummary,
    ReceiptTemplate,
    Recipient,
    SenderAction,
    SendRequest,
    SendResult,
    Sticker,
    Text,
    UrlButton,
    UtilityTemplate,
    ValidationError,
)

SITE = "https://www.originalcoastclothing.com/"
IMAGE = "https://example.com/img/red.png"

# Each case: a model, and the JSON Meta documents for it (Send API, quick replies,
# buttons and template reference pages).
DOCUMENTED: list[tuple[str, Any, dict[str, Any]]] = [
    (
        "text-with-quick-replies",
        Text(
            "Pick a color:",
            quick_replies=[
                QuickReply.text("Red", "RED", image_url=IMAGE),
                QuickReply.phone_number(),
                QuickReply.email(),
            ],
        ),
        {
            "text": "Pick a color:",
            "quick_replies": [
                {"content_type": "text", "title": "Red", "payload": "RED", "image_url": IMAGE},
                {"content_type": "user_phone_number"},
                {"content_type": "user_email"},
            ],
        },
    ),
    (
        "text-with-metadata",
        Text("hello, world!", metadata="DEVELOPER_DEFINED_METADATA"),
        {"text": "hello, world!", "metadata": "DEVELOPER_DEFINED_METADATA"},
    ),
    (
        "attachment-by-url",
        Attachment("image", url="http://www.messenger-rocks.com/image.jpg", is_reusable=True),
        {
            "attachment": {
                "type": "image",
                "payload": {"url": "http://www.messenger-rocks.com/image.jpg", "is_reusable": True},
            }
        },
    ),
    (
        "attachment-by-id",
        Attachment("file", attachment_id="1857777774821032", quick_replies=[QuickReply.email()]),
        {
            "attachment": {"type": "file", "payload": {"attachment_id": "1857777774821032"}},
            "quick_replies": [{"content_type": "user_email"}],
        },
    ),
    (
        "generic-template",
        GenericTemplate(
            [
                Element(
                    "Welcome!",
                    image_url=IMAGE,
                    subtitle="We have the right hat for everyone.",
                    default_action=DefaultAction(SITE, webview_height_ratio="tall"),
                    buttons=[
                        UrlButton("View Website", SITE),
                        PostbackButton("Start Chatting", "DEVELOPER_DEFINED_PAYLOAD"),
                    ],
                )
            ],
            image_aspect_ratio="square",
            sharable=True,
        ),
        {
            "attachment": {
                "type": "template",
                "payload": {
                    "template_type": "generic",
                    "image_aspect_ratio": "square",
                    "sharable": True,
                    "elements": [
                        {
                            "title": "Welcome!",
                            "image_url": IMAGE,
                            "subtitle": "We have the right hat for everyone.",
                            "default_action": {
                                "type": "web_url",
                                "url": SITE,
                                "webview_height_ratio": "tall",
                            },
                            "buttons": [
                                {"type": "web_url", "url": SITE, "title": "View Website"},
                                {
                                    "type": "postback",
                                    "title": "Start Chatting",
                                    "payload": "DEVELOPER_DEFINED_PAYLOAD",
                                },
                            ],
                        }
                    ],
                },
            }
        },
    ),
    (
        "button-template",
        ButtonTemplate(
            "What do you want to do next?",
            [
                UrlButton(
                    "Visit Messenger",
                    "https://www.messenger.com",
                    webview_height_ratio="full",
                    messenger_extensions=True,
                    fallback_url="https://www.messenger.com/fallback",
                ),
                CallButton("Call Representative", "+15105551234"),
            ],
        ),
        {
            "attachment": {
                "type": "template",
                "payload": {
                    "template_type": "button",
                    "text": "What do you want to do next?",
                    "buttons": [
                        {
                            "type": "web_url",
                            "url": "https://www.messenger.com",
                            "title": "Visit Messenger",
                            "webview_height_ratio": "full",
                            "messenger_extensions": True,
                            "fallback_url": "https://www.messenger.com/fallback",
                        },
                        {
                            "type": "phone_number",
                            "title": "Call Representative",
                            "payload": "+15105551234",
                        },
                    ],
                },
            }
        },
    ),
    (
        "media-template",
        MediaTemplate(
            MediaElement("image", attachment_id="1234", buttons=[UrlButton("View Website", SITE)]),
            sharable=False,
        ),
        {
            "attachment": {
                "type": "template",
                "payload": {
                    "template_type": "media",
                    "sharable": False,
                    "elements": [
                        {
                            "media_type": "image",
                            "attachment_id": "1234",
                            "buttons": [{"type": "web_url", "url": SITE, "title": "View Website"}],
                        }
                    ],
                },
            }
        },
    ),
    (
        "receipt-template",
        ReceiptTemplate(
            "Stephane Crozatier",
            "12345678902",
            "USD",
            "Visa 2345",
            ReceiptSummary(56.14, subtotal=75.00, shipping_cost=4.95, total_tax=6.19),
            order_url="http://originalcoastclothing.com/order?order_id=123456",
            timestamp=datetime.fromtimestamp(1428444852, tz=timezone.utc),
            address=ReceiptAddress("1 Hacker Way", "Menlo Park", "94025", "CA", "US"),
            adjustments=[
                ReceiptAdjustment("New Customer Discount", 20),
                ReceiptAdjustment("$10 Off Coupon", 10),
            ],
            elements=[
                ReceiptElement(
                    "Classic White T-Shirt",
                    50,
                    subtitle="100% Soft and Luxurious Cotton",
                    quantity=2,
                    currency="USD",
                    image_url="http://originalcoastclothing.com/img/whiteshirt.png",
                )
            ],
        ),
        {
            "attachment": {
                "type": "template",
                "payload": {
                    "template_type": "receipt",
                    "recipient_name": "Stephane Crozatier",
                    "order_number": "12345678902",
                    "currency": "USD",
                    "payment_method": "Visa 2345",
                    "order_url": "http://originalcoastclothing.com/order?order_id=123456",
                    "timestamp": "1428444852",
                    "address": {
                        "street_1": "1 Hacker Way",
                        "city": "Menlo Park",
                        "postal_code": "94025",
                        "state": "CA",
                        "country": "US",
                    },
                    "summary": {
                        "subtotal": 75.00,
                        "shipping_cost": 4.95,
                        "total_tax": 6.19,
                        "total_cost": 56.14,
                    },
                    "adjustments": [
                        {"name": "New Customer Discount", "amount": 20},
                        {"name": "$10 Off Coupon", "amount": 10},
                    ],
                    "elements": [
                        {
                            "title": "Classic White T-Shirt",
                            "subtitle": "100% Soft and Luxurious Cotton",
                            "quantity": 2,
                            "price": 50,
                            "currency": "USD",
                            "image_url": "http://originalcoastclothing.com/img/whiteshirt.png",
                        }
                    ],
                },
            }
        },
    ),
]
DOCUMENTED_IDS = [name for name, _model, _wire in DOCUMENTED]


@pytest.mark.parametrize(("name", "model", "wire"), DOCUMENTED, ids=DOCUMENTED_IDS)
def test_message_wire_shape_is_as_documented(name: str, model: Any, wire: dict[str, Any]) -> None:
    """Each message kind becomes the JSON Meta documents for it."""
    assert to_wire(model) == wire


@pytest.mark.parametrize(("name", "model", "wire"), DOCUMENTED, ids=DOCUMENTED_IDS)
def test_documented_json_reads_back(name: str, model: Any, wire: dict[str, Any]) -> None:
    """The documented JSON of each kind reads back into the model."""
    assert from_wire(wire, type(model)) == model


@pytest.mark.parametrize(("name", "model", "wire"), DOCUMENTED, ids=DOCUMENTED_IDS)
def test_wire_is_plain_json(name: str, model: Any, wire: dict[str, Any]) -> None:
    """The wire dict holds only JSON types: enums are their values, tuples are lists."""
    produced = to_wire(model)
    assert json.loads(json.dumps(produced)) == produced
    assert "Type." not in repr(produced)


PSID = Recipient("1254477777772919")

REQUESTS: list[tuple[str, SendRequest, dict[str, Any]]] = [
    (
        "response",
        SendRequest(PSID, Text("hello, world!")),
        {
            "recipient": {"id": "1254477777772919"},
            "messaging_type": "RESPONSE",
            "message": {"text": "hello, world!"},
        },
    ),
    (
        "tagged",
        SendRequest(
            PSID,
            Text("Your order shipped"),
            tag=MessageTag.POST_PURCHASE_UPDATE,
            notification_type=NotificationType.SILENT_PUSH,
            persona_id="777",
        ),
        {
            "recipient": {"id": "1254477777772919"},
            "messaging_type": "MESSAGE_TAG",
            "tag": "POST_PURCHASE_UPDATE",
            "notification_type": "SILENT_PUSH",
            "persona_id": "777",
            "message": {"text": "Your order shipped"},
        },
    ),
    (
        "sender-action",
        SendRequest(PSID, sender_action=SenderAction.TYPING_ON),
        {"recipient": {"id": "1254477777772919"}, "sender_action": "typing_on"},
    ),
    (
        "one-time-token",
        SendRequest(
            Recipient(one_time_notif_token="otn-token"),
            Text("Back in stock"),
            messaging_type="UPDATE",
        ),
        {
            "recipient": {"one_time_notif_token": "otn-token"},
            "messaging_type": "UPDATE",
            "message": {"text": "Back in stock"},
        },
    ),
    (
        "private-reply",
        SendRequest(Recipient(comment_id="10_20"), DOCUMENTED[2][1]),
        {
            "recipient": {"comment_id": "10_20"},
            "messaging_type": "RESPONSE",
            "message": DOCUMENTED[2][2],
        },
    ),
]
REQUEST_IDS = [name for name, _request, _wire in REQUESTS]


@pytest.mark.parametrize(("name", "request_", "wire"), REQUESTS, ids=REQUEST_IDS)
def test_send_request_body_is_as_documented(
    name: str, request_: SendRequest, wire: dict[str, Any]
) -> None:
    """send_request_to_wire builds the whole Send API body, unset fields omitted."""
    assert send_request_to_wire(request_) == wire


@pytest.mark.parametrize(("name", "request_", "wire"), REQUESTS, ids=REQUEST_IDS)
def test_send_request_round_trips(name: str, request_: SendRequest, wire: dict[str, Any]) -> None:
    """A send request survives JSON and back."""
    body = json.loads(json.dumps(send_request_to_wire(request_)))
    assert from_wire(body, SendRequest) == request_


def test_to_wire_and_send_request_to_wire_agree() -> None:
    """to_wire of a SendRequest is its Send API body."""
    request = REQUESTS[1][1]
    assert to_wire(request) == send_request_to_wire(request)


# One instance of every model class, with its optional fields set, for round trips.
EVERY_MODEL: list[Any] = [
    *(model for _name, model, _wire in DOCUMENTED),
    *(request for _name, request, _wire in REQUESTS),
    QuickReply.text("Red", "RED"),
    UrlButton("Open", SITE, webview_height_ratio="compact"),
    PostbackButton("Go", "GO"),
    CallButton("Call", "+15105551234"),
    DefaultAction(SITE, messenger_extensions=True, fallback_url=SITE),
    Element("Card", subtitle="s", buttons=[CallButton("Call", "+15105551234")]),
    MediaElement("video", url="https://www.facebook.com/page/videos/1"),
    ReceiptSummary(1.5),
    ReceiptAddress("1 Way", "Town", "123", "ST", "FR", street_2="Floor 2"),
    ReceiptAdjustment("Discount", -2.5),
    ReceiptElement("Shirt", 0),
    ReceiptTemplate(
        "Ann",
        "A-1",
        "EUR",
        "Cash",
        ReceiptSummary(0),
        merchant_name="Shop",
        quick_replies=[QuickReply.email()],
        metadata="m",
    ),
    Recipient(user_ref="ref"),
    Recipient(post_id="1_2"),
    Recipient(notification_messages_token="token"),
    SendResult("1", "m_1"),
    SendResult(),
    # Added for the 2026 platform (issue 15); their documented shapes are in test_models_2026.
    MenuPostback("Talk to an agent about orders", "CARE_HELP"),
    MenuUrl("Shop now", SITE, webview_height_ratio="tall"),
    Sticker(767226160478561),
    OneTimeNotificationRequest("Back in stock", "news"),
    FeedbackFollowUp("Tell us more"),
    UtilityTemplate("order_shipped", language="en_GB", parameters=["Ann", "A-1"]),
    UtilityTemplate.named("password_changed", name="Ann"),
    MarketingOptInRequest(
        "Weekly deals", "promotional", image_url=SITE, notification_messages_cta_text="OPT_IN"
    ),
    CustomerFeedbackTemplate(
        "Rate us",
        button_title="Rate",
        feedback_screens=[
            FeedbackScreen([FeedbackQuestion("q1", "nps", follow_up=FeedbackFollowUp())])
        ],
        business_privacy=BusinessPrivacy(SITE),
    ),
]


@pytest.mark.parametrize("model", EVERY_MODEL, ids=lambda model: type(model).__name__)
def test_every_model_round_trips(model: Any) -> None:
    """from_wire(to_wire(x)) == x for every model, through JSON text."""
    assert from_wire(json.loads(json.dumps(to_wire(model))), type(model)) == model


def test_every_model_class_is_covered() -> None:
    """The round-trip examples include every class to_wire converts."""
    from fmc.convert import _HOOKS

    assert {type(model) for model in EVERY_MODEL} == set(_HOOKS)


def test_quick_reply_default_kind_is_on_the_wire() -> None:
    """A text quick reply states content_type text although it is the default."""
    assert to_wire(QuickReply(title="Yes", payload="YES"))["content_type"] == "text"


def test_receipt_timestamp_is_whole_seconds() -> None:
    """The receipt timestamp travels as a string of whole epoch seconds."""
    stamp = datetime(2015, 4, 7, 22, 14, 12, 999_000, tzinfo=timezone.utc)
    receipt = ReceiptTemplate("A", "1", "USD", "Cash", ReceiptSummary(1), timestamp=stamp)
    assert to_wire(receipt)["attachment"]["payload"]["timestamp"] == "1428444852"


def test_to_wire_refuses_a_page() -> None:
    """A Page (which holds secrets) is never turned into wire JSON."""
    with pytest.raises(TypeError, match="to_wire does not convert Page"):
        to_wire(Page("1", "EAAG-secret"))


def test_from_wire_refuses_an_unknown_class() -> None:
    """from_wire only reads model classes it knows."""
    with pytest.raises(TypeError, match="from_wire does not convert Page"):
        from_wire({"id": "1"}, Page)


BAD_WIRE: list[tuple[str, object, type, str]] = [
    ("not-an-object", ["text"], Text, "must be a JSON object"),
    ("text-not-a-string", {"text": 5}, Text, r"expected str, got int @ \$\.text"),
    ("text-too-long", {"text": "x" * 2001}, Text, "Text.text is 2,001 characters"),
    ("missing-field", {"quick_replies": []}, Text, r"required field missing @ \$\.text"),
    (
        "unknown-template",
        {
            "recipient": {"id": "1"},
            "message": {"attachment": {"type": "template", "payload": {"template_type": "list"}}},
        },
        SendRequest,
        "unknown template_type 'list'",
    ),
    (
        "unknown-button",
        {
            "attachment": {
                "type": "template",
                "payload": {
                    "template_type": "button",
                    "text": "t",
                    "buttons": [{"type": "account_link", "url": SITE}],
                },
            }
        },
        ButtonTemplate,
        "unknown button type 'account_link'",
    ),
    (
        "message-without-content",
        {"recipient": {"id": "1"}, "message": {"metadata": "m"}},
        SendRequest,
        "needs a 'text' or an 'attachment'",
    ),
    (
        "two-media-elements",
        {
            "attachment": {
                "type": "template",
                "payload": {"template_type": "media", "elements": []},
            }
        },
        MediaTemplate,
        "exactly one element",
    ),
    ("bool-is-not-a-string", {"id": True}, Recipient, "expected str, got bool"),
    (
        "string-is-not-a-bool",
        {"attachment": {"type": "image", "payload": {"url": SITE, "is_reusable": "true"}}},
        Attachment,
        "expected bool, got str",
    ),
    (
        "bad-timestamp",
        {
            "attachment": {
                "type": "template",
                "payload": {
                    "template_type": "receipt",
                    "recipient_name": "A",
                    "order_number": "1",
                    "currency": "USD",
                    "payment_method": "Cash",
                    "summary": {"total_cost": 1},
                    "timestamp": [1],
                },
            }
        },
        ReceiptTemplate,
        "epoch seconds",
    ),
    ("wrong-rule", {"recipient": {"id": "1"}}, SendRequest, "needs a message or a sender_action"),
]


@pytest.mark.parametrize(
    ("name", "data", "cls", "match"), BAD_WIRE, ids=[case[0] for case in BAD_WIRE]
)
def test_from_wire_refuses_bad_data(name: str, data: object, cls: type, match: str) -> None:
    """Wire data that does not describe a valid model raises ValidationError saying why."""
    with pytest.raises(ValidationError, match=match):
        from_wire(data, cls)


def test_from_wire_does_not_echo_tokens() -> None:
    """An error reading a token recipient names the field, not the token."""
    with pytest.raises(ValidationError) as caught:
        from_wire({"one_time_notif_token": "secret-token", "id": "1"}, Recipient)
    assert "secret-token" not in str(caught.value)


GOOD_RESULTS = [
    ({"recipient_id": "1", "message_id": "m_1"}, SendResult("1", "m_1")),
    ({"message_id": "m_1"}, SendResult(None, "m_1")),
    ({"recipient_id": "1"}, SendResult("1", None)),
    ({"recipient_id": "1", "message_id": "m_1", "extra": 1}, SendResult("1", "m_1")),
]


@pytest.mark.parametrize(
    ("data", "result"), GOOD_RESULTS, ids=["both", "user-ref", "sender-action", "extra-key"]
)
def test_send_result_from_wire_reads_answers(data: dict[str, Any], result: SendResult) -> None:
    """Meta's answers become SendResults; a missing id is None, extra keys are ignored."""
    assert send_result_from_wire(data) == result


BAD_RESULTS = [
    ("list", [], "must be a JSON object, got list"),
    ("string", '{"message_id": "m"}', "must be a JSON object, got str"),
    ("none", None, "must be a JSON object, got NoneType"),
    ("error", {"error": {"code": 100}}, "error envelope"),
    ("int-message-id", {"recipient_id": "1", "message_id": 5}, "message_id must be a string"),
    ("int-recipient-id", {"recipient_id": 1, "message_id": "m"}, "recipient_id must be a string"),
]


@pytest.mark.parametrize(("name", "data", "match"), BAD_RESULTS, ids=[c[0] for c in BAD_RESULTS])
def test_send_result_from_wire_refuses_wrong_shapes(name: str, data: object, match: str) -> None:
    """An answer of the wrong shape raises a ValueError saying what is wrong."""
    with pytest.raises(ValueError, match=match):
        send_result_from_wire(data)


# --- hypothesis round trips ------------------------------------------------------------------

short = st.text(min_size=1, max_size=20)
payloads = st.text(min_size=1, max_size=1000)
urls = st.from_regex(r"https://[a-z]{1,12}\.example/[a-z0-9/]{0,20}", fullmatch=True)
quick_replies = st.one_of(
    st.builds(QuickReply.text, short, payloads, image_url=st.none() | urls),
    st.just(QuickReply.phone_number()),
    st.just(QuickReply.email()),
)
texts = st.builds(
    Text,
    st.text(min_size=1, max_size=2000),
    quick_replies=st.lists(quick_replies, max_size=13),
    metadata=st.none() | st.text(max_size=1000),
)
identifiers = st.text(min_size=1, max_size=40)
recipients = st.one_of(
    st.builds(Recipient, identifiers),
    *(
        st.builds(Recipient, **{form: identifiers})
        for form in (
            "user_ref",
            "post_id",
            "comment_id",
            "one_time_notif_token",
            "notification_messages_token",
        )
    ),
)


def _through_json(model: Any) -> Any:
    return from_wire(json.loads(json.dumps(to_wire(model))), type(model))


@given(texts)
def test_text_round_trips(text: Text) -> None:
    """Any valid Text survives the wire."""
    assert _through_json(text) == text


@given(quick_replies)
def test_quick_reply_round_trips(reply: QuickReply) -> None:
    """Any valid QuickReply survives the wire."""
    assert _through_json(reply) == reply


@given(recipients)
def test_recipient_round_trips(recipient: Recipient) -> None:
    """Any valid Recipient survives the wire, as exactly one key."""
    wire = to_wire(recipient)
    assert list(wire) == [recipient.kind]
    assert _through_json(recipient) == recipient


@given(
    recipients,
    texts,
    st.none() | st.sampled_from(MessageTag),
    st.none() | st.sampled_from(NotificationType),
)
def test_send_request_round_trips_any(
    recipient: Recipient, text: Text, tag: MessageTag | None, notification: NotificationType | None
) -> None:
    """Any valid text SendRequest survives the wire."""
    request = SendRequest(recipient, text, tag=tag, notification_type=notification)
    assert _through_json(request) == request


@pytest.mark.parametrize(("name", "model", "wire"), DOCUMENTED, ids=DOCUMENTED_IDS)
def test_message_from_wire_chooses_the_class(name: str, model: Any, wire: dict[str, Any]) -> None:
    """message_from_wire reads any message kind without being told its class."""
    assert message_from_wire(wire) == model


@pytest.mark.parametrize(
    ("data", "match"),
    [(None, "got null"), (5, "must be a JSON object"), ({"text": ""}, "at least 1 is required")],
    ids=["null", "number", "empty-text"],
)
def test_message_from_wire_refuses_non_messages(data: object, match: str) -> None:
    """message_from_wire raises ValidationError for what is not a valid message."""
    with pytest.raises(ValidationError, match=match):
        message_from_wire(data)


def test_make_converter_turns_str_enums_into_values() -> None:
    """The shared converter unstructures str-mixin enums to their plain values."""
    value = make_converter().unstructure(SenderAction.MARK_SEEN)
    assert value == "mark_seen"
    assert type(value) is str


buttons = st.one_of(
    st.builds(
        UrlButton,
        short,
        urls,
        webview_height_ratio=st.none() | st.sampled_from(["compact", "tall", "full"]),
    ),
    st.builds(PostbackButton, short, payloads),
    st.builds(CallButton, short, st.from_regex(r"\+[1-9][0-9]{1,14}", fullmatch=True)),
)
elements = st.builds(
    Element,
    st.text(min_size=1, max_size=80),
    subtitle=st.text(min_size=1, max_size=80),
    image_url=st.none() | urls,
    default_action=st.none() | st.builds(DefaultAction, urls),
    buttons=st.lists(buttons, max_size=3),
)


@given(
    st.builds(
        GenericTemplate,
        st.lists(elements, min_size=1, max_size=10),
        sharable=st.none() | st.booleans(),
    )
)
def test_generic_template_round_trips(template: GenericTemplate) -> None:
    """Any valid generic template survives the wire."""
    assert _through_json(template) == template
