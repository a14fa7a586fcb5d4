"""The Graph API client: sends, bulk sends, batches, profiles.

:class:`Client` is the one object an application keeps per Page. It owns a
pooled :class:`requests.Session`, runs every call under its
:class:`~fmc.transport.retry.RetryPolicy`, spaces sends with an optional
:class:`~fmc.transport.ratelimit.RateLimiter`, and turns every answer into a
model or a typed :mod:`fmc.errors` error.
"""

from __future__ import annotations

import datetime
import json
import re
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from types import TracebackType
from typing import Any
from urllib.parse import quote

import requests

from fmc.convert import send_request_to_wire, to_wire
from fmc.errors import (
    ConfigurationError,
    GraphAPIError,
    SendWithdrawnError,
)
from fmc.models import (
    Attachment,
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
from fmc.transport.batch import (
    MAX_BATCH_SIZE,
    BatchAnswer,
    BatchCall,
    decode_batch_answers,
    encode_batch_form,
)
from fmc.transport.bulk import WITHDRAWN, BeforeSend, chunked, run_bounded, send_chunk
from fmc.transport.gate import BackoffGate
from fmc.transport.http import GraphHTTP, Timeout
from fmc.transport.outcome import SendOutcome, read_send_result
from fmc.transport.profile import (
    DEFAULT_PROFILE_FIELDS,
    UserProfile,
    first_profile,
    messenger_profile_body,
    messenger_profile_fields,
)
from fmc.transport.ratelimit import RateLimiter
from fmc.transport.retry import Retrier, RetryPolicy

__all__ = ["DEFAULT_CONCURRENCY", "Client"]

#: Sends in flight by default. Meta allows a Page about 300 text sends a
#: second; at 100 ms per Graph call that takes 30 calls in flight, and 48
#: keeps the Page at its limit with calls of up to 160 ms.
DEFAULT_CONCURRENCY = 48

_API_VERSION = re.compile(r"v\d+\.\d+")
_PATH_SEGMENT = re.compile(r"[A-Za-z0-9_.\-]+")
_COMPACT = (",", ":")


def _utc_now() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc)


