"""The Channel facade: register who writes, answer, notify and broadcast.

Each name is loaded on first use, so that a program using the sync
:class:`Channel` does not import asyncio for :class:`AsyncChannel`.
:data:`_EXPORTS` is the one list of the public names; the ``TYPE_CHECKING``
block repeats it for type checkers, and ``tests/test_exports.py`` fails when
the two disagree.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from fmc._lazy import lazy_exports

#: Each public name and the module it is loaded from, on first use.
_EXPORTS: dict[str, str] = {
    "DEFAULT_LEASE": "fmc.channel.control",
    "INTERACTION_EVENTS": "fmc.channel.registration",
    "AsyncChannel": "fmc.channel.async_channel",
    "BroadcastProgress": "fmc.channel.report",
    "BroadcastReport": "fmc.channel.report",
    "BroadcastRun": "fmc.channel.broadcast",
    "Channel": "fmc.channel.channel",
    "ProgressCallback": "fmc.channel.broadcast",
    "Registrar": "fmc.channel.registration",
    "StopReason": "fmc.channel.control",
    "TemplateParameters": "fmc.channel.utility_route",
    "UtilityTemplateRequired": "fmc.channel.utility_route",
    "broadcast_id_for": "fmc.channel.control",
}

__all__ = sorted(_EXPORTS)

if TYPE_CHECKING:
    # The same names as _EXPORTS, for type checkers ("X as X" marks a re-export).
    from fmc.channel.async_channel import AsyncChannel as AsyncChannel
    from fmc.channel.broadcast import BroadcastRun as BroadcastRun
    from fmc.channel.broadcast import ProgressCallback as ProgressCallback
    from fmc.channel.channel import Channel as Channel
    from fmc.channel.control import DEFAULT_LEASE as DEFAULT_LEASE
    from fmc.channel.control import StopReason as StopReason
    from fmc.channel.control import broadcast_id_for as broadcast_id_for
    from fmc.channel.registration import INTERACTION_EVENTS as INTERACTION_EVENTS
    from fmc.channel.registration import Registrar as Registrar
    from fmc.channel.report import BroadcastProgress as BroadcastProgress
    from fmc.channel.report import BroadcastReport as BroadcastReport
    from fmc.channel.utility_route import TemplateParameters as TemplateParameters
    from fmc.channel.utility_route import UtilityTemplateRequired as UtilityTemplateRequired
else:
    __getattr__, __dir__ = lazy_exports(globals(), _EXPORTS)
