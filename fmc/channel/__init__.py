"""The Channel facade: register who writes, answer, notify and broadcast."""

from __future__ import annotations

from fmc.channel.async_channel import AsyncChannel
from fmc.channel.broadcast import BroadcastRun, ProgressCallback
from fmc.channel.channel import Channel
from fmc.channel.control import DEFAULT_LEASE, StopReason, broadcast_id_for
from fmc.channel.registration import INTERACTION_EVENTS, Registrar
from fmc.channel.report import BroadcastProgress, BroadcastReport
from fmc.channel.utility_route import TemplateParameters, UtilityTemplateRequired

__all__ = [
    "DEFAULT_LEASE",
    "INTERACTION_EVENTS",
    "AsyncChannel",
    "BroadcastProgress",
    "BroadcastReport",
    "BroadcastRun",
    "Channel",
    "ProgressCallback",
    "Registrar",
    "StopReason",
    "TemplateParameters",
    "UtilityTemplateRequired",
    "broadcast_id_for",
]
