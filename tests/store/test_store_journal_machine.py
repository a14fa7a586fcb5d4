"""The journal's state machine, the same on memory, SQLite and PostgreSQL.

Every transition is a compare-and-set: final states are never left, claims
belong to the run that took them, and the entries of a run that stopped beating
are recovered (released when never handed to HTTP, ambiguous when they were).
"""

from __future__ import annotations

import random
import threading
from datetime import datetime, timedelta, timezone

import pytest

from fmc.models.broadcast import JournalEntry, JournalState
from fmc.store import SubscriberStore

T0 = datetime(2026, 11, 1, 12, 0, tzinfo=timezone.utc)
LEASE = timedelta(seconds=30)
BID = "b1"
S = JournalState


def at(seconds: float) -> datetime:
    """A time ``seconds`` after T0."""
    return T0 + timedelta(seconds=seconds)


def entry(psid: str, state: JournalState, message_id: str | None = None) -> JournalEntry:
    """An outcome of ``psid`` in broadcast BID, recorded at T0 + 5 s."""
    return JournalEntry(BID, psid, state, message_id, None if message_id else state.value, at(5))


def states(store: SubscriberStore) -> dict[str, JournalState]:
    """Every entry's state in BID."""
    return {e.psid: e.state for e in store.journal_entries(BID)}


def start(store: SubscriberStore, run_id: str, when: float = 0) -> str:
    """Start a run of BID at T0 + ``when`` seconds."""
    store.broadcast_run_start(BID, run_id, at=at(when))
    return run_id


@pytest.fixture
def two_runs(store: SubscriberStore) -> SubscriberStore:
    """Runs A and B of BID, both alive at T0; A claimed a and b, B claimed c."""
    start(store, "A")
    start(store, "B")
    store.journal_claim(BID, ["a", "b"], at=at(0), run_id="A")
    store.journal_claim(BID, ["c"], at=at(0), run_id="B")
    return store


class TestClaims:
    def test_handoff_moves_only_the_runs_own_pending_entries(
        self, two_runs: SubscriberStore
    ) -> None:
        """journal_handoff moves A's PENDING entries to SENDING and nobody else's."""
        assert two_runs.journal_handoff(BID, ["c", "b", "a", "z"], run_id="A", at=at(1)) == [
            "b",
            "a",
        ]
        assert states(two_runs) == {"a": S.SENDING, "b": S.SENDING, "c": S.PENDING}

    def test_handoff_happens_once(self, two_runs: SubscriberStore) -> None:
        """An entry already handed off is not handed off again."""
        two_runs.journal_handoff(BID, ["a"], run_id="A", at=at(1))
        assert two_runs.journal_handoff(BID, ["a"], run_id="A", at=at(2)) == []

    def test_release_deletes_only_the_runs_own_pending_entries(
        self, two_runs: SubscriberStore
    ) -> None:
        """journal_release forgets A's unsent claims, not B's and not A's handed-off ones."""
        two_runs.journal_handoff(BID, ["b"], run_id="A", at=at(1))
        assert two_runs.journal_release(BID, ["a", "b", "c"], run_id="A") == 1
        assert states(two_runs) == {"b": S.SENDING, "c": S.PENDING}

    def test_a_released_psid_can_be_claimed_again(self, two_runs: SubscriberStore) -> None:
        """What a run released is claimed by the next claim like a new entry."""
        two_runs.journal_release(BID, ["a"], run_id="A")
        assert two_runs.journal_claim(BID, ["a"], at=at(2), run_id="B") == ["a"]

    @pytest.mark.parametrize("state", [S.PENDING, S.SENDING, S.SENT, S.FAILED])
    def test_reclaim_refuses_states_that_are_not_reclaimable(
        self, store: SubscriberStore, state: JournalState
    ) -> None:
        """Claimed and final states cannot be named as states to reclaim from."""
        with pytest.raises(ValueError, match="can be reclaimed"):
            store.journal_reclaim(BID, ["a"], from_states=[state], at=at(0), run_id="A")

    def test_reclaim_gives_the_entry_to_the_reclaiming_run(self, store: SubscriberStore) -> None:
        """A reclaimed entry belongs to the run that reclaimed it: only it hands it off."""
        start(store, "A")
        store.journal_record([entry("a", S.RETRYABLE)])
        assert store.journal_reclaim(
            BID, ["a"], from_states=[S.RETRYABLE], at=at(1), run_id="A"
        ) == ["a"]
        assert store.journal_handoff(BID, ["a"], run_id="B", at=at(2)) == []
        assert store.journal_handoff(BID, ["a"], run_id="A", at=at(2)) == ["a"]


