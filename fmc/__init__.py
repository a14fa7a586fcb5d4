"""fmc: the Facebook Messenger Channel SDK for Python.

The names a user types are available here (``fmc.Client``, ``fmc.Text``,
``fmc.WebhookHandler`` …); each layer's package (``fmc.models``,
``fmc.transport``, ``fmc.webhook``, ``fmc.policy``, ``fmc.store``,
``fmc.channel``, ``fmc.testing``) has its own ``__all__``.

The names are loaded on first use (PEP 562), so that ``import fmc`` stays
cheap for programs that use one layer only, such as a webhook receiver.

:data:`_EXPORTS` is the one list of the public names: ``__all__``, the lazy
``__getattr__`` and ``__dir__`` are derived from it. Type checkers cannot read
a lazy table, so the ``TYPE_CHECKING`` block repeats it as imports;
``tests/test_exports.py`` fails when the two disagree. To export a name, add
it to both.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0.dev0"

#: Each public name and the package it is loaded from, on first use.
_EXPORTS: dict[str, str] = {
    "AccountLinkingEvent": "fmc.webhook",
    "AmbiguousSendError": "fmc.errors",
    "AsyncChannel": "fmc.channel",
    "AsyncClient": "fmc.transport",
    "Attachment": "fmc.models",
    "AttachmentType": "fmc.models",
    "AuthenticationError": "fmc.errors",
    "BroadcastProgress": "fmc.channel",
    "BroadcastReport": "fmc.channel",
    "Button": "fmc.models",
    "ButtonTemplate": "fmc.models",
    "CallButton": "fmc.models",
    "Channel": "fmc.channel",
    "Client": "fmc.transport",
    "ConfigurationError": "fmc.errors",
    "Decision": "fmc.policy",
    "DefaultAction": "fmc.models",
    "DeliveryEvent": "fmc.webhook",
    "EchoEvent": "fmc.webhook",
    "Element": "fmc.models",
    "Event": "fmc.webhook",
    "FMCError": "fmc.errors",
    "Forwarder": "fmc.webhook",
    "ForwardingRefused": "fmc.errors",
    "FrequencyCapError": "fmc.errors",
    "GamePlayEvent": "fmc.webhook",
    "GenericTemplate": "fmc.models",
    "GraphAPIError": "fmc.errors",
    "HandoverEvent": "fmc.webhook",
    "ImageAspectRatio": "fmc.models",
    "InvalidRequestError": "fmc.errors",
    "JournalEntry": "fmc.models",
    "JournalState": "fmc.models",
    "LimitError": "fmc.models",
    "MediaElement": "fmc.models",
    "MediaTemplate": "fmc.models",
    "MediaType": "fmc.models",
    "MemoryStore": "fmc.store",
    "Message": "fmc.models",
    "MessageEditEvent": "fmc.webhook",
    "MessageEvent": "fmc.webhook",
    "MessageTag": "fmc.models",
    "MessagingPolicy": "fmc.policy",
    "MessagingType": "fmc.models",
    "NetworkError": "fmc.errors",
    "NotificationToken": "fmc.models",
    "NotificationType": "fmc.models",
    "OptinEvent": "fmc.webhook",
    "OutsideWindowError": "fmc.errors",
    "Page": "fmc.models",
    "PageRestrictedError": "fmc.errors",
    "PageThrottledError": "fmc.errors",
    "PayloadError": "fmc.errors",
    "PayloadTooLargeError": "fmc.errors",
    "Permission": "fmc.policy",
    "PermissionDeniedError": "fmc.errors",
    "PolicyEnforcementEvent": "fmc.webhook",
    "PolicyRefused": "fmc.errors",
    "PostbackButton": "fmc.models",
    "PostbackEvent": "fmc.webhook",
    "PostgresStore": "fmc.store",
    "Purpose": "fmc.policy",
    "QuickReply": "fmc.models",
    "QuickReplyType": "fmc.models",
    "RateLimitError": "fmc.errors",
    "RateLimiter": "fmc.transport",
    "ReactionEvent": "fmc.webhook",
    "ReceivedAttachment": "fmc.webhook",
    "ReadEvent": "fmc.webhook",
    "ReceiptAddress": "fmc.models",
    "ReceiptAdjustment": "fmc.models",
    "ReceiptElement": "fmc.models",
    "ReceiptSummary": "fmc.models",
    "ReceiptTemplate": "fmc.models",
    "Recipient": "fmc.models",
    "RecipientUnavailableError": "fmc.errors",
    "ReferralEvent": "fmc.webhook",
    "Response": "fmc.webhook",
    "RetryPolicy": "fmc.transport",
    "SQLiteStore": "fmc.store",
    "SendOutcome": "fmc.transport",
    "SendRequest": "fmc.models",
    "SendResult": "fmc.models",
    "SendTimeoutError": "fmc.errors",
    "SendWithdrawnError": "fmc.errors",
    "SenderAction": "fmc.models",
    "SignatureError": "fmc.errors",
    "SignatureVerifier": "fmc.webhook",
    "StoreError": "fmc.errors",
    "Subscriber": "fmc.models",
    "SubscriberStatus": "fmc.models",
    "SubscriberStore": "fmc.store",
    "Text": "fmc.models",
    "TokenKind": "fmc.models",
    "TokenStatus": "fmc.models",
    "TransientError": "fmc.errors",
    "UncertainDeliveryError": "fmc.errors",
    "UnknownEvent": "fmc.webhook",
    "UrlButton": "fmc.models",
    "UserProfile": "fmc.transport",
    "ValidationError": "fmc.models",
    "VerificationError": "fmc.errors",
    "WebhookError": "fmc.errors",
    "WebhookHandler": "fmc.webhook",
    "WebviewHeightRatio": "fmc.models",
    "parse_delivery": "fmc.webhook",
    "parse_events": "fmc.webhook",
    "sign": "fmc.webhook",
    "verify_signature": "fmc.webhook",
}

__all__ = sorted(["__version__", *_EXPORTS])

if TYPE_CHECKING:
    # The same names as _EXPORTS, for type checkers ("X as X" marks a re-export).
    from fmc.channel import AsyncChannel as AsyncChannel
    from fmc.channel import BroadcastProgress as BroadcastProgress
    from fmc.channel import BroadcastReport as BroadcastReport
    from fmc.channel import Channel as Channel
    from fmc.errors import AmbiguousSendError as AmbiguousSendError
    from fmc.errors import AuthenticationError as AuthenticationError
    from fmc.errors import ConfigurationError as ConfigurationError
    from fmc.errors import FMCError as FMCError
    from fmc.errors import ForwardingRefused as ForwardingRefused
    from fmc.errors import FrequencyCapError as FrequencyCapError
    from fmc.errors import GraphAPIError as GraphAPIError
    from fmc.errors import InvalidRequestError as InvalidRequestError
    from fmc.errors import NetworkError as NetworkError
    from fmc.errors import OutsideWindowError as OutsideWindowError
    from fmc.errors import PageRestrictedError as PageRestrictedError
    from fmc.errors import PageThrottledError as PageThrottledError
    from fmc.errors import PayloadError as PayloadError
    from fmc.errors import PayloadTooLargeError as PayloadTooLargeError
    from fmc.errors import PermissionDeniedError as PermissionDeniedError
    from fmc.errors import PolicyRefused as PolicyRefused
    from fmc.errors import RateLimitError as RateLimitError
    from fmc.errors import RecipientUnavailableError as RecipientUnavailableError
    from fmc.errors import SendTimeoutError as SendTimeoutError
    from fmc.errors import SendWithdrawnError as SendWithdrawnError
    from fmc.errors import SignatureError as SignatureError
    from fmc.errors import StoreError as StoreError
    from fmc.errors import TransientError as TransientError
    from fmc.errors import UncertainDeliveryError as UncertainDeliveryError
    from fmc.errors import VerificationError as VerificationError
    from fmc.errors import WebhookError as WebhookError
    from fmc.models import Attachment as Attachment
    from fmc.models import AttachmentType as AttachmentType
    from fmc.models import Button as Button
    from fmc.models import ButtonTemplate as ButtonTemplate
    from fmc.models import CallButton as CallButton
    from fmc.models import DefaultAction as DefaultAction
    from fmc.models import Element as Element
    from fmc.models import GenericTemplate as GenericTemplate
    from fmc.models import ImageAspectRatio as ImageAspectRatio
    from fmc.models import JournalEntry as JournalEntry
    from fmc.models import JournalState as JournalState
    from fmc.models import LimitError as LimitError
    from fmc.models import MediaElement as MediaElement
    from fmc.models import MediaTemplate as MediaTemplate
    from fmc.models import MediaType as MediaType
    from fmc.models import Message as Message
    from fmc.models import MessageTag as MessageTag
    from fmc.models import MessagingType as MessagingType
    from fmc.models import NotificationToken as NotificationToken
    from fmc.models import NotificationType as NotificationType
    from fmc.models import Page as Page
    from fmc.models import PostbackButton as PostbackButton
    from fmc.models import QuickReply as QuickReply
    from fmc.models import QuickReplyType as QuickReplyType
    from fmc.models import ReceiptAddress as ReceiptAddress
    from fmc.models import ReceiptAdjustment as ReceiptAdjustment
    from fmc.models import ReceiptElement as ReceiptElement
    from fmc.models import ReceiptSummary as ReceiptSummary
    from fmc.models import ReceiptTemplate as ReceiptTemplate
    from fmc.models import Recipient as Recipient
    from fmc.models import SenderAction as SenderAction
    from fmc.models import SendRequest as SendRequest
    from fmc.models import SendResult as SendResult
    from fmc.models import Subscriber as Subscriber
    from fmc.models import SubscriberStatus as SubscriberStatus
    from fmc.models import Text as Text
    from fmc.models import TokenKind as TokenKind
    from fmc.models import TokenStatus as TokenStatus
    from fmc.models import UrlButton as UrlButton
    from fmc.models import ValidationError as ValidationError
    from fmc.models import WebviewHeightRatio as WebviewHeightRatio
    from fmc.policy import Decision as Decision
    from fmc.policy import MessagingPolicy as MessagingPolicy
    from fmc.policy import Permission as Permission
    from fmc.policy import Purpose as Purpose
    from fmc.store import MemoryStore as MemoryStore
    from fmc.store import PostgresStore as PostgresStore
    from fmc.store import SQLiteStore as SQLiteStore
    from fmc.store import SubscriberStore as SubscriberStore
    from fmc.transport import AsyncClient as AsyncClient
    from fmc.transport import Client as Client
    from fmc.transport import RateLimiter as RateLimiter
    from fmc.transport import RetryPolicy as RetryPolicy
    from fmc.transport import SendOutcome as SendOutcome
    from fmc.transport import UserProfile as UserProfile
    from fmc.webhook import AccountLinkingEvent as AccountLinkingEvent
    from fmc.webhook import DeliveryEvent as DeliveryEvent
    from fmc.webhook import EchoEvent as EchoEvent
    from fmc.webhook import Event as Event
    from fmc.webhook import Forwarder as Forwarder
    from fmc.webhook import GamePlayEvent as GamePlayEvent
    from fmc.webhook import HandoverEvent as HandoverEvent
    from fmc.webhook import MessageEditEvent as MessageEditEvent
    from fmc.webhook import MessageEvent as MessageEvent
    from fmc.webhook import OptinEvent as OptinEvent
    from fmc.webhook import PolicyEnforcementEvent as PolicyEnforcementEvent
    from fmc.webhook import PostbackEvent as PostbackEvent
    from fmc.webhook import ReactionEvent as ReactionEvent
    from fmc.webhook import ReadEvent as ReadEvent
    from fmc.webhook import ReceivedAttachment as ReceivedAttachment
    from fmc.webhook import ReferralEvent as ReferralEvent
    from fmc.webhook import Response as Response
    from fmc.webhook import SignatureVerifier as SignatureVerifier
    from fmc.webhook import UnknownEvent as UnknownEvent
    from fmc.webhook import WebhookHandler as WebhookHandler
    from fmc.webhook import parse_delivery as parse_delivery
    from fmc.webhook import parse_events as parse_events
    from fmc.webhook import sign as sign
    from fmc.webhook import verify_signature as verify_signature
else:

    def __getattr__(name: str) -> Any:
        module = _EXPORTS.get(name)
        if module is None:
            raise AttributeError(f"module 'fmc' has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        globals()[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted(set(globals()) | set(__all__))
