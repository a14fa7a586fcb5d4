"""Messages a Page sends: text, attachments, and (re-exported here) the templates.

:data:`Message` is the union of every message class; a
:class:`~fmc.models.send.SendRequest` carries one of them.
"""

from __future__ import annotations

import enum

import attrs

from fmc.models.feedback import CustomerFeedbackTemplate
from fmc.models.limits import ValidationError, limited, non_empty, web_url
from fmc.models.marketing import MarketingOptInRequest
from fmc.models.optin_requests import OneTimeNotificationRequest
from fmc.models.quick_replies import QuickReply, check_quick_replies, quick_replies_tuple
from fmc.models.sticker import Sticker
from fmc.models.templates import ButtonTemplate, GenericTemplate, MediaTemplate, ReceiptTemplate
from fmc.models.utility import UtilityTemplate

__all__ = ["MESSAGE_CLASSES", "Attachment", "AttachmentType", "Message", "Text"]

_metadata = limited("Message.metadata", optional=True)


class AttachmentType(str, enum.Enum):
    """What kind of file an :class:`Attachment` sends."""

    IMAGE = "image"
    AUDIO = "audio"
    VIDEO = "video"
    FILE = "file"


@attrs.frozen
class Text:
    """A text message.

    Attributes:
        text: The text, 1 to 2,000 characters.
        quick_replies: Up to 13 quick replies.
        metadata: A string echoed back in the ``message_echoes`` webhook, at
            most 1,000 characters.

    Raises:
        LimitError: The text is empty or longer than 2,000 characters, there
            are more than 13 quick replies, or the metadata is too long.
    """

    text: str = attrs.field(validator=limited("Text.text"))
    quick_replies: tuple[QuickReply, ...] = attrs.field(
        default=(), converter=quick_replies_tuple, validator=check_quick_replies, kw_only=True
    )
    metadata: str | None = attrs.field(default=None, validator=_metadata, kw_only=True)


@attrs.frozen
class Attachment:
    """An image, audio, video or file, by URL or by the id of an uploaded attachment.

    Attributes:
        type: Image, audio, video or file (an :class:`AttachmentType` or its
            wire value).
        url: Where Meta fetches the file (http or https).
        is_reusable: Ask Meta for a reusable ``attachment_id`` (URL only).
        attachment_id: An id from the attachment upload API or an earlier
            reusable send.
        quick_replies: Up to 13 quick replies.
        metadata: A string echoed back in the ``message_echoes`` webhook.

    Raises:
        ValidationError: Not exactly one of ``url`` and ``attachment_id``, or
            ``is_reusable`` with an ``attachment_id``.
        LimitError: More than 13 quick replies, or metadata too long.
    """

    type: AttachmentType = attrs.field(converter=AttachmentType)
    url: str | None = attrs.field(
        default=None, validator=attrs.validators.optional(web_url), kw_only=True
    )
    is_reusable: bool | None = attrs.field(
        default=None,
        validator=attrs.validators.optional(attrs.validators.instance_of(bool)),
        kw_only=True,
    )
    attachment_id: str | None = attrs.field(
        default=None, validator=attrs.validators.optional(non_empty), kw_only=True
    )
    quick_replies: tuple[QuickReply, ...] = attrs.field(
        default=(), converter=quick_replies_tuple, validator=check_quick_replies, kw_only=True
    )
    metadata: str | None = attrs.field(default=None, validator=_metadata, kw_only=True)

    def __attrs_post_init__(self) -> None:
        if (self.url is None) == (self.attachment_id is None):
            raise ValidationError("an Attachment takes exactly one of url and attachment_id")
        if self.attachment_id is not None and self.is_reusable is not None:
            raise ValidationError(
                "Attachment.is_reusable only applies to an attachment sent by url"
            )


#: Any message a Page can send.
Message = (
    Text
    | Attachment
    | GenericTemplate
    | ButtonTemplate
    | MediaTemplate
    | ReceiptTemplate
    | Sticker
    | CustomerFeedbackTemplate
    | OneTimeNotificationRequest
    | UtilityTemplate
    | MarketingOptInRequest
)

#: The message classes, for ``isinstance`` checks.
MESSAGE_CLASSES: tuple[type, ...] = (
    Text,
    Attachment,
    GenericTemplate,
    ButtonTemplate,
    MediaTemplate,
    ReceiptTemplate,
    Sticker,
    CustomerFeedbackTemplate,
    OneTimeNotificationRequest,
    UtilityTemplate,
    MarketingOptInRequest,
)
