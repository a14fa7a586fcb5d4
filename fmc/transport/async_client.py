"""The async Graph API client: the same pipeline as :class:`fmc.Client`, on asyncio.

:class:`AsyncClient` drives the sans-I/O :class:`~fmc.transport.core.GraphCore`
with coroutines: every call is built and read by the core, waits on the same
kind of shared pause (:class:`~fmc.transport.gate.BackoffGate`) and
:class:`~fmc.transport.ratelimit.RateLimiter` without blocking the event loop,
is retried under the same :class:`~fmc.transport.retry.RetryPolicy` (tenacity's
``AsyncRetrying``), and travels over an
:class:`~fmc.transport.aiohttp_transport.AiohttpTransport` (the ``async``
extra) or any :class:`~fmc.transport.core.AsyncTransport`, such as
:class:`fmc.testing.AsyncFakeTransport`. Same errors, same ambiguity rules,
same outcomes.
"""

from __future__ import annotations

import asyncio
import datetime
import time
from collections.abc import (
    AsyncIterable,
    AsyncIterator,
    Awaitable,
    Callable,
    Iterable,
    Mapping,
    Sequence,
)
from types import TracebackType
from typing import Any, TypeVar

from fmc.models import (
    AttachmentType,
    Message,
    MessageTag,
    MessagingType,
    NotificationType,
    Page,
    Recipient,
    SenderAction,
    SendRequest,
    SendResult,
)
from fmc.transport.async_bulk import chunks, items, run_bounded_async
from fmc.transport.async_retry import AsyncRetrier
from fmc.transport.batch import BatchAnswer, BatchCall, worst_throttle
from fmc.transport.bulk import BatchRound
from fmc.transport.clocks import monotonic_argument, utc_now
from fmc.transport.core import (
    DEFAULT_API_VERSION,
    DEFAULT_BASE_URL,
    AsyncTransport,
    GraphRequest,
    TransportError,
    attachment_id,
    expect_success,
)
from fmc.transport.http import Timeout
from fmc.transport.outcome import SendOutcome, read_send_result
from fmc.transport.profile import DEFAULT_PROFILE_FIELDS, UserProfile, first_profile
from fmc.transport.ratelimit import RateLimiter
from fmc.transport.retry import RetryPolicy
from fmc.transport.settings import (
    PipelineDriver,
    check_batch_size,
    check_concurrency,
    pipeline,
)

__all__ = ["DEFAULT_IN_FLIGHT", "AsyncClient"]

T = TypeVar("T")
R = TypeVar("R")

#: Requests in flight by default in :meth:`AsyncClient.send_many`: at real
#: Graph latencies (100–300 ms) a Page's 300 sends/s need up to 90 in flight,
#: and 256 leaves room for slow answers without a thread per request.
DEFAULT_IN_FLIGHT = 256


