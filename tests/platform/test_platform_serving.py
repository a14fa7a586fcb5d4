"""The platform webhook through fmc's WSGI and ASGI adapters."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from werkzeug.test import Client as WSGIClient

from fmc.adapters import wsgi
from fmc.platform import App, PageRecord, Platform
from fmc.platform.serving import make_asgi_app, make_wsgi_app
from fmc.testing import message_event, signature_headers

APP = App("1001", "bakery-secret", "bakery-verify")
STORE_BACKENDS = ["memory"]


@pytest.fixture
def served(platform: Platform) -> Platform:
    """A platform with one app and its Page 2001."""
    platform.add_app(APP)
    platform.registry.put_page(PageRecord("2001", "1001", "token-2001"))
    return platform


def _delivery() -> tuple[bytes, dict[str, str]]:
    entry = {"id": "2001", "time": 1, "messaging": [message_event("p1", "hi", page_id="2001")]}
    body = json.dumps({"object": "page", "entry": [entry]}).encode()
    return body, signature_headers(body, APP.secret)


@pytest.mark.parametrize(("path", "status"), [("/webhook/1001", 200), ("/webhook/9", 404)])
def test_wsgi_routes_by_path(served: Platform, path: str, status: int) -> None:
    """One WSGI app serves every app's path; an unknown app is 404."""
    body, headers = _delivery()
    answer = WSGIClient(make_wsgi_app(served.webhook)).post(path, data=body, headers=headers)
    assert answer.status_code == status


def test_one_app_through_the_plain_adapter(served: Platform) -> None:
    """for_app() gives a handler that fmc.adapters.wsgi.make_app serves unchanged."""
    handler = served.webhook.for_app("1001")
    assert handler is not None
    body, headers = _delivery()
    answer = WSGIClient(wsgi.make_app(handler)).post("/", data=body, headers=headers)
    assert answer.status_code == 200
    assert served.store.get("2001", "p1") is not None  # type: ignore[union-attr]


async def _asgi_post(app: Any, path: str) -> int:
    body, headers = _delivery()
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://platform.test") as client:
        return (await client.post(path, content=body, headers=headers)).status_code


@pytest.mark.parametrize(("path", "status"), [("/webhook/1001", 200), ("/webhook/9", 404)])
def test_asgi_routes_by_path(served: Platform, path: str, status: int) -> None:
    """One ASGI app serves every app's path; an unknown app is 404."""
    import asyncio

    assert asyncio.run(_asgi_post(make_asgi_app(served.webhook), path)) == status


async def _lifespan_replies(app: Any) -> list[str]:
    incoming = [{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}]
    sent: list[str] = []

    async def receive() -> dict[str, str]:
        return incoming.pop(0)

    async def send(message: dict[str, str]) -> None:
        sent.append(message["type"])

    await app({"type": "lifespan"}, receive, send)
    return sent


def test_asgi_answers_lifespan(served: Platform) -> None:
    """The ASGI app completes the server's startup and shutdown, then returns."""
    import asyncio

    replies = asyncio.run(_lifespan_replies(make_asgi_app(served.webhook)))
    assert replies == ["lifespan.startup.complete", "lifespan.shutdown.complete"]
