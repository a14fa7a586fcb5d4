"""Construction rules of messages, quick replies, buttons and templates (other than sizes)."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import attrs
import pytest

from fmc.models import (
    Attachment,
    AttachmentType,
    ButtonTemplate,
    CallButton,
    DefaultAction,
    Element,
    GenericTemplate,
    ImageAspectRatio,
    MediaElement,
    MediaTemplate,
    MediaType,
    PostbackButton,
    QuickReply,
    QuickReplyType,
    ReceiptAddress,
    ReceiptAdjustment,
    ReceiptElement,
    ReceiptSummary,
    ReceiptTemplate,
    Text,
    UrlButton,
    ValidationError,
    WebviewHeightRatio,
)

URL = "https://example.com/a"


class TestText:
    def test_is_frozen(self) -> None:
        """A Text cannot be changed after construction."""
        with pytest.raises(attrs.exceptions.FrozenInstanceError):
            Text("hi").text = "bye"  # type: ignore[misc]

    def test_quick_replies_become_a_tuple(self) -> None:
        """A list of quick replies is kept as a tuple."""
        reply = QuickReply.text("Yes", "YES")
        assert Text("hi", quick_replies=[reply]).quick_replies == (reply,)

    def test_quick_replies_must_be_quick_replies(self) -> None:
        """A quick reply that is not a QuickReply raises TypeError naming the field."""
        with pytest.raises(TypeError, match=r"^Text\.quick_replies items must be QuickReply"):
            Text("hi", quick_replies=["Yes"])  # type: ignore[list-item]

    def test_metadata_must_be_a_string(self) -> None:
        """Metadata that is not a string raises TypeError."""
        with pytest.raises(TypeError, match=r"Text\.metadata must be a str"):
            Text("hi", metadata=1)  # type: ignore[arg-type]


class TestAttachment:
    def test_accepts_the_wire_value_of_its_type(self) -> None:
        """The type may be given as its wire string."""
        assert Attachment("video", url=URL).type is AttachmentType.VIDEO

    def test_refuses_an_unknown_type(self) -> None:
        """An unknown attachment type is a ValueError."""
        with pytest.raises(ValueError, match="'template' is not a valid AttachmentType"):
            Attachment("template", url=URL)

    @pytest.mark.parametrize(
        "kwargs",
        [{}, {"url": URL, "attachment_id": "123"}],
        ids=["neither", "both"],
    )
    def test_needs_exactly_one_source(self, kwargs: dict[str, Any]) -> None:
        """An attachment takes exactly one of url and attachment_id."""
        with pytest.raises(ValidationError, match="exactly one of url and attachment_id"):
            Attachment("image", **kwargs)

    def test_is_reusable_only_with_a_url(self) -> None:
        """is_reusable with an attachment_id is refused."""
        with pytest.raises(ValidationError, match="is_reusable only applies"):
            Attachment("image", attachment_id="123", is_reusable=True)

    def test_refuses_a_url_without_a_scheme(self) -> None:
        """A URL that is not http(s) is refused, naming the field."""
        with pytest.raises(ValidationError, match=r"^Attachment\.url must be an http"):
            Attachment("image", url="example.com/cat.png")

    def test_is_reusable_must_be_a_bool(self) -> None:
        """is_reusable given a string raises TypeError."""
        with pytest.raises(TypeError):
            Attachment("image", url=URL, is_reusable="yes")  # type: ignore[arg-type]


class TestQuickReply:
    def test_text_is_the_default_kind(self) -> None:
        """A quick reply is a text quick reply unless told otherwise."""
        assert QuickReply(title="Yes", payload="YES").content_type is QuickReplyType.TEXT

    @pytest.mark.parametrize(
        ("kwargs", "missing"),
        [({"payload": "P"}, "title"), ({"title": "T"}, "payload"), ({}, "title and payload")],
        ids=["no-title", "no-payload", "neither"],
    )
    def test_text_kind_needs_title_and_payload(self, kwargs: dict[str, str], missing: str) -> None:
        """A text quick reply without its title or payload names what is missing."""
        with pytest.raises(ValidationError, match=f"needs {missing}$"):
            QuickReply("text", **kwargs)

    @pytest.mark.parametrize("kind", ["user_phone_number", "user_email"])
    def test_other_kinds_take_no_title(self, kind: str) -> None:
        """Phone and email quick replies refuse a title, naming it."""
        with pytest.raises(ValidationError, match=f"a {kind} QuickReply takes no title"):
            QuickReply(kind, title="Phone")

    def test_classmethods_build_each_kind(self) -> None:
        """The alternative constructors build the three kinds."""
        assert QuickReply.phone_number().content_type is QuickReplyType.USER_PHONE_NUMBER
        assert QuickReply.email().content_type is QuickReplyType.USER_EMAIL
        reply = QuickReply.text("Red", "RED", image_url=URL)
        assert (reply.title, reply.payload, reply.image_url) == ("Red", "RED", URL)

    def test_refuses_an_unknown_kind(self) -> None:
        """The removed location quick reply is refused."""
        with pytest.raises(ValueError, match="'location' is not a valid QuickReplyType"):
            QuickReply("location")


class TestButtons:
    def test_url_button_options(self) -> None:
        """A URL button keeps its webview options; the ratio accepts its wire value."""
        button = UrlButton(
            "Open",
            URL,
            webview_height_ratio="tall",
            messenger_extensions=True,
            fallback_url="https://example.com/b",
        )
        assert button.webview_height_ratio is WebviewHeightRatio.TALL

    def test_fallback_url_needs_messenger_extensions(self) -> None:
        """fallback_url without Messenger Extensions is refused."""
        with pytest.raises(ValidationError, match="fallback_url is only allowed"):
            UrlButton("Open", URL, fallback_url="https://example.com/b")

    def test_messenger_extensions_need_https(self) -> None:
        """Messenger Extensions on a plain http URL are refused."""
        with pytest.raises(ValidationError, match="must use https://"):
            DefaultAction("http://example.com", messenger_extensions=True)

    def test_messenger_extensions_must_be_a_bool(self) -> None:
        """messenger_extensions given a string raises TypeError naming the field."""
        with pytest.raises(TypeError, match=r"UrlButton\.messenger_extensions must be a bool"):
            UrlButton("Open", URL, messenger_extensions="yes")  # type: ignore[arg-type]

    @pytest.mark.parametrize(
        "number", ["5105551234", "+0105551234", "+1 510 555 1234", "+1234567890123456", "+"]
    )
    def test_call_button_needs_an_e164_number(self, number: str) -> None:
        """A phone number not in E.164 form is refused without echoing it."""
        with pytest.raises(ValidationError, match=r"^CallButton\.payload must be a phone number"):
            CallButton("Call", number)

    def test_call_button_accepts_an_e164_number(self) -> None:
        """An E.164 number is accepted."""
        assert CallButton("Call", "+15105551234").payload == "+15105551234"

    def test_buttons_must_be_buttons(self) -> None:
        """A button list holding something else raises TypeError naming the field."""
        with pytest.raises(TypeError, match=r"^ButtonTemplate\.buttons items must be UrlButton"):
            ButtonTemplate("Pick", [{"type": "postback"}])  # type: ignore[list-item]


class TestGenericTemplate:
    def test_element_needs_more_than_a_title(self) -> None:
        """An element with only a title is refused."""
        with pytest.raises(ValidationError, match="besides its title"):
            Element("Only a title")

    @pytest.mark.parametrize(
        "kwargs",
        [
            {"subtitle": "s"},
            {"image_url": URL},
            {"default_action": DefaultAction(URL)},
            {"buttons": [PostbackButton("Go", "GO")]},
        ],
        ids=["subtitle", "image_url", "default_action", "buttons"],
    )
    def test_element_with_one_more_field_is_accepted(self, kwargs: dict[str, Any]) -> None:
        """Any one field besides the title is enough."""
        Element("Card", **kwargs)

    def test_default_action_must_be_a_default_action(self) -> None:
        """A URL button as default action is refused (it has a title)."""
        with pytest.raises(TypeError):
            Element("Card", default_action=UrlButton("Open", URL))  # type: ignore[arg-type]

    def test_elements_must_be_elements(self) -> None:
        """A generic template's elements must be Element instances."""
        with pytest.raises(TypeError, match=r"GenericTemplate\.elements items must be Element"):
            GenericTemplate(["card"])  # type: ignore[list-item]

    def test_aspect_ratio_accepts_its_wire_value(self) -> None:
        """image_aspect_ratio accepts 'square'."""
        template = GenericTemplate([Element("Card", subtitle="s")], image_aspect_ratio="square")
        assert template.image_aspect_ratio is ImageAspectRatio.SQUARE

    def test_sharable_must_be_a_bool(self) -> None:
        """sharable given a string raises TypeError."""
        with pytest.raises(TypeError, match=r"GenericTemplate\.sharable must be a bool"):
            GenericTemplate([Element("Card", subtitle="s")], sharable="yes")  # type: ignore[arg-type]


