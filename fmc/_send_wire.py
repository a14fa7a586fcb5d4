"""The Send API's wire format: which model is which JSON, and the converter hooks built from it.

The tables say how each model class meets the wire (a template's
``template_type``, a button's ``type``, the messages whose fields sit inside
``attachment.payload``); :func:`build_converter` generates the cattrs hooks
from them once, for :mod:`fmc.convert`, which builds it on first use.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timezone
from types import MappingProxyType
from typing import Any, TypeVar, get_args, get_origin

import cattrs
from cattrs.gen import make_dict_structure_fn, make_dict_unstructure_fn, override

from fmc._wire_conventions import make_converter
from fmc.models.buttons import Button, CallButton, DefaultAction, PostbackButton, UrlButton
from fmc.models.feedback import CustomerFeedbackTemplate, FeedbackFollowUp
from fmc.models.limits import ValidationError
from fmc.models.marketing import MarketingOptInRequest
from fmc.models.menu import MenuPostback, MenuUrl
from fmc.models.messages import MESSAGE_CLASSES, Attachment, Message, Text
from fmc.models.optin_requests import OneTimeNotificationRequest
from fmc.models.quick_replies import QuickReply
from fmc.models.recipient import Recipient
from fmc.models.send import SendRequest, SendResult
from fmc.models.sticker import Sticker
from fmc.models.templates import (
    ButtonTemplate,
    Element,
    GenericTemplate,
    MediaElement,
    MediaTemplate,
    ReceiptAddress,
    ReceiptAdjustment,
    ReceiptElement,
    ReceiptSummary,
    ReceiptTemplate,
)
from fmc.models.utility import TemplateParameter, UtilityTemplate

__all__ = ["Unstructure", "build_converter"]

#: The keys a message keeps outside its ``attachment`` envelope.
_ENVELOPE_KEYS = ("quick_replies", "metadata")

#: A template class and its wire ``template_type``.
_TEMPLATE_TYPES: Mapping[type, str] = MappingProxyType(
    {
        GenericTemplate: "generic",
        ButtonTemplate: "button",
        MediaTemplate: "media",
        ReceiptTemplate: "receipt",
        CustomerFeedbackTemplate: "customer_feedback",
        OneTimeNotificationRequest: "one_time_notif_req",
        MarketingOptInRequest: "notification_messages",
    }
)
_TEMPLATE_CLASSES: Mapping[str, type] = MappingProxyType(
    {name: cls for cls, name in _TEMPLATE_TYPES.items()}
)

#: A button class and its wire ``type``.
_BUTTON_TYPES: Mapping[type, str] = MappingProxyType(
    {UrlButton: "web_url", PostbackButton: "postback", CallButton: "phone_number"}
)
_BUTTON_CLASSES: Mapping[str, type] = MappingProxyType(
    {name: cls for cls, name in _BUTTON_TYPES.items()}
)
#: A persistent-menu item class and its wire ``type`` (written, never read as a button).
_MENU_TYPES: Mapping[type, str] = MappingProxyType({MenuPostback: "postback", MenuUrl: "web_url"})
#: Messages whose fields sit directly in ``message``, without an attachment envelope.
_BARE_MESSAGES = (Text, Sticker)
#: Fields that stay on the wire even at their default value.
_KEEP_DEFAULT = MappingProxyType({QuickReply: "content_type", FeedbackFollowUp: "type"})
#: A generic template element's default action is a URL action without a title.
_DEFAULT_ACTION_TYPE = "web_url"

#: Classes whose wire form is their fields, unchanged.
_PLAIN_CLASSES = (
    QuickReply,
    Element,
    MediaElement,
    ReceiptSummary,
    ReceiptAddress,
    ReceiptAdjustment,
    ReceiptElement,
    Recipient,
    SendResult,
)

_T = TypeVar("_T")


def _seconds_string(value: datetime) -> str:
    # The receipt template's timestamp is a string of epoch seconds.
    return str(int(value.timestamp()))


def _datetime_from_seconds(value: object, _type: object) -> datetime:
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise TypeError(f"a timestamp must be epoch seconds, got {type(value).__name__}")
    return datetime.fromtimestamp(int(value), tz=timezone.utc)


def _strict(kind: type, accepted: tuple[type, ...]) -> Callable[[object, Any], Any]:
    # cattrs would call str()/bool() on anything; wire data of the wrong type is an error.
    # The hook also serves subclasses (a str-mixin enum), which get their own lookup.
    def structure(value: object, type_: Any) -> Any:
        if isinstance(value, bool) and kind is not bool:
            raise TypeError(f"expected {kind.__name__}, got bool")
        if not isinstance(value, accepted):
            raise TypeError(f"expected {kind.__name__}, got {type(value).__name__}")
        if type_ is not kind:
            return type_(value)
        return value if type(value) is kind else kind(value)

    return structure


def _mapping(value: object, what: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ValidationError(f"{what} must be a JSON object, got {type(value).__name__}")
    return value


def _is_homogeneous_tuple(type_: Any) -> bool:
    args = get_args(type_)
    return get_origin(type_) is tuple and len(args) == 2 and args[1] is Ellipsis


#: A generated hook that writes one model as Graph JSON.
Unstructure = Callable[[Any], dict[str, Any]]
#: A generated hook that reads one model from Graph JSON.
Structure = Callable[[Any, Any], Any]


def build_converter() -> tuple[cattrs.Converter, dict[type, Unstructure]]:
    """Build the Send API converter; also return each model's unstructure hook, by class."""
    converter = make_converter()
    for kind, accepted in ((str, (str,)), (bool, (bool,)), (int, (int,)), (float, (int, float))):
        converter.register_structure_hook(kind, _strict(kind, accepted))

    def tuple_as_list(type_: Any) -> Callable[[tuple[Any, ...]], list[Any]]:
        item = converter.get_unstructure_hook(get_args(type_)[0])
        return lambda value: [item(element) for element in value]

    converter.register_unstructure_hook_factory(_is_homogeneous_tuple, tuple_as_list)

    unstructure: dict[type, Unstructure] = {}
    structure: dict[type, Structure] = {}

    def register(cls: type, to_wire: Unstructure, from_wire: Structure) -> None:
        unstructure[cls], structure[cls] = to_wire, from_wire
        converter.register_unstructure_hook(cls, to_wire)
        converter.register_structure_hook(cls, from_wire)

    def generated(cls: type, **overrides: Any) -> tuple[Unstructure, Structure]:
        return (
            make_dict_unstructure_fn(cls, converter, _cattrs_omit_if_default=True, **overrides),
            _objects_only(make_dict_structure_fn(cls, converter, **overrides), cls),
        )

    for button_class, button_type in (*_BUTTON_TYPES.items(), *_MENU_TYPES.items()):
        to_wire, from_wire = generated(button_class)
        register(button_class, _typed(to_wire, button_type), from_wire)

    to_wire, from_wire = generated(DefaultAction)
    register(DefaultAction, _typed(to_wire, _DEFAULT_ACTION_TYPE), from_wire)

    def structure_button(value: object, _type: object) -> Any:
        data = _mapping(value, "a button")
        cls = _BUTTON_CLASSES.get(data.get("type"))  # type: ignore[arg-type]
        if cls is None:
            raise ValidationError(f"unknown button type {data.get('type')!r}")
        return structure[cls](data, cls)

    converter.register_structure_hook_func(lambda type_: type_ == Button, structure_button)

    for plain_class in (*_PLAIN_CLASSES, FeedbackFollowUp):
        # QuickReply's default content_type, "text", is still required on the wire.
        kept = _KEEP_DEFAULT.get(plain_class)
        overrides = {kept: override(omit_if_default=False)} if kept else {}
        register(plain_class, *generated(plain_class, **overrides))

    media_element = unstructure[MediaElement]
    message_overrides: dict[type, dict[str, Any]] = {
        MediaTemplate: {
            "element": override(
                rename="elements",
                unstruct_hook=lambda element: [media_element(element)],
                struct_hook=lambda value, _type: _one_media_element(value, structure),
            )
        },
        ReceiptTemplate: {
            "timestamp": override(unstruct_hook=_seconds_string, struct_hook=_datetime_from_seconds)
        },
    }
    register(UtilityTemplate, _utility_to_wire, _utility_from_wire)
    for message_class in MESSAGE_CLASSES:
        if message_class is UtilityTemplate:
            continue
        to_wire, from_wire = generated(message_class, **message_overrides.get(message_class, {}))
        if message_class not in _BARE_MESSAGES:
            to_wire = _enveloped(to_wire, _TEMPLATE_TYPES.get(message_class))
            from_wire = _unenveloped(from_wire, message_class)
        register(message_class, to_wire, from_wire)

    def unstructure_message(message: Any) -> dict[str, Any]:
        return unstructure[message.__class__](message)

    def structure_message(value: object, _type: object) -> Any:
        if value is None:
            return None
        cls = _message_class(_mapping(value, "a message"))
        return structure[cls](value, cls)

    converter.register_structure_hook_func(lambda type_: type_ == Message, structure_message)
    message = override(unstruct_hook=unstructure_message, struct_hook=structure_message)
    register(SendRequest, *generated(SendRequest, message=message))
    return converter, unstructure


