"""The fake Graph API as a transport for :class:`fmc.Client` and :class:`fmc.AsyncClient`.

:class:`FakeTransport` and :class:`AsyncFakeTransport` hand each request
straight to :meth:`FakeGraphAPI.handle <fmc.testing.FakeGraphAPI.handle>`, in
process: no sockets and no requests-mock, so concurrent requests really run
concurrently (requests-mock serialises them behind one lock). The fake's
latency is slept (or awaited), and a dropped connection raises what a real
transport raises: :class:`~fmc.transport.core.NotConnectedError` before the
request was processed, :class:`~fmc.transport.core.NoAnswerError` after.

::

    fake = FakeGraphAPI()
    client = fmc.Client(page, transport=FakeTransport(fake))
    async_client = fmc.AsyncClient(page, transport=AsyncFakeTransport(fake))
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

from fmc.testing.fake_graph import DEFAULT_BASE_URL, FakeGraphAPI
from fmc.testing.records import Reply
from fmc.transport.core import GraphRequest, NoAnswerError, NotConnectedError, RawAnswer

__all__ = ["AsyncFakeTransport", "FakeTransport"]


def _target(url: str, base_path: str) -> str:
    split = urlsplit(url)
    path = split.path[len(base_path) :] if base_path else split.path
    return (path or "/") + ("?" + split.query if split.query else "")


def _handle(fake: FakeGraphAPI, base_path: str, request: GraphRequest) -> Reply:
    target = _target(request.url, base_path)
    return fake.handle(request.method, target, request.headers, request.body or b"")


def _answer(reply: Reply) -> RawAnswer:
    """The reply as a transport's answer, or what a transport raises for a dropped connection."""
    if reply.drop == "before":
        raise NotConnectedError("fake Graph API dropped the connection before the request")
    if reply.drop is not None:
        raise NoAnswerError("fake Graph API dropped the connection after processing the request")
    return RawAnswer(
        reply.status, {name.lower(): value for name, value in reply.headers}, reply.body
    )


class FakeTransport:
    """A sync transport that answers from a :class:`~fmc.testing.FakeGraphAPI`.

    Args:
        fake: The fake Graph API.
        base_url: The client's ``base_url`` (its path is stripped from requests).
        sleep: Waits out the fake's latency (``time.sleep``; tests may pass a fake).
    """

    def __init__(
        self,
        fake: FakeGraphAPI,
        *,
        base_url: str = DEFAULT_BASE_URL,
        sleep: Callable[[float], object] = time.sleep,
    ) -> None:
        self.fake = fake
        self._base_path = urlsplit(base_url.rstrip("/")).path
        self._sleep = sleep

    def __repr__(self) -> str:
        return f"FakeTransport({self.fake!r})"

    def send(self, request: GraphRequest) -> RawAnswer:
        """Answer one request from the fake (see :class:`~fmc.transport.core.Transport`)."""
        reply = _handle(self.fake, self._base_path, request)
        if reply.delay:
            self._sleep(reply.delay)
        return _answer(reply)

    def close(self) -> None:
        """Nothing to close."""


class AsyncFakeTransport:
    """An asyncio transport that answers from a :class:`~fmc.testing.FakeGraphAPI`.

    Args:
        fake: The fake Graph API.
        base_url: The client's ``base_url`` (its path is stripped from requests).
        sleep: Awaits the fake's latency (``asyncio.sleep``).
    """

    def __init__(
        self,
        fake: FakeGraphAPI,
        *,
        base_url: str = DEFAULT_BASE_URL,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    ) -> None:
        self.fake = fake
        self._base_path = urlsplit(base_url.rstrip("/")).path
        self._sleep = sleep

    def __repr__(self) -> str:
        return f"AsyncFakeTransport({self.fake!r})"

    async def send(self, request: GraphRequest) -> RawAnswer:
        """Answer one request from the fake (see :class:`~fmc.transport.core.AsyncTransport`)."""
        reply = _handle(self.fake, self._base_path, request)
        if reply.delay:
            await self._sleep(reply.delay)
        return _answer(reply)

    async def close(self) -> None:
        """Nothing to close."""
