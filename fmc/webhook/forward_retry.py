"""How hard the :class:`~fmc.webhook.Forwarder` tries: immediate retries, then the outbox."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import attrs

__all__ = ["ForwardRetry"]


def _positive(_instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value <= 0:
        raise ValueError(f"{attribute.name} must be positive")


@attrs.frozen(kw_only=True)
class ForwardRetry:
    """How hard the forwarder tries.

    Attributes:
        attempts: Immediate attempts per delivery before it goes to the outbox.
        wait_initial: First wait between immediate attempts, seconds.
        wait_max: Longest wait between immediate attempts, seconds.
        wait_jitter: Random extra wait, seconds.
        outbox_wait_initial: First wait before an outbox retry (doubles each time).
        outbox_wait_max: Longest wait between outbox retries.
        give_up_after: A delivery older than this is abandoned (and logged).
    """

    attempts: int = attrs.field(default=3, validator=_positive)
    wait_initial: float = attrs.field(default=0.5, validator=_positive)
    wait_max: float = attrs.field(default=5.0, validator=_positive)
    wait_jitter: float = attrs.field(default=0.5, validator=attrs.validators.ge(0))
    outbox_wait_initial: timedelta = timedelta(seconds=30)
    outbox_wait_max: timedelta = timedelta(hours=1)
    give_up_after: timedelta = timedelta(days=3)

    def outbox_wait(self, attempts: int) -> timedelta:
        """The wait before outbox retry number ``attempts``.

        Args:
            attempts: Failed attempts so far (1 or more).

        Returns:
            The wait.
        """
        factor: int = 2 ** min(max(attempts - 1, 0), 30)
        wait: timedelta = self.outbox_wait_initial * factor
        return min(wait, self.outbox_wait_max)
