"""The async driver's transport: one aiohttp session, moving bytes only.

Needs the ``async`` extra (``pip install "fmc[async]"``). Like the sync
transport it only sends a :class:`~fmc.transport.core.GraphRequest` and returns
the :class:`~fmc.transport.core.RawAnswer`; a failure becomes
:class:`~fmc.transport.core.NotConnectedError` when no connection was made and
:class:`~fmc.transport.core.NoAnswerError` when the request may have been written.

The environment's proxy for the Graph host is resolved once, when the
transport is made (as the sync transport does), and passed with every request;
aiohttp itself is told not to read the environment.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from requests.utils import get_environ_proxies

from fmc.errors import ConfigurationError
from fmc.transport.core import (
    GraphRequest,
    NoAnswerError,
    NotConnectedError,
    RawAnswer,
    TransportError,
)
from fmc.transport.http import Timeout, check_timeout

if TYPE_CHECKING:
    import aiohttp

__all__ = ["AiohttpTransport"]


def _aiohttp() -> Any:
    try:
        import aiohttp
    except ImportError:  # pragma: no cover - the extra is installed in the test environment
        raise ConfigurationError(
            'fmc.AsyncClient needs aiohttp: install fmc with the async extra, "fmc[async]"'
        ) from None
    return aiohttp


class AiohttpTransport:
    """Graph calls over one pooled :class:`aiohttp.ClientSession`.

    The session is opened on first use, inside the running event loop.

    Args:
        base_url: Graph's root URL (its proxy is resolved once).
        timeout: ``(connect, read)`` seconds.
        limit: Connections kept open at most (the in-flight bound).
        session: A session to use instead of an owned one (not closed by
            :meth:`close`).
    """

    def __init__(
        self,
        *,
        base_url: str,
        timeout: Timeout,
        limit: int = 256,
        session: aiohttp.ClientSession | None = None,
    ) -> None:
        aiohttp = _aiohttp()
        timeout = check_timeout(timeout)
        connect, read = timeout if isinstance(timeout, tuple) else (timeout, timeout)
        self._timeout = aiohttp.ClientTimeout(total=None, sock_connect=connect, sock_read=read)
        self._limit = limit
        self._session = session
        self._owns_session = session is None
        scheme = base_url.split(":", 1)[0]
        self._proxy: str | None = get_environ_proxies(base_url).get(scheme)
        self._url_type: Any = None

    def __repr__(self) -> str:
        return f"AiohttpTransport(limit={self._limit}, owns_session={self._owns_session})"

    def _open(self) -> aiohttp.ClientSession:
        lib = _aiohttp()
        import yarl

        self._url_type = yarl.URL
        connector = lib.TCPConnector(limit=self._limit, limit_per_host=self._limit)
        session: aiohttp.ClientSession = lib.ClientSession(
            connector=connector, timeout=self._timeout, trust_env=False
        )
        # aiohttp resends a GET or DELETE once when a connection drops; fmc's
        # retry policy decides every retry (as urllib3's retries are off in the
        # sync transport). aiohttp has no public switch; its own test client
        # turns this attribute off the same way.
        if hasattr(session, "_retry_connection"):
            session._retry_connection = False
        self._session = session
        return session

    async def close(self) -> None:
        """Close the session if this transport opened it."""
        if self._owns_session and self._session is not None:
            await self._session.close()
            self._session = None

    async def send(self, request: GraphRequest) -> RawAnswer:
        """Make one HTTP exchange.

        Args:
            request: The prepared Graph call.

        Returns:
            The status, headers and body.

        Raises:
            NotConnectedError: No connection was made.
            NoAnswerError: The request may have reached Graph without an answer.
            TransportError: aiohttp failed in another way.
        """
        aiohttp = _aiohttp()
        session = self._session if self._session is not None else self._open()
        if self._url_type is None:
            import yarl

            self._url_type = yarl.URL
        url = self._url_type(request.url, encoded=True)
        try:
            async with session.request(
                request.method,
                url,
                data=request.body,
                headers=request.headers or None,
                allow_redirects=False,
                proxy=self._proxy,
                timeout=self._timeout,
            ) as response:
                content = await response.read()
                return RawAnswer(response.status, response.headers, content)
        except aiohttp.ClientConnectorError as exc:  # DNS, refused, TLS or proxy handshake
            raise NotConnectedError(f"{type(exc).__name__}: {exc}") from None
        except aiohttp.ConnectionTimeoutError as exc:
            raise NotConnectedError(f"{type(exc).__name__}: connect timeout") from exc
        except (asyncio.TimeoutError, TimeoutError) as exc:
            raise NoAnswerError(f"{type(exc).__name__}: read timeout") from exc
        except (
            aiohttp.ServerDisconnectedError,
            aiohttp.ClientOSError,
            aiohttp.ClientPayloadError,
        ) as exc:
            raise NoAnswerError(f"{type(exc).__name__}: {exc}") from None
        except aiohttp.ClientError as exc:
            raise TransportError(f"{type(exc).__name__}: {exc}") from None
