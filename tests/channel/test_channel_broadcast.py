"""Channel.broadcast: policy per subscriber, journaled, resumable, with a report that adds up."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from channel_support import NOW

import fmc
from fmc.testing import FakeGraphAPI, Fault

NEWS = fmc.Purpose.NEWS


def register(channel: fmc.Channel, psid: str, hours_ago: float) -> None:
    channel.store.record_event(
        channel.page.id, psid, at=NOW - timedelta(hours=hours_ago), interaction=True
    )


def populate(channel: fmc.Channel, recent: int, stale: int = 0) -> list[str]:
    """``recent`` subscribers inside the window and ``stale`` ones 30 h out; returns the recent."""
    recent_ids = [f"r{i:04d}" for i in range(recent)]
    for psid in recent_ids:
        register(channel, psid, hours_ago=1)
    for i in range(stale):
        register(channel, f"s{i:04d}", hours_ago=30)
    return recent_ids


class CrashAfter:
    """A client whose send_many dies after ``n`` outcomes, like a process killed mid-run."""

    def __init__(self, client: fmc.Client, n: int) -> None:
        self._client = client
        self._n = n

    def send_many(self, requests: Iterable[fmc.SendRequest], **options: Any) -> Iterator[Any]:
        outcomes = self._client.send_many(requests, **options)
        for count, outcome in enumerate(outcomes, start=1):
            yield outcome
            if count >= self._n:
                outcomes.close()  # type: ignore[attr-defined]
                raise RuntimeError("killed")


def test_only_subscribers_the_policy_allows_are_sent(
    channel: fmc.Channel, fake_graph: FakeGraphAPI
) -> None:
    """Inside-window subscribers get the news; the others are skipped with the rule."""
    recent = populate(channel, recent=5, stale=3)
    report = channel.broadcast(fmc.Text("news"), NEWS)
    assert sorted(fake_graph.delivery_counts()) == recent
    assert report.sent == 5
    assert report.skipped == {"outside_window_no_subscription": 3}
    assert "outside the 24 h window" in report.skip_reasons["outside_window_no_subscription"]


def test_report_counts_add_up_to_the_audience(
    channel: fmc.Channel, fake_graph: FakeGraphAPI
) -> None:
    """Sent, skipped, failed and ambiguous together equal the audience."""
    populate(channel, recent=6, stale=2)
    channel.opt_out("r0000")
    fake_graph.faults.add(Fault.unavailable(["r0001"]))
    report = channel.broadcast(fmc.Text("news"), NEWS)
    assert report.audience == 8
    assert report.total == report.audience
    assert (report.sent, report.skipped["opted_out"]) == (4, 1)
    assert report.failed == {"RecipientUnavailableError": 1}


def test_unavailable_recipients_are_marked_and_skipped_next_time(
    channel: fmc.Channel, fake_graph: FakeGraphAPI
) -> None:
    """A 551 marks the subscriber unavailable; the next broadcast skips them."""
    populate(channel, recent=3)
    fake_graph.faults.add(Fault.unavailable(["r0002"]))
    first = channel.broadcast(fmc.Text("one"), NEWS)
    assert first.marked_unavailable == 1
    assert channel.subscriber("r0002").status is fmc.SubscriberStatus.UNAVAILABLE  # type: ignore[union-attr]
    second = channel.broadcast(fmc.Text("two"), NEWS)
    assert second.skipped == {"unavailable": 1}


def test_running_the_same_broadcast_again_sends_nobody_twice(
    channel: fmc.Channel, fake_graph: FakeGraphAPI
) -> None:
    """A finished broadcast run again with its id sends nothing more."""
    populate(channel, recent=10)
    first = channel.broadcast(fmc.Text("news"), NEWS, broadcast_id="b1")
    again = channel.broadcast(fmc.Text("news"), NEWS, broadcast_id="b1")
    assert (first.sent, again.sent, again.already_sent) == (10, 0, 10)
    assert max(fake_graph.delivery_counts().values()) == 1


def test_an_interrupted_broadcast_resumes_without_duplicates(
    channel: fmc.Channel, fake_graph: FakeGraphAPI
) -> None:
    """After a crash half-way, resuming reaches everyone else; nobody gets it twice."""
    recent = populate(channel, recent=200)
    crashing = fmc.Channel(
        channel.page,
        client=CrashAfter(channel.client, 100),  # type: ignore[arg-type]
        store=channel.store,
        policy=channel.policy,
        clock=lambda: NOW,
    )
    with pytest.raises(RuntimeError, match="killed"):
        crashing.broadcast(fmc.Text("news"), NEWS, broadcast_id="b1", concurrency=4)
    resumed = channel.broadcast(fmc.Text("news"), NEWS, broadcast_id="b1")
    counts = fake_graph.delivery_counts()
    assert max(counts.values()) == 1
    ambiguous = {
        entry.psid
        for entry in channel.store.journal_entries("b1", states=[fmc.JournalState.AMBIGUOUS])
    }
    # Everyone was reached exactly once, except the sends the crash left
    # ambiguous: those are reported, never silently lost or resent.
    assert {psid for psid in recent if counts[psid] == 0} <= ambiguous
    assert resumed.ambiguous == len(ambiguous) <= 2 * 4 + 16
    assert resumed.total == 200


def test_at_least_once_resends_ambiguous_sends(
    channel: fmc.Channel, fake_graph: FakeGraphAPI
) -> None:
    """With at_least_once, sends whose outcome is unknown are sent again and reported."""
    populate(channel, recent=5)
    fake_graph.faults.add(Fault.drop(after=False, psids=["r0001"], times=1))
    first = channel.broadcast(fmc.Text("news"), NEWS, broadcast_id="b1")
    assert first.total == 5
    fake_graph.faults.add(Fault.drop(after=True, psids=["r0003"], times=1))
    channel.broadcast(fmc.Text("news"), NEWS, broadcast_id="b2")
    plain = channel.broadcast(fmc.Text("news"), NEWS, broadcast_id="b2")
    assert (plain.sent, plain.ambiguous) == (0, 1)
    forced = channel.broadcast(fmc.Text("news"), NEWS, broadcast_id="b2", at_least_once=True)
    assert (forced.sent, forced.resent_ambiguous) == (1, 1)


def test_a_dropped_connection_after_sending_is_ambiguous(
    channel: fmc.Channel, fake_graph: FakeGraphAPI
) -> None:
    """A connection dropped after the request went out is reported ambiguous, not resent."""
    populate(channel, recent=4)
    fake_graph.faults.add(Fault.drop(after=True, psids=["r0002"], times=1))
    report = channel.broadcast(fmc.Text("news"), NEWS)
    assert (report.sent, report.ambiguous) == (3, 1)
    assert fake_graph.delivery_counts()["r0002"] == 1


def test_resuming_with_another_message_is_refused(channel: fmc.Channel) -> None:
    """A broadcast id names one message and purpose; reusing it for another is an error."""
    populate(channel, recent=1)
    channel.broadcast(fmc.Text("one"), NEWS, broadcast_id="b1")
    with pytest.raises(fmc.ConfigurationError, match="another message"):
        channel.broadcast(fmc.Text("two"), NEWS, broadcast_id="b1")


def test_an_audience_of_psids_is_looked_up(channel: fmc.Channel, fake_graph: FakeGraphAPI) -> None:
    """An explicit audience of PSIDs is resolved; unknown ones are skipped with a reason."""
    populate(channel, recent=3)
    report = channel.broadcast(fmc.Text("news"), NEWS, audience=["r0000", "nobody"])
    assert list(fake_graph.delivery_counts()) == ["r0000"]
    assert report.skipped == {"unknown_subscriber": 1}


def test_batched_broadcast_sends_each_once(channel: fmc.Channel, fake_graph: FakeGraphAPI) -> None:
    """With batch_size, sends travel in Graph batches and still reach each subscriber once."""
    recent = populate(channel, recent=120)
    report = channel.broadcast(fmc.Text("news"), NEWS, batch_size=50)
    assert report.sent == 120
    assert sorted(fake_graph.delivery_counts()) == recent
    assert fake_graph.http_request_count <= 6


def test_progress_is_reported_to_the_end(channel: fmc.Channel) -> None:
    """The progress callback's last snapshot accounts for everyone."""
    populate(channel, recent=7, stale=2)
    snapshots: list[fmc.BroadcastProgress] = []
    channel.broadcast(fmc.Text("news"), NEWS, progress=snapshots.append)
    last = snapshots[-1]
    assert (last.done, last.sent, last.skipped, last.in_flight) == (9, 7, 2, 0)


