"""Many businesses, one deployment: :class:`Platform` serves many Facebook apps and Pages.

Apps and Pages live in the store beside the subscribers, their secrets sealed
with :class:`KeyRing` (the ``platform`` extra); one webhook endpoint answers
every app at ``/webhook/<app-id>`` and routes each entry to its Page's
:class:`~fmc.Channel`. See the guide "Serving many businesses".
"""

from __future__ import annotations

from fmc.platform.broadcasts import PlatformBroadcastReport
from fmc.platform.errors import EncryptionKeyError, OnboardingError, UnknownAccountError
from fmc.platform.keys import KEYS_ENV, KeyRing
from fmc.platform.onboarding import DEFAULT_FIELDS, PageHealth, TokenInfo
from fmc.platform.plans import PagePlan, PlatformBroadcastPlan, RuleCount
from fmc.platform.platform import Platform, PlatformStore
from fmc.platform.records import App, PageRecord, PageStatus
from fmc.platform.registry import Registry
from fmc.platform.serving import AppWebhook, make_asgi_app, make_wsgi_app
from fmc.platform.subscriptions import AppSubscription
from fmc.platform.webhook import PlatformWebhook

__all__ = [
    "DEFAULT_FIELDS",
    "KEYS_ENV",
    "App",
    "AppSubscription",
    "AppWebhook",
    "EncryptionKeyError",
    "KeyRing",
    "OnboardingError",
    "PageHealth",
    "PagePlan",
    "PageRecord",
    "PageStatus",
    "Platform",
    "PlatformBroadcastPlan",
    "PlatformBroadcastReport",
    "PlatformStore",
    "PlatformWebhook",
    "Registry",
    "RuleCount",
    "TokenInfo",
    "UnknownAccountError",
    "make_asgi_app",
    "make_wsgi_app",
]