def _utility_to_wire(message: UtilityTemplate) -> dict[str, Any]:
    # A utility template sits in message.template, its values in a lower-case
    # "body" component (upper case is for creating templates).
    template: dict[str, Any] = {"name": message.name, "language": {"code": message.language}}
    if message.parameters:
        parameters = []
        for parameter in message.parameters:
            item = {"type": "text", "text": parameter.text}
            if parameter.name is not None:
                item["parameter_name"] = parameter.name
            parameters.append(item)
        template["components"] = [{"type": "body", "parameters": parameters}]
    return {"template": template}


def _utility_from_wire(value: object, _type: object) -> UtilityTemplate:
    template = _mapping(_mapping(value, "a message").get("template"), "message.template")
    language = _mapping(template.get("language", {}), "message.template.language")
    parameters = []
    for component in template.get("components", ()):
        for item in _mapping(component, "a template component").get("parameters", ()):
            data = _mapping(item, "a template parameter")
            parameters.append(TemplateParameter(data["text"], name=data.get("parameter_name")))
    return UtilityTemplate(
        template["name"], language=language.get("code", "en_US"), parameters=parameters
    )


def _objects_only(base: Structure, cls: type) -> Structure:
    """Wrap a generated hook so anything but a JSON object is refused by name."""

    def structure(value: object, type_: Any) -> Any:
        return base(_mapping(value, f"a {cls.__name__}"), type_)

    return structure


