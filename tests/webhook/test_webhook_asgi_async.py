"""The ASGI adapter with coroutine callbacks: answered on the loop, only the commit in a thread."""

from __future__ import annotations

import asyncio
import threading
import warnings
from collections.abc import Callable
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from typing import Any, TypeVar

import pytest
from webhook_support import APP_SECRET, VERIFY_TOKEN, fixture_bytes, signed_headers

with warnings.catch_warnings():
    # Starlette's test client announces a future httpx change on import; not fmc's concern.
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

from fmc.adapters import asgi
from fmc.webhook import Event, MessageEvent, WebhookHandler
from fmc.webhook.commit import CommitFailedError

T = TypeVar("T")


class CountingExecutor(Executor):
    """A thread pool that counts what it is given."""

    def __init__(self) -> None:
        self.pool = ThreadPoolExecutor(1)
        self.submitted = 0

    def submit(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> Future[T]:
        self.submitted += 1
        return self.pool.submit(fn, *args, **kwargs)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        self.pool.shutdown(wait, cancel_futures=cancel_futures)


def post(handler: WebhookHandler, body: bytes, executor: Executor | None = None) -> tuple[int, str]:
    """POST a body through the adapter on a fresh loop; the status, and the loop's thread name."""
    messages: list[dict[str, Any]] = []
    headers = [(k.lower().encode(), v.encode()) for k, v in signed_headers(body).items()]
    scope = {"type": "http", "method": "POST", "headers": headers, "query_string": b""}

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        messages.append(message)

    async def main() -> str:
        await asgi.make_app(handler, executor=executor)(scope, receive, send)
        return threading.current_thread().name

    loop_thread = asyncio.run(main())
    return messages[0]["status"], loop_thread


def test_coroutine_callbacks_are_awaited_on_the_loop() -> None:
    """An async def callback is awaited in the event loop's thread, after a 200-worthy commit."""
    handler = WebhookHandler(APP_SECRET, VERIFY_TOKEN)
    threads: list[str] = []

    @handler.on(MessageEvent)
    async def reply(event: MessageEvent) -> None:
        await asyncio.sleep(0)
        threads.append(threading.current_thread().name)

    status, loop_thread = post(handler, fixture_bytes("message_text"))
    assert status == 200
    assert threads == [loop_thread]


def test_only_the_commit_goes_to_the_executor() -> None:
    """With coroutine callbacks, one executor job per delivery: the commit."""
    handler = WebhookHandler(APP_SECRET, VERIFY_TOKEN)
    seen: list[Event] = []

    async def record(event: Event) -> None:
        seen.append(event)

    handler.on_any(record)
    executor = CountingExecutor()
    try:
        status, _loop = post(handler, fixture_bytes("multi_entry"), executor)
    finally:
        executor.shutdown()
    assert (status, executor.submitted, len(seen)) == (200, 1, 5)


def test_sync_callbacks_keep_the_thread_path() -> None:
    """Plain callbacks only: the whole handler runs in the worker thread, as before."""
    handler = WebhookHandler(APP_SECRET, VERIFY_TOKEN)
    threads: list[str] = []
    handler.on_any(lambda event: threads.append(threading.current_thread().name))
    status, loop_thread = post(handler, fixture_bytes("message_text"))
    assert status == 200
    assert threads
    assert threads[0] != loop_thread


def test_a_commit_that_fails_is_503_and_nothing_is_dispatched(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The store timing out answers 503 before any coroutine callback runs."""
    handler = WebhookHandler(APP_SECRET, VERIFY_TOKEN)
    seen: list[Event] = []

    async def record(event: Event) -> None:
        seen.append(event)

    handler.on_any(record)

    def timed_out(*args: object) -> object:
        raise CommitFailedError("the store did not answer in time")

    monkeypatch.setattr(handler._committer, "commit", timed_out)
    status, _loop = post(handler, fixture_bytes("message_text"))
    assert (status, seen) == (503, [])


def test_a_failing_coroutine_callback_still_answers_200(caplog: pytest.LogCaptureFixture) -> None:
    """A raising async callback is logged with its name; the delivery is still acknowledged."""
    handler = WebhookHandler(APP_SECRET, VERIFY_TOKEN)

    @handler.on(MessageEvent)
    async def broken(event: MessageEvent) -> None:
        raise RuntimeError("boom")

    status, _loop = post(handler, fixture_bytes("message_text"))
    assert status == 200
    assert "broken" in caplog.text


def test_a_duplicate_delivery_is_not_dispatched_twice() -> None:
    """The dedup rule holds on the async path: the same delivery twice, one dispatch."""
    handler = WebhookHandler(APP_SECRET, VERIFY_TOKEN)
    seen: list[Event] = []

    async def record(event: Event) -> None:
        seen.append(event)

    handler.on_any(record)
    body = fixture_bytes("message_text")
    assert [post(handler, body)[0] for _ in range(2)] == [200, 200]
    assert len(seen) == 1


@pytest.mark.parametrize(
    ("query", "status"),
    [
        ({"hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "7"}, 200),
        ({"hub.mode": "subscribe", "hub.verify_token": "wrong", "hub.challenge": "7"}, 403),
    ],
)
def test_the_handshake_answers_alike(query: dict[str, str], status: int) -> None:
    """GET is answered the same with coroutine callbacks registered."""
    handler = WebhookHandler(APP_SECRET, VERIFY_TOKEN)

    async def record(event: Event) -> None:
        return None

    handler.on_any(record)
    with TestClient(asgi.make_app(handler)) as client:
        assert client.get("/", params=query).status_code == status


class Replier:
    """A callable object with an async __call__."""

    def __init__(self) -> None:
        self.seen: list[Event] = []

    async def __call__(self, event: Event) -> None:
        self.seen.append(event)


def test_an_object_with_an_async_call_is_awaited() -> None:
    """An instance whose __call__ is async def takes the event-loop path and is awaited."""
    handler = WebhookHandler(APP_SECRET, VERIFY_TOKEN)
    replier = Replier()
    handler.on_any(replier)
    status, _loop = post(handler, fixture_bytes("message_text"))
    assert (status, len(replier.seen)) == (200, 1)
