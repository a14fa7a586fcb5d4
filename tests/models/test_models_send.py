"""Pages, recipients, send requests and results: their rules and their secrets."""

from __future__ import annotations

from typing import Any

import pytest

from fmc.errors import ConfigurationError
from fmc.models import (
    MessageTag,
    MessagingType,
    NotificationToken,
    NotificationType,
    Page,
    Recipient,
    SenderAction,
    SendRequest,
    SendResult,
    Text,
    TokenKind,
    ValidationError,
)

SECRET = "EAAGsecret-token-value"
FORMS = [
    "id",
    "user_ref",
    "post_id",
    "comment_id",
    "one_time_notif_token",
    "notification_messages_token",
]


class TestPage:
    def test_secrets_are_not_in_repr(self) -> None:
        """Neither the access token nor the app secret appears in repr or str."""
        page = Page("1234", SECRET, app_secret="app-secret-value", name="Shop")
        for text in (repr(page), str(page)):
            assert SECRET not in text
            assert "app-secret-value" not in text
            assert "1234" in text

    def test_int_id_becomes_a_string(self) -> None:
        """A numeric Page id is kept as a string."""
        assert Page(1234, SECRET).id == "1234"

    @pytest.mark.parametrize("page_id", ["", "12/34", "12 34", "me?x=1"])
    def test_id_must_be_url_safe(self, page_id: str) -> None:
        """An empty id, or one that would change the request path, is refused."""
        with pytest.raises(ConfigurationError, match=r"^Page\.id"):
            Page(page_id, SECRET)

    @pytest.mark.parametrize("page_id", [True, None, 12.5])
    def test_id_must_be_a_string_or_int(self, page_id: Any) -> None:
        """An id of another type is refused."""
        with pytest.raises(ConfigurationError, match=r"^Page\.id must be a str or int"):
            Page(page_id, SECRET)

    @pytest.mark.parametrize(
        ("kwargs", "field"),
        [
            ({"access_token": ""}, "access_token"),
            ({"access_token": f" {SECRET}\n"}, "access_token"),
            ({"access_token": None}, "access_token"),
            ({"access_token": SECRET, "app_secret": ""}, "app_secret"),
        ],
        ids=["empty-token", "padded-token", "no-token", "empty-secret"],
    )
    def test_bad_credentials_are_refused_without_echoing_them(
        self, kwargs: dict[str, Any], field: str
    ) -> None:
        """A bad credential is refused; the message names the field, never the value."""
        with pytest.raises(ConfigurationError, match=rf"^Page\.{field} must be") as caught:
            Page("1234", **kwargs)
        assert SECRET not in str(caught.value)


class TestRecipient:
    @pytest.mark.parametrize("form", FORMS)
    def test_each_form_alone_is_accepted(self, form: str) -> None:
        """Each recipient form may be given on its own; kind names it."""
        recipient = Recipient(**{form: "value-1"})
        assert getattr(recipient, form) == "value-1"
        assert recipient.kind == form

    def test_none_given_is_refused(self) -> None:
        """A recipient with no form is refused, saying none was given."""
        with pytest.raises(ValidationError, match=r"got none$"):
            Recipient()

    def test_several_given_are_named(self) -> None:
        """A recipient with two forms is refused, naming both."""
        with pytest.raises(ValidationError, match=r"got id and user_ref$"):
            Recipient("1", user_ref="ref")

    def test_refusing_several_tokens_does_not_echo_them(self) -> None:
        """The error for two tokens names the fields, not the tokens."""
        with pytest.raises(ValidationError) as caught:
            Recipient(one_time_notif_token=SECRET, notification_messages_token=SECRET)
        assert SECRET not in str(caught.value)

    @pytest.mark.parametrize("form", ["one_time_notif_token", "notification_messages_token"])
    def test_tokens_are_not_in_repr(self, form: str) -> None:
        """A notification token never appears in repr; the form it uses does."""
        recipient = Recipient(**{form: SECRET})
        assert SECRET not in repr(recipient)
        assert repr(recipient) == f"Recipient({form}=<redacted>)"

    def test_repr_shows_the_psid(self) -> None:
        """A PSID recipient's repr shows the PSID."""
        assert repr(Recipient("123")) == "Recipient(id='123')"

    def test_int_ids_become_strings(self) -> None:
        """Numeric ids are kept as strings."""
        assert Recipient(123).id == "123"
        assert Recipient(post_id=456).post_id == "456"

    def test_empty_form_is_refused(self) -> None:
        """An empty PSID is refused."""
        with pytest.raises(ValidationError, match=r"^Recipient\.id must not be empty$"):
            Recipient("")

    @pytest.mark.parametrize("value", [True, 1.5, b"1"], ids=["bool", "float", "bytes"])
    def test_wrong_type_is_refused(self, value: Any) -> None:
        """A PSID that is not a string or int raises TypeError."""
        with pytest.raises(TypeError):
            Recipient(value)

    def test_token_of_wrong_type_is_refused(self) -> None:
        """A token that is not a string raises TypeError naming the field."""
        with pytest.raises(TypeError, match=r"^Recipient\.user_ref must be a str"):
            Recipient(user_ref=5)  # type: ignore[arg-type]

    def test_psid_classmethod(self) -> None:
        """Recipient.psid builds a PSID recipient."""
        assert Recipient.psid("42") == Recipient("42")

    @pytest.mark.parametrize(
        ("kind", "form"),
        [
            (TokenKind.ONE_TIME, "one_time_notif_token"),
            (TokenKind.NOTIFICATION_MESSAGES, "notification_messages_token"),
        ],
    )
    def test_from_token_uses_the_tokens_form(self, kind: TokenKind, form: str) -> None:
        """A notification token becomes a recipient of the matching form."""
        recipient = Recipient.from_token(NotificationToken(kind, SECRET))
        assert recipient.kind == form
        assert getattr(recipient, form) == SECRET


