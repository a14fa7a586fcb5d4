"""Test fmc-based apps without Facebook: a fake Graph API, fault injection, signed webhooks.

- :class:`FakeGraphAPI` answers the Send API, batch requests, the user profile,
  attachment upload and the Messenger profile like Meta, records every
  :class:`Delivery`, and injects :class:`Fault`\\ s on demand. Put it on the wire
  with :meth:`FakeGraphAPI.mock` (requests-mock) or :meth:`FakeGraphAPI.serve`
  (a real loopback server, :class:`FakeGraphServer`), run it in a subprocess
  with :class:`FakeGraphProcess`, or plug it into a client as its transport
  (:class:`FakeTransport`, :class:`AsyncFakeTransport`: in process, truly
  concurrent).
- :func:`signed_delivery` and the event builders make webhook deliveries with
  a valid ``X-Hub-Signature-256``.
- The pytest plugin (installed with fmc) gives the fixtures ``fake_graph``,
  ``fake_graph_server`` and ``fmc_client``.

Names are imported on first use, so that loading the pytest plugin, or running
``python -m fmc.testing.server``, imports only what it needs.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from fmc.testing.deliveries import (
        StandbyEvent,
        delivery_event,
        delivery_payload,
        echo_event,
        message_event,
        optin_event,
        policy_enforcement_event,
        postback_event,
        reaction_event,
        read_event,
        referral_event,
        signature_headers,
        signed_delivery,
        standby,
        verification_query,
    )
    from fmc.testing.fake_graph import DEFAULT_BASE_URL, DEFAULT_PAGE_ID, FakeGraphAPI
    from fmc.testing.faults import Fault, FaultInjector, FaultKind, Per
    from fmc.testing.process import FakeGraphProcess
    from fmc.testing.records import Delivery, RecordedRequest, Reply
    from fmc.testing.server import FakeGraphServer
    from fmc.testing.transport import AsyncFakeTransport, FakeTransport

__all__ = [
    "DEFAULT_BASE_URL",
    "DEFAULT_PAGE_ID",
    "AsyncFakeTransport",
    "Delivery",
    "FakeGraphAPI",
    "FakeGraphProcess",
    "FakeGraphServer",
    "FakeTransport",
    "Fault",
    "FaultInjector",
    "FaultKind",
    "Per",
    "RecordedRequest",
    "Reply",
    "StandbyEvent",
    "delivery_event",
    "delivery_payload",
    "echo_event",
    "message_event",
    "optin_event",
    "policy_enforcement_event",
    "postback_event",
    "reaction_event",
    "read_event",
    "referral_event",
    "signature_headers",
    "signed_delivery",
    "standby",
    "verification_query",
]

_MODULES = {
    "fmc.testing.fake_graph": ("DEFAULT_BASE_URL", "DEFAULT_PAGE_ID", "FakeGraphAPI"),
    "fmc.testing.records": ("Delivery", "RecordedRequest", "Reply"),
    "fmc.testing.faults": ("Fault", "FaultInjector", "FaultKind", "Per"),
    "fmc.testing.process": ("FakeGraphProcess",),
    "fmc.testing.server": ("FakeGraphServer",),
    "fmc.testing.transport": ("AsyncFakeTransport", "FakeTransport"),
}
_WHERE = {name: module for module, names in _MODULES.items() for name in names}


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name, "fmc.testing.deliveries" if name in __all__ else None)
    if module is None:
        raise AttributeError(f"module 'fmc.testing' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
