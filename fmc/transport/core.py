"""The sans-I/O core every Graph call goes through, whatever drives it.

:class:`GraphCore` holds the rules of a Graph call as pure code over values:

* **building** the request once — URL under the pinned version, the access
  token and ``appsecret_proof``, the JSON or form body encoded exactly once —
  as a :class:`GraphRequest`;
* **reading** the answer, a :class:`RawAnswer`: the body is scrubbed of the
  Page's secrets first, then turned into JSON or the typed error of
  :mod:`fmc.errors` (:mod:`fmc.transport.answer`);
* **classifying** a transport failure (:class:`NotConnectedError`, :class:`NoAnswerError`)
  into a retryable :class:`~fmc.errors.NetworkError` or an ambiguous
  :class:`~fmc.errors.SendTimeoutError`.

The rate limiter, the shared pause (:mod:`fmc.transport.gate`) and the retry
decision (:mod:`fmc.transport.retry`) complete the pipeline. The drivers only
move bytes: :class:`fmc.Client` over ``requests`` and :class:`fmc.AsyncClient`
over aiohttp, or any transport with the same one method (the fake Graph API of
:mod:`fmc.testing` is one).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, NamedTuple, Protocol
from urllib.parse import quote, urlencode

import attrs

from fmc.convert import send_request_to_wire, to_wire
from fmc.errors import FMCError, GraphAPIError, NetworkError, SendTimeoutError
from fmc.models import Attachment, AttachmentType, Page, SendRequest
from fmc.transport.answer import decode_answer, usage_headers
from fmc.transport.batch import (
    BatchCall,
    decode_batch_answers,
    encode_batch_form,
    form_quote,
)
from fmc.transport.profile import messenger_profile_body, messenger_profile_fields
from fmc.transport.redact import Redactor, appsecret_proof

__all__ = [
    "DEFAULT_API_VERSION",
    "DEFAULT_BASE_URL",
    "AsyncTransport",
    "GraphCore",
    "GraphRequest",
    "NoAnswerError",
    "NotConnectedError",
    "RawAnswer",
    "Transport",
    "TransportError",
]

#: The Graph API version a client, async client and platform call unless told
#: otherwise: the newest when this release was made (v26.0, released 2026-07-29).
#: Pin ``api_version=`` yourself to move on your own schedule.
DEFAULT_API_VERSION = "v26.0"

#: Graph's root URL, which a client, async client and platform call unless told otherwise.
DEFAULT_BASE_URL = "https://graph.facebook.com"

_COMPACT = (",", ":")
_PATH_SEGMENT = re.compile(r"[A-Za-z0-9_.\-]+")
_JSON = "application/json"
_FORM = "application/x-www-form-urlencoded"


@attrs.frozen
class GraphRequest:
    """One Graph call, built once and sent as often as the retry policy allows.

    Attributes:
        method: ``GET``, ``POST`` or ``DELETE``.
        url: The full URL, access token included: never log it unredacted.
        body: The encoded body, or ``None``.
        content_type: The body's media type (JSON, or a form for batches).
        what: A name for the call in errors and logs (no secrets).
        sends_message: Whether the call may deliver a message (which makes a
            lost answer ambiguous rather than retryable).
        batch_size: For a batch request, how many calls it holds; else 0.
        tokens: Rate-limiter tokens the call takes (one per send it carries).
    """

    method: str
    url: str = attrs.field(repr=False)
    body: bytes | None = attrs.field(repr=False)
    content_type: str | None
    what: str
    sends_message: bool
    batch_size: int = 0
    tokens: int = 1

    @property
    def headers(self) -> dict[str, str]:
        """The request headers the call needs (its content type)."""
        return {"Content-Type": self.content_type} if self.content_type else {}


class RawAnswer(NamedTuple):
    """What came back over the wire, before the core reads it."""

    status: int
    headers: Mapping[str, str]
    content: bytes


class TransportError(Exception):
    """A transport could not get an answer; the subclass says whether Meta saw the request."""


class NotConnectedError(TransportError):
    """No connection was made (DNS, refused, connect timeout, TLS or proxy handshake)."""


class NoAnswerError(TransportError):
    """The request may have reached Meta, but no answer came (read timeout, dropped)."""


class Transport(Protocol):
    """What the sync driver needs from a transport: one blocking exchange."""

    def send(self, request: GraphRequest) -> RawAnswer:
        """Send one request and return the raw answer.

        Raises:
            NotConnectedError: The request cannot have reached Graph.
            NoAnswerError: It may have, but no answer came.
        """

    def close(self) -> None:
        """Release connections the transport owns."""


class AsyncTransport(Protocol):
    """What the async driver needs from a transport: one awaitable exchange."""

    async def send(self, request: GraphRequest) -> RawAnswer:
        """Send one request and return the raw answer.

        Raises:
            NotConnectedError: The request cannot have reached Graph.
            NoAnswerError: It may have, but no answer came.
        """

    async def close(self) -> None:
        """Release connections the transport owns."""


def _segment(value: object, name: str) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not _PATH_SEGMENT.fullmatch(value):
        raise ValueError(f"{name} must be a plain id (letters, digits, '_', '.', '-')")
    return value


class GraphCore:
    """Builds every Graph call of one Page and reads every answer; no I/O.

    Args:
        page: The Page, with its token and (for ``appsecret_proof``) app secret.
        base_url: Graph's root URL.
        api_version: The pinned version, e.g. ``"v26.0"``.
    """

    def __init__(self, page: Page, *, base_url: str, api_version: str) -> None:
        self.page_id = page.id
        self._token: str = page.access_token
        secret = page.app_secret
        self._proof = appsecret_proof(self._token, secret) if secret else None
        self.redactor = Redactor((self._token, secret, self._proof))
        self.root = f"{base_url.rstrip('/')}/{api_version}"
        auth = {"access_token": self._token}
        if self._proof:
            auth["appsecret_proof"] = self._proof
        self._auth_query = urlencode(auth)
        self.page_path = quote(page.id, safe="")
        self.messages_url = self.url(f"{self.page_path}/messages")
        self.batch_url = f"{self.root}/"

    def __repr__(self) -> str:
        return f"GraphCore(page_id={self.page_id!r}, root={self.root!r})"

    @property
    def appsecret_proof(self) -> str | None:
        """The ``appsecret_proof`` of the token (``None`` without an app secret)."""
        return self._proof

    def url(self, path: str, params: Mapping[str, str] | None = None) -> str:
        """The full URL of a Graph path, auth included (never log it unredacted).

        Args:
            path: Path below the versioned root, without a leading slash.
            params: Extra query parameters.

        Returns:
            The URL.
        """
        query = self._auth_query
        if params:
            query = f"{urlencode(params)}&{query}"
        return f"{self.root}/{path}?{query}"

    # -- building -----------------------------------------------------------------------------

    def send(self, request: SendRequest) -> GraphRequest:
        """The Send API call of one request (its JSON encoded once).

        Raises:
            TypeError: Not a SendRequest.
        """
        if not isinstance(request, SendRequest):
            raise TypeError(f"send_request takes a SendRequest, got {type(request).__name__}")
        body = json.dumps(send_request_to_wire(request), separators=_COMPACT).encode()
        return GraphRequest("POST", self.messages_url, body, _JSON, "send", True)

    def batch(self, calls: Sequence[BatchCall], *, sends_message: bool) -> GraphRequest:
        """One Graph batch request of up to 50 calls, its form encoded once.

        Raises:
            ValueError: No calls or more than 50.
        """
        form = encode_batch_form(calls, access_token=self._token, appsecret_proof=self._proof)
        body = "&".join(f"{name}={form_quote(value)}" for name, value in form.items()).encode()
        size = len(calls)
        return GraphRequest("POST", self.batch_url, body, _FORM, "batch", sends_message, size, size)

    def call(
        self,
        method: str,
        path: str,
        *,
        what: str,
        params: Mapping[str, str] | None = None,
        body: Mapping[str, Any] | None = None,
    ) -> GraphRequest:
        """Any other Graph call (never a message send), with an optional JSON body."""
        encoded = json.dumps(body, separators=_COMPACT).encode() if body is not None else None
        return GraphRequest(
            method,
            self.url(path, params),
            encoded,
            _JSON if encoded is not None else None,
            what,
            False,
        )

    def user_profile(self, psid: str, fields: Iterable[str] | str) -> GraphRequest:
        """``GET /{psid}?fields=…`` (see :meth:`fmc.Client.get_user_profile`).

        Raises:
            ValueError: Not a plain PSID, or no valid field names.
        """
        names = [fields] if isinstance(fields, str) else list(fields)
        if not names or not all(isinstance(f, str) and _PATH_SEGMENT.fullmatch(f) for f in names):
            raise ValueError(f"fields must be profile field names, got {names!r}")
        return self.call(
            "GET", _segment(psid, "psid"), what="user profile", params={"fields": ",".join(names)}
        )

    def upload_attachment(
        self, type: AttachmentType | str, url: str, *, is_reusable: bool
    ) -> GraphRequest:
        """``POST /{page_id}/message_attachments`` for a file at ``url``.

        Raises:
            ValueError: An unknown type or a URL that is not http(s).
        """
        attachment = Attachment(type, url=url, is_reusable=is_reusable)
        return self.call(
            "POST",
            f"{self.page_path}/message_attachments",
            what="attachment upload",
            body={"message": to_wire(attachment)},
        )

    def get_messenger_profile(self, fields: Iterable[str] | str) -> GraphRequest:
        """``GET /{page_id}/messenger_profile?fields=…``.

        Raises:
            ValueError: No field or an invalid name.
        """
        names = messenger_profile_fields(fields)
        return self._messenger_profile("GET", params={"fields": ",".join(names)})

    def set_messenger_profile(self, **properties: Any) -> GraphRequest:
        """``POST /{page_id}/messenger_profile`` (see :func:`messenger_profile_body`).

        Raises:
            ValueError: No property given.
        """
        return self._messenger_profile("POST", body=messenger_profile_body(**properties))

    def delete_messenger_profile(self, fields: Iterable[str] | str) -> GraphRequest:
        """``DELETE /{page_id}/messenger_profile`` with the properties to remove.

        Raises:
            ValueError: No field or an invalid name.
        """
        names = messenger_profile_fields(fields)
        return self._messenger_profile("DELETE", body={"fields": names})

    def _messenger_profile(
        self,
        method: str,
        *,
        params: Mapping[str, str] | None = None,
        body: Mapping[str, Any] | None = None,
    ) -> GraphRequest:
        return self.call(
            method,
            f"{self.page_path}/messenger_profile",
            what="messenger profile",
            params=params,
            body=body,
        )

    # -- reading ------------------------------------------------------------------------------

    def read(self, request: GraphRequest, answer: RawAnswer) -> Any:
        """Turn the raw answer to ``request`` into its JSON, or raise its typed error.

        The body is scrubbed of the token, app secret and ``appsecret_proof``
        first, so no error, log line or stored text can hold them. A batch
        answer becomes one :class:`~fmc.transport.BatchAnswer` per call, each
        carrying the batch answer's own usage headers.

        Raises:
            GraphAPIError: The typed error of a refused or unreadable answer.
        """
        content = self.redactor.body(answer.content)
        if not request.batch_size:
            return decode_answer(
                answer.status, content, answer.headers, sends_message=request.sends_message
            )
        data = decode_answer(
            answer.status,
            content,
            answer.headers,
            sends_message=request.sends_message,
            want_list=True,
        )
        return decode_batch_answers(data, request.batch_size, usage_headers(answer.headers))

    def failure(self, request: GraphRequest, exc: BaseException) -> FMCError:
        """The typed error for a request that got no answer.

        Args:
            request: The request.
            exc: What the transport raised.

        Returns:
            :class:`~fmc.errors.NetworkError` when Meta cannot have seen the
            request (or the call is safe to repeat), an ambiguous
            :class:`~fmc.errors.SendTimeoutError` when it may have delivered a
            message, else a plain :class:`~fmc.errors.FMCError`.
        """
        what = request.what
        detail = self.redactor(f"{type(exc).__name__}: {exc}")
        if isinstance(exc, NotConnectedError):
            return NetworkError(f"could not connect to Graph for {what}: {detail}")
        if isinstance(exc, NoAnswerError):
            if request.sends_message:
                return SendTimeoutError(
                    f"no answer from Graph for {what} after the request was sent "
                    f"({detail}); the message may or may not have been sent"
                )
            return NetworkError(f"no answer from Graph for {what}: {detail}")
        return FMCError(f"request to Graph for {what} failed: {detail}")


def attachment_id(data: Mapping[str, Any]) -> str:
    """The ``attachment_id`` of an upload's answer.

    Raises:
        GraphAPIError: The answer has none.
    """
    value = data.get("attachment_id")
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not value:
        raise GraphAPIError("attachment upload answered without an attachment_id", status=200)
    return value


def expect_success(data: Mapping[str, Any]) -> None:
    """Check a Messenger profile answer says ``success``.

    Raises:
        GraphAPIError: It does not.
    """
    if data.get("result") != "success":
        raise GraphAPIError("Messenger profile call did not answer 'success'", status=200)