class AsyncClient(PipelineDriver):
    """A Graph API client for one Page, for asyncio (``await client.send(...)``).

    It takes the same arguments as :class:`fmc.Client`, except that ``sleep``
    is a coroutine function, ``session`` is an :class:`aiohttp.ClientSession`,
    ``transport`` an :class:`~fmc.transport.core.AsyncTransport`, and
    ``concurrency`` is the number of requests in flight in :meth:`send_many`
    (256 by default). Use it as ``async with fmc.AsyncClient(page) as client``
    or call :meth:`close`.

    Raises:
        ConfigurationError: An argument fmc cannot work with.
    """

    def __init__(
        self,
        page: Page,
        *,
        base_url: str = DEFAULT_BASE_URL,
        api_version: str = DEFAULT_API_VERSION,
        timeout: Timeout = (3.05, 20.0),
        retry: RetryPolicy | None = None,
        rate_limit: float | RateLimiter | None = None,
        session: Any = None,
        concurrency: int = DEFAULT_IN_FLIGHT,
        max_pause: float | None = None,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
        wall_clock: Callable[[], datetime.datetime] = utc_now,
        transport: AsyncTransport | None = None,
        clock: Callable[[], float] | None = None,
    ) -> None:
        monotonic = monotonic_argument("AsyncClient", monotonic, clock)
        parts = pipeline(
            page,
            base_url=base_url,
            api_version=api_version,
            retry=retry,
            rate_limit=rate_limit,
            max_pause=max_pause,
            monotonic=monotonic,
            sleep=time.sleep,  # never called: the async paths await ``sleep``
            wall_clock=wall_clock,
        )
        self._adopt(page, parts, api_version=api_version, concurrency=concurrency)
        self._sleep = sleep
        if transport is None:
            from fmc.transport.aiohttp_transport import AiohttpTransport

            transport = AiohttpTransport(
                base_url=base_url, timeout=timeout, limit=self.concurrency, session=session
            )
        self._transport: AsyncTransport = transport
        self._retrier = AsyncRetrier(
            parts.retry,
            gate=parts.gate,
            monotonic=monotonic,
            sleep=sleep,
            max_pause=parts.max_pause,
        )
        #: Seconds one call may wait on the shared pause (``None``: no limit).
        self.max_pause = self._retrier.max_pause

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        """Close the transport's connections if the client opened them."""
        await self._transport.close()

    # -- the pipeline -------------------------------------------------------------------------

    async def _run(self, request: GraphRequest) -> Any:
        return await self._retrier.call(lambda: self._exchange(request), operation=request.what)

    async def _exchange(self, request: GraphRequest) -> Any:
        limiter = self.rate_limiter
        if limiter is not None:
            await limiter.acquire_async(request.tokens, sleep=self._sleep)
        try:
            answer = await self._transport.send(request)
        except TransportError as exc:
            raise self._core.failure(request, exc) from None
        return self._core.read(request, answer)

    # -- sends --------------------------------------------------------------------------------

    async def send(
        self,
        recipient: Recipient,
        message: Message,
        *,
        messaging_type: MessagingType | str | None = None,
        tag: MessageTag | str | None = None,
        notification_type: NotificationType | str | None = None,
        persona_id: str | None = None,
    ) -> SendResult:
        """Send one message (see :meth:`fmc.Client.send`; same arguments and errors)."""
        request = SendRequest(
            recipient,
            message,
            messaging_type=messaging_type,
            tag=tag,
            notification_type=notification_type,
            persona_id=persona_id,
        )
        return await self.send_request(request)

    async def sender_action(self, recipient: Recipient, action: SenderAction | str) -> SendResult:
        """Show a typing indicator or mark the seen state (see :meth:`fmc.Client.sender_action`)."""
        return await self.send_request(SendRequest(recipient, sender_action=action))

    async def send_request(self, request: SendRequest) -> SendResult:
        """Send one prepared request (see :meth:`fmc.Client.send_request`; same errors)."""
        graph_request = self._core.send(request)
        data = await self._run(graph_request)
        return read_send_result(data, message=request.message is not None)

    def send_many(
        self,
        requests: Iterable[SendRequest] | AsyncIterable[SendRequest],
        *,
        concurrency: int | None = None,
        batch_size: int | None = None,
    ) -> AsyncIterator[SendOutcome]:
        """Send many requests, yielding one :class:`~fmc.transport.SendOutcome` each as they finish.

        The asyncio form of :meth:`fmc.Client.send_many`: ``async for outcome
        in client.send_many(requests)``. The input (an iterable or an async
        iterable) is consumed lazily, at most ``concurrency`` requests (or
        batches) are in flight, and outcomes come in completion order; one
        failing request never stops the others. Closing the iterator early
        starts nothing new and waits for the requests in flight.

        Args:
            requests: The requests.
            concurrency: Requests in flight; the client's ``concurrency`` (256)
                by default.
            batch_size: Sends per Graph batch request, 1 to 50; ``None`` sends
                each on its own.

        Raises:
            ValueError: A concurrency below 1 or a batch size outside 1–50.
        """
        limit = self.concurrency if concurrency is None else check_concurrency(concurrency)
        if batch_size is None:
            return run_bounded_async(items(requests), self._send_one, limit=limit)
        batch_size = check_batch_size(batch_size, self.rate_limiter)
        return run_bounded_async(chunks(items(requests), batch_size), self._send_chunk, limit=limit)

    async def _send_one(self, request: SendRequest) -> list[SendOutcome]:
        try:
            return [SendOutcome(request, result=await self.send_request(request))]
        except Exception as exc:
            return [SendOutcome(request, error=exc)]

    async def _send_chunk(self, chunk: list[SendRequest]) -> list[SendOutcome]:
        batch = BatchRound(chunk, f"{self._core.page_path}/messages")

        async def attempt() -> None:
            request = self._core.batch(batch.calls(), sends_message=True)
            batch.absorb(await self._exchange(request))

        if batch.pending:
            try:
                await self._retrier.call(attempt, operation="batch")
            except Exception as exc:
                batch.fail(exc)
        return batch.outcomes()

    async def batch(
        self, calls: Sequence[BatchCall], *, idempotent: bool = False
    ) -> list[BatchAnswer | None]:
        """Make up to 50 Graph calls in one batch request (see :meth:`fmc.Client.batch`)."""
        request = self._core.batch(list(calls), sends_message=not idempotent)
        answers: list[BatchAnswer | None] = await self._run(request)
        if (throttle := worst_throttle(answers)) is not None:
            self._retrier.gate.throttled(throttle)  # calls inside it: the whole client pauses
        return answers

    # -- profiles and attachments -------------------------------------------------------------

    async def get_user_profile(
        self, psid: str, fields: Iterable[str] = DEFAULT_PROFILE_FIELDS
    ) -> UserProfile:
        """Read a person's profile (see :meth:`fmc.Client.get_user_profile`)."""
        return UserProfile.from_wire(await self._run(self._core.user_profile(psid, fields)))

    async def upload_attachment(
        self, type: AttachmentType | str, url: str, *, is_reusable: bool = True
    ) -> str:
        """Upload a file by URL for reuse (see :meth:`fmc.Client.upload_attachment`)."""
        request = self._core.upload_attachment(type, url, is_reusable=is_reusable)
        return attachment_id(await self._run(request))

    async def get_messenger_profile(self, fields: Iterable[str] | str) -> dict[str, Any]:
        """Read Messenger profile properties (see :meth:`fmc.Client.get_messenger_profile`)."""
        return first_profile(await self._run(self._core.get_messenger_profile(fields)))

    async def set_messenger_profile(
        self,
        *,
        get_started: str | Mapping[str, Any] | None = None,
        greeting: str | Mapping[str, str] | Sequence[Mapping[str, Any]] | None = None,
        persistent_menu: Sequence[Any] | None = None,
        ice_breakers: Sequence[Any] | None = None,
        whitelisted_domains: Sequence[str] | None = None,
    ) -> None:
        """Set Messenger profile properties (see :meth:`fmc.Client.set_messenger_profile`)."""
        request = self._core.set_messenger_profile(
            get_started=get_started,
            greeting=greeting,
            persistent_menu=persistent_menu,
            ice_breakers=ice_breakers,
            whitelisted_domains=whitelisted_domains,
        )
        expect_success(await self._run(request))

    async def delete_messenger_profile(self, fields: Iterable[str] | str) -> None:
        """Delete Messenger profile properties (see :meth:`fmc.Client.delete_messenger_profile`)."""
        expect_success(await self._run(self._core.delete_messenger_profile(fields)))
