"""The sync Graph API client: sends, bulk sends and batches (profiles in page_calls).

:class:`Client` is the one object an application keeps per Page: the threaded
driver of the pipeline in :mod:`fmc.transport.core` (build, shared pause, rate
limiter, retry policy, read), over a pooled :class:`requests.Session` or any
:class:`~fmc.transport.core.Transport`. :class:`fmc.AsyncClient` drives the
same pipeline on asyncio.
"""

from __future__ import annotations

import datetime
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

import requests

from fmc._closing import Closing
from fmc.errors import SendWithdrawnError
from fmc.models import (
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
from fmc.transport.batch import BatchAnswer, BatchCall, worst_throttle
from fmc.transport.bulk import WITHDRAWN, BeforeSend, chunked, run_bounded, send_chunk
from fmc.transport.clocks import monotonic_argument, utc_now
from fmc.transport.core import (
    DEFAULT_API_VERSION,
    DEFAULT_BASE_URL,
    GraphRequest,
    Transport,
    TransportError,
)
from fmc.transport.http import RequestsTransport, Timeout
from fmc.transport.outcome import SendOutcome, read_send_result
from fmc.transport.page_calls import PageCalls
from fmc.transport.ratelimit import RateLimiter
from fmc.transport.retry import Retrier, RetryPolicy
from fmc.transport.settings import (
    PipelineDriver,
    check_batch_size,
    check_concurrency,
    pipeline,
)

__all__ = ["DEFAULT_CONCURRENCY", "Client"]

#: Sends in flight by default. Meta allows a Page about 300 text sends a
#: second; at 100 ms per Graph call that takes 30 calls in flight, and 48
#: keeps the Page at its limit with calls of up to 160 ms.
DEFAULT_CONCURRENCY = 48


class Client(PipelineDriver, PageCalls, Closing):
    """A Graph API client for one Page (threads; see :class:`fmc.AsyncClient` for asyncio).

    Args:
        page: The Page to send as, with its access token (and app secret, for
            ``appsecret_proof`` on every call).
        base_url: Graph's root URL; point it at a fake Graph API in tests.
        api_version: The pinned Graph version.
        timeout: ``(connect, read)`` seconds for every call, or one number.
        retry: What to retry and how long; :meth:`RetryPolicy.none` never retries.
        rate_limit: ``None`` (no limit), sends per second, or a
            :class:`RateLimiter` shared with other clients of the same Page.
            Every HTTP attempt, retries included, takes one token per send it
            carries.
        session: A ``requests.Session`` to use; the client then neither
            changes its adapters nor closes it.
        concurrency: Default threads of :meth:`send_many`, and the connection
            pool's size. The default, ``DEFAULT_CONCURRENCY`` (48), keeps
            300 sends/s (Meta's per-Page text limit) going at up to 160 ms per
            call.
        max_pause: Seconds one call may wait, in total, on the client's
            shared pause while Meta throttles the Page; a longer pause makes
            every call raise :class:`~fmc.errors.PageThrottledError` at once,
            unsent. ``None``: the retry policy's ``timeout``; ``math.inf``: no limit.
        monotonic: Monotonic time in seconds (deadlines, rate limiting, pauses).
        sleep: Sleeps between retries and for the rate limiter.
        wall_clock: Aware UTC now, for :attr:`PageThrottledError.resume_at
            <fmc.errors.PageThrottledError.resume_at>`.
        transport: Moves the bytes instead of a pooled ``requests`` session
            (e.g. :class:`fmc.testing.FakeTransport`); ``timeout`` and
            ``session`` then do not apply.
        clock: Deprecated name of ``monotonic`` (one release, with a
            :class:`DeprecationWarning`): in fmc, ``clock`` means an aware
            UTC datetime callable.

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
        session: requests.Session | None = None,
        concurrency: int = DEFAULT_CONCURRENCY,
        max_pause: float | None = None,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], object] = time.sleep,
        wall_clock: Callable[[], datetime.datetime] = utc_now,
        transport: Transport | None = None,
        clock: Callable[[], float] | None = None,
    ) -> None:
        monotonic = monotonic_argument("Client", monotonic, clock)
        parts = pipeline(
            page,
            base_url=base_url,
            api_version=api_version,
            retry=retry,
            rate_limit=rate_limit,
            max_pause=max_pause,
            monotonic=monotonic,
            sleep=sleep,
            wall_clock=wall_clock,
        )
        self._adopt(page, parts, api_version=api_version, concurrency=concurrency)
        self._requests_transport: RequestsTransport | None = None
        if transport is None:
            self._requests_transport = RequestsTransport(
                base_url=base_url,
                timeout=timeout,
                session=session,
                pool_size=self.concurrency,
                redactor=self._core.redactor,
            )
            transport = self._requests_transport
        self._transport: Transport = transport
        self._retrier = Retrier(
            parts.retry,
            monotonic=monotonic,
            sleep=sleep,
            gate=parts.gate,
            max_pause=parts.max_pause,
        )
        #: Seconds one call may wait on the shared pause (``None``: no limit).
        self.max_pause = self._retrier.max_pause

    def close(self) -> None:
        """Close the transport's connections if the client created them."""
        self._transport.close()

    def _run(self, request: GraphRequest) -> Any:
        """One Graph call through the whole pipeline: gate, limiter, transport, reading, retry."""
        return self._retrier.call(lambda: self._exchange(request), operation=request.what)

    def _exchange(self, request: GraphRequest) -> Any:
        """One attempt: the rate limiter, then the transport."""
        return self._exchange_handed(request.tokens, lambda: request)

    def _exchange_handed(self, tokens: int, handoff: Callable[[], GraphRequest | None]) -> Any:
        """One attempt whose request ``handoff`` gives after the rate limiter.

        ``handoff`` runs right before the request is written and returns the
        request to send, or ``None`` to send nothing (the attempt then raises
        :class:`~fmc.errors.SendWithdrawnError`). The request is built only
        then, so a batch whose calls the handoff changes is encoded once.
        """
        limiter = self.rate_limiter
        if limiter is not None:
            limiter.acquire(tokens)
        request = handoff()
        if request is None:
            raise SendWithdrawnError(WITHDRAWN)
        try:
            answer = self._transport.send(request)
        except TransportError as exc:
            raise self._core.failure(request, exc) from None
        return self._core.read(request, answer)

    def send(
        self,
        recipient: Recipient,
        message: Message,
        *,
        messaging_type: MessagingType | str | None = None,
        tag: MessageTag | str | None = None,
        notification_type: NotificationType | str | None = None,
        persona_id: str | None = None,
    ) -> SendResult:
        """Send one message.

        Args:
            recipient: Who gets it.
            message: A :class:`~fmc.models.Text`, attachment or template.
            messaging_type: ``RESPONSE`` (default for a message), ``UPDATE``,
                or ``MESSAGE_TAG`` (default when a tag is given).
            tag: The message tag for a send outside the 24-hour window.
            notification_type: How the person's phone announces it.
            persona_id: Send as this persona.

        Returns:
            Meta's answer, with the message id.

        Raises:
            ValueError: The request is one Meta would refuse (built before any call).
            GraphAPIError: Meta refused it (a subclass chosen by its code), after
                retrying rate limits and transient errors.
            NetworkError: Graph could not be reached within the retry policy.
            AmbiguousSendError: The message may or may not have been sent (read
                timeout, dropped connection, Meta's 1/1357046); never retried.
        """
        request = SendRequest(
            recipient,
            message,
            messaging_type=messaging_type,
            tag=tag,
            notification_type=notification_type,
            persona_id=persona_id,
        )
        return self.send_request(request)

    def sender_action(self, recipient: Recipient, action: SenderAction | str) -> SendResult:
        """Show a typing indicator or mark the conversation seen.

        Args:
            recipient: The person.
            action: ``typing_on``, ``typing_off`` or ``mark_seen``.

        Returns:
            Meta's answer (no message id).

        Raises:
            ValueError: Not a sender action; otherwise as :meth:`send`.
        """
        return self.send_request(SendRequest(recipient, sender_action=action))

    def send_request(self, request: SendRequest) -> SendResult:
        """Send one prepared :class:`~fmc.models.SendRequest`.

        Args:
            request: The request.

        Returns:
            Meta's answer.

        Raises:
            TypeError: Not a SendRequest; otherwise as :meth:`send`.
        """
        return self._send(request, None)

    def _send(self, request: SendRequest, before_send: BeforeSend | None) -> SendResult:
        graph_request = self._core.send(request)
        handed = before_send is None

        def handoff() -> GraphRequest | None:
            nonlocal handed
            if handed:
                return graph_request
            handed = True
            assert before_send is not None
            return graph_request if before_send([request])[0] else None

        data = self._retrier.call(
            lambda: self._exchange_handed(graph_request.tokens, handoff),
            operation=graph_request.what,
        )
        return read_send_result(data, message=request.message is not None)

    def send_many(
        self,
        requests: Iterable[SendRequest],
        *,
        concurrency: int | None = None,
        batch_size: int | None = None,
        before_send: BeforeSend | None = None,
    ) -> Iterator[SendOutcome]:
        """Send many requests concurrently, yielding one outcome per request.

        The input is consumed lazily: at most about ``2 × concurrency``
        requests (``2 × concurrency`` batches with ``batch_size``) are held at
        any time, so a generator over millions of subscribers runs in constant
        memory. Outcomes come in **completion order**, not input order; each
        carries its request. One failing request never stops the others: its
        error is in its outcome. Closing the iterator early cancels requests
        not yet started and waits for those in flight.

        With ``batch_size``, up to that many sends (at most 50) travel in one
        Graph batch request; a rate-limited or transient item is retried in a
        later, smaller batch without resending the items that succeeded.

        The client's rate limiter and retry policy apply to every send; when
        Meta throttles one call, every thread of the client pauses.

        Args:
            requests: The requests, any iterable (a generator is fine).
            concurrency: Threads (HTTP calls in flight); defaults to the
                client's ``concurrency``.
            batch_size: Sends per Graph batch request, 1 to 50; ``None`` sends
                each request on its own.
            before_send: Called with the requests of one HTTP request right
                before it goes out (after the throttling gate and the rate
                limiter), once per request however often it is retried; it
                returns one ``bool`` per request. A request it refuses is not
                sent: its outcome carries a
                :class:`~fmc.errors.SendWithdrawnError`. A broadcast uses it to
                journal that a send may reach Meta from now on, and to stop.

        Yields:
            A :class:`~fmc.transport.outcome.SendOutcome` per request.

        Raises:
            ValueError: A concurrency below 1 or a batch size outside 1–50.
        """
        workers = self.concurrency if concurrency is None else check_concurrency(concurrency)
        if self._requests_transport is not None:
            self._requests_transport.ensure_pool(workers)
        if batch_size is None:
            return run_bounded(
                requests,
                lambda request: self._send_one(request, before_send),
                concurrency=workers,
                window=2 * workers,
            )
        batch_size = check_batch_size(batch_size, self.rate_limiter)
        return run_bounded(
            chunked(requests, batch_size),
            lambda chunk: self._send_chunk(chunk, before_send),
            concurrency=workers,
            window=2 * workers,
        )

    def _send_one(self, request: SendRequest, before_send: BeforeSend | None) -> list[SendOutcome]:
        try:
            return [SendOutcome(request, result=self._send(request, before_send))]
        except Exception as exc:
            return [SendOutcome(request, error=exc)]

    def _send_chunk(
        self, chunk: list[SendRequest], before_send: BeforeSend | None
    ) -> list[SendOutcome]:
        return send_chunk(
            chunk,
            relative_url=f"{self._core.page_path}/messages",
            post=self._post_sends,
            retrier=self._retrier,
            before_send=before_send,
        )

    def _post_sends(
        self,
        calls: list[BatchCall],
        handoff: Callable[[], list[BatchCall] | None] | None,
    ) -> Any:
        core = self._core
        if handoff is None:
            return self._exchange(core.batch(calls, sends_message=True))

        def ready() -> GraphRequest | None:
            now = handoff()
            return None if now is None else core.batch(now, sends_message=True)

        # The calls are encoded only once the handoff has said which may go.
        return self._exchange_handed(len(calls), ready)

    def batch(
        self, calls: Sequence[BatchCall], *, idempotent: bool = False
    ) -> list[BatchAnswer | None]:
        """Make up to 50 Graph calls in one batch request.

        The whole request is retried under the retry policy when Meta refuses
        it as a whole with a rate limit or transient error; the answers of the
        individual calls are returned as they are (``None`` for a call Graph
        did not complete), for :meth:`~fmc.transport.BatchAnswer.json`. The
        rate limiter takes one token per call; throttled calls in the answer
        pause the whole client (see "Throttling" in the sending guide).

        Args:
            calls: 1 to 50 calls, e.g. ``BatchCall("GET", "123?fields=name")``.
            idempotent: ``True`` when every call is safe to repeat (reads): a
                batch request that got no answer is then retried. By default
                it is reported as ambiguous, since sends may have gone out.

        Returns:
            One answer per call, in order.

        Raises:
            ValueError: No calls or more than 50.
            GraphAPIError: The batch request itself failed.
            NetworkError: Graph could not be reached.
            AmbiguousSendError: The batch request got no answer after it was
                sent (only when not ``idempotent``).
        """
        request = self._core.batch(list(calls), sends_message=not idempotent)
        answers: list[BatchAnswer | None] = self._run(request)
        if (throttle := worst_throttle(answers)) is not None:
            self._retrier.gate.throttled(throttle)  # calls inside it: the whole client pauses
        return answers
