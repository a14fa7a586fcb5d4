"""Send shapes added for the 2026 platform (issue 15), checked against Meta's documented bodies."""

from __future__ import annotations

from typing import Any

import pytest

from fmc.convert import message_from_wire, send_request_to_wire, to_wire
from fmc.models import (
    BusinessPrivacy,
    CustomerFeedbackTemplate,
    FeedbackFollowUp,
    FeedbackQuestion,
    FeedbackScreen,
    LimitError,
    MenuPostback,
    MenuUrl,
    MessageTag,
    MessagingType,
    OneTimeNotificationRequest,
    PostbackButton,
    Recipient,
    SendRequest,
    Sticker,
    Text,
    UtilityTemplate,
    ValidationError,
)
from fmc.transport.profile import messenger_profile_body

PSID = "6514567891234567"


class TestSticker:
    def test_send_body_matches_the_changelog(self) -> None:
        """A sticker is sent as Meta's changelog shows: message.sticker_id."""
        # Messenger changelog, Jun 1, 2026, "Sticker API for Messenger Platform".
        body = send_request_to_wire(SendRequest(Recipient(PSID), Sticker(767226160478561)))
        assert body["message"] == {"sticker_id": 767226160478561}
        assert body["recipient"] == {"id": PSID}

    def test_reads_back(self) -> None:
        """A sticker message reads back from its wire form."""
        assert message_from_wire({"sticker_id": 767226160478561}) == Sticker(767226160478561)

    @pytest.mark.parametrize(
        ("value", "error"),
        [("767226160478561", TypeError), (True, TypeError), (0, ValidationError)],
        ids=["text", "bool", "zero"],
    )
    def test_refuses_bad_ids(self, value: Any, error: type[Exception]) -> None:
        """A sticker id must be a positive int."""
        with pytest.raises(error, match="sticker_id"):
            Sticker(value)


class TestPersistentMenuItems:
    def test_thirty_character_title_is_allowed(self) -> None:
        """A menu item may have a 30-character title, which a button may not."""
        title = "Talk to an agent about orders!"
        assert len(title) == 30
        assert MenuPostback(title, "CARE_HELP").title == title
        with pytest.raises(LimitError):
            PostbackButton(title, "CARE_HELP")

    def test_thirty_one_characters_are_refused(self) -> None:
        """A 31-character menu title is refused, naming the limit."""
        with pytest.raises(LimitError, match=r"MenuUrl\.title"):
            MenuUrl("x" * 31, "https://www.originalcoastclothing.com/")

    def test_profile_body_carries_wire_types(self) -> None:
        """The persistent menu is written as Meta's persistent_menu example shows."""
        # persistent_menu reference: developers.facebook.com/docs/messenger-platform/
        # messenger-profile/persistent-menu
        body = messenger_profile_body(
            persistent_menu=[
                MenuPostback("Talk to an agent", "CARE_HELP"),
                MenuUrl(
                    "Shop now",
                    "https://www.originalcoastclothing.com/",
                    webview_height_ratio="full",
                ),
            ]
        )
        assert body["persistent_menu"] == [
            {
                "locale": "default",
                "composer_input_disabled": False,
                "call_to_actions": [
                    {"type": "postback", "title": "Talk to an agent", "payload": "CARE_HELP"},
                    {
                        "type": "web_url",
                        "title": "Shop now",
                        "url": "https://www.originalcoastclothing.com/",
                        "webview_height_ratio": "full",
                    },
                ],
            }
        ]


def survey(**overrides: Any) -> CustomerFeedbackTemplate:
    """Meta's customer feedback example as a model, with overrides."""
    fields: dict[str, Any] = {
        "subtitle": (
            "Let Original Coast Clothing know how they are doing by answering two questions"
        ),
        "button_title": "Rate Experience",
        "feedback_screens": [
            FeedbackScreen(
                [
                    FeedbackQuestion(
                        "hauydmns8",
                        "csat",
                        title="How would you rate your experience with Original Coast Clothing?",
                        score_label="neg_pos",
                        score_option="five_stars",
                        follow_up=FeedbackFollowUp("Give additional feedback"),
                    )
                ]
            )
        ],
        "business_privacy": BusinessPrivacy("https://www.example.com"),
        "expires_in_days": 3,
    }
    fields.update(overrides)
    return CustomerFeedbackTemplate("Rate your experience with Original Coast Clothing.", **fields)


