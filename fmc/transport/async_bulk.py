"""Bounded, lazy, concurrent execution for :meth:`fmc.AsyncClient.send_many`.

The asyncio twin of :func:`fmc.transport.bulk.run_bounded`: tasks instead of
threads, the input pulled only as fast as results are handed back.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Iterable, Sequence
from typing import TypeVar

from fmc.transport.bulk import _Failure

__all__ = ["chunks", "items", "run_bounded_async"]

T = TypeVar("T")
R = TypeVar("R")


async def items(source: Iterable[T] | AsyncIterable[T]) -> AsyncIterator[T]:
    if isinstance(source, AsyncIterable):
        async for item in source:
            yield item
    else:
        for item in source:
            yield item


async def chunks(source: AsyncIterator[T], size: int) -> AsyncIterator[list[T]]:
    chunk: list[T] = []
    async for item in source:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


async def run_bounded_async(
    items: AsyncIterator[T],
    work: Callable[[T], Awaitable[Sequence[R]]],
    *,
    limit: int,
) -> AsyncIterator[R]:
    """Run ``work`` over ``items`` as tasks, at most ``limit`` at once, yielding as they finish.

    The input is pulled only as fast as tasks finish. Closing the iterator
    early starts nothing new and waits for the tasks in flight (a send cannot
    be recalled half-way).
    """
    done: asyncio.Queue[Sequence[R] | _Failure] = asyncio.Queue()
    tasks: set[asyncio.Task[None]] = set()

    async def run(item: T) -> None:
        try:
            done.put_nowait(await work(item))
        except BaseException as exc:  # handed to the consumer, never lost in a task
            done.put_nowait(_Failure(exc))

    held = 0
    exhausted = False
    try:
        while True:
            while not exhausted and held < limit:
                try:
                    item = await items.__anext__()
                except StopAsyncIteration:
                    exhausted = True
                    break
                task = asyncio.ensure_future(run(item))
                tasks.add(task)
                task.add_done_callback(tasks.discard)
                held += 1
            if held == 0:
                return
            results = await done.get()
            held -= 1
            if isinstance(results, _Failure):
                raise results.error
            for result in results:
                yield result
    finally:
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
