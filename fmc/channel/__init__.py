"""The Channel facade: register who writes, answer, notify and broadcast."""

from __future__ import annotations

from fmc.channel.broadcast import BroadcastRun, ProgressCallback
from fmc.channel.channel import Channel
from fmc.channel.control import DEFAULT_LEASE, StopReason, broadcast_id_for
from fmc.channel.registration import INTERACTION_EVENTS, Registrar
from fmc.channel.report import BroadcastProgress, BroadcastReport

__all__ = [
    "DEFAULT_LEASE",
    "INTERACTION_EVENTS",
    "BroadcastProgress",
    "BroadcastReport",
    "BroadcastRun",
    "Channel",
    "ProgressCallback",
    "Registrar",
    "StopReason",
    "broadcast_id_for",
]
