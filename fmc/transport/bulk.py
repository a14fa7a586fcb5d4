"""Bounded, lazy, concurrent execution for :meth:`fmc.Client.send_many`.

:func:`run_bounded` pulls work items from an iterable only as fast as results
are handed back, so that at most ``window`` items are held at any time (in a
worker, waiting for one, or finished and not yet yielded). That keeps a
broadcast over millions of subscribers in constant memory and lets the input
be an unbounded generator. :func:`send_chunk` sends one chunk of requests as a
Graph batch and retries only the items Meta throttled.
"""

from __future__ import annotations

import queue
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from itertools import islice
from typing import TypeVar

from fmc.convert import send_request_to_wire
from fmc.errors import SendWithdrawnError
from fmc.models import SendRequest
from fmc.transport.batch import BatchAnswer, BatchCall, decode_send_answer
from fmc.transport.outcome import SendOutcome, read_send_result
from fmc.transport.retry import Retrier, is_retryable

__all__ = ["WITHDRAWN", "BeforeSend", "chunked", "run_bounded", "send_chunk"]

#: Called with the requests of one HTTP request just before it goes out; one bool each.
BeforeSend = Callable[[Sequence[SendRequest]], Sequence[bool]]

#: The message of the error a withdrawn request's outcome carries.
WITHDRAWN = "withdrawn by before_send before its HTTP request went out; nothing was sent"

T = TypeVar("T")
R = TypeVar("R")


class _Failure:
    """An exception raised by a work function, carried back to the consumer."""

    __slots__ = ("error",)

    def __init__(self, error: BaseException) -> None:
        self.error = error


def run_bounded(
    items: Iterable[T],
    work: Callable[[T], Sequence[R]],
    *,
    concurrency: int,
    window: int,
    thread_name: str = "fmc-send",
) -> Iterator[R]:
    """Run ``work`` over ``items`` in threads, yielding results as they complete.

    Args:
        items: The input; consumed lazily, never more than ``window`` items
            ahead of what has been yielded.
        work: Turns one item into its results; must not raise for an expected
            failure (return it as a result instead).
        concurrency: Worker threads.
        window: The most items held at once; at least ``concurrency``.
        thread_name: Prefix of the worker threads' names.

    Yields:
        The results of each item, items in completion order.

    Raises:
        BaseException: Whatever iterating ``items`` raises, or an unexpected
            exception escaping ``work``; in-flight work is finished first and
            queued work is cancelled.
    """
    iterator = iter(items)
    done: queue.SimpleQueue[Sequence[R] | _Failure] = queue.SimpleQueue()

    def task(item: T) -> None:
        try:
            done.put(work(item))
        except BaseException as exc:  # handed to the consumer, never lost in a thread
            done.put(_Failure(exc))

    window = max(window, concurrency)
    executor = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix=thread_name)
    held = 0
    exhausted = False
    try:
        while True:
            while not exhausted and held < window:
                try:
                    item = next(iterator)
                except StopIteration:
                    exhausted = True
                    break
                executor.submit(task, item)
                held += 1
            if held == 0:
                return
            results = done.get()
            held -= 1
            if isinstance(results, _Failure):
                raise results.error
            yield from results
    finally:
        # Closing the iterator early: queued items never start; in-flight
        # calls finish (a send cannot be recalled half-way).
        executor.shutdown(wait=True, cancel_futures=True)


def chunked(items: Iterable[T], size: int) -> Iterator[list[T]]:
    """Split an iterable lazily into lists of at most ``size`` items.

    Args:
        items: Any iterable; read only as far as the chunks are taken.
        size: The chunk size, at least 1.

    Yields:
        Lists of ``size`` items, the last one possibly shorter.
    """
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


def send_chunk(
    chunk: Sequence[SendRequest],
    *,
    relative_url: str,
    post: Callable[[int, Callable[[], list[BatchCall]]], list[BatchAnswer | None]],
    retrier: Retrier,
    before_send: BeforeSend | None = None,
) -> list[SendOutcome]:
    """Send up to 50 requests in one Graph batch, one outcome per request.

    Each item's answer is mapped back to its request. Items Meta throttled or
    failed transiently are retried, under the retry policy, in a smaller batch
    holding only them, so that an item that succeeded is never sent again.
    When the batch request itself fails, every item still pending gets that
    error (ambiguous when the request may have been executed).

    Args:
        chunk: The requests, in order.
        relative_url: The batch calls' path, e.g. ``"1234/messages"``.
        post: Makes one batch request: waits for the rate limiter (charged
            the count it is given; the retrier has let the attempt through the
            throttling gate), then posts the calls
            its second argument returns and returns their answers in order;
            raises typed fmc errors.
        retrier: Runs the retries.
        before_send: Asked, once, right before the first batch request goes
            out, which requests may go; the others are not sent and their
            outcomes carry a :class:`~fmc.errors.SendWithdrawnError`.

    Returns:
        One outcome per request, in the order of ``chunk``.
    """
    outcomes: dict[int, SendOutcome] = {}
    calls: dict[int, BatchCall] = {}
    for index, request in enumerate(chunk):
        try:
            if not isinstance(request, SendRequest):
                raise TypeError(f"send_many takes SendRequests, got {type(request).__name__}")
            calls[index] = BatchCall("POST", relative_url, send_request_to_wire(request))
        except Exception as exc:
            outcomes[index] = SendOutcome(request, error=exc)
    pending = list(calls)
    item_errors: dict[int, Exception] = {}
    raised: list[Exception] = []
    handed = before_send is None

    def calls_now() -> list[BatchCall]:
        nonlocal pending, handed
        if not handed:
            handed = True
            assert before_send is not None
            allowed = before_send([chunk[i] for i in pending])
            for index, ok in zip(pending, allowed, strict=True):
                if not ok:
                    outcomes[index] = SendOutcome(chunk[index], error=SendWithdrawnError(WITHDRAWN))
            pending = [i for i, ok in zip(pending, allowed, strict=True) if ok]
        return [calls[i] for i in pending]

    def attempt() -> None:
        nonlocal pending
        answers = post(len(pending), calls_now)
        retry_later: list[int] = []
        for index, answer in zip(pending, answers, strict=True):
            try:
                result = read_send_result(
                    decode_send_answer(answer), message=chunk[index].message is not None
                )
            except Exception as exc:
                if is_retryable(exc):
                    retry_later.append(index)
                    item_errors[index] = exc
                else:
                    outcomes[index] = SendOutcome(chunk[index], error=exc)
            else:
                outcomes[index] = SendOutcome(chunk[index], result=result)
        pending = retry_later
        if retry_later:
            # The retry waits as long as the most demanding item asks.
            worst = max(
                (item_errors[i] for i in retry_later),
                key=lambda e: getattr(e, "retry_after", None) or 0.0,
            )
            raised[:] = [worst]
            raise worst

    if pending:
        try:
            retrier.call(attempt, operation="batch")
        except Exception as exc:
            per_item = bool(raised) and exc is raised[0]
            for index in pending:
                outcomes[index] = SendOutcome(
                    chunk[index], error=item_errors[index] if per_item else exc
                )
    return [outcomes[index] for index in range(len(chunk))]
