"""The cattrs converter at fmc's edge: models to Graph JSON and back.

One factory, :func:`make_converter` (from ``fmc._wire_conventions``),
configures the wire conventions every layer shares: fields left at ``None``
are omitted, enums travel as their wire values, and datetimes travel as epoch
milliseconds (Meta's ``timestamp`` and ``watermark`` fields) and come back as
timezone-aware UTC datetimes. Layers register their own hooks on the
converter they build from this factory.

The Send API's hooks (the tables and generated hooks of ``fmc._send_wire``)
sit on one private converter, built on first use (generating its hooks costs
about 12 ms, which ``import fmc`` need not pay): :func:`to_wire` and
:func:`send_request_to_wire` turn messages, recipients and send requests into
Graph JSON, :func:`from_wire` reads it back, and
:func:`send_result_from_wire` reads Meta's answer to a send. The wire's
envelopes (``attachment.payload.template_type``, a button's ``type``) are
added and read there, so the models hold only what the caller chooses.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any, TypeVar

import cattrs
from cattrs.v import format_exception, transform_error

from fmc._wire_conventions import datetime_from_millis, make_converter, millis_from_datetime
from fmc.models.limits import ValidationError
from fmc.models.messages import Message
from fmc.models.send import SendRequest, SendResult

if TYPE_CHECKING:
    from fmc._send_wire import Unstructure

__all__ = [
    "datetime_from_millis",
    "from_wire",
    "make_converter",
    "message_from_wire",
    "millis_from_datetime",
    "send_request_to_wire",
    "send_result_from_wire",
    "to_wire",
]

_T = TypeVar("_T")


@functools.cache
def _wire() -> tuple[cattrs.Converter, dict[type, Unstructure]]:
    # Two threads racing on first use may both build one; either is correct.
    from fmc._send_wire import build_converter

    return build_converter()


def __getattr__(name: str) -> Any:
    # The converter and its hooks by their former module-level names, built on demand.
    if name == "_CONVERTER":
        return _wire()[0]
    if name == "_HOOKS":
        return _wire()[1]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def to_wire(obj: object) -> dict[str, Any]:
    """Turn a message, button, recipient, send request or result into Graph JSON.

    Unset fields are omitted and enums become their wire values.

    Args:
        obj: A model instance (never a :class:`~fmc.models.Page`: it holds secrets).

    Returns:
        The JSON object, ready for ``json.dumps``.

    Raises:
        TypeError: ``obj`` is not a model fmc sends.
    """
    hook = _wire()[1].get(obj.__class__)
    if hook is None:
        raise TypeError(f"to_wire does not convert {type(obj).__name__}")
    return hook(obj)


def send_request_to_wire(request: SendRequest) -> dict[str, Any]:
    """Build the whole Send API JSON body of a request.

    Args:
        request: The request.

    Returns:
        ``recipient``, ``message`` or ``sender_action``, and ``messaging_type``,
        ``tag``, ``notification_type`` and ``persona_id`` when set. The page
        access token is not part of it.
    """
    return _wire()[1][SendRequest](request)


def from_wire(data: object, cls: type[_T]) -> _T:
    """Read Graph JSON back into a model.

    Templates are read from their envelope
    (``{"attachment": {"type": "template", "payload": {"template_type": ...}}}``)
    and buttons by their ``type``.

    Args:
        data: The decoded JSON.
        cls: The model class to read, e.g. :class:`~fmc.models.Text` or
            :class:`~fmc.models.SendRequest`.

    Returns:
        The model.

    Raises:
        TypeError: ``cls`` is not a model fmc converts.
        ValidationError: The data does not describe a valid ``cls``; the
            message lists each problem with its path.
    """
    converter, hooks = _wire()
    if cls not in hooks:
        raise TypeError(f"from_wire does not convert {getattr(cls, '__name__', cls)}")
    try:
        return converter.structure(data, cls)
    except Exception as exc:
        problems = "; ".join(transform_error(exc, format_exception=_describe))
        raise ValidationError(f"cannot read a {cls.__name__} from wire data: {problems}") from exc


def message_from_wire(data: object) -> Message:
    """Read any message back from Graph JSON, choosing its class from the JSON.

    ``text`` makes a :class:`~fmc.models.Text`; an ``attachment`` of type
    ``template`` makes the template its ``template_type`` names; any other
    attachment makes an :class:`~fmc.models.Attachment`.

    Args:
        data: The decoded JSON of a Send API ``message``.

    Returns:
        The message.

    Raises:
        ValidationError: The data does not describe a valid message.
    """
    try:
        message: Message = _wire()[0].structure(data, Message)  # type: ignore[arg-type]
    except Exception as exc:
        problems = "; ".join(transform_error(exc, format_exception=_describe))
        raise ValidationError(f"cannot read a message from wire data: {problems}") from exc
    if message is None:
        raise ValidationError("cannot read a message from wire data: got null")
    return message


def _describe(exc: BaseException, type_: Any) -> str:
    # fmc's own errors, the strict hooks' TypeErrors and enum lookups say what is wrong.
    if isinstance(exc, (ValueError, TypeError)):
        return str(exc)
    return format_exception(exc, type_)


def send_result_from_wire(data: object) -> SendResult:
    """Read the Send API's answer to a successful send.

    Args:
        data: The decoded JSON body, e.g. ``{"recipient_id": "...", "message_id": "..."}``.

    Returns:
        The result; ``recipient_id`` is ``None`` when Meta omits it
        (``user_ref`` recipients) and ``message_id`` for sender actions.

    Raises:
        ValidationError: The body is not a JSON object, is an error envelope,
            or holds a non-string id.
    """
    if not isinstance(data, dict):
        raise ValidationError(f"a Send API result must be a JSON object, got {type(data).__name__}")
    if "error" in data:
        raise ValidationError("a Send API result must not be an error envelope")
    recipient_id = data.get("recipient_id")
    message_id = data.get("message_id")
    if recipient_id is not None and not isinstance(recipient_id, str):
        raise ValidationError(
            f"a Send API result's recipient_id must be a string, got {type(recipient_id).__name__}"
        )
    if message_id is not None and not isinstance(message_id, str):
        raise ValidationError(
            f"a Send API result's message_id must be a string, got {type(message_id).__name__}"
        )
    return SendResult(recipient_id, message_id)
