"""The aiohttp transport over real sockets: failures classified like the requests transport."""

from __future__ import annotations

import asyncio
import json
import traceback
from typing import Any

import pytest

from fmc.errors import NetworkError, SendTimeoutError
from fmc.models import Page, Recipient, SendResult, Text
from fmc.transport import AsyncClient, RetryPolicy

OK = {"recipient_id": "42", "message_id": "m_1"}


def run(coroutine: Any) -> Any:
    return asyncio.run(coroutine)


async def _send(page: Page, base_url: str, **options: Any) -> SendResult:
    async with AsyncClient(page, base_url=base_url, **options) as client:
        return await client.send(Recipient("42"), Text("x"))


async def _profile(page: Page, base_url: str, **options: Any) -> Any:
    async with AsyncClient(page, base_url=base_url, **options) as client:
        return await client.get_user_profile("42")


class TestLoopback:
    def test_refused_connection_is_retried(self, page: Page, closed_port: int) -> None:
        """A refused connection never reached Meta: retried, then NetworkError."""
        naps: list[float] = []

        async def nap(seconds: float) -> None:
            naps.append(seconds)

        policy = RetryPolicy(attempts=3, wait_jitter=0.0)
        with pytest.raises(NetworkError):
            run(_send(page, f"http://127.0.0.1:{closed_port}", retry=policy, sleep=nap))
        assert len(naps) == 2

    def test_connection_dropped_after_sending_is_ambiguous(self, page: Page, loopback: Any) -> None:
        """A connection closed after the request was sent gives SendTimeoutError, sent once."""
        server = loopback("drop")
        with pytest.raises(SendTimeoutError):
            run(_send(page, server.url))
        assert len(server.requests) == 1

    def test_read_timeout_is_ambiguous(self, page: Page, loopback: Any) -> None:
        """No answer within the read timeout gives SendTimeoutError, sent once."""
        server = loopback("hang")
        with pytest.raises(SendTimeoutError):
            run(_send(page, server.url, timeout=(1.0, 0.2)))
        assert len(server.requests) == 1

    def test_dropped_read_is_retried(self, page: Page, loopback: Any) -> None:
        """A profile read whose connection drops is safe to repeat, so it is retried."""
        server = loopback("drop")

        async def nap(seconds: float) -> None:
            return None

        policy = RetryPolicy(attempts=3, wait_jitter=0.0)
        with pytest.raises(NetworkError):
            run(_profile(page, server.url, retry=policy, sleep=nap))
        assert len(server.requests) == 3

    def test_real_answer_round_trip(self, page: Page, loopback: Any, http_reply: Any) -> None:
        """A real HTTP answer is read into a SendResult; the request carries token and proof."""
        server = loopback("reply", http_reply(200, json.dumps(OK).encode()))
        assert run(_send(page, server.url)) == SendResult("42", "m_1")
        request = server.requests[0]
        assert request.startswith(b"POST /v26.0/1234/messages?access_token=")
        assert b"appsecret_proof=" in request

    def test_no_secret_in_real_network_errors(self, page: Page, closed_port: int) -> None:
        """A real refused connection's error text holds neither the token nor the proof."""
        with pytest.raises(NetworkError) as raised:
            run(_send(page, f"http://127.0.0.1:{closed_port}", retry=RetryPolicy.none()))
        error = raised.value
        text = "\n".join([str(error), repr(error), *traceback.format_exception(error)])
        assert page.access_token not in text
