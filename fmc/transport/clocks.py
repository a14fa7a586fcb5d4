"""The transport's two time sources, and the deprecated name of one of them.

* ``monotonic``: seconds as a float that never goes back
  (:func:`time.monotonic`). Deadlines, the rate limiter and the shared pause
  measure with it.
* ``wall_clock``: the aware UTC time now (:func:`utc_now`), for what a person
  reads, such as :attr:`PageThrottledError.resume_at
  <fmc.errors.PageThrottledError.resume_at>`.

Across fmc, ``clock`` means a callable that returns an aware UTC datetime
(the channel's, the webhook handler's, the forwarder's). The clients, the
rate limiter, :class:`fmc.testing.FakeGraphAPI` and the CLI's progress printer
called their monotonic timer ``clock`` too; that keyword still works for one
release, with a :class:`DeprecationWarning`, through :func:`monotonic_argument`.
"""

from __future__ import annotations

import datetime
import time
import warnings
from collections.abc import Callable

from fmc.errors import ConfigurationError

__all__ = ["monotonic_argument", "utc_now"]


def utc_now() -> datetime.datetime:
    """The aware UTC time now (the default wall clock)."""
    return datetime.datetime.now(datetime.timezone.utc)


def monotonic_argument(
    owner: str,
    monotonic: Callable[[], float],
    clock: Callable[[], float] | None,
) -> Callable[[], float]:
    """The monotonic timer an object was given, by its name or by the deprecated ``clock=``.

    Args:
        owner: The class that was called, for the messages (``"Client"``).
        monotonic: The ``monotonic=`` argument (:func:`time.monotonic` when not given).
        clock: The deprecated ``clock=`` argument, or ``None``.

    Returns:
        The timer to use.

    Raises:
        ConfigurationError: Both names were given.
    """
    if clock is None:
        return monotonic
    if monotonic is not time.monotonic:
        raise ConfigurationError(
            f"{owner}: pass the monotonic timer once, as monotonic= (clock= is its old name)"
        )
    warnings.warn(
        f"{owner}(clock=...) is deprecated and will be removed in the next release: pass the "
        "monotonic timer as monotonic=... (in fmc, clock= means an aware UTC datetime callable)",
        DeprecationWarning,
        stacklevel=3,
    )
    return clock
