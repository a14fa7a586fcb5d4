"""The sync driver's transport: one pooled :class:`requests.Session`, moving bytes only.

:class:`RequestsTransport` sends a :class:`~fmc.transport.core.GraphRequest`
and returns the :class:`~fmc.transport.core.RawAnswer`; everything else (what
the answer means, whether to retry) is the core's. A failure of ``requests``
becomes :class:`~fmc.transport.core.NotConnectedError` when no connection was made
(so Meta saw nothing) and :class:`~fmc.transport.core.NoAnswerError` when the request
may have been written.

Made cheap on purpose. ``requests.Session.request`` re-reads the proxy, netrc
and CA-bundle settings from the environment on every call (two full scans of
``os.environ`` per send; about a quarter of fmc's CPU per send in a profile)
and merges seven settings dictionaries. An owned session is therefore created
with ``trust_env=False`` and the environment's proxies and CA bundle resolved
**once**, for the Graph host, when the transport is made; requests are
prepared by hand (the URL and body are already encoded by the core) and go
straight to :meth:`requests.Session.send`. An injected session is used as it
is, through :meth:`requests.Session.request`, so its own settings still apply.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping

import requests
import urllib3
from requests.adapters import HTTPAdapter
from requests.cookies import RequestsCookieJar
from requests.structures import CaseInsensitiveDict
from requests.utils import get_environ_proxies
from urllib3.exceptions import NewConnectionError

from fmc.errors import ConfigurationError
from fmc.transport.answer import decode_answer
from fmc.transport.core import (
    GraphRequest,
    NoAnswerError,
    NotConnectedError,
    RawAnswer,
    TransportError,
)
from fmc.transport.redact import Redactor

# decode_answer lived here before the core took over reading answers.
__all__ = ["RequestsTransport", "Timeout", "check_timeout", "decode_answer"]

_log = logging.getLogger("fmc.transport")

#: ``(connect, read)`` seconds, or one number for both.
Timeout = float | tuple[float, float]

# Failures after the request may have been written to the socket.
_MAYBE_DELIVERED = (
    requests.exceptions.Timeout,
    requests.exceptions.ConnectionError,
    requests.exceptions.ChunkedEncodingError,
)

_NO_HOOKS: dict[str, list[object]] = {"response": []}


def check_timeout(timeout: Timeout) -> Timeout:
    """Check a ``(connect, read)`` pair or one positive number of seconds.

    Raises:
        ConfigurationError: Anything else.
    """
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


def _environment_settings(url: str) -> tuple[dict[str, str], str | bool]:
    """The proxies and CA bundle the environment gives ``url``, read once."""
    proxies = get_environ_proxies(url)
    bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
    return dict(proxies), bundle or True


class RequestsTransport:
    """Graph calls over one pooled :class:`requests.Session`.

    Args:
        base_url: Graph's root URL (proxies are resolved for its host).
        timeout: ``(connect, read)`` seconds.
        session: A session to use instead of an owned one (not closed by
            :meth:`close`; its adapters and environment handling are left as
            they are).
        pool_size: Connections to keep per host; at least the concurrency.
        redactor: Masks the Page's secrets in log lines.

    fmc's own log lines are masked; urllib3's DEBUG request lines are masked
    only after :func:`~fmc.transport.redact.install_log_redaction`, which
    changes loggers the whole process shares and so is the application's call.
    """

    def __init__(
        self,
        *,
        base_url: str,
        timeout: Timeout,
        session: requests.Session | None = None,
        pool_size: int = 10,
        redactor: Redactor | None = None,
    ) -> None:
        self.timeout = check_timeout(timeout)
        self._redactor = redactor if redactor is not None else Redactor()
        self._owns_session = session is None
        self._pool_size = 0
        self._adapters: list[HTTPAdapter] = []
        self.session = session if session is not None else requests.Session()
        self._proxies: dict[str, str] = {}
        self._verify: str | bool = True
        self._base_headers: dict[str, str] = {}
        if self._owns_session:
            self._proxies, self._verify = _environment_settings(base_url)
            self.session.trust_env = False
            self._base_headers = {
                name: value if isinstance(value, str) else value.decode("latin-1")
                for name, value in self.session.headers.items()
            }
            self.session.proxies = dict(self._proxies)
            self.session.verify = self._verify
            self.ensure_pool(pool_size)

    def __repr__(self) -> str:
        return f"RequestsTransport(pool_size={self._pool_size}, owns_session={self._owns_session})"

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
        """Close the session if this transport created it."""
        if self._owns_session:
            self.session.close()
            for adapter in self._adapters:
                adapter.close()

    def send(self, request: GraphRequest) -> RawAnswer:
        """Make one HTTP exchange.

        Args:
            request: The prepared Graph call.

        Returns:
            The status, headers and body.

        Raises:
            NotConnectedError: No connection was made.
            NoAnswerError: The request may have reached Graph without an answer.
            TransportError: requests failed in another way.
        """
        try:
            if self._owns_session:
                response = self._send_prepared(request)
            else:
                response = self.session.request(
                    request.method,
                    request.url,
                    data=request.body,
                    headers=request.headers or None,
                    timeout=self.timeout,
                    allow_redirects=False,
                )
        except requests.RequestException as exc:
            if _never_connected(exc):
                raise NotConnectedError(str(exc)) from None
            if isinstance(exc, _MAYBE_DELIVERED):
                raise NoAnswerError(str(exc)) from None
            raise TransportError(f"{type(exc).__name__}: {exc}") from None
        if _log.isEnabledFor(logging.DEBUG):
            _log.debug(
                "%s %s -> HTTP %d in %.3fs",
                request.method,
                self._redactor(request.url),
                response.status_code,
                response.elapsed.total_seconds(),
            )
        return RawAnswer(response.status_code, response.headers, response.content)

    def _send_prepared(self, request: GraphRequest) -> requests.Response:
        prepared = requests.PreparedRequest()
        prepared.method = request.method
        prepared.url = request.url
        headers: Mapping[str, str] = request.headers
        # The session's defaults (User-Agent, Accept-Encoding …), as Session.request sends them.
        prepared.headers = CaseInsensitiveDict(self._base_headers)
        prepared.headers.update(headers)
        body = request.body
        prepared.body = body
        if body is not None:
            prepared.headers["Content-Length"] = str(len(body))
        elif request.method not in ("GET", "HEAD"):
            prepared.headers["Content-Length"] = "0"
        prepared.hooks = _NO_HOOKS
        # Read only when Graph answers a redirect (which is not followed).
        prepared._cookies = RequestsCookieJar()  # type: ignore[attr-defined]
        return self.session.send(
            prepared,
            timeout=self.timeout,
            allow_redirects=False,
            proxies=self._proxies,
            verify=self._verify,
            stream=False,
        )
