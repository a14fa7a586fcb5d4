"""fmc's data models: frozen, slotted attrs classes, validated at construction.

A model that Meta would refuse (2,001 characters of text, 14 quick replies, 4
buttons) fails here, in the caller's code, with a :class:`ValueError` that
names the field, the limit and the size. :mod:`fmc.convert` turns the models
into Graph JSON and back.
"""

from __future__ import annotations

from fmc.models.broadcast import JournalEntry, JournalState
from fmc.models.buttons import (
    Button,
    CallButton,
    DefaultAction,
    PostbackButton,
    UrlButton,
    WebviewHeightRatio,
)
from fmc.models.feedback import (
    BusinessPrivacy,
    CustomerFeedbackTemplate,
    FeedbackFollowUp,
    FeedbackQuestion,
    FeedbackScoreType,
    FeedbackScreen,
)
from fmc.models.limits import LIMITS, Limit, LimitError, Unit, ValidationError
from fmc.models.marketing import MarketingOptInRequest, OptInCallToAction
from fmc.models.menu import MenuItem, MenuPostback, MenuUrl
from fmc.models.messages import MESSAGE_CLASSES, Attachment, AttachmentType, Message, Text
from fmc.models.optin_requests import OneTimeNotificationRequest
from fmc.models.outbox import OutboxItem
from fmc.models.page import Page
from fmc.models.quick_replies import QuickReply, QuickReplyType
from fmc.models.recipient import Recipient
from fmc.models.send import (
    MessageTag,
    MessagingType,
    NotificationType,
    SenderAction,
    SendRequest,
    SendResult,
)
from fmc.models.sticker import Sticker
from fmc.models.subscriber import (
    NotificationToken,
    Subscriber,
    SubscriberStatus,
    TokenKind,
    TokenStatus,
)
from fmc.models.templates import (
    ButtonTemplate,
    Element,
    GenericTemplate,
    ImageAspectRatio,
    MediaElement,
    MediaTemplate,
    MediaType,
    ReceiptAddress,
    ReceiptAdjustment,
    ReceiptElement,
    ReceiptSummary,
    ReceiptTemplate,
)
from fmc.models.utility import TemplateParameter, UtilityTemplate

__all__ = [
    "LIMITS",
    "MESSAGE_CLASSES",
    "Attachment",
    "AttachmentType",
    "BusinessPrivacy",
    "Button",
    "ButtonTemplate",
    "CallButton",
    "CustomerFeedbackTemplate",
    "DefaultAction",
    "Element",
    "FeedbackFollowUp",
    "FeedbackQuestion",
    "FeedbackScoreType",
    "FeedbackScreen",
    "GenericTemplate",
    "ImageAspectRatio",
    "JournalEntry",
    "JournalState",
    "Limit",
    "LimitError",
    "MarketingOptInRequest",
    "MediaElement",
    "MediaTemplate",
    "MediaType",
    "MenuItem",
    "MenuPostback",
    "MenuUrl",
    "Message",
    "MessageTag",
    "MessagingType",
    "NotificationToken",
    "NotificationType",
    "OneTimeNotificationRequest",
    "OptInCallToAction",
    "OutboxItem",
    "Page",
    "PostbackButton",
    "QuickReply",
    "QuickReplyType",
    "ReceiptAddress",
    "ReceiptAdjustment",
    "ReceiptElement",
    "ReceiptSummary",
    "ReceiptTemplate",
    "Recipient",
    "SendRequest",
    "SendResult",
    "SenderAction",
    "Sticker",
    "Subscriber",
    "SubscriberStatus",
    "TemplateParameter",
    "Text",
    "TokenKind",
    "TokenStatus",
    "Unit",
    "UrlButton",
    "UtilityTemplate",
    "ValidationError",
    "WebviewHeightRatio",
]