def test_the_summary_names_the_reasons(channel: fmc.Channel) -> None:
    """The printable summary says how many were sent and why others were skipped."""
    populate(channel, recent=2, stale=1)
    summary = channel.broadcast(fmc.Text("news"), NEWS, broadcast_id="b9").summary()
    assert "b9" in summary
    assert "2 sent" in summary
    assert "skipped 1 (outside_window_no_subscription), e.g. last interaction 30 h ago" in summary


def test_allowed_sends_write_no_reason_and_refusals_do(
    channel: fmc.Channel, fake_graph: FakeGraphAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The policy's reason is written for each refusal (journal, report), never for a send."""
    written: list[str] = []
    real = fmc.MessagingPolicy._reason

    def spy(self: fmc.MessagingPolicy, *args: Any) -> str:
        written.append("reason")
        return real(self, *args)

    monkeypatch.setattr(fmc.MessagingPolicy, "_reason", spy)
    populate(channel, recent=6, stale=2)
    report = channel.broadcast(fmc.Text("news"), NEWS, broadcast_id="lazy")
    assert (report.sent, sum(report.skipped.values())) == (6, 2)
    assert len(written) == 2
    skipped = list(channel.store.journal_entries("lazy", states=[fmc.JournalState.SKIPPED]))
    assert all(entry.detail and "outside the 24 h window" in entry.detail for entry in skipped)


def _count_state_lookups(monkeypatch: pytest.MonkeyPatch, store: Any) -> list[int]:
    calls: list[int] = []
    original = store.journal_states

    def counting(broadcast_id: str, psids: Any) -> Any:
        calls.append(len(psids))
        return original(broadcast_id, psids)

    monkeypatch.setattr(store, "journal_states", counting)
    return calls


def test_a_first_run_looks_up_no_journal_states(
    channel: fmc.Channel, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A broadcast with no entries yet has nothing to resume: no state look-up per group."""
    populate(channel, recent=30)
    calls = _count_state_lookups(monkeypatch, channel.store)
    report = channel.broadcast(fmc.Text("news"), NEWS, broadcast_id="fresh")
    assert report.sent == 30
    assert calls == []


def test_a_resumed_run_looks_up_the_states_and_sends_nobody_twice(
    channel: fmc.Channel, fake_graph: FakeGraphAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Once the journal holds entries, each group's states are read before anything is claimed."""
    recent = populate(channel, recent=30)
    channel.broadcast(fmc.Text("news"), NEWS, broadcast_id="again", audience=recent[:10])
    calls = _count_state_lookups(monkeypatch, channel.store)
    report = channel.broadcast(fmc.Text("news"), NEWS, broadcast_id="again")
    assert sum(calls) == 30
    assert report.already_sent == 10
    assert report.sent == 20
    assert sorted(fake_graph.delivery_counts().values()) == [1] * 30
