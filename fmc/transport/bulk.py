"""Bounded, lazy, concurrent execution for :meth:`fmc.Client.send_many`.

:func:`run_bounded` pulls work items from an iterable only as fast as results
are handed back, so that at most ``window`` items are held at any time (in a
worker, waiting for one, or finished and not yet yielded). That keeps a
broadcast over millions of subscribers in constant memory and lets the input
be an unbounded generator.
"""

from __future__ import annotations

import queue
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

__all__ = ["run_bounded"]

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
