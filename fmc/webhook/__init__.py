"""Receiving Messenger webhooks: handshake, signatures, typed events, dedup, dispatch, forwarding.

Start with :class:`~fmc.webhook.handler.WebhookHandler`; wire it to a server with
:mod:`fmc.adapters.wsgi` or :mod:`fmc.adapters.asgi`.

Names load on first use: a webhook-only program that touches
``fmc.webhook.WebhookHandler`` never imports the forwarder or the HTTP stack
(``requests``, ``tenacity``); ``fmc.webhook.Forwarder`` loads them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from fmc._lazy import lazy_exports

#: Every public name and the module that defines it: the one source of
#: ``__all__``, the lazy ``__getattr__`` and ``__dir__`` (a test checks that the
#: ``TYPE_CHECKING`` imports below list the same names).
_EXPORTS: dict[str, str] = {
    "AccountLinkingEvent": "fmc.webhook.events",
    "Coordinates": "fmc.webhook.parts",
    "DedupStore": "fmc.store.protocols",
    "Delivery": "fmc.webhook.parse",
    "DeliveryEvent": "fmc.webhook.events",
    "EchoEvent": "fmc.webhook.events",
    "Event": "fmc.webhook.events",
    "FeedbackAnswer": "fmc.webhook.feedback",
    "ForwardRetry": "fmc.webhook.forward_retry",
    "Forwarder": "fmc.webhook.forward",
    "GamePlayEvent": "fmc.webhook.events",
    "HandoverEvent": "fmc.webhook.events",
    "InvalidEvent": "fmc.webhook.invalid",
    "MemoryDedup": "fmc.webhook.dedup",
    "MemoryOutbox": "fmc.store.memory_outbox",
    "MessageEditEvent": "fmc.webhook.events",
    "MessageEvent": "fmc.webhook.events",
    "MessagingEvent": "fmc.webhook.events",
    "MessagingFeedbackEvent": "fmc.webhook.feedback",
    "OptinEvent": "fmc.webhook.events",
    "OutboxStore": "fmc.store.protocols",
    "PolicyEnforcementEvent": "fmc.webhook.events",
    "PostbackEvent": "fmc.webhook.events",
    "ReactionEvent": "fmc.webhook.events",
    "ReadEvent": "fmc.webhook.events",
    "ReceivedAttachment": "fmc.webhook.parts",
    "Referral": "fmc.webhook.parts",
    "ReferralEvent": "fmc.webhook.events",
    "Response": "fmc.webhook.response",
    "ResponseFeedbackEvent": "fmc.webhook.feedback",
    "SignatureVerifier": "fmc.webhook.signature",
    "UnknownEvent": "fmc.webhook.events",
    "WebhookHandler": "fmc.webhook.handler",
    "dedup_key": "fmc.webhook.dedup",
    "make_event_converter": "fmc.webhook.parse",
    "parse_delivery": "fmc.webhook.parse",
    "parse_events": "fmc.webhook.parse",
    "redact_url": "fmc.webhook.addresses",
    "sign": "fmc.webhook.signature",
    "strip_url_to_path": "fmc.webhook.addresses",
    "verify_signature": "fmc.webhook.signature",
}

#: Deprecated class names, kept one release: old name -> (new name, warning).
#: (The deprecated functions ``parse_delivery`` and ``redact_url`` are exported
#: above and warn when called.)
_RENAMED: dict[str, tuple[str, str]] = {
    "Attachment": (
        "ReceivedAttachment",
        "fmc.webhook.Attachment is deprecated and will be removed in the next release; "
        "use fmc.webhook.ReceivedAttachment",
    ),
}

__all__ = sorted(_EXPORTS)

if TYPE_CHECKING:
    from fmc.store.memory_outbox import MemoryOutbox as MemoryOutbox
    from fmc.store.protocols import DedupStore as DedupStore
    from fmc.store.protocols import OutboxStore as OutboxStore
    from fmc.webhook.addresses import redact_url as redact_url
    from fmc.webhook.addresses import strip_url_to_path as strip_url_to_path
    from fmc.webhook.dedup import MemoryDedup as MemoryDedup
    from fmc.webhook.dedup import dedup_key as dedup_key
    from fmc.webhook.events import AccountLinkingEvent as AccountLinkingEvent
    from fmc.webhook.events import DeliveryEvent as DeliveryEvent
    from fmc.webhook.events import EchoEvent as EchoEvent
    from fmc.webhook.events import Event as Event
    from fmc.webhook.events import GamePlayEvent as GamePlayEvent
    from fmc.webhook.events import HandoverEvent as HandoverEvent
    from fmc.webhook.events import MessageEditEvent as MessageEditEvent
    from fmc.webhook.events import MessageEvent as MessageEvent
    from fmc.webhook.events import MessagingEvent as MessagingEvent
    from fmc.webhook.events import OptinEvent as OptinEvent
    from fmc.webhook.events import PolicyEnforcementEvent as PolicyEnforcementEvent
    from fmc.webhook.events import PostbackEvent as PostbackEvent
    from fmc.webhook.events import ReactionEvent as ReactionEvent
    from fmc.webhook.events import ReadEvent as ReadEvent
    from fmc.webhook.events import ReferralEvent as ReferralEvent
    from fmc.webhook.events import UnknownEvent as UnknownEvent
    from fmc.webhook.feedback import FeedbackAnswer as FeedbackAnswer
    from fmc.webhook.feedback import MessagingFeedbackEvent as MessagingFeedbackEvent
    from fmc.webhook.feedback import ResponseFeedbackEvent as ResponseFeedbackEvent
    from fmc.webhook.forward import Forwarder as Forwarder
    from fmc.webhook.forward_retry import ForwardRetry as ForwardRetry
    from fmc.webhook.handler import WebhookHandler as WebhookHandler
    from fmc.webhook.invalid import InvalidEvent as InvalidEvent
    from fmc.webhook.parse import Delivery as Delivery
    from fmc.webhook.parse import make_event_converter as make_event_converter
    from fmc.webhook.parse import parse_delivery as parse_delivery
    from fmc.webhook.parse import parse_events as parse_events
    from fmc.webhook.parts import Coordinates as Coordinates
    from fmc.webhook.parts import ReceivedAttachment as ReceivedAttachment
    from fmc.webhook.parts import Referral as Referral
    from fmc.webhook.response import Response as Response
    from fmc.webhook.signature import SignatureVerifier as SignatureVerifier
    from fmc.webhook.signature import sign as sign
    from fmc.webhook.signature import verify_signature as verify_signature
else:
    __getattr__, __dir__ = lazy_exports(globals(), _EXPORTS, _RENAMED)