class TestMediaTemplate:
    @pytest.mark.parametrize(
        "kwargs", [{}, {"url": URL, "attachment_id": "1"}], ids=["neither", "both"]
    )
    def test_element_needs_exactly_one_source(self, kwargs: dict[str, Any]) -> None:
        """A media element takes exactly one of url and attachment_id."""
        with pytest.raises(ValidationError, match="exactly one of url and attachment_id"):
            MediaElement("image", **kwargs)

    def test_audio_is_not_a_media_type(self) -> None:
        """The media template shows images and videos only."""
        with pytest.raises(ValueError, match="'audio' is not a valid MediaType"):
            MediaElement("audio", url=URL)

    def test_template_holds_one_element(self) -> None:
        """A media template holds one MediaElement."""
        element = MediaElement(MediaType.VIDEO, attachment_id="1")
        assert MediaTemplate(element).element is element
        with pytest.raises(TypeError):
            MediaTemplate([element])  # type: ignore[arg-type]


class TestReceiptTemplate:
    def build(self, **kwargs: Any) -> ReceiptTemplate:
        """A receipt with the required fields, overridden by ``kwargs``."""
        fields: dict[str, Any] = {
            "recipient_name": "Ann",
            "order_number": "A-1",
            "currency": "USD",
            "payment_method": "Visa 1234",
            "summary": ReceiptSummary(56.14),
        }
        fields.update(kwargs)
        return ReceiptTemplate(**fields)

    @pytest.mark.parametrize("currency", ["usd", "US", "US$", ""])
    def test_currency_is_a_three_letter_code(self, currency: str) -> None:
        """A currency that is not three capital letters is refused."""
        with pytest.raises(ValidationError, match=r"ReceiptTemplate\.currency"):
            self.build(currency=currency)

    def test_summary_is_required(self) -> None:
        """The summary must be a ReceiptSummary."""
        with pytest.raises(TypeError):
            self.build(summary={"total_cost": 1})

    def test_amounts_become_floats(self) -> None:
        """Integer amounts are kept as floats."""
        summary = ReceiptSummary(56, subtotal=75, shipping_cost=4.95, total_tax=6)
        assert (summary.total_cost, summary.subtotal, summary.total_tax) == (56.0, 75.0, 6.0)
        assert isinstance(summary.total_cost, float)

    @pytest.mark.parametrize("amount", [True, "12.50", None], ids=["bool", "str", "none"])
    def test_amount_must_be_a_number(self, amount: Any) -> None:
        """An amount that is not a number raises TypeError."""
        with pytest.raises(TypeError, match="an amount must be a number"):
            ReceiptSummary(amount)

    def test_amount_must_be_finite(self) -> None:
        """A NaN amount is refused."""
        with pytest.raises(ValidationError, match="finite"):
            ReceiptAdjustment("Discount", float("nan"))

    def test_timestamp_must_be_aware(self) -> None:
        """A naive timestamp is refused."""
        with pytest.raises(ValidationError, match="timezone-aware"):
            self.build(timestamp=datetime(2026, 1, 1))

    def test_timestamp_must_be_a_datetime(self) -> None:
        """A timestamp given as a number raises TypeError."""
        with pytest.raises(TypeError, match="must be a datetime"):
            self.build(timestamp=1428444852)

    @pytest.mark.parametrize("quantity", [-1, 1.5, True], ids=["negative", "float", "bool"])
    def test_quantity_is_a_whole_number(self, quantity: Any) -> None:
        """An item's quantity must be a whole number of at least zero."""
        with pytest.raises(ValidationError, match=r"ReceiptElement\.quantity"):
            ReceiptElement("Shirt", 10, quantity=quantity)

    def test_country_is_a_two_letter_code(self) -> None:
        """The address's country must be two capital letters."""
        with pytest.raises(ValidationError, match=r"ReceiptAddress\.country"):
            ReceiptAddress("1 Hacker Way", "Menlo Park", "94025", "CA", "USA")

    def test_empty_required_text_is_refused(self) -> None:
        """An empty recipient name is refused, naming the field."""
        with pytest.raises(ValidationError, match=r"^ReceiptTemplate\.recipient_name must not"):
            self.build(recipient_name="")

    def test_items_and_adjustments_must_have_their_types(self) -> None:
        """Elements and adjustments must be their model classes."""
        with pytest.raises(TypeError, match="items must be ReceiptElement"):
            self.build(elements=[{"title": "Shirt"}])
        with pytest.raises(TypeError, match="items must be ReceiptAdjustment"):
            self.build(adjustments=[("Discount", 1)])

    def test_full_receipt_is_accepted(self) -> None:
        """A receipt with every field set is accepted."""
        receipt = self.build(
            merchant_name="Shop",
            order_url=URL,
            timestamp=datetime(2015, 4, 7, 22, 14, 12, tzinfo=timezone.utc),
            elements=[ReceiptElement("Shirt", 50, quantity=2, currency="USD", image_url=URL)],
            address=ReceiptAddress("1 Hacker Way", "Menlo Park", "94025", "CA", "US"),
            adjustments=[ReceiptAdjustment("Discount", 20)],
            sharable=True,
        )
        assert receipt.elements[0].quantity == 2
