"""Regression (found by the SIGKILL drill): a hard kill left known outcomes ``PENDING``.

Outcomes were journaled every 50 sends or 0.2 s, so a SIGKILL could leave up
to 50 sends whose outcome was already known as ``PENDING``, and the resumed run
reported them ambiguous: more than the documented bound of the client's window
plus one claim group. Known outcomes are now journaled before each new claim.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import drill_support as ds

import fmc
from fmc.channel.broadcast import BroadcastRun
from fmc.testing import DEFAULT_BASE_URL, FakeGraphAPI


class PendingWatch:
    """A MemoryStore that notes the most claimed journal entries right after any claim."""

    def __init__(self) -> None:
        self.store = fmc.MemoryStore()
        self.most_pending = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)

    def journal_claim(
        self, broadcast_id: str, psids: Sequence[str], *, at: datetime, run_id: str | None = None
    ) -> list[str]:
        claimed: list[str] = self.store.journal_claim(broadcast_id, psids, at=at, run_id=run_id)
        counts = self.store.journal_counts(broadcast_id)
        # Claimed, whether or not handed to HTTP yet: what a crash could leave behind.
        pending = counts[fmc.JournalState.PENDING] + counts[fmc.JournalState.SENDING]
        self.most_pending = max(self.most_pending, pending)
        return claimed


def test_a_crash_leaves_at_most_the_window_and_one_claim_group_pending() -> None:
    """At every claim, PENDING entries never exceed the client's window plus one claim group."""
    concurrency = 4
    watch = PendingWatch()
    ds.register(watch.store, ds.psids(600))
    fake = FakeGraphAPI(access_token=ds.PAGE_TOKEN, app_secret=ds.APP_SECRET)
    with fake.mock(), ds.client(DEFAULT_BASE_URL, concurrency=concurrency) as client:
        report = ds.channel(client, watch).broadcast(
            fmc.Text("drill"), ds.NEWS, broadcast_id="claims"
        )
    assert report.sent == 600
    claim_size = (BroadcastRun.__init__.__kwdefaults__ or {})["claim_size"]
    assert watch.most_pending <= 2 * concurrency + claim_size
