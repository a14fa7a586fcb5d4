"""Shared pieces of the scale-out drills: several Pages, each behind its own loopback fake.

Each Page has its own :class:`~fmc.testing.FakeGraphServer` (one fake is one
Page), and every worker process gets the Page's URL and token through
``FMC_GRAPH_URL_<id>`` and ``FMC_PAGE_TOKEN_<id>``, as two hosts with their
own configuration would.
"""

from __future__ import annotations

import gc
import os
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from datetime import datetime, timedelta, timezone

import fmc
from fmc.scale import broadcast_status
from fmc.store.base import EventRecord
from fmc.testing import FakeGraphAPI, FakeGraphServer

APP_SECRET = "scale-drill-app-secret-never-logged"
#: Subscribers over every Page in the big drills (scale down with the env knob).
SUBSCRIBERS = int(os.environ.get("FMC_DRILL_SCALE_SUBSCRIBERS", "50000"))


def page_ids(count: int) -> list[str]:
    """``count`` Page ids."""
    return [str(1_000_000_000_000 + i) for i in range(count)]


def token(page_id: str) -> str:
    """The token of a drill Page."""
    return f"EAAGscaleDrillToken{page_id}NeverLogged"


@contextmanager
def fakes(pages: list[str], *, latency: float = 0.0) -> Iterator[dict[str, FakeGraphServer]]:
    """One fake Graph API server per Page, each accepting only that Page's token."""
    with ExitStack() as stack:
        yield {
            page: stack.enter_context(
                FakeGraphServer(
                    FakeGraphAPI(
                        page_id=page,
                        access_token=token(page),
                        app_secret=APP_SECRET,
                        latency=latency,
                    )
                )
            )
            for page in pages
        }


def register(store: fmc.SubscriberStore, page: str, psids: list[str]) -> None:
    """Subscribers who wrote to the Page an hour ago (one write per 1,000)."""
    at = datetime.now(timezone.utc) - timedelta(hours=1)
    for start in range(0, len(psids), 1000):
        store.record_events(
            [EventRecord(page, p, at, interaction=True) for p in psids[start : start + 1000]]
        )


def environment(servers: dict[str, FakeGraphServer], rate_limit: float) -> dict[str, str]:
    """A worker's environment: every Page's token and fake, the app secret, the rate limit."""
    env = dict(os.environ)
    env.update({"FMC_APP_SECRET": APP_SECRET, "FMC_RATE_LIMIT": str(rate_limit)})
    for page, server in servers.items():
        env[f"FMC_PAGE_TOKEN_{page}"] = token(page)
        env[f"FMC_GRAPH_URL_{page}"] = server.url
    return env


def fmc_command(*args: str, env: dict[str, str]) -> subprocess.Popen[str]:
    """Start ``fmc ARGS`` as a real process."""
    return subprocess.Popen(
        [sys.executable, "-m", "fmc.cli", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_for(condition: Callable[[], bool], *, timeout: float, what: str) -> None:
    """Poll ``condition`` until it holds, or fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.2)


def busiest_second(server: FakeGraphServer) -> int:
    """The most sends the fake received within one wall-clock second."""
    seconds = Counter(int(d.wall_time.timestamp()) for d in server.fake.deliveries)
    return max(seconds.values(), default=0)


def stop(processes: list[subprocess.Popen[str]]) -> list[str]:
    """SIGTERM the processes still running, wait for them, and return their stderr."""
    for process in processes:
        if process.poll() is None:
            process.terminate()
    errors = []
    for process in processes:
        try:
            _, err = process.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            _, err = process.communicate()
        errors.append(err)
    return errors


@contextmanager
def no_gc_pauses() -> Iterator[None]:
    """No garbage-collector passes in this process while the fakes record.

    The fakes live in this process; a full collection over tens of thousands
    of recorded deliveries stalls their threads for several hundred
    milliseconds, after which the queued requests are recorded in a burst:
    a pause of the measuring instrument, not of the senders.
    """
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def settled(store: fmc.SubscriberStore, broadcast_id: str, expected: int) -> bool:
    """Whether every subscriber has an outcome (none pending or sending)."""
    status = broadcast_status(store, broadcast_id)
    done = sum(page.settled for page in status.pages)
    return done >= expected and status.count(fmc.JournalState.PENDING) == 0
