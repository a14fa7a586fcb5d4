"""The framework-agnostic webhook endpoint: plain values in, a :class:`Response` out.

:meth:`WebhookHandler.respond` is all an adapter calls. What it answers:

* GET with ``hub.mode=subscribe`` and the right ``hub.verify_token``: 200 and the challenge;
  a ``hub.*`` parameter missing or repeated: 400; another mode or a wrong token: 403.
* POST with a body over ``max_body_bytes``: 413, before anything else is looked at.
* POST with a signature missing, malformed, repeated or wrong: 403.
* POST that is not JSON, has the wrong ``object`` or a broken structure: 400.
* POST with a delivery: 200, once what it changes is durable (see below).
* POST with a delivery the store cannot commit within ``commit_timeout``: 503.
* Any other method: 405.

Acknowledge only what is safe: with an fmc store as ``dedup`` (the Channel's),
the events' dedup marks, what the new events change (``effects``: subscriber
registrations, status and opt-in changes) and, when forwarding with
``persist_first``, the outbox item are committed in one transaction before the
200; if that cannot happen within ``commit_timeout`` (the database is down,
locked, or slow) the answer is 503 and Meta delivers again (see
:mod:`fmc.webhook.commit`). An event whose ids cannot be stored becomes an
:class:`~fmc.webhook.invalid.InvalidEvent` and the others still commit.

A 200 is answered even when a callback raises (Facebook would otherwise resend
the whole delivery); the failure is logged with the event's kind and ``mid``.
Nothing a client sends yields a 500; an unexpected internal failure (a broken
clock that raises, say) is logged and answered 503 so Facebook retries it later.

Events already seen within ``dedup_window`` (Facebook delivers at least once)
are not dispatched again, and a delivery made only of such events is not
forwarded again. Callbacks run after the commit, so a crash in between loses
the dispatch of those events, never doubles it, and never loses their effects.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Callable, Collection, Sequence
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any, TypeVar, cast, overload

from fmc.errors import ConfigurationError, PayloadError, PayloadTooLargeError, SignatureError
from fmc.models.page import Page
from fmc.webhook.callbacks import Callbacks, DeliveryCallback
from fmc.webhook.commit import (
    DEFAULT_COMMIT_TIMEOUT,
    CommitFailedError,
    Committer,
    EffectsOf,
    ForwardTarget,
    forward_target,
)
from fmc.webhook.dedup import DedupStore, MemoryDedup
from fmc.webhook.events import Event
from fmc.webhook.invalid import InvalidEvent, isolate
from fmc.webhook.parse import DEFAULT_OBJECTS, decode_body, parse_data
from fmc.webhook.request import AMBIGUOUS, Headers, Query, query_value, signature_headers
from fmc.webhook.response import (
    BAD_REQUEST_LENGTH,
    DUPLICATE_SIGNATURE,
    NOT_ALLOWED,
    NOT_COMMITTED,
    OK,
    PAYLOAD_TOO_LARGE,
    UNAVAILABLE,
    Response,
    text_response,
)
from fmc.webhook.signature import SignatureVerifier

if TYPE_CHECKING:  # the forwarder (requests, tenacity) loads only when used
    from fmc.webhook.forward import Forwarder

__all__ = [
    "BAD_REQUEST_LENGTH",
    "DEFAULT_MAX_BODY_BYTES",
    "PAYLOAD_TOO_LARGE",
    "Headers",
    "Query",
    "Response",
    "WebhookHandler",
]

#: The default body size limit, 1 MiB (Meta batches at most about 1,000 events).
DEFAULT_MAX_BODY_BYTES = 1024 * 1024

E = TypeVar("E", bound=Event)
R = TypeVar("R")

#: Stands for "the body was not decoded yet" (``None`` is a valid JSON value).
_UNDECODED: Any = object()


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


class WebhookHandler:
    """Answers Messenger webhook requests.

    It does the handshake, checks signatures, parses, deduplicates, dispatches and forwards.

    Args:
        app_secret: The app secret (or several, for rotation, or a ready
            :class:`~fmc.webhook.signature.SignatureVerifier`).
        verify_token: The verify token set in the app dashboard.
        forwarder: Forwards deliveries to their ``redirect_to`` address.
        dedup: Remembers handled events (default: a bounded
            :class:`~fmc.webhook.dedup.MemoryDedup`).
        dedup_window: How long a handled event counts as seen.
        max_body_bytes: Larger bodies are answered 413 before anything else.
        accept_sha1: Accept the legacy ``X-Hub-Signature`` when the sha256 one is absent.
        objects: The accepted values of the body's ``object``.
        clock: Returns the current aware UTC time.
        logger: Where failures are logged.
        effects: What one event changes in the store, committed with the
            delivery (the Channel passes its registration rules); needs an fmc
            store as ``dedup``.
        commit_timeout: Seconds the delivery's commit may take before the
            answer is 503 (default 5, well below Meta's 20 s).

    Raises:
        ConfigurationError: no app secret or verify token (fmc fails closed),
            ``effects`` without an fmc store, or a bad ``commit_timeout``.
    """

    def __init__(
        self,
        app_secret: str | bytes | Sequence[str | bytes] | SignatureVerifier,
        verify_token: str,
        *,
        forwarder: Forwarder | None = None,
        dedup: DedupStore | None = None,
        dedup_window: timedelta = timedelta(hours=36),
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
        accept_sha1: bool = False,
        objects: Collection[str] = DEFAULT_OBJECTS,
        clock: Callable[[], datetime] = _utcnow,
        logger: logging.Logger | None = None,
        effects: EffectsOf | None = None,
        commit_timeout: float = DEFAULT_COMMIT_TIMEOUT,
    ) -> None:
        if isinstance(cast(object, app_secret), Page):
            raise ConfigurationError(
                "WebhookHandler takes the app secret, not a Page: write "
                "WebhookHandler(page.app_secret, verify_token), or use Channel(...).webhook"
            )
        if isinstance(app_secret, SignatureVerifier):
            self.verifier = app_secret
        else:
            self.verifier = SignatureVerifier(app_secret, accept_sha1=accept_sha1)
        if not isinstance(verify_token, str) or not verify_token:
            raise ConfigurationError("a verify token is required for the webhook handshake")
        if max_body_bytes < 1:
            raise ConfigurationError("max_body_bytes must be positive")
        self._verify_token = verify_token.encode("utf-8")
        self.forwarder = forwarder
        self.dedup: DedupStore = MemoryDedup() if dedup is None else dedup
        self.dedup_window = dedup_window
        self.max_body_bytes = max_body_bytes
        self.objects = frozenset(objects)
        self._clock = clock
        self._log = logger if logger is not None else logging.getLogger("fmc.webhook")
        self._callbacks = Callbacks()
        self._committer = Committer(
            self.dedup,
            effects=effects,
            forwarder=forwarder,
            window=dedup_window,
            timeout=commit_timeout,
            logger=self._log,
        )

    def __repr__(self) -> str:
        return f"WebhookHandler(forwarder={self.forwarder!r}, max_body_bytes={self.max_body_bytes})"

    @property
    def commit_timeout(self) -> float:
        """Seconds a delivery's commit may take before the answer is 503."""
        return self._committer.timeout

    @commit_timeout.setter
    def commit_timeout(self, seconds: float) -> None:
        if not seconds > 0:
            raise ConfigurationError("commit_timeout must be positive seconds")
        self._committer.timeout = seconds

    # -- registration -------------------------------------------------------

    @overload
    def on(self, event_class: type[E]) -> Callable[[Callable[[E], R]], Callable[[E], R]]: ...

    @overload
    def on(self, event_class: type[E], callback: Callable[[E], R]) -> Callable[[E], R]: ...

    def on(self, event_class: type[E], callback: Callable[[E], R] | None = None) -> Any:
        """Register a callback for an event class (and its subclasses).

        Use as ``@handler.on(MessageEvent)`` or ``handler.on(MessageEvent, func)``.

        Args:
            event_class: The events to receive; :class:`~fmc.webhook.events.Event` receives all.
            callback: The function; omitted when used as a decorator.

        Returns:
            The callback (or a decorator that registers and returns it).

        Raises:
            TypeError: ``event_class`` is not an event class.
        """
        if not (isinstance(event_class, type) and issubclass(event_class, Event)):
            raise TypeError("on() takes an event class, such as MessageEvent")

        def register(func: Callable[[E], R]) -> Callable[[E], R]:
            self._callbacks.add(event_class, func)
            return func

        return register if callback is None else register(callback)

    def on_any(self, callback: Callable[[Event], object]) -> Callable[[Event], object]:
        """Register a callback for every event, known or not.

        Args:
            callback: Called with each new event.

        Returns:
            The callback, so this works as a decorator.
        """
        self.on(Event, callback)
        return callback

    def on_delivery(self, callback: DeliveryCallback) -> DeliveryCallback:
        """Register a callback called once per delivery with all its new events.

        Meant for batching (one store commit per delivery); called before the
        per-event callbacks, so that what it records (the Channel registers the
        senders) is in place when they run; not called when no event is new.

        Args:
            callback: Called with the list of new events, in order.

        Returns:
            The callback, so this works as a decorator.
        """
        self._callbacks.add_delivery(callback)
        return callback

    # -- signatures ---------------------------------------------------------

    def sign(self, body: bytes) -> str:
        """Sign a body with the (first) app secret.

        Args:
            body: The raw bytes.

        Returns:
            The ``X-Hub-Signature-256`` value.
        """
        return self.verifier.sign(body)

    def verify_signature(self, body: bytes, header_value: str | None) -> None:
        """Check a body against an ``X-Hub-Signature-256`` value.

        Args:
            body: The raw bytes.
            header_value: The header value.

        Raises:
            SignatureError: missing, malformed or wrong.
        """
        self.verifier.verify(body, header_value)

    # -- entry points -------------------------------------------------------

    def respond(self, method: str, query: Query, headers: Headers, body: bytes) -> Response:
        """Answer one HTTP request to the webhook URL.

        Args:
            method: The HTTP method.
            query: The query parameters (mapping, or the raw query string).
            headers: The request headers (mapping or pairs; names case-insensitive).
            body: The raw body bytes.

        Returns:
            The response to send; see the module docstring for the table.
        """
        try:
            if method == "POST":
                return self._post(query, headers, body)
            upper = method.upper() if isinstance(method, str) else ""
            if upper == "POST":
                return self._post(query, headers, body)
            if upper == "GET":
                return self._get(query)
            return NOT_ALLOWED
        except Exception:
            self._log.exception("webhook request failed unexpectedly")
            return UNAVAILABLE

    def handle(self, body: bytes, headers: Headers) -> list[Event]:
        """Verify and parse a delivery, without dedup, dispatch or forwarding.

        Args:
            body: The raw body bytes.
            headers: The request headers.

        Returns:
            Every event, in order.

        Raises:
            PayloadTooLargeError: the body is over ``max_body_bytes``.
            SignatureError: the signature is missing, repeated, malformed or wrong.
            PayloadError: the body is not a Messenger delivery.
        """
        body = bytes(body)
        if len(body) > self.max_body_bytes:
            raise PayloadTooLargeError(f"body is over {self.max_body_bytes} bytes")
        signature, sha1, _content_type = signature_headers(headers)
        if signature is AMBIGUOUS or sha1 is AMBIGUOUS:
            raise SignatureError("repeated signature header")
        self.verifier.verify(body, signature, sha1_header=sha1)
        return isolate(parse_data(decode_body(body), objects=self.objects))

    # -- GET ----------------------------------------------------------------

    def _get(self, query: Query) -> Response:
        mode = query_value(query, "hub.mode")
        token = query_value(query, "hub.verify_token")
        challenge = query_value(query, "hub.challenge")
        values = (mode, token, challenge)
        if None in values or AMBIGUOUS in values:
            return text_response(
                400, "missing or repeated hub.mode, hub.verify_token or hub.challenge"
            )
        if mode != "subscribe":
            return text_response(403, "forbidden: hub.mode is not subscribe")
        if not hmac.compare_digest(token.encode("utf-8", "replace"), self._verify_token):
            self._log.warning("webhook handshake refused: wrong verify token")
            return text_response(403, "forbidden: wrong verify token")
        return text_response(200, challenge)

    # -- POST ---------------------------------------------------------------

    def _post(
        self, query: Query, headers: Headers, body: bytes, data: Any = _UNDECODED
    ) -> Response:
        received = self._receive(query, headers, body, data)
        if isinstance(received, Response):
            return received
        fresh = self._commit(*received)
        if isinstance(fresh, Response):
            return fresh
        if fresh:
            self._dispatch(fresh)
        return OK

    def _respond_decoded(self, query: Query, headers: Headers, body: bytes, data: Any) -> Response:
        """Answer a POST whose body the caller has already decoded; for :mod:`fmc.platform`.

        ``data`` must be ``json.loads(body)``: the signature is still checked
        over ``body``, and ``data`` is what is parsed, so the platform's router
        (which decodes a body to route it) does not pay for decoding it twice.
        Internal: a caller that passed anything else would have unsigned data
        dispatched under a valid signature.
        """
        try:
            return self._post(query, headers, body, data)
        except Exception:
            self._log.exception("webhook request failed unexpectedly")
            return UNAVAILABLE

    # The POST path in three phases so that fmc.webhook.async_respond can run
    # only the blocking one (the commit) in a thread and await the callbacks.

    def _receive(
        self, query: Query, headers: Headers, body: bytes, data: Any = _UNDECODED
    ) -> Response | tuple[list[Event], bytes, ForwardTarget | None]:
        """Check, verify and parse a POST (CPU only): an answer, or what to commit."""
        if type(body) is not bytes:
            body = b"" if body is None else bytes(body)
        if len(body) > self.max_body_bytes:
            return PAYLOAD_TOO_LARGE
        signature, sha1, content_type = signature_headers(headers)
        if signature is AMBIGUOUS or sha1 is AMBIGUOUS:
            return DUPLICATE_SIGNATURE
        try:
            self.verifier.verify(body, signature, sha1_header=sha1)
        except SignatureError as exc:
            self._log.info("webhook delivery refused (403): %s", exc)
            return text_response(403, f"forbidden: {exc}")
        try:
            if data is _UNDECODED:
                data = decode_body(body)
            events = parse_data(data, objects=self.objects)
        except PayloadError as exc:
            # Correctly signed, so it came from Meta (or holds the secret): worth a warning.
            self._log.warning("signed webhook delivery refused (400): %s", exc)
            return text_response(400, f"bad request: {exc}")
        events = isolate(events)
        for event in events:
            if isinstance(event, InvalidEvent):
                self._log.warning(
                    "webhook %s event kept as invalid, nothing stored for it: %s",
                    event.event_kind,
                    event.reason,
                )
        if self.forwarder is None:
            return events, body, None
        return events, body, forward_target(query, signature, sha1, content_type, events, self._log)

    def _commit(
        self, events: list[Event], body: bytes, target: ForwardTarget | None
    ) -> Response | list[Event]:
        """Commit (blocking store I/O), queue the forwarding: the 503, or the new events."""
        try:
            committed = self._committer.commit(events, body, target, self._clock())
        except CommitFailedError:
            return NOT_COMMITTED
        if committed.forward and target is not None and self.forwarder is not None:
            self.forwarder.submit(
                target.url,
                body,
                target.headers,
                order_key=target.order_key,
                item_id=committed.outbox_id,
            )
        return committed.fresh

    def _dispatch(self, events: list[Event]) -> None:
        self._callbacks.dispatch(events, self._log)