PSID = Recipient("123")
TEXT = Text("hi")


class TestSendRequest:
    def test_message_defaults_to_response(self) -> None:
        """A message without tag is sent as RESPONSE."""
        assert SendRequest(PSID, TEXT).messaging_type is MessagingType.RESPONSE

    def test_tag_defaults_to_message_tag(self) -> None:
        """A message with a tag is sent as MESSAGE_TAG."""
        request = SendRequest(PSID, TEXT, tag="ACCOUNT_UPDATE")
        assert request.messaging_type is MessagingType.MESSAGE_TAG
        assert request.tag is MessageTag.ACCOUNT_UPDATE

    def test_bare_sender_action_has_no_messaging_type(self) -> None:
        """A sender action alone has no messaging_type."""
        request = SendRequest(PSID, sender_action=SenderAction.TYPING_ON)
        assert request.messaging_type is None

    def test_explicit_messaging_type_is_kept(self) -> None:
        """An explicit UPDATE stays UPDATE."""
        assert SendRequest(PSID, TEXT, messaging_type="UPDATE").messaging_type is (
            MessagingType.UPDATE
        )

    def test_explicit_none_is_derived(self) -> None:
        """messaging_type=None derives it like leaving it out."""
        request = SendRequest(PSID, TEXT, messaging_type=None)
        assert request.messaging_type is MessagingType.RESPONSE

    @pytest.mark.parametrize(
        ("kwargs", "match"),
        [
            ({"tag": "HUMAN_AGENT", "messaging_type": "RESPONSE"}, "tag needs messaging_type"),
            ({"messaging_type": "MESSAGE_TAG"}, "MESSAGE_TAG needs a SendRequest.tag"),
            ({"sender_action": "typing_on"}, "not both"),
        ],
        ids=["tag-without-message-tag", "message-tag-without-tag", "message-and-action"],
    )
    def test_contradictions_are_refused(self, kwargs: dict[str, Any], match: str) -> None:
        """A request Meta would refuse is a ValidationError saying why."""
        with pytest.raises(ValidationError, match=match):
            SendRequest(PSID, TEXT, **kwargs)

    def test_needs_a_message_or_an_action(self) -> None:
        """A request with neither message nor sender action is refused."""
        with pytest.raises(ValidationError, match="needs a message or a sender_action"):
            SendRequest(PSID)

    def test_recipient_must_be_a_recipient(self) -> None:
        """A bare PSID string as recipient raises TypeError."""
        with pytest.raises(TypeError, match="recipient must be a Recipient"):
            SendRequest("123", TEXT)  # type: ignore[arg-type]

    def test_message_must_be_a_message(self) -> None:
        """A bare string as message raises TypeError."""
        with pytest.raises(TypeError, match="message must be a Text, Attachment or template"):
            SendRequest(PSID, "hi")  # type: ignore[arg-type]

    def test_enums_accept_wire_values(self) -> None:
        """Enum fields accept their wire strings."""
        request = SendRequest(PSID, TEXT, notification_type="SILENT_PUSH", persona_id="9")
        assert request.notification_type is NotificationType.SILENT_PUSH

    def test_unknown_tag_is_refused(self) -> None:
        """A retired tag that fmc does not know is a ValueError."""
        with pytest.raises(ValueError, match="'SHIPPING_UPDATE' is not a valid MessageTag"):
            SendRequest(PSID, TEXT, tag="SHIPPING_UPDATE")


class TestSendResult:
    def test_ids_are_optional(self) -> None:
        """A result may lack either id (user_ref recipients, sender actions)."""
        assert SendResult() == SendResult(None, None)

    def test_ids_must_be_strings(self) -> None:
        """A non-string id raises TypeError."""
        with pytest.raises(TypeError, match=r"^SendResult\.message_id must be a str"):
            SendResult("1", 2)  # type: ignore[arg-type]