class TestCustomerFeedbackTemplate:
    def test_wire_shape(self) -> None:
        """The survey is written in Meta's customer_feedback template structure."""
        # developers.facebook.com/docs/messenger-platform/send-messages/templates/
        # customer-feedback-template
        payload = to_wire(survey())["attachment"]["payload"]
        assert payload["template_type"] == "customer_feedback"
        assert payload["button_title"] == "Rate Experience"
        assert payload["business_privacy"] == {"url": "https://www.example.com"}
        assert payload["expires_in_days"] == 3
        (screen,) = payload["feedback_screens"]
        assert screen["questions"][0] == {
            "id": "hauydmns8",
            "type": "csat",
            "title": "How would you rate your experience with Original Coast Clothing?",
            "score_label": "neg_pos",
            "score_option": "five_stars",
            "follow_up": {"type": "free_form", "placeholder": "Give additional feedback"},
        }

    def test_round_trips(self) -> None:
        """The survey reads back from its wire form unchanged."""
        assert message_from_wire(to_wire(survey())) == survey()

    def test_goes_with_the_customer_feedback_tag(self) -> None:
        """The CUSTOMER_FEEDBACK tag is sent with the survey as MESSAGE_TAG."""
        body = send_request_to_wire(
            SendRequest(Recipient(PSID), survey(), tag=MessageTag.CUSTOMER_FEEDBACK)
        )
        assert (body["messaging_type"], body["tag"]) == ("MESSAGE_TAG", "CUSTOMER_FEEDBACK")

    @pytest.mark.parametrize(
        ("overrides", "field"),
        [
            ({"feedback_screens": []}, "feedback_screens"),
            ({"expires_in_days": 8}, "expires_in_days"),
            ({"button_title": ""}, "button_title"),
        ],
        ids=["no-screen", "eight-days", "empty-button"],
    )
    def test_refuses_what_meta_would(self, overrides: dict[str, Any], field: str) -> None:
        """A survey without screens, open too long or without a button title is refused."""
        with pytest.raises(ValidationError, match=field):
            survey(**overrides)

    def test_screen_needs_a_question(self) -> None:
        """A feedback screen without questions is refused."""
        with pytest.raises(ValidationError, match="questions"):
            FeedbackScreen([])


class TestOneTimeNotificationRequest:
    def test_wire_shape(self) -> None:
        """The request is Meta's one_time_notif_req template with title and payload."""
        # developers.facebook.com/docs/messenger-platform/send-messages/one-time-notification/
        assert to_wire(OneTimeNotificationRequest("Back in stock: Red shoes", "news")) == {
            "attachment": {
                "type": "template",
                "payload": {
                    "template_type": "one_time_notif_req",
                    "title": "Back in stock: Red shoes",
                    "payload": "news",
                },
            }
        }

    def test_title_is_limited_to_65(self) -> None:
        """Meta limits the title to 65 characters."""
        OneTimeNotificationRequest("x" * 65, "news")
        with pytest.raises(LimitError, match="title"):
            OneTimeNotificationRequest("x" * 66, "news")


class TestUtilityTemplate:
    def test_send_body(self) -> None:
        """A utility message goes as UTILITY, in message.template, with a lower-case body."""
        # Shape used by public integrations (Meta's page is cut before the send step).
        message = UtilityTemplate.named("order_shipped", order_id="A-1042")
        body = send_request_to_wire(SendRequest(Recipient(PSID), message))
        assert body["messaging_type"] == "UTILITY"
        assert body["message"] == {
            "template": {
                "name": "order_shipped",
                "language": {"code": "en_US"},
                "components": [
                    {
                        "type": "body",
                        "parameters": [
                            {"type": "text", "text": "A-1042", "parameter_name": "order_id"}
                        ],
                    }
                ],
            }
        }

    def test_no_parameters_no_components(self) -> None:
        """A template without parameters has no components."""
        assert to_wire(UtilityTemplate("hello")) == {
            "template": {"name": "hello", "language": {"code": "en_US"}}
        }

    @pytest.mark.parametrize("given", ["RESPONSE", "UPDATE"])
    def test_always_sent_as_utility(self, given: str) -> None:
        """A template given RESPONSE or UPDATE still goes as UTILITY."""
        request = SendRequest(Recipient(PSID), UtilityTemplate("t"), messaging_type=given)
        assert request.messaging_type is MessagingType.UTILITY

    def test_utility_needs_a_template(self) -> None:
        """messaging_type UTILITY with free-form content is refused, naming both."""
        with pytest.raises(ValidationError, match="UtilityTemplate"):
            SendRequest(Recipient(PSID), Text("hi"), messaging_type="UTILITY")

    def test_a_template_cannot_carry_a_tag(self) -> None:
        """A tagged template is refused."""
        with pytest.raises(ValidationError):
            SendRequest(Recipient(PSID), UtilityTemplate("t"), tag="ACCOUNT_UPDATE")

    @pytest.mark.parametrize("name", ["Order Shipped", "", "order-shipped"])
    def test_refuses_names_meta_would(self, name: str) -> None:
        """Template names are lower-case letters, digits and underscores."""
        with pytest.raises(ValidationError):
            UtilityTemplate(name)
