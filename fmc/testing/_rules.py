"""What the fake Graph API refuses, as Meta would: Send API bodies and Messenger profile fields.

These rules are written from Meta's documentation, independently of
:mod:`fmc.models`, so that the fake catches a model that lets through what Meta
refuses. Each refusal is a :class:`Refusal` carrying Meta's error fields.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import attrs

__all__ = [
    "MESSAGING_TYPES",
    "PROFILE_FIELDS",
    "RECIPIENT_KEYS",
    "SENDER_ACTIONS",
    "TAGS",
    "Refusal",
    "SendBody",
    "check_profile_fields",
    "check_send",
    "json_param",
]

RECIPIENT_KEYS = (
    "id",
    "user_ref",
    "phone_number",
    "post_id",
    "comment_id",
    "one_time_notif_token",
    "notification_messages_token",
)
MESSAGING_TYPES = frozenset({"RESPONSE", "UPDATE", "MESSAGE_TAG", "UTILITY"})
TAGS = frozenset(
    {
        "CONFIRMED_EVENT_UPDATE",
        "POST_PURCHASE_UPDATE",
        "ACCOUNT_UPDATE",
        "HUMAN_AGENT",
        "CUSTOMER_FEEDBACK",
        # Still accepted for Pages in the News Page Index ("News Messaging").
        "NON_PROMOTIONAL_SUBSCRIPTION",
    }
)
SENDER_ACTIONS = frozenset({"typing_on", "typing_off", "mark_seen"})
NOTIFICATION_TYPES = frozenset({"REGULAR", "SILENT_PUSH", "NO_PUSH"})
ATTACHMENT_TYPES = frozenset({"image", "audio", "video", "file", "template"})
MEDIA_TYPES = frozenset({"image", "audio", "video", "file"})
TEMPLATE_TYPES = frozenset(
    {
        "generic",
        "button",
        "media",
        "receipt",
        "one_time_notif_req",
        "notification_messages",
        "customer_feedback",
        "product",
    }
)
QUICK_REPLY_TYPES = frozenset({"text", "user_phone_number", "user_email"})
BUTTON_TYPES = frozenset(
    {"web_url", "postback", "phone_number", "account_link", "account_unlink", "game_play"}
)
PROFILE_FIELDS = (
    "account_linking_url",
    "get_started",
    "greeting",
    "ice_breakers",
    "persistent_menu",
    "whitelisted_domains",
    "home_url",
    "title",
    "description",
)

MAX_TEXT = 2000
MAX_QUICK_REPLIES = 13
MAX_QUICK_REPLY_TITLE = 20
MAX_PAYLOAD = 1000
MAX_ELEMENTS = 10
MAX_ELEMENT_TEXT = 80
MAX_BUTTONS = 3
MAX_BUTTON_TITLE = 20
MAX_BUTTON_TEMPLATE_TEXT = 640
MAX_METADATA = 1000
MAX_GREETING = 160
MAX_ICE_BREAKERS = 4
MAX_WHITELISTED_DOMAINS = 50


class Refusal(Exception):  # noqa: N818 - an answer, not a failure of the fake
    """A call Meta refuses, with the fields of its error object."""

    def __init__(
        self,
        message: str,
        code: int = 100,
        *,
        subcode: int | None = None,
        type: str = "OAuthException",
        status: int = 400,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.subcode = subcode
        self.type = type
        self.status = status


@attrs.frozen
class SendBody:
    """A Send API body that passed the rules, in its parts.

    Attributes:
        recipient: The ``recipient`` object.
        message: The ``message`` object, ``None`` for a sender action.
        sender_action: ``typing_on``, ``typing_off`` or ``mark_seen``, or ``None``.
        messaging_type: ``RESPONSE``, ``UPDATE``, ``MESSAGE_TAG`` or ``UTILITY``.
        tag: The message tag, with ``MESSAGE_TAG``.
        notification_type: ``REGULAR``, ``SILENT_PUSH`` or ``NO_PUSH``.
        persona_id: The persona that speaks, if any.
    """

    recipient: dict[str, str]
    message: dict[str, Any] | None
    sender_action: str | None
    messaging_type: str | None
    tag: str | None
    notification_type: str | None
    persona_id: str | None


def json_param(name: str, value: Any) -> Any:
    """Decode a parameter that arrives as a JSON string in a form or query.

    Graph accepts the single-quoted pseudo-JSON of Meta's own curl samples
    (``recipient={'id':'123'}``), so that is accepted too.

    Raises:
        Refusal: the value is not JSON.
    """
    if not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except ValueError:
        pass
    try:
        return json.loads(value.replace("'", '"'))
    except ValueError:
        raise Refusal(f"(#100) param {name} must be a JSON object") from None


def _text(name: str, value: Any, limit: int, *, required: bool = True) -> None:
    if value is None and not required:
        return
    if not isinstance(value, str) or (required and not value):
        raise Refusal(f"(#100) param {name} must be a non-empty string")
    if len(value) > limit:
        raise Refusal(f"(#100) Length of param {name} must be less than or equal to {limit}")


def _string(value: Any) -> str | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value)
    return value if isinstance(value, str) and value else None


def check_recipient(raw: Any) -> dict[str, str]:
    """Check the ``recipient`` parameter: a JSON object with exactly one known key.

    Raises:
        Refusal: missing, not an object, or not exactly one key.
    """
    if raw is None:
        raise Refusal("(#100) The parameter recipient is required")
    recipient = json_param("recipient", raw)
    if not isinstance(recipient, Mapping):
        raise Refusal("(#100) param recipient must be a JSON object")
    keys = [key for key in recipient if key in RECIPIENT_KEYS]
    if len(keys) != 1 or len(recipient) != 1:
        raise Refusal(
            "(#100) param recipient must have exactly one of " + ", ".join(RECIPIENT_KEYS)
        )
    value = _string(recipient[keys[0]])
    if value is None:
        raise Refusal(f"(#100) param recipient[{keys[0]}] must be a non-empty string")
    return {keys[0]: value}


def check_send(params: Mapping[str, Any]) -> SendBody:
    """Check a Send API call as Meta would, and return its parts.

    Args:
        params: The call's parameters (JSON body, form fields and query merged).

    Returns:
        The checked body.

    Raises:
        Refusal: with Meta's error for the first rule broken.
    """
    recipient = check_recipient(params.get("recipient"))
    raw_message = params.get("message")
    sender_action = params.get("sender_action")
    if raw_message is not None and sender_action is not None:
        raise Refusal("(#100) Cannot send both message and state at the same time")
    if raw_message is None and sender_action is None:
        raise Refusal("(#100) Must send either message or state")
    messaging_type = params.get("messaging_type")
    tag = params.get("tag")
    if messaging_type is not None and messaging_type not in MESSAGING_TYPES:
        raise Refusal(
            "(#100) param messaging_type must be one of {RESPONSE, UPDATE, MESSAGE_TAG, "
            f'UTILITY}} - got "{messaging_type}"'
        )
    if tag is not None and tag not in TAGS:
        raise Refusal(
            f'(#100) param tag must be one of {{{", ".join(sorted(TAGS))}}} - got "{tag}"'
        )
    if messaging_type == "MESSAGE_TAG" and tag is None:
        raise Refusal("(#100) Tag is required for MESSAGE_TAG messaging type.")
    if tag is not None and messaging_type != "MESSAGE_TAG":
        raise Refusal("(#100) param tag can only be used with messaging_type MESSAGE_TAG")
    notification_type = params.get("notification_type")
    if notification_type is not None and notification_type not in NOTIFICATION_TYPES:
        raise Refusal(
            "(#100) param notification_type must be one of {REGULAR, SILENT_PUSH, NO_PUSH}"
        )
    persona_id = _string(params.get("persona_id"))
    message: dict[str, Any] | None = None
    if sender_action is not None:
        if sender_action not in SENDER_ACTIONS:
            raise Refusal(
                "(#100) param sender_action must be one of {typing_on, typing_off, mark_seen}"
            )
        if recipient.keys() - {"id", "user_ref"}:
            raise Refusal("(#100) sender_action can only be sent to an id or user_ref recipient")
    else:
        if messaging_type is None:
            raise Refusal("(#100) param messaging_type is required")
        message = _check_message(json_param("message", raw_message))
    return SendBody(
        recipient, message, sender_action, messaging_type, tag, notification_type, persona_id
    )


def _check_message(message: Any) -> dict[str, Any]:
    if not isinstance(message, Mapping):
        raise Refusal("(#100) param message must be a JSON object")
    # A sticker (June 2026) or a utility template carries no text or attachment.
    sticker = message.get("sticker_id")
    if sticker is not None:
        if isinstance(sticker, bool) or not isinstance(sticker, int):
            raise Refusal("(#100) param message[sticker_id] must be a sticker id")
        return dict(message)
    if isinstance(message.get("template"), Mapping):
        return dict(message)
    text = message.get("text")
    attachment = message.get("attachment")
    if text is not None and attachment is not None:
        raise Refusal("(#100) param message must have one of text or attachment, not both")
    if (text is None or text == "") and attachment is None:
        raise Refusal(
            "Message cannot be empty, must provide valid attachment or text",
            subcode=2018034,
        )
    if text is not None:
        _text("message[text]", text, MAX_TEXT)
    else:
        _check_attachment(attachment)
    quick_replies = message.get("quick_replies")
    if quick_replies is not None:
        _check_quick_replies(quick_replies)
    metadata = message.get("metadata")
    if metadata is not None:
        _text("message[metadata]", metadata, MAX_METADATA)
    return dict(message)


def _check_quick_replies(quick_replies: Any) -> None:
    if not isinstance(quick_replies, list) or not quick_replies:
        raise Refusal("(#100) param message[quick_replies] must be a non-empty array")
    if len(quick_replies) > MAX_QUICK_REPLIES:
        raise Refusal(
            f"(#100) param message[quick_replies] must have at most {MAX_QUICK_REPLIES} items"
        )
    for index, reply in enumerate(quick_replies):
        name = f"message[quick_replies][{index}]"
        if not isinstance(reply, Mapping) or reply.get("content_type") not in QUICK_REPLY_TYPES:
            raise Refusal(
                f"(#100) param {name}[content_type] must be one of "
                "{text, user_phone_number, user_email}"
            )
        if reply["content_type"] == "text":
            _text(f"{name}[title]", reply.get("title"), MAX_QUICK_REPLY_TITLE)
            _text(f"{name}[payload]", reply.get("payload"), MAX_PAYLOAD)


def _check_attachment(attachment: Any) -> None:
    if not isinstance(attachment, Mapping) or attachment.get("type") not in ATTACHMENT_TYPES:
        raise Refusal(
            "(#100) param message[attachment][type] must be one of "
            "{image, audio, video, file, template}"
        )
    payload = attachment.get("payload")
    if not isinstance(payload, Mapping):
        raise Refusal("(#100) param message[attachment][payload] must be a JSON object")
    if attachment["type"] != "template":
        if not (payload.get("url") or payload.get("attachment_id")):
            raise Refusal(
                "(#100) param message[attachment][payload] must have url or attachment_id"
            )
        return
    template_type = payload.get("template_type")
    if template_type not in TEMPLATE_TYPES:
        raise Refusal(f'(#100) param template_type "{template_type}" is not a valid template type')
    if template_type == "generic":
        elements = payload.get("elements")
        if not isinstance(elements, list) or not 1 <= len(elements) <= MAX_ELEMENTS:
            raise Refusal(f"(#100) param elements must have between 1 and {MAX_ELEMENTS} items")
        for index, element in enumerate(elements):
            name = f"elements[{index}]"
            if not isinstance(element, Mapping):
                raise Refusal(f"(#100) param {name} must be a JSON object")
            _text(f"{name}[title]", element.get("title"), MAX_ELEMENT_TEXT)
            _text(f"{name}[subtitle]", element.get("subtitle"), MAX_ELEMENT_TEXT, required=False)
            _check_buttons(f"{name}[buttons]", element.get("buttons"), required=False)
    elif template_type == "button":
        _text("text", payload.get("text"), MAX_BUTTON_TEMPLATE_TEXT)
        _check_buttons("buttons", payload.get("buttons"), required=True)
    elif template_type == "media":
        elements = payload.get("elements")
        if not isinstance(elements, list) or len(elements) != 1:
            raise Refusal("(#100) param elements must have exactly 1 item")
        element = elements[0]
        if not isinstance(element, Mapping) or element.get("media_type") not in ("image", "video"):
            raise Refusal("(#100) param elements[0][media_type] must be one of {image, video}")
        if not (element.get("url") or element.get("attachment_id")):
            raise Refusal("(#100) param elements[0] must have url or attachment_id")
        _check_buttons("elements[0][buttons]", element.get("buttons"), required=False)


def _check_buttons(name: str, buttons: Any, *, required: bool) -> None:
    if buttons is None and not required:
        return
    if not isinstance(buttons, list) or not 1 <= len(buttons) <= MAX_BUTTONS:
        raise Refusal(f"(#100) param {name} must have between 1 and {MAX_BUTTONS} items")
    for index, button in enumerate(buttons):
        label = f"{name}[{index}]"
        if not isinstance(button, Mapping) or button.get("type") not in BUTTON_TYPES:
            raise Refusal(f"(#100) param {label}[type] is not a valid button type")
        kind = button["type"]
        if kind not in ("account_unlink",):
            _text(f"{label}[title]", button.get("title"), MAX_BUTTON_TITLE, required=False)
        if kind == "web_url" and not isinstance(button.get("url"), str):
            raise Refusal(f"(#100) param {label}[url] must be a URL")
        if kind == "postback":
            _text(f"{label}[payload]", button.get("payload"), MAX_PAYLOAD)
        if kind == "phone_number":
            number = button.get("payload")
            if not isinstance(number, str) or not number.startswith("+"):
                raise Refusal(
                    f"(#100) param {label}[payload] must be a phone number starting with +"
                )


def check_profile_fields(fields: Mapping[str, Any], current: Mapping[str, Any]) -> None:
    """Check a Messenger profile update (the fields being set).

    Args:
        fields: The fields being set.
        current: The profile as it is now.

    Raises:
        Refusal: with Meta's error for the first rule broken.
    """
    if not fields:
        raise Refusal("(#100) Requires one of the params: " + ", ".join(PROFILE_FIELDS))
    greeting = fields.get("greeting")
    if greeting is not None:
        if not isinstance(greeting, list) or not greeting:
            raise Refusal("(#100) param greeting must be a non-empty array")
        for item in greeting:
            if not isinstance(item, Mapping) or not isinstance(item.get("locale"), str):
                raise Refusal("(#100) param greeting items need locale and text")
            _text("greeting[text]", item.get("text"), MAX_GREETING)
    get_started = fields.get("get_started")
    if get_started is not None and (
        not isinstance(get_started, Mapping) or not isinstance(get_started.get("payload"), str)
    ):
        raise Refusal("(#100) param get_started must have a payload")
    if "persistent_menu" in fields and "get_started" not in fields and "get_started" not in current:
        raise Refusal(
            "(#100) You must set a Get Started button if you also wish to use persistent menu."
        )
    ice_breakers = fields.get("ice_breakers")
    if ice_breakers is not None and (
        not isinstance(ice_breakers, list) or len(ice_breakers) > MAX_ICE_BREAKERS
    ):
        raise Refusal(f"(#100) param ice_breakers must have at most {MAX_ICE_BREAKERS} items")
    domains = fields.get("whitelisted_domains")
    if domains is not None:
        if not isinstance(domains, list) or len(domains) > MAX_WHITELISTED_DOMAINS:
            raise Refusal(
                "(#100) param whitelisted_domains must have at most "
                f"{MAX_WHITELISTED_DOMAINS} items"
            )
        for domain in domains:
            if not isinstance(domain, str) or not domain.startswith("https://"):
                raise Refusal("(#100) whitelisted_domains must be https URLs")