class TestSettle:
    @pytest.mark.parametrize(
        ("outcome", "message_id"),
        [(S.SENT, "m.1"), (S.FAILED, None), (S.RETRYABLE, None), (S.AMBIGUOUS, None)],
    )
    def test_the_owner_settles_its_handed_off_entry(
        self, two_runs: SubscriberStore, outcome: JournalState, message_id: str | None
    ) -> None:
        """The run that handed an entry off records any outcome over it."""
        two_runs.journal_handoff(BID, ["a"], run_id="A", at=at(1))
        assert two_runs.journal_settle("A", [entry("a", outcome, message_id)]) == 1
        (settled,) = [e for e in two_runs.journal_entries(BID) if e.psid == "a"]
        assert (settled.state, settled.message_id) == (outcome, message_id)

    @pytest.mark.parametrize("outcome", [S.RETRYABLE, S.AMBIGUOUS])
    def test_another_run_cannot_settle_a_claim_with_a_non_final_outcome(
        self, two_runs: SubscriberStore, outcome: JournalState
    ) -> None:
        """B cannot mark A's claim retryable or ambiguous."""
        two_runs.journal_handoff(BID, ["a"], run_id="A", at=at(1))
        assert two_runs.journal_settle("B", [entry("a", outcome)]) == 0
        assert states(two_runs)["a"] is S.SENDING

    @pytest.mark.parametrize("final", [S.SENT, S.FAILED])
    @pytest.mark.parametrize("later", [S.SENT, S.FAILED, S.RETRYABLE, S.AMBIGUOUS])
    def test_a_final_state_is_never_overwritten_by_settle(
        self, two_runs: SubscriberStore, final: JournalState, later: JournalState
    ) -> None:
        """Once SENT or FAILED, no run's later outcome changes the entry."""
        two_runs.journal_handoff(BID, ["a"], run_id="A", at=at(1))
        two_runs.journal_settle("A", [entry("a", final, "m.1" if final is S.SENT else None)])
        assert two_runs.journal_settle("A", [entry("a", later)]) == 0
        assert two_runs.journal_settle("B", [entry("a", later)]) == 0
        assert states(two_runs)["a"] is final

    @pytest.mark.parametrize("final", [S.SENT, S.FAILED])
    @pytest.mark.parametrize("later", [S.SKIPPED, S.RETRYABLE, S.AMBIGUOUS, S.PENDING])
    def test_a_final_state_is_never_overwritten_by_record(
        self, store: SubscriberStore, final: JournalState, later: JournalState
    ) -> None:
        """journal_record leaves SENT and FAILED as they are: SKIPPED never hides a SENT."""
        store.journal_record([entry("a", final, "m.1" if final is S.SENT else None)])
        store.journal_record([entry("a", later)])
        assert states(store)["a"] is final

    def test_record_leaves_a_live_claim_alone(self, two_runs: SubscriberStore) -> None:
        """An unowned write (a policy refusal) does not overwrite a run's claim."""
        two_runs.journal_record([entry("a", S.SKIPPED)])
        assert states(two_runs)["a"] is S.PENDING

    def test_sent_from_a_presumed_dead_run_replaces_ambiguous(self, store: SubscriberStore) -> None:
        """A late answer of a run presumed dead turns its ambiguous entry into SENT."""
        start(store, "A")
        store.journal_claim(BID, ["a"], at=at(0), run_id="A")
        store.journal_handoff(BID, ["a"], run_id="A", at=at(1))
        store.journal_recover(BID, now=at(120), lease=LEASE)
        assert states(store)["a"] is S.AMBIGUOUS
        assert store.journal_settle("A", [entry("a", S.SENT, "m.1")]) == 1
        assert states(store)["a"] is S.SENT

    @pytest.mark.parametrize("state", [S.PENDING, S.SENDING, S.SKIPPED])
    def test_settle_refuses_states_that_are_not_outcomes(
        self, store: SubscriberStore, state: JournalState
    ) -> None:
        """Only sent, failed, retryable and ambiguous are outcomes."""
        with pytest.raises(ValueError, match="records outcomes"):
            store.journal_settle("A", [entry("a", state)])


