"""The webhook's callbacks: who is called for which event, in which order, failures isolated.

A callback registered for an event class receives that class and its
subclasses (:class:`~fmc.webhook.events.Event` receives all); delivery
callbacks receive each delivery's new events at once, before the per-event
ones. The lookup per event class is cached, and a registration (rare, at
start-up) replaces the cache instead of locking the hot path. A failing
callback is logged with the event's kind and ``mid``, never raised: the other
callbacks and events still run. :mod:`fmc.webhook.async_respond` awaits the
same callbacks in the same order with the same logging.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from fmc.webhook.events import Event

__all__ = ["Callback", "Callbacks", "DeliveryCallback", "log_delivery_failure", "log_event_failure"]

#: A per-event callback.
Callback = Callable[[Any], object]
#: A callback given each delivery's new events.
DeliveryCallback = Callable[[list[Event]], object]


def _name(func: object) -> str:
    return getattr(func, "__qualname__", None) or repr(func)


def log_delivery_failure(log: logging.Logger, callback: object, events: list[Event]) -> None:
    """Log (with the traceback) a delivery callback that raised."""
    log.exception("webhook delivery callback %s failed on %d events", _name(callback), len(events))


def log_event_failure(log: logging.Logger, callback: object, event: Event) -> None:
    """Log (with the traceback) a per-event callback that raised."""
    log.exception(
        "webhook callback %s failed on a %s event (mid=%s)",
        _name(callback),
        event.kind,
        getattr(event, "mid", None),
    )


class Callbacks:
    """The registered callbacks of one handler."""

    def __init__(self) -> None:
        self._registered: list[tuple[type[Event], Callback]] = []
        self.delivery: tuple[DeliveryCallback, ...] = ()
        self._table: dict[type[Event], tuple[Callback, ...]] = {}

    def add(self, event_class: type[Event], callback: Callback) -> None:
        """Call ``callback`` for every event of ``event_class`` (and its subclasses)."""
        self._registered = [*self._registered, (event_class, callback)]
        self._table = {}

    def add_delivery(self, callback: DeliveryCallback) -> None:
        """Call ``callback`` once per delivery with its new events."""
        self.delivery = (*self.delivery, callback)

    def functions(self) -> list[object]:
        """Every registered function, per-event and per-delivery."""
        found: list[object] = [func for _cls, func in self._registered]
        found.extend(self.delivery)
        return found

    def for_event(self, cls: type[Event]) -> tuple[Callback, ...]:
        """The callbacks for an event class, in registration order."""
        found = self._table.get(cls)
        if found is not None:
            return found
        registered = self._registered
        found = tuple(func for base, func in registered if issubclass(cls, base))
        table = dict(self._table)
        table[cls] = found
        # Cache only if nobody registered meanwhile; otherwise the next call recomputes.
        if self._registered is registered:
            self._table = table
        return found

    def dispatch(self, events: list[Event], log: logging.Logger) -> None:
        """Call the delivery callbacks, then each event's callbacks; log what raises."""
        # Delivery callbacks first: they record state (the Channel registers the
        # senders), so per-event callbacks that reply see the window this very
        # message opened.
        for on_delivery in self.delivery:
            try:
                on_delivery(events)
            except Exception:
                log_delivery_failure(log, on_delivery, events)
        table = self._table
        for event in events:
            callbacks = table.get(type(event))
            if callbacks is None:
                callbacks = self.for_event(type(event))
            for callback in callbacks:
                try:
                    callback(event)
                except Exception:
                    log_event_failure(log, callback, event)