class Client:
    """A Graph API client for one Page.

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
        max_pause: Seconds one call may wait, in total, while Meta throttles
            the Page and the whole client is paused (see "Throttling" in the
            sending guide). A pause within it is waited out; a longer one makes
            every call raise :class:`~fmc.errors.PageThrottledError` at once,
            without an HTTP request. ``None`` (the default) takes the retry
            policy's ``timeout``; ``math.inf`` waits as long as Meta asks.
        clock: Monotonic clock in seconds (deadlines, rate limiting, pauses).
        sleep: Sleeps between retries and for the rate limiter.
        wall_clock: Aware UTC now, for :attr:`PageThrottledError.resume_at
            <fmc.errors.PageThrottledError.resume_at>`.

    Raises:
        ConfigurationError: An argument fmc cannot work with.
    """

    def __init__(
        self,
        page: Page,
        *,
        base_url: str = "https://graph.facebook.com",
        api_version: str = "v25.0",
        timeout: Timeout = (3.05, 20.0),
        retry: RetryPolicy | None = None,
        rate_limit: float | RateLimiter | None = None,
        session: requests.Session | None = None,
        concurrency: int = DEFAULT_CONCURRENCY,
        max_pause: float | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], object] = time.sleep,
        wall_clock: Callable[[], datetime.datetime] = _utc_now,
    ) -> None:
        if not isinstance(page, Page):
            raise ConfigurationError(f"page must be an fmc.Page, got {type(page).__name__}")
        if not isinstance(base_url, str) or not base_url.startswith(("https://", "http://")):
            raise ConfigurationError(f"base_url must be an http(s) URL, got {base_url!r}")
        if not isinstance(api_version, str) or not _API_VERSION.fullmatch(api_version):
            raise ConfigurationError(f"api_version must look like 'v25.0', got {api_version!r}")
        self.concurrency = _check_concurrency(concurrency)
        if retry is not None and not isinstance(retry, RetryPolicy):
            raise ConfigurationError(f"retry must be a RetryPolicy, got {type(retry).__name__}")
        self.page = page
        self.api_version = api_version
        self.retry = retry if retry is not None else RetryPolicy()
        self.rate_limiter = _rate_limiter(rate_limit, clock=clock, sleep=sleep)
        self._http = GraphHTTP(
            page,
            base_url=base_url,
            api_version=api_version,
            timeout=timeout,
            session=session,
            pool_size=self.concurrency,
        )
        if max_pause is not None and (
            isinstance(max_pause, bool)
            or not isinstance(max_pause, (int, float))
            or not max_pause >= 0
        ):
            raise ConfigurationError(
                f"max_pause must be a number of seconds >= 0 or None, got {max_pause!r}"
            )
        gate = BackoffGate(
            clock=clock, sleep=sleep, backoff=self.retry.backoff, wall_clock=wall_clock
        )
        self._retrier = Retrier(
            self.retry, clock=clock, sleep=sleep, gate=gate, max_pause=max_pause
        )
        #: Seconds one call may wait on the shared pause (``None``: no limit).
        self.max_pause = self._retrier.max_pause
        self._batch_url = f"{self._http.root}/"
        self._page_path = quote(page.id, safe="")

    def __repr__(self) -> str:
        return (
            f"Client(page_id={self.page.id!r}, api_version={self.api_version!r}, "
            f"rate_limiter={self.rate_limiter!r})"
        )

    def __enter__(self) -> Client:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the HTTP session if the client created it (an injected one stays open)."""
        self._http.close()

    # -- single sends -------------------------------------------------------------------------

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
            ValueError: Not a sender action.
            GraphAPIError: Meta refused it.
            NetworkError: Graph could not be reached.
            AmbiguousSendError: It may or may not have been delivered.
        """
        return self.send_request(SendRequest(recipient, sender_action=action))

    def send_request(self, request: SendRequest) -> SendResult:
        """Send one prepared :class:`~fmc.models.SendRequest`.

        Args:
            request: The request.

        Returns:
            Meta's answer.

        Raises:
            TypeError: Not a SendRequest.
            GraphAPIError: Meta refused it, after the retry policy.
            NetworkError: Graph could not be reached within the retry policy.
            AmbiguousSendError: The message may or may not have been sent.
        """
        return self._send(request, None)

    def _send(self, request: SendRequest, before_send: BeforeSend | None) -> SendResult:
        if not isinstance(request, SendRequest):
            raise TypeError(f"send_request takes a SendRequest, got {type(request).__name__}")
        body = json.dumps(send_request_to_wire(request), separators=_COMPACT).encode()
        http = self._http
        url = http.messages_url
        limiter = self.rate_limiter
        handed = before_send is None

        def attempt() -> dict[str, Any]:
            nonlocal handed
            if limiter is not None:
                limiter.acquire(1)
            if not handed:
                handed = True
                assert before_send is not None
                if not before_send([request])[0]:
                    raise SendWithdrawnError(WITHDRAWN)
            return http.post_json(url, body, what="send", sends_message=True)

        return read_send_result(
            self._retrier.call(attempt, operation="send"), message=request.message is not None
        )

    # -- many sends ---------------------------------------------------------------------------

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
                before it goes out (after the rate limiter and any throttling
                pause), once per request however often it is retried; it
                returns one ``bool`` per request. A request it refuses is not
                sent: its outcome carries a
                :class:`~fmc.errors.SendWithdrawnError`. A broadcast uses it to
                journal that a send may reach Meta from now on, and to stop.

        Yields:
            A :class:`~fmc.transport.outcome.SendOutcome` per request.

        Raises:
            ValueError: A concurrency below 1 or a batch size outside 1–50.
        """
        workers = self.concurrency if concurrency is None else _check_concurrency(concurrency)
        self._http.ensure_pool(workers)
        if batch_size is None:
            return run_bounded(
                requests,
                lambda request: self._send_one(request, before_send),
                concurrency=workers,
                window=2 * workers,
            )
        if isinstance(batch_size, bool) or not isinstance(batch_size, int):
            raise ValueError(f"batch_size must be an int from 1 to {MAX_BATCH_SIZE}")
        if not 1 <= batch_size <= MAX_BATCH_SIZE:
            raise ValueError(f"batch_size must be from 1 to {MAX_BATCH_SIZE}, got {batch_size}")
        if self.rate_limiter is not None:
            batch_size = min(batch_size, self.rate_limiter.capacity)
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
            relative_url=f"{self._page_path}/messages",
            post=lambda count, calls: self._post_batch(count, calls, sends_message=True),
            retrier=self._retrier,
            before_send=before_send,
        )

    # -- batches ------------------------------------------------------------------------------

    def batch(
        self, calls: Sequence[BatchCall], *, idempotent: bool = False
    ) -> list[BatchAnswer | None]:
        """Make up to 50 Graph calls in one batch request.

        The whole request is retried under the retry policy when Meta refuses
        it as a whole with a rate limit or transient error; the answers of the
        individual calls are returned as they are (``None`` for a call Graph
        did not complete), for the caller to read with
        :meth:`~fmc.transport.BatchAnswer.json`. The rate limiter, when
        set, is charged one token per call.

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
        calls = list(calls)
        return self._retrier.call(
            lambda: self._post_batch(len(calls), lambda: calls, sends_message=not idempotent),
            operation="batch",
        )

    def _post_batch(
        self, count: int, calls_now: Callable[[], Sequence[BatchCall]], *, sends_message: bool
    ) -> list[BatchAnswer | None]:
        """Take ``count`` rate-limit tokens, then post what ``calls_now`` gives.

        The retrier has already let the attempt through the shared throttling gate.
        """
        if self.rate_limiter is not None:
            self.rate_limiter.acquire(count)
        calls = calls_now()
        if not calls:
            return []
        form = encode_batch_form(
            calls, access_token=self._http.access_token, appsecret_proof=self._http.appsecret_proof
        )
        usage: dict[str, str] = {}
        data = self._http.request(
            "POST",
            self._batch_url,
            what="batch",
            sends_message=sends_message,
            form=form,
            want_list=True,
            headers_out=usage,
        )
        return decode_batch_answers(data, len(calls), usage)

    # -- profiles and attachments -------------------------------------------------------------

    def _call(
        self,
        method: str,
        path: str,
        *,
        what: str,
        params: Mapping[str, str] | None = None,
        body: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        url = self._http.url(path, params)
        encoded = json.dumps(body, separators=_COMPACT).encode() if body is not None else None
        limiter = self.rate_limiter

        def attempt() -> dict[str, Any]:
            if limiter is not None:
                limiter.acquire(1)
            answer: dict[str, Any] = self._http.request(
                method, url, what=what, sends_message=False, body=encoded
            )
            return answer

        data: dict[str, Any] = self._retrier.call(attempt, operation=what)
        return data

    def get_user_profile(
        self, psid: str, fields: Iterable[str] = DEFAULT_PROFILE_FIELDS
    ) -> UserProfile:
        """Read a person's profile (``GET /{psid}?fields=…``).

        Args:
            psid: The person's page-scoped id.
            fields: Profile fields; ``locale``, ``timezone`` and ``gender``
                need extra approval from Meta.

        Returns:
            The profile; fields Meta did not return are ``None``.

        Raises:
            ValueError: The PSID is not a plain id, or no fields are named.
            GraphAPIError: Meta refused (e.g. 100/2018218 for a phone-created
                account).
            NetworkError: Graph could not be reached.
        """
        names = [fields] if isinstance(fields, str) else list(fields)
        if not names or not all(isinstance(f, str) and _PATH_SEGMENT.fullmatch(f) for f in names):
            raise ValueError(f"fields must be profile field names, got {names!r}")
        data = self._call(
            "GET", _segment(psid, "psid"), what="user profile", params={"fields": ",".join(names)}
        )
        return UserProfile.from_wire(data)

    def upload_attachment(
        self, type: AttachmentType | str, url: str, *, is_reusable: bool = True
    ) -> str:
        """Upload a file by URL for reuse (``POST /{page_id}/message_attachments``).

        Args:
            type: ``image``, ``audio``, ``video`` or ``file``.
            url: Where Meta fetches the file.
            is_reusable: Whether the id may be sent to many people.

        Returns:
            The ``attachment_id`` to send with ``Attachment(type, attachment_id=…)``.

        Raises:
            ValueError: An unknown type or a URL that is not http(s).
            GraphAPIError: Meta refused it, or answered without an id.
            NetworkError: Graph could not be reached.
        """
        attachment = Attachment(type, url=url, is_reusable=is_reusable)
        data = self._call(
            "POST",
            f"{self._page_path}/message_attachments",
            what="attachment upload",
            body={"message": to_wire(attachment)},
        )
        attachment_id = data.get("attachment_id")
        if isinstance(attachment_id, int) and not isinstance(attachment_id, bool):
            attachment_id = str(attachment_id)
        if not isinstance(attachment_id, str) or not attachment_id:
            raise GraphAPIError("attachment upload answered without an attachment_id", status=200)
        return attachment_id

    def get_messenger_profile(self, fields: Iterable[str] | str) -> dict[str, Any]:
        """Read Messenger profile properties (``GET /{page_id}/messenger_profile``).

        Args:
            fields: Property names, e.g. ``["greeting", "get_started"]``.

        Returns:
            The properties that are set, as Graph JSON.

        Raises:
            ValueError: No field or an invalid name.
            GraphAPIError: Meta refused.
            NetworkError: Graph could not be reached.
        """
        names = messenger_profile_fields(fields)
        data = self._call(
            "GET",
            f"{self._page_path}/messenger_profile",
            what="messenger profile",
            params={"fields": ",".join(names)},
        )
        return first_profile(data)

    def set_messenger_profile(
        self,
        *,
        get_started: str | Mapping[str, Any] | None = None,
        greeting: str | Mapping[str, str] | Sequence[Mapping[str, Any]] | None = None,
        persistent_menu: Sequence[Any] | None = None,
        ice_breakers: Sequence[Any] | None = None,
        whitelisted_domains: Sequence[str] | None = None,
    ) -> None:
        """Set Messenger profile properties (``POST /{page_id}/messenger_profile``).

        Args:
            get_started: The Get Started button's postback payload.
            greeting: A greeting for every locale, or ``{locale: text}``.
            persistent_menu: Buttons (models) for the default menu, or Graph's
                per-locale menu objects.
            ice_breakers: ``(question, payload)`` pairs, or Graph's objects.
            whitelisted_domains: Domains allowed in webviews.

        Raises:
            ValueError: No property given.
            GraphAPIError: Meta refused, or did not answer ``success``.
            NetworkError: Graph could not be reached.
        """
        body = messenger_profile_body(
            get_started=get_started,
            greeting=greeting,
            persistent_menu=persistent_menu,
            ice_breakers=ice_breakers,
            whitelisted_domains=whitelisted_domains,
        )
        data = self._call(
            "POST", f"{self._page_path}/messenger_profile", what="messenger profile", body=body
        )
        _expect_success(data)

    def delete_messenger_profile(self, fields: Iterable[str] | str) -> None:
        """Delete Messenger profile properties (``DELETE /{page_id}/messenger_profile``).

        Args:
            fields: Property names to delete.

        Raises:
            ValueError: No field or an invalid name.
            GraphAPIError: Meta refused, or did not answer ``success``.
            NetworkError: Graph could not be reached.
        """
        names = messenger_profile_fields(fields)
        data = self._call(
            "DELETE",
            f"{self._page_path}/messenger_profile",
            what="messenger profile",
            body={"fields": names},
        )
        _expect_success(data)

    def call_graph(
        self,
        method: str,
        path: str,
        *,
        what: str,
        params: Mapping[str, str] | None = None,
        body: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Make one Graph call with this client's token, proof, retries and redaction.

        The public path for Graph calls fmc wraps in standalone modules
        (templates, personas, thread control, marketing messages).

        Args:
            method: ``GET``, ``POST`` or ``DELETE``.
            path: The path after the version, e.g. ``"1234/personas"``; the
                Page's own id is ``client.page.id``.
            what: What the call is, for errors and logs (``"persona create"``).
            params: Query parameters (the token is added by the client).
            body: The JSON body.

        Returns:
            Graph's JSON answer.

        Raises:
            GraphAPIError: Meta refused.
            NetworkError: Graph could not be reached.
        """
        return self._call(method.upper(), path, what=what, params=params, body=body)


def _check_concurrency(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigurationError(f"concurrency must be a positive int, got {value!r}")
    return value


def _rate_limiter(
    rate_limit: float | RateLimiter | None,
    *,
    clock: Callable[[], float],
    sleep: Callable[[float], object],
) -> RateLimiter | None:
    if rate_limit is None or isinstance(rate_limit, RateLimiter):
        return rate_limit
    try:
        return RateLimiter(rate_limit, clock=clock, sleep=sleep)
    except ValueError as exc:
        raise ConfigurationError(f"rate_limit: {exc}") from None


def _segment(value: object, name: str) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not _PATH_SEGMENT.fullmatch(value):
        raise ValueError(f"{name} must be a plain id (letters, digits, '_', '.', '-')")
    return value


def _expect_success(data: Mapping[str, Any]) -> None:
    if data.get("result") != "success":
        raise GraphAPIError("Messenger profile call did not answer 'success'", status=200)