class TestGroups:
    """A group of entries is written in one call, whatever its size, with per-PSID answers."""

    def test_a_large_group_goes_through_every_transition_in_one_call_each(
        self, store: SubscriberStore
    ) -> None:
        """1,200 PSIDs (past SQLite's old 999-parameter limit) are claimed, sent, settled."""
        start(store, "A")
        psids = [f"p{n:05d}" for n in range(1_200)]
        assert store.journal_claim(BID, psids, at=at(0), run_id="A") == psids
        assert store.journal_handoff(BID, psids[:1_000], run_id="A", at=at(1)) == psids[:1_000]
        sent = [entry(psid, S.SENT, f"m.{psid}") for psid in psids[:1_000]]
        assert store.journal_settle("A", sent) == 1_000
        assert store.journal_release(BID, psids, run_id="A") == 200
        assert store.journal_counts(BID)[S.SENT] == 1_000
        assert len(states(store)) == 1_000

    def test_answers_come_in_the_callers_order_each_psid_once(self, store: SubscriberStore) -> None:
        """Claim and handoff answer in input order, not sorted, and ignore repeats."""
        start(store, "A")
        order = ["m", "b", "z", "b", "a"]
        assert store.journal_claim(BID, order, at=at(0), run_id="A") == ["m", "b", "z", "a"]
        assert store.journal_handoff(BID, ["z", "a", "z"], run_id="A", at=at(1)) == ["z", "a"]
        assert store.journal_states(BID, ["q", "z", "m"]) == {"z": S.SENDING, "m": S.PENDING}

    def test_one_settle_applies_each_entrys_own_rule(self, two_runs: SubscriberStore) -> None:
        """In one group, A's retryable outcome lands, and so does a final one on B's claim."""
        two_runs.journal_handoff(BID, ["a"], run_id="A", at=at(1))
        two_runs.journal_handoff(BID, ["c"], run_id="B", at=at(1))
        outcomes = [entry("a", S.RETRYABLE), entry("c", S.SENT, "m.c"), entry("b", S.AMBIGUOUS)]
        assert two_runs.journal_settle("A", outcomes) == 3
        refused = [entry("c", S.RETRYABLE), entry("a", S.AMBIGUOUS)]
        assert two_runs.journal_settle("B", refused) == 0
        assert states(two_runs) == {"a": S.RETRYABLE, "b": S.AMBIGUOUS, "c": S.SENT}

    def test_settling_an_entry_never_claimed_writes_nothing(
        self, two_runs: SubscriberStore
    ) -> None:
        """An outcome for a PSID the journal does not hold neither counts nor creates it."""
        assert two_runs.journal_settle("A", [entry("x", S.SENT, "m.x")]) == 0
        assert "x" not in states(two_runs)

    @pytest.mark.parametrize(
        ("first", "then", "changed", "final"),
        [
            (S.AMBIGUOUS, S.SENT, 2, S.SENT),
            (S.SENT, S.RETRYABLE, 1, S.SENT),
            (S.RETRYABLE, S.FAILED, 2, S.FAILED),
        ],
    )
    def test_a_group_naming_an_entry_twice_settles_it_in_the_given_order(
        self,
        two_runs: SubscriberStore,
        first: JournalState,
        then: JournalState,
        changed: int,
        final: JournalState,
    ) -> None:
        """Two outcomes of one PSID in one call apply one after the other, each its own rule."""
        two_runs.journal_handoff(BID, ["a"], run_id="A", at=at(1))
        group = [entry("a", first, "m.a" if first is S.SENT else None), entry("b", S.SENT, "m.b")]
        group.append(entry("a", then, "m.a" if then is S.SENT else None))
        assert two_runs.journal_settle("A", group) == changed + 1
        assert states(two_runs) == {"a": final, "b": S.SENT, "c": S.PENDING}