def _typed(base: Unstructure, wire_type: str) -> Unstructure:
    """Wrap a generated hook so the button's dict starts with its wire ``type``."""
    return lambda button: {"type": wire_type, **base(button)}


def _one_media_element(value: object, structure: Mapping[type, Any]) -> MediaElement:
    if not isinstance(value, list) or len(value) != 1:
        raise ValidationError("a media template's elements must be a list of exactly one element")
    element: MediaElement = structure[MediaElement](value[0], MediaElement)
    return element


def _enveloped(base: Unstructure, template_type: str | None) -> Unstructure:
    """Wrap a generated hook so the message's fields go inside ``attachment.payload``."""

    def unstructure(message: Any) -> dict[str, Any]:
        payload = base(message)
        outside = {key: payload.pop(key) for key in _ENVELOPE_KEYS if key in payload}
        if template_type is None:
            attachment = {"type": payload.pop("type"), "payload": payload}
        else:
            attachment = {
                "type": "template",
                "payload": {"template_type": template_type, **payload},
            }
        return {"attachment": attachment, **outside}

    return unstructure


def _unenveloped(base: Callable[[Any, Any], _T], cls: type[_T]) -> Callable[[Any, Any], _T]:
    """Wrap a generated hook so it reads the message's fields from ``attachment.payload``."""

    def structure(value: object, _type: object) -> _T:
        data = _mapping(value, "a message")
        attachment = _mapping(data["attachment"], "message.attachment")
        flat = dict(_mapping(attachment.get("payload", {}), "message.attachment.payload"))
        if cls is Attachment:
            flat["type"] = attachment["type"]
        else:
            flat.pop("template_type", None)
        flat.update((key, data[key]) for key in _ENVELOPE_KEYS if key in data)
        return base(flat, cls)

    return structure


def _message_class(data: Mapping[str, Any]) -> type:
    if "text" in data:
        return Text
    if "sticker_id" in data:
        return Sticker
    if "template" in data:
        return UtilityTemplate
    if "attachment" not in data:
        raise ValidationError("a message needs a 'text' or an 'attachment'")
    attachment = _mapping(data["attachment"], "message.attachment")
    if attachment.get("type") != "template":
        return Attachment
    payload = _mapping(attachment.get("payload"), "message.attachment.payload")
    cls = _TEMPLATE_CLASSES.get(payload.get("template_type"))  # type: ignore[arg-type]
    if cls is None:
        raise ValidationError(f"unknown template_type {payload.get('template_type')!r}")
    return cls
