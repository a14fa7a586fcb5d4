"""Test fmc-based apps without Facebook: a fake Graph API, fault injection, signed webhooks.

- :class:`FakeGraphAPI` answers the Send API, batch requests, the user profile,
  attachment upload and the Messenger profile like Meta, records every
  :class:`AcceptedSend`, and injects :class:`Fault`\\ s on demand. Put it on the
  wire with :meth:`FakeGraphAPI.mock` (requests-mock) or :meth:`FakeGraphAPI.serve`
  (a real loopback server, :class:`FakeGraphServer`), or plug it into a client
  as its transport (:class:`FakeTransport`, :class:`AsyncFakeTransport`: in
  process, truly concurrent).
- :func:`signed_delivery` and the event builders make webhook deliveries with
  a valid ``X-Hub-Signature-256``.
- The pytest plugin :mod:`fmc.testing.pytest_plugin` gives the fixtures
  ``fake_graph``, ``fake_graph_server`` and ``fmc_client`` to the projects that
  ask for it (``pytest_plugins = ["fmc.testing.pytest_plugin"]``).

Names are imported on first use, so that loading the pytest plugin, or running
``python -m fmc.testing.server``, imports only what it needs. ``Delivery``, the
former name of :class:`AcceptedSend`, still works for one release, with a
:class:`DeprecationWarning`.
"""

from __future__ import annotations

import importlib
import warnings
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from fmc.testing.deliveries import (
        StandbyEvent,
        delivery_payload,
        signature_headers,
        signed_delivery,
        standby,
        verification_query,
    )
    from fmc.testing.events import (
        delivery_event,
        echo_event,
        message_event,
        optin_event,
        policy_enforcement_event,
        postback_event,
        reaction_event,
        read_event,
        referral_event,
    )
    from fmc.testing.fake_graph import (
        DEFAULT_BASE_URL,
        DEFAULT_PAGE_ID,
        FakeGraphAPI,
        FakeGraphServer,
    )
    from fmc.testing.faults import Fault, FaultKind, FaultWhen, Per
    from fmc.testing.injector import FaultInjector
    from fmc.testing.records import AcceptedSend, RecordedRequest, Reply
    from fmc.testing.transport import AsyncFakeTransport, FakeTransport

__all__ = [
    "DEFAULT_BASE_URL",
    "DEFAULT_PAGE_ID",
    "AcceptedSend",
    "AsyncFakeTransport",
    "FakeGraphAPI",
    "FakeGraphServer",
    "FakeTransport",
    "Fault",
    "FaultInjector",
    "FaultKind",
    "FaultWhen",
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

#: The module of each name (the event builders' when not listed).
_WHERE = {
    "DEFAULT_BASE_URL": "fmc.testing.fake_graph",
    "DEFAULT_PAGE_ID": "fmc.testing.fake_graph",
    "FakeGraphAPI": "fmc.testing.fake_graph",
    "FakeGraphServer": "fmc.testing.fake_graph",
    "Fault": "fmc.testing.faults",
    "FaultKind": "fmc.testing.faults",
    "FaultWhen": "fmc.testing.faults",
    "Per": "fmc.testing.faults",
    "FaultInjector": "fmc.testing.injector",
    "AcceptedSend": "fmc.testing.records",
    "RecordedRequest": "fmc.testing.records",
    "Reply": "fmc.testing.records",
    "AsyncFakeTransport": "fmc.testing.transport",
    "FakeTransport": "fmc.testing.transport",
    "StandbyEvent": "fmc.testing.deliveries",
    "delivery_payload": "fmc.testing.deliveries",
    "signature_headers": "fmc.testing.deliveries",
    "signed_delivery": "fmc.testing.deliveries",
    "standby": "fmc.testing.deliveries",
    "verification_query": "fmc.testing.deliveries",
}

#: Former names, kept for one release: name -> (new name, the version that removes it).
_DEPRECATED = {"Delivery": ("AcceptedSend", "0.2")}


def __getattr__(name: str) -> Any:
    if name in _DEPRECATED:
        new, removal = _DEPRECATED[name]
        warnings.warn(
            f"fmc.testing.{name} is deprecated and will be removed in fmc {removal}; "
            f"use fmc.testing.{new} (the same class, renamed for what it is: a send the "
            "fake Graph API accepted, not a webhook delivery)",
            DeprecationWarning,
            stacklevel=2,
        )
        return __getattr__(new)
    if name not in __all__:
        raise AttributeError(f"module 'fmc.testing' has no attribute {name!r}")
    value = getattr(importlib.import_module(_WHERE.get(name, "fmc.testing.events")), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