class TestRecovery:
    def test_a_live_runs_entries_are_never_recovered(self, two_runs: SubscriberStore) -> None:
        """Within the lease, recovery touches nothing: a live run keeps its claims."""
        two_runs.journal_handoff(BID, ["a"], run_id="A", at=at(1))
        assert two_runs.journal_recover(BID, now=at(29), lease=LEASE) == (0, 0)
        assert states(two_runs) == {"a": S.SENDING, "b": S.PENDING, "c": S.PENDING}

    def test_a_dead_runs_pending_is_released_and_sending_becomes_ambiguous(
        self, two_runs: SubscriberStore
    ) -> None:
        """A run that stopped beating: unsent claims released, handed-off ones ambiguous."""
        two_runs.journal_handoff(BID, ["a"], run_id="A", at=at(1))
        assert two_runs.broadcast_run_beat("B", at=at(25))
        assert two_runs.journal_recover(BID, now=at(40), lease=LEASE) == (1, 1)
        assert states(two_runs) == {"a": S.AMBIGUOUS, "c": S.PENDING}

    def test_an_ended_run_is_dead_at_once(self, two_runs: SubscriberStore) -> None:
        """Ending a run releases its unsent claims; its handed-off ones are recovered next."""
        two_runs.journal_handoff(BID, ["a"], run_id="A", at=at(1))
        assert two_runs.broadcast_run_end("A", at=at(2)) == 1
        assert not two_runs.broadcast_run_beat("A", at=at(3))
        assert two_runs.broadcast_live_runs(BID, now=at(3), lease=LEASE) == ["B"]
        assert two_runs.journal_recover(BID, now=at(3), lease=LEASE) == (0, 1)
        assert states(two_runs) == {"a": S.AMBIGUOUS, "c": S.PENDING}

    def test_a_claim_lost_to_recovery_cannot_be_handed_off(self, two_runs: SubscriberStore) -> None:
        """A run presumed dead finds its released claims gone: it must not send them."""
        two_runs.journal_recover(BID, now=at(60), lease=LEASE)
        two_runs.journal_claim(BID, ["a"], at=at(60), run_id="C")
        assert two_runs.journal_handoff(BID, ["a", "b"], run_id="A", at=at(61)) == []

    def test_claims_without_a_run_count_as_possibly_sent(self, store: SubscriberStore) -> None:
        """PENDING entries written before runs existed may have been sent: ambiguous."""
        store.journal_claim(BID, ["a"], at=at(0))
        assert store.journal_recover(BID, now=at(1), lease=LEASE) == (0, 1)
        assert states(store) == {"a": S.AMBIGUOUS}


class TestBroadcasts:
    def test_find_returns_the_newest_matching_broadcast_within_the_window(
        self, store: SubscriberStore
    ) -> None:
        """broadcast_find matches Page and fingerprint, newest first, not older than since."""
        for bid, minutes, page, fingerprint in [
            ("old", 0, "p1", "f"),
            ("new", 60, "p1", "f"),
            ("other-page", 90, "p2", "f"),
            ("other-message", 90, "p1", "g"),
        ]:
            store.broadcast_begin(
                bid,
                page_id=page,
                purpose="news",
                message="{}",
                created_at=at(minutes * 60),
                fingerprint=fingerprint,
            )
        found = store.broadcast_find("p1", "f", since=at(0))
        assert found is not None
        assert (found.broadcast_id, found.fingerprint) == ("new", "f")
        assert store.broadcast_find("p1", "f", since=at(61 * 60)) is None


def test_four_runs_racing_over_the_same_psids_send_each_exactly_once(
    store: SubscriberStore,
) -> None:
    """Four runs claim, hand off and settle the same 120 PSIDs at once: one SENT each."""
    psids = [f"p{i:03d}" for i in range(120)]
    sent: list[list[str]] = [[] for _ in range(4)]
    for run in range(4):
        start(store, f"R{run}")
    barrier = threading.Barrier(4)
    errors: list[BaseException] = []

    def work(run: int) -> None:
        try:
            barrier.wait()
            mine = psids[:]
            random.Random(run).shuffle(mine)
            run_id = f"R{run}"
            for i in range(0, len(mine), 10):
                claimed = store.journal_claim(BID, mine[i : i + 10], at=at(1), run_id=run_id)
                handed = store.journal_handoff(BID, claimed, run_id=run_id, at=at(2))
                store.journal_settle(run_id, [entry(p, S.SENT, f"m.{p}") for p in handed])
                sent[run].extend(handed)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert sorted(p for part in sent for p in part) == psids
    assert set(states(store).values()) == {S.SENT}
