"""The options both clients take, checked once: one place says what is valid.

:func:`pipeline` checks a client's options and builds the parts of the
transport pipeline they configure — the sans-I/O
:class:`~fmc.transport.core.GraphCore`, the shared
:class:`~fmc.transport.gate.BackoffGate` and the optional
:class:`~fmc.transport.ratelimit.RateLimiter` — so that :class:`fmc.Client`
and :class:`fmc.AsyncClient` accept and refuse exactly the same values;
:class:`PipelineDriver` is what both keep of them.
"""

from __future__ import annotations

import datetime
import math
import re
from collections.abc import Callable

import attrs

from fmc.errors import ConfigurationError
from fmc.models import Page
from fmc.transport.batch import MAX_BATCH_SIZE
from fmc.transport.clocks import utc_now
from fmc.transport.core import DEFAULT_API_VERSION, GraphCore
from fmc.transport.gate import BackoffGate
from fmc.transport.ratelimit import RateLimiter
from fmc.transport.retry import RetryPolicy

# utc_now lived here before fmc.transport.clocks.
__all__ = [
    "Pipeline",
    "PipelineDriver",
    "check_batch_size",
    "check_concurrency",
    "pipeline",
    "utc_now",
]

_API_VERSION = re.compile(r"v\d+\.\d+")


def check_concurrency(value: object, name: str = "concurrency") -> int:
    """A positive int of calls in flight.

    Raises:
        ConfigurationError: Anything else.
    """
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigurationError(f"{name} must be a positive int, got {value!r}")
    return value


def check_batch_size(value: object, limiter: RateLimiter | None) -> int:
    """A batch size from 1 to 50, cut to what the rate limiter lets start at once.

    Raises:
        ValueError: Not an int from 1 to 50.
    """
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"batch_size must be an int from 1 to {MAX_BATCH_SIZE}")
    if not 1 <= value <= MAX_BATCH_SIZE:
        raise ValueError(f"batch_size must be from 1 to {MAX_BATCH_SIZE}, got {value}")
    return min(value, limiter.capacity) if limiter is not None else value


@attrs.frozen
class Pipeline:
    """The checked, built parts a client drives.

    Attributes:
        core: Builds requests and reads answers.
        retry: The retry policy.
        gate: The pause shared by every call of the client.
        rate_limiter: Spaces sends, or ``None``.
        max_pause: Seconds one call may wait on the gate (``None``: the
            policy's timeout).
    """

    core: GraphCore
    retry: RetryPolicy
    gate: BackoffGate
    rate_limiter: RateLimiter | None
    max_pause: float | None


def pipeline(
    page: object,
    *,
    base_url: object,
    api_version: object,
    retry: object,
    rate_limit: object,
    max_pause: object,
    monotonic: Callable[[], float],
    sleep: Callable[[float], object],
    wall_clock: Callable[[], datetime.datetime],
) -> Pipeline:
    """Check a client's options and build its pipeline.

    Raises:
        ConfigurationError: An option fmc cannot work with, named with the
            value it got.
    """
    if not isinstance(page, Page):
        raise ConfigurationError(f"page must be an fmc.Page, got {type(page).__name__}")
    if not isinstance(base_url, str) or not base_url.startswith(("https://", "http://")):
        raise ConfigurationError(f"base_url must be an http(s) URL, got {base_url!r}")
    if not isinstance(api_version, str) or not _API_VERSION.fullmatch(api_version):
        raise ConfigurationError(
            f"api_version must look like {DEFAULT_API_VERSION!r}, got {api_version!r}"
        )
    if retry is not None and not isinstance(retry, RetryPolicy):
        raise ConfigurationError(f"retry must be a RetryPolicy, got {type(retry).__name__}")
    if max_pause is not None and (
        isinstance(max_pause, bool)
        or not isinstance(max_pause, (int, float))
        or math.isnan(max_pause)
        or max_pause < 0
    ):
        raise ConfigurationError(
            f"max_pause must be a number of seconds >= 0 or None, got {max_pause!r}"
        )
    policy = retry if retry is not None else RetryPolicy()
    limiter: RateLimiter | None
    if rate_limit is None or isinstance(rate_limit, RateLimiter):
        limiter = rate_limit
    else:
        try:
            limiter = RateLimiter(rate_limit, monotonic=monotonic, sleep=sleep)  # type: ignore[arg-type]
        except ValueError as exc:
            raise ConfigurationError(f"rate_limit: {exc}") from None
    gate = BackoffGate(
        monotonic=monotonic, sleep=sleep, backoff=policy.backoff, wall_clock=wall_clock
    )
    core = GraphCore(page, base_url=base_url, api_version=api_version)
    return Pipeline(core, policy, gate, limiter, max_pause)


class PipelineDriver:
    """What both clients keep of their checked options, and how they show it.

    A client calls :meth:`_adopt` with the :class:`Pipeline` that
    :func:`pipeline` built; its ``repr`` names the Page, never its token.
    """

    #: The Page the client sends as.
    page: Page
    #: The pinned Graph version.
    api_version: str
    #: Calls in flight by default in ``send_many``.
    concurrency: int
    #: The retry policy.
    retry: RetryPolicy
    #: Spaces sends, or ``None``.
    rate_limiter: RateLimiter | None
    #: Builds every Graph request of the Page and reads the answers.
    _core: GraphCore

    def _adopt(self, page: Page, parts: Pipeline, *, api_version: str, concurrency: object) -> None:
        """Keep the checked parts.

        Raises:
            ConfigurationError: ``concurrency`` is not a positive int.
        """
        self.concurrency = check_concurrency(concurrency)
        self.page = page
        self.api_version = api_version
        self.retry = parts.retry
        self.rate_limiter = parts.rate_limiter
        self._core = parts.core

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(page_id={self.page.id!r}, api_version={self.api_version!r}, "
            f"rate_limiter={self.rate_limiter!r})"
        )
