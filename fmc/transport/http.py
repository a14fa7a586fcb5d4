"""The HTTP edge of the client: one pooled session, auth, timeouts, typed errors.

Every Graph answer and every failure of requests is turned into an fmc error
here, so that the layers above only see :mod:`fmc.errors` types:

* a non-2xx answer, or a 2xx answer whose JSON holds an ``error`` object,
  becomes the :class:`~fmc.errors.GraphAPIError` subclass of its code;
* a 2xx answer that is not a JSON object (HTML, empty, truncated, wrong shape)
  becomes a :class:`~fmc.errors.GraphAPIError` — for a send, an
  :class:`~fmc.errors.UncertainDeliveryError`, because Meta accepted the
  request and the message may well have gone out;
* a connection that was never established (DNS, refused, connect timeout)
  becomes a :class:`~fmc.errors.NetworkError`, which is retried;
* a request that may have reached Meta without an answer (read timeout,
  connection dropped after sending, HTTP 504 from a gateway) becomes a
  :class:`~fmc.errors.SendTimeoutError` for a send, which is never retried,
  and a :class:`~fmc.errors.NetworkError` for calls that are safe to repeat.

No URL in an error or a log line carries a token, and every answer's body is
scrubbed of the token, the app secret and ``appsecret_proof`` before it is
decoded (Graph quotes a malformed token back in its message): see
:mod:`fmc.transport.redact`.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote, urlencode

import requests
import urllib3
from requests.adapters import HTTPAdapter
from urllib3.exceptions import NewConnectionError

from fmc.errors import (
    USAGE_HEADERS,
    ConfigurationError,
    FMCError,
    GraphAPIError,
    NetworkError,
    SendTimeoutError,
    UncertainDeliveryError,
    graph_error_from_response,
)
from fmc.transport.redact import Redactor, appsecret_proof, install_log_redaction

__all__ = ["GraphHTTP", "Timeout", "decode_answer", "usage_headers"]

_log = logging.getLogger("fmc.transport")

#: ``(connect, read)`` seconds, or one number for both.
Timeout = float | tuple[float, float]

_JSON_HEADERS = {"Content-Type": "application/json"}

# Failures after the request may have been written to the socket.
_MAYBE_DELIVERED = (
    requests.exceptions.Timeout,
    requests.exceptions.ConnectionError,
    requests.exceptions.ChunkedEncodingError,
)


def _check_timeout(timeout: Timeout) -> Timeout:
    values = timeout if isinstance(timeout, tuple) else (timeout,)
    if not 1 <= len(values) <= 2 or not all(
        isinstance(v, (int, float)) and not isinstance(v, bool) and v > 0 for v in values
    ):
        raise ConfigurationError(
            f"timeout must be a positive number or a (connect, read) pair, got {timeout!r}"
        )
    return timeout


def _never_connected(exc: requests.RequestException) -> bool:
    """Whether requests failed before a connection existed, so Meta saw nothing."""
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return True
    if isinstance(exc, (requests.exceptions.SSLError, requests.exceptions.ProxyError)):
        # The TLS or proxy handshake failed: no HTTP request was written.
        return True
    if not isinstance(exc, requests.exceptions.ConnectionError):
        return False
    for arg in exc.args:
        reason = getattr(arg, "reason", arg)
        if isinstance(reason, NewConnectionError):
            return True
    return False


def usage_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """The rate-limit usage headers of an answer, with lower-case names.

    Args:
        headers: Response headers, any case.

    Returns:
        ``X-App-Usage``, ``X-Page-Usage``, ``X-Business-Use-Case-Usage``,
        ``X-Ad-Account-Usage`` and ``Retry-After`` when present.
    """
    found: dict[str, str] = {}
    for name in USAGE_HEADERS:
        value = headers.get(name)
        if value is not None:
            found[name] = value
    return found


def decode_answer(
    status: int,
    content: bytes | str | None,
    headers: Mapping[str, str],
    *,
    sends_message: bool,
    want_list: bool = False,
) -> Any:
    """Turn one Graph answer into its JSON object, or raise its typed error.

    Args:
        status: HTTP status.
        content: Raw body.
        headers: Response headers (for usage and ``Retry-After``).
        sends_message: Whether the call sent a message, which makes a garbled
            success and a gateway timeout ambiguous rather than plain failures.
        want_list: Expect a JSON list (a batch answer) instead of an object.

    Returns:
        The decoded JSON object (or list) of a 2xx answer.

    Raises:
        GraphAPIError: The typed error (see the module docstring).
    """
    if not 200 <= status < 300:
        error = graph_error_from_response(status, content, headers)
        if sends_message and status == 504 and error.code is None:
            raise UncertainDeliveryError(
                "Graph API answered HTTP 504 (gateway timeout): "
                "the message may or may not have been sent",
                status=status,
                usage=error.usage,
            )
        raise error
    try:
        data = json.loads(content) if content else None
    except (ValueError, RecursionError):  # RecursionError: a body nested too deep
        data = None
    if isinstance(data, dict):
        if "error" in data:
            raise graph_error_from_response(status, data, headers)
        if not want_list:
            return data
    elif want_list and isinstance(data, list):
        return data
    if not content or (isinstance(content, (bytes, str)) and not content.strip()):
        kind = "an empty body"
    elif data is None:
        kind = "a body that is not JSON"
    else:
        kind = "JSON that is not a list" if want_list else "JSON that is not an object"
    if sends_message:
        raise UncertainDeliveryError(
            f"Graph API answered HTTP {status} with {kind}; "
            "the message may or may not have been sent",
            status=status,
        )
    raise GraphAPIError(f"Graph API answered HTTP {status} with {kind}", status=status)


class GraphHTTP:
    """Graph calls for one Page over one pooled :class:`requests.Session`.

    The access token and ``appsecret_proof`` travel as query parameters of
    JSON calls and as form fields of batch calls; the URLs that carry them are
    never logged or put in an error unredacted.

    Args:
        page: The Page whose token authenticates every call.
        base_url: Graph's root URL.
        api_version: The pinned Graph version, e.g. ``"v25.0"``.
        timeout: ``(connect, read)`` seconds.
        session: A session to use instead of an owned one (not closed by
            :meth:`close`, and its adapters are left as they are).
        pool_size: Connections to keep per host; at least the concurrency.
    """

    def __init__(
        self,
        page: Any,
        *,
        base_url: str,
        api_version: str,
        timeout: Timeout,
        session: requests.Session | None,
        pool_size: int,
    ) -> None:
        self.timeout = _check_timeout(timeout)
        self.page_id: str = page.id
        self._token: str = page.access_token
        self._secret: str | None = page.app_secret
        self._proof = appsecret_proof(self._token, self._secret) if self._secret else None
        self.redactor = Redactor((self._token, self._secret, self._proof))
        self.root = f"{base_url.rstrip('/')}/{api_version}"
        auth = {"access_token": self._token}
        if self._proof:
            auth["appsecret_proof"] = self._proof
        self._auth_query = urlencode(auth)
        self.messages_url = self.url(f"{quote(self.page_id, safe='')}/messages")
        self._owns_session = session is None
        self._pool_size = 0
        self._adapters: list[HTTPAdapter] = []
        self.session = session if session is not None else requests.Session()
        if self._owns_session:
            self.ensure_pool(pool_size)
        install_log_redaction()

    @property
    def access_token(self) -> str:
        """The page access token (for batch form bodies)."""
        return self._token

    @property
    def appsecret_proof(self) -> str | None:
        """The ``appsecret_proof`` of the token, or ``None`` without an app secret."""
        return self._proof

    def url(self, path: str, params: Mapping[str, str] | None = None) -> str:
        """The full URL of a Graph path, with the auth query (never log it).

        Args:
            path: Path below the versioned root, without a leading slash.
            params: Extra query parameters.

        Returns:
            The URL, token included.
        """
        query = self._auth_query
        if params:
            query = f"{urlencode(params)}&{query}"
        return f"{self.root}/{path}?{query}"

    def ensure_pool(self, size: int) -> None:
        """Grow the owned session's connection pool to at least ``size`` connections.

        Args:
            size: The number of concurrent calls to be served without opening
                and discarding extra connections.
        """
        if not self._owns_session or size <= self._pool_size:
            return
        adapter = HTTPAdapter(
            pool_connections=4,
            pool_maxsize=size,
            # tenacity retries, by fmc's rules; urllib3 must never resend a POST.
            max_retries=urllib3.Retry(total=0, read=False, redirect=False),
        )
        self.session.mount("https://", adapter)
        self.session.mount("http://", adapter)
        self._adapters.append(adapter)
        self._pool_size = size

    def close(self) -> None:
        """Close the session if this object created it."""
        if self._owns_session:
            self.session.close()
            for adapter in self._adapters:
                adapter.close()

    def redact(self, text: str) -> str:
        """Mask this Page's secrets and any token parameter in a text."""
        return self.redactor(text)

    def _transport_error(
        self, exc: requests.RequestException, what: str, *, sends_message: bool
    ) -> FMCError:
        detail = self.redact(f"{type(exc).__name__}: {exc}")
        if _never_connected(exc):
            return NetworkError(f"could not connect to Graph for {what}: {detail}")
        if isinstance(exc, _MAYBE_DELIVERED):
            if sends_message:
                return SendTimeoutError(
                    f"no answer from Graph for {what} after the request was sent "
                    f"({detail}); the message may or may not have been sent"
                )
            return NetworkError(f"no answer from Graph for {what}: {detail}")
        return FMCError(f"request to Graph for {what} failed: {detail}")

    def post_json(self, url: str, body: bytes, *, what: str, sends_message: bool) -> dict[str, Any]:
        """POST a JSON body and decode the answer.

        Args:
            url: A URL from :meth:`url` or :attr:`messages_url`.
            body: The encoded JSON body.
            what: A name for the call in errors and logs (no secrets).
            sends_message: Whether the call sends a message (see
                :func:`decode_answer`).

        Returns:
            The decoded JSON object.

        Raises:
            FMCError: A typed error (see the module docstring).
        """
        data: dict[str, Any] = self.request(
            "POST", url, what=what, sends_message=sends_message, body=body
        )
        return data

    def request(
        self,
        method: str,
        url: str,
        *,
        what: str,
        sends_message: bool,
        body: bytes | None = None,
        form: Mapping[str, str] | None = None,
        want_list: bool = False,
        headers_out: dict[str, str] | None = None,
    ) -> Any:
        """Make one Graph call and decode the answer.

        Args:
            method: ``GET``, ``POST`` or ``DELETE``.
            url: A URL from :meth:`url`.
            what: A name for the call in errors and logs (no secrets).
            sends_message: Whether the call sends a message.
            body: An encoded JSON body.
            form: Form fields, sent form-encoded instead of a JSON body.
            want_list: Expect a JSON list (a batch answer).
            headers_out: Filled with the answer's rate-limit usage headers
                (lower-case names), when given.

        Returns:
            The decoded JSON object (or list).

        Raises:
            FMCError: A typed error (see the module docstring).
        """
        try:
            if form is not None:
                response = self.session.request(
                    method, url, data=form, timeout=self.timeout, allow_redirects=False
                )
            else:
                response = self.session.request(
                    method,
                    url,
                    data=body,
                    headers=_JSON_HEADERS if body is not None else None,
                    timeout=self.timeout,
                    allow_redirects=False,
                )
        except requests.RequestException as exc:
            raise self._transport_error(exc, what, sends_message=sends_message) from None
        if _log.isEnabledFor(logging.DEBUG):
            _log.debug(
                "%s %s -> HTTP %d in %.3fs",
                method,
                self.redact(url),
                response.status_code,
                response.elapsed.total_seconds(),
            )
        if headers_out is not None:
            headers_out.update(usage_headers(response.headers))
        return decode_answer(
            response.status_code,
            self.redactor.body(response.content),
            response.headers,
            sends_message=sends_message,
            want_list=want_list,
        )
