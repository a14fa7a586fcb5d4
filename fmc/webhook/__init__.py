"""Receiving Messenger webhooks: handshake, signatures, typed events, dedup, dispatch, forwarding.

Start with :class:`~fmc.webhook.handler.WebhookHandler`; wire it to a server with
:mod:`fmc.adapters.wsgi` or :mod:`fmc.adapters.asgi`.
"""

from __future__ import annotations

from fmc.webhook.addresses import redact_url
from fmc.webhook.dedup import DedupStore, MemoryDedup, dedup_key
from fmc.webhook.events import (
    AccountLinkingEvent,
    Attachment,
    Coordinates,
    DeliveryEvent,
    EchoEvent,
    Event,
    FeedbackAnswer,
    GamePlayEvent,
    HandoverEvent,
    MessageEditEvent,
    MessageEvent,
    MessagingEvent,
    MessagingFeedbackEvent,
    OptinEvent,
    PolicyEnforcementEvent,
    PostbackEvent,
    ReactionEvent,
    ReadEvent,
    Referral,
    ReferralEvent,
    ResponseFeedbackEvent,
    UnknownEvent,
)
from fmc.webhook.forward import Forwarder, ForwardRetry
from fmc.webhook.handler import Response, WebhookHandler
from fmc.webhook.invalid import InvalidEvent
from fmc.webhook.outbox import MemoryOutbox, OutboxStore
from fmc.webhook.parse import Delivery, make_event_converter, parse_delivery
from fmc.webhook.signature import SignatureVerifier, sign, verify_signature

__all__ = [
    "AccountLinkingEvent",
    "Attachment",
    "Coordinates",
    "DedupStore",
    "Delivery",
    "DeliveryEvent",
    "EchoEvent",
    "Event",
    "FeedbackAnswer",
    "ForwardRetry",
    "Forwarder",
    "GamePlayEvent",
    "HandoverEvent",
    "InvalidEvent",
    "MemoryDedup",
    "MemoryOutbox",
    "MessageEditEvent",
    "MessageEvent",
    "MessagingEvent",
    "MessagingFeedbackEvent",
    "OptinEvent",
    "OutboxStore",
    "PolicyEnforcementEvent",
    "PostbackEvent",
    "ReactionEvent",
    "ReadEvent",
    "Referral",
    "ReferralEvent",
    "Response",
    "ResponseFeedbackEvent",
    "SignatureVerifier",
    "UnknownEvent",
    "WebhookHandler",
    "dedup_key",
    "make_event_converter",
    "parse_delivery",
    "redact_url",
    "sign",
    "verify_signature",
]
