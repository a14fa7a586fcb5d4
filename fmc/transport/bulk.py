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
from fmc.transport.batch import BatchAnswer, BatchCall, decode_send_answer, encode_form_body
from fmc.transport.outcome import SendOutcome, read_send_result
from fmc.transport.retry import Retrier, is_retryable

__all__ = ["WITHDRAWN", "BatchRound", "BeforeSend", "chunked", "run_bounded", "send_chunk"]

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


class BatchRound:
    """The bookkeeping of one chunk of sends travelling as Graph batches; no I/O.

    Each request's batch call is encoded once. :meth:`calls` gives the calls
    still pending; :meth:`absorb` maps a batch's answers back to their
    requests, keeps the items Meta throttled or failed transiently pending for
    a smaller batch (so an item that succeeded is never sent again) and raises
    the most demanding of their errors for the retry policy to wait on;
    :meth:`fail` gives every pending item the error the batch request itself
    ended with.

    Args:
        chunk: Up to 50 requests, in order.
        relative_url: The calls' path, e.g. ``"1234/messages"``.
    """

    def __init__(self, chunk: Sequence[SendRequest], relative_url: str) -> None:
        self.chunk = list(chunk)
        self._outcomes: dict[int, SendOutcome] = {}
        self._calls: dict[int, BatchCall] = {}
        for index, request in enumerate(self.chunk):
            try:
                if not isinstance(request, SendRequest):
                    raise TypeError(f"send_many takes SendRequests, got {type(request).__name__}")
                body = encode_form_body(send_request_to_wire(request))
                self._calls[index] = BatchCall("POST", relative_url, body)
            except Exception as exc:
                self._outcomes[index] = SendOutcome(request, error=exc)
        self.pending = list(self._calls)
        self._item_errors: dict[int, Exception] = {}
        self._raised: Exception | None = None

    def calls(self) -> list[BatchCall]:
        """The calls of the items still pending, in order."""
        return [self._calls[i] for i in self.pending]

    def absorb(self, answers: Sequence[BatchAnswer | None]) -> None:
        """Record a batch's answers, one per pending item.

        Raises:
            Exception: The retryable error of the item that asks for the
                longest wait, when any item is to be retried.
        """
        retry_later: list[int] = []
        for index, answer in zip(self.pending, answers, strict=True):
            request = self.chunk[index]
            try:
                result = read_send_result(
                    decode_send_answer(answer), message=request.message is not None
                )
            except Exception as exc:
                if is_retryable(exc):
                    retry_later.append(index)
                    self._item_errors[index] = exc
                else:
                    self._outcomes[index] = SendOutcome(request, error=exc)
            else:
                self._outcomes[index] = SendOutcome(request, result=result)
        self.pending = retry_later
        if retry_later:
            worst = max(
                (self._item_errors[i] for i in retry_later),
                key=lambda e: getattr(e, "retry_after", None) or 0.0,
            )
            self._raised = worst
            raise worst

    def withdraw(self, allowed: Sequence[bool]) -> None:
        """Keep pending only the items ``allowed`` (one flag per pending item).

        The others are not sent: their outcomes carry a
        :class:`~fmc.errors.SendWithdrawnError`.
        """
        for index, ok in zip(self.pending, allowed, strict=True):
            if not ok:
                self._outcomes[index] = SendOutcome(
                    self.chunk[index], error=SendWithdrawnError(WITHDRAWN)
                )
        self.pending = [i for i, ok in zip(self.pending, allowed, strict=True) if ok]

    def fail(self, error: Exception) -> None:
        """Give every pending item its outcome after the retries ended with ``error``.

        When ``error`` is the item error :meth:`absorb` raised last, each item
        keeps its own error; otherwise (the batch request failed as a whole)
        each gets ``error``.
        """
        per_item = error is self._raised
        for index in self.pending:
            own = self._item_errors[index] if per_item else error
            self._outcomes[index] = SendOutcome(self.chunk[index], error=own)
        self.pending = []

    def outcomes(self) -> list[SendOutcome]:
        """One outcome per request, in the order of the chunk."""
        return [self._outcomes[index] for index in range(len(self.chunk))]


def send_chunk(
    chunk: Sequence[SendRequest],
    *,
    relative_url: str,
    post: Callable[
        [list[BatchCall], Callable[[], list[BatchCall] | None] | None], list[BatchAnswer | None]
    ],
    retrier: Retrier,
    before_send: BeforeSend | None = None,
) -> list[SendOutcome]:
    """Send up to 50 requests in one Graph batch, one outcome per request (threads).

    See :class:`BatchRound`: items Meta throttled or failed transiently are
    retried, under the retry policy, in a smaller batch holding only them.

    Args:
        chunk: The requests, in order.
        relative_url: The batch calls' path, e.g. ``"1234/messages"``.
        post: Makes one batch request (rate limiting included) and returns
            its answers in order; raises typed fmc errors. Its second
            argument, when not ``None``, is called after the rate limiter,
            right before the request is written, and gives the calls to send
            instead (``None``: send nothing).
        retrier: Runs the retries.
        before_send: Asked once, right before the first batch request goes
            out, which requests may go; the others are not sent and their
            outcomes carry a :class:`~fmc.errors.SendWithdrawnError`.

    Returns:
        One outcome per request, in the order of ``chunk``.
    """
    batch = BatchRound(chunk, relative_url)
    handed = before_send is None

    def handoff() -> list[BatchCall] | None:
        nonlocal handed
        if not handed:
            handed = True
            assert before_send is not None
            batch.withdraw(before_send([batch.chunk[i] for i in batch.pending]))
        return batch.calls() or None

    if batch.pending:
        try:
            retrier.call(
                lambda: batch.absorb(post(batch.calls(), None if handed else handoff)),
                operation="batch",
            )
        except Exception as exc:
            batch.fail(exc)
    return batch.outcomes()
