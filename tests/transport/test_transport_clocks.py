"""A monotonic timer is ``monotonic=`` everywhere; ``clock=`` is its deprecated name.

The clients and the rate limiter, the fake Graph API and the CLI's progress
printer all take it; in fmc, ``clock=`` means an aware UTC datetime callable.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import pytest

from fmc.cli.progress import ProgressPrinter
from fmc.errors import ConfigurationError
from fmc.models import Page
from fmc.testing import AsyncFakeTransport, FakeGraphAPI
from fmc.transport import AsyncClient, Client, RateLimiter, RetryPolicy


def _client(page: Page, **timing: Any) -> Client:
    return Client(page, retry=RetryPolicy(attempts=2, wait_jitter=0.0), **timing)


def _async_client(page: Page, **timing: Any) -> AsyncClient:
    return AsyncClient(page, transport=AsyncFakeTransport(FakeGraphAPI()), **timing)


def _limiter(_page: Page, rate_limit: float = 300, **timing: Any) -> RateLimiter:
    return RateLimiter(rate_limit, **timing)


def _fake_graph(_page: Page, **timing: Any) -> FakeGraphAPI:
    timing.pop("sleep", None)
    return FakeGraphAPI(**timing)


def _progress_printer(_page: Page, **timing: Any) -> ProgressPrinter:
    timing.pop("sleep", None)
    return ProgressPrinter(io.StringIO(), **timing)


#: The objects whose rate limiter measures with the monotonic timer.
TIMED: list[Callable[..., object]] = [_client, _async_client, _limiter]
TIMED_IDS = ["Client", "AsyncClient", "RateLimiter"]
#: Each object that takes the monotonic timer, by how it is built.
OWNERS: list[Callable[..., object]] = [*TIMED, _fake_graph, _progress_printer]
OWNER_IDS = [*TIMED_IDS, "FakeGraphAPI", "ProgressPrinter"]


@pytest.mark.parametrize("make", OWNERS, ids=OWNER_IDS)
def test_clock_keyword_warns_that_it_is_deprecated(
    make: Callable[..., object], page: Page, monotonic: Any
) -> None:
    """clock= still builds the object, with a DeprecationWarning pointing to monotonic=."""
    with pytest.warns(DeprecationWarning, match=r"monotonic="):
        make(page, clock=monotonic, sleep=monotonic.sleep)


@pytest.mark.parametrize("make", OWNERS, ids=OWNER_IDS)
def test_monotonic_keyword_does_not_warn(
    make: Callable[..., object], page: Page, monotonic: Any, recwarn: Any
) -> None:
    """monotonic= is the current name: no warning."""
    make(page, monotonic=monotonic, sleep=monotonic.sleep)
    assert [w for w in recwarn if issubclass(w.category, DeprecationWarning)] == []


@pytest.mark.parametrize("make", OWNERS, ids=OWNER_IDS)
def test_both_names_at_once_are_refused(
    make: Callable[..., object], page: Page, monotonic: Any
) -> None:
    """Passing the timer as monotonic= and clock= is a ConfigurationError naming both."""
    with pytest.raises(ConfigurationError, match=r"monotonic=.*clock="):
        make(page, monotonic=monotonic, clock=monotonic)


#: A monotonic time no real machine reads (31 years of uptime).
FAR = 1e9


@pytest.mark.parametrize("make", TIMED, ids=TIMED_IDS)
def test_deprecated_clock_is_the_timer_used(make: Callable[..., object], page: Page) -> None:
    """The timer given as clock= is the one the rate limiter measures with."""
    with pytest.warns(DeprecationWarning, match=r"clock="):
        made = make(page, clock=lambda: FAR, rate_limit=300)
    limiter = made if isinstance(made, RateLimiter) else made.rate_limiter  # type: ignore[attr-defined]
    assert limiter.reserve() == FAR
