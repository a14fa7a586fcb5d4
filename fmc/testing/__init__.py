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

from typing import TYPE_CHECKING

from fmc._lazy import lazy_exports

#: Each public name and the module it is loaded from, on first use.
_EXPORTS: dict[str, str] = {
    "DEFAULT_BASE_URL": "fmc.testing.fake_graph",
    "DEFAULT_PAGE_ID": "fmc.testing.fake_graph",
    "AcceptedSend": "fmc.testing.records",
    "AsyncFakeTransport": "fmc.testing.transport",
    "FakeGraphAPI": "fmc.testing.fake_graph",
    "FakeGraphServer": "fmc.testing.fake_graph",
    "FakeTransport": "fmc.testing.transport",
    "Fault": "fmc.testing.faults",
    "FaultInjector": "fmc.testing.injector",
    "FaultKind": "fmc.testing.faults",
    "FaultWhen": "fmc.testing.faults",
    "Per": "fmc.testing.faults",
    "RecordedRequest": "fmc.testing.records",
    "Reply": "fmc.testing.records",
    "StandbyEvent": "fmc.testing.deliveries",
    "delivery_event": "fmc.testing.events",
    "delivery_payload": "fmc.testing.deliveries",
    "echo_event": "fmc.testing.events",
    "message_event": "fmc.testing.events",
    "optin_event": "fmc.testing.events",
    "policy_enforcement_event": "fmc.testing.events",
    "postback_event": "fmc.testing.events",
    "reaction_event": "fmc.testing.events",
    "read_event": "fmc.testing.events",
    "referral_event": "fmc.testing.events",
    "signature_headers": "fmc.testing.deliveries",
    "signed_delivery": "fmc.testing.deliveries",
    "standby": "fmc.testing.deliveries",
    "verification_query": "fmc.testing.deliveries",
}

#: Former names, kept for one release: old name -> (new name, warning).
_RENAMED: dict[str, tuple[str, str]] = {
    "Delivery": (
        "AcceptedSend",
        "fmc.testing.Delivery is deprecated and will be removed in fmc 0.2; "
        "use fmc.testing.AcceptedSend (the same class, renamed for what it is: a send the "
        "fake Graph API accepted, not a webhook delivery)",
    ),
}

__all__ = sorted(_EXPORTS)

if TYPE_CHECKING:
    # The same names as _EXPORTS, for type checkers ("X as X" marks a re-export).
    from fmc.testing.deliveries import StandbyEvent as StandbyEvent
    from fmc.testing.deliveries import delivery_payload as delivery_payload
    from fmc.testing.deliveries import signature_headers as signature_headers
    from fmc.testing.deliveries import signed_delivery as signed_delivery
    from fmc.testing.deliveries import standby as standby
    from fmc.testing.deliveries import verification_query as verification_query
    from fmc.testing.events import delivery_event as delivery_event
    from fmc.testing.events import echo_event as echo_event
    from fmc.testing.events import message_event as message_event
    from fmc.testing.events import optin_event as optin_event
    from fmc.testing.events import policy_enforcement_event as policy_enforcement_event
    from fmc.testing.events import postback_event as postback_event
    from fmc.testing.events import reaction_event as reaction_event
    from fmc.testing.events import read_event as read_event
    from fmc.testing.events import referral_event as referral_event
    from fmc.testing.fake_graph import DEFAULT_BASE_URL as DEFAULT_BASE_URL
    from fmc.testing.fake_graph import DEFAULT_PAGE_ID as DEFAULT_PAGE_ID
    from fmc.testing.fake_graph import FakeGraphAPI as FakeGraphAPI
    from fmc.testing.fake_graph import FakeGraphServer as FakeGraphServer
    from fmc.testing.faults import Fault as Fault
    from fmc.testing.faults import FaultKind as FaultKind
    from fmc.testing.faults import FaultWhen as FaultWhen
    from fmc.testing.faults import Per as Per
    from fmc.testing.injector import FaultInjector as FaultInjector
    from fmc.testing.records import AcceptedSend as AcceptedSend
    from fmc.testing.records import RecordedRequest as RecordedRequest
    from fmc.testing.records import Reply as Reply
    from fmc.testing.transport import AsyncFakeTransport as AsyncFakeTransport
    from fmc.testing.transport import FakeTransport as FakeTransport
else:
    __getattr__, __dir__ = lazy_exports(globals(), _EXPORTS, _RENAMED)
