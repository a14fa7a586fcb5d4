"""Which faults fire on a call: the fake Graph API's seeded draws, and the count of what fired.

Faults compose: latency faults add up, and of the other faults the first one
added that fires wins. Every fault whose conditions match draws its random
number on every call, fired or not, so adding a fault never changes when the
faults added before it fire. :class:`FaultInjector` counts what it injected in
``injected``, by kind, so a drill can match e.g. the ambiguous outcomes it saw
with the connections the fake dropped after delivering.
"""

from __future__ import annotations

import random
import threading
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import attrs

from fmc.testing.faults import Fault, FaultKind, Per

__all__ = ["FaultInjector"]


@attrs.define
class _Armed:
    fault: Fault
    rng: random.Random
    remaining: int | None


class FaultInjector:
    """The faults a fake Graph API is injecting, and the count of what it injected.

    Thread-safe. Each fault added gets its own random generator, seeded from the
    injector's seed and the fault's position, so its draws do not depend on the
    faults around it.

    Attributes:
        injected: How many faults of each kind (:class:`FaultKind` value) fired.
    """

    def __init__(
        self, seed: int = 0, faults: Iterable[Fault | str | Mapping[str, Any]] = ()
    ) -> None:
        """Create an injector.

        Args:
            seed: Seeds the draws of ``ratio`` faults.
            faults: Faults to start with.
        """
        self._seed = seed
        self._lock = threading.Lock()
        self._armed: list[_Armed] = []
        self._added = 0
        self.injected: Counter[str] = Counter()
        self.add(*faults)

    def add(self, *faults: Fault | str | Mapping[str, Any]) -> None:
        """Start injecting these faults (after those already added).

        Args:
            faults: :class:`Fault` objects, their text form, or their JSON form.
        """
        built = [_coerce(fault) for fault in faults]
        with self._lock:
            for fault in built:
                rng = random.Random(f"{self._seed}:{self._added}:{fault.kind.value}")
                self._armed.append(_Armed(fault, rng, fault.times))
                self._added += 1

    def replace(self, faults: Iterable[Fault | str | Mapping[str, Any]]) -> None:
        """Stop every fault and start injecting ``faults`` instead (``injected`` is kept).

        Args:
            faults: The new faults.
        """
        built = [_coerce(fault) for fault in faults]
        with self._lock:
            self._armed.clear()
            self._added = 0
        self.add(*built)

    def clear(self) -> None:
        """Stop every fault and forget what was injected."""
        with self._lock:
            self._armed.clear()
            self._added = 0
            self.injected.clear()

    @property
    def active(self) -> tuple[Fault, ...]:
        """The faults that may still fire, in the order they were added."""
        with self._lock:
            return tuple(a.fault for a in self._armed if a.remaining is None or a.remaining > 0)

    def __bool__(self) -> bool:
        return bool(self._armed)

    def pick(self, per: Per, psids: Sequence[str]) -> Fault | None:
        """Draw for one call and return the fault that fires on it, if any (counted).

        Latency faults are not considered; see :meth:`delay`.

        Args:
            per: Whether the call is one send or one HTTP request.
            psids: The recipients of the call (none for calls without one).

        Returns:
            The first fault, in the order added, that fires; ``None`` for none.
        """
        if not self._armed:
            return None
        chosen: _Armed | None = None
        with self._lock:
            for armed in self._armed:
                fault = armed.fault
                if fault.kind is FaultKind.LATENCY or fault.per is not per:
                    continue
                if _fires(armed, psids) and chosen is None:
                    chosen = armed
            if chosen is None:
                return None
            if chosen.remaining is not None:
                chosen.remaining -= 1
            self.injected[chosen.fault.kind.value] += 1
            return chosen.fault

    def delay(self, psids: Sequence[str]) -> float:
        """Draw the latency faults for one HTTP request; the seconds they add (counted).

        Args:
            psids: The recipients of the request's sends.

        Returns:
            The sum of the delays of the latency faults that fire.
        """
        if not self._armed:
            return 0.0
        total = 0.0
        with self._lock:
            for armed in self._armed:
                if armed.fault.kind is FaultKind.LATENCY and _fires(armed, psids):
                    if armed.remaining is not None:
                        armed.remaining -= 1
                    self.injected[FaultKind.LATENCY.value] += 1
                    total += armed.fault.delay
        return total


def _fires(armed: _Armed, psids: Sequence[str]) -> bool:
    """Whether a fault applies to a call; draws its random number whenever it might."""
    fault = armed.fault
    if fault.psids is not None and not any(psid in fault.psids for psid in psids):
        return False
    if armed.remaining is not None and armed.remaining <= 0:
        return False
    if fault.ratio is not None:
        return armed.rng.random() < fault.ratio
    return True


def _coerce(fault: Fault | str | Mapping[str, Any]) -> Fault:
    if isinstance(fault, Fault):
        return fault
    if isinstance(fault, str):
        return Fault.parse(fault)
    return Fault.from_dict(fault)
