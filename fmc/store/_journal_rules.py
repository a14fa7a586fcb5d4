"""What every journal backend shares: run ids, and the checks of what may be settled or reclaimed.

The SQL journal (:mod:`fmc.store._journal_sql`) and the in-memory one
(:mod:`fmc.store._journal_memory`) refuse the same inputs with the same
messages, and mark the entries of dead runs with the same detail.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence

from fmc.models.broadcast import FINAL_STATES, RECLAIMABLE_STATES, JournalEntry, JournalState

__all__ = ["LOST_IN_FLIGHT", "check_reclaim", "check_settle", "new_run_id"]

#: The detail of an entry whose run died after handing it to the HTTP layer.
LOST_IN_FLIGHT = "the run that sent this stopped before Meta's answer was recorded"

_SETTLEABLE = FINAL_STATES | {JournalState.RETRYABLE, JournalState.AMBIGUOUS}


def new_run_id() -> str:
    """A fresh, unique run id."""
    return f"run-{uuid.uuid4().hex}"


def check_settle(entries: Sequence[JournalEntry]) -> None:
    """Refuse outcomes that are not SENT, FAILED, RETRYABLE or AMBIGUOUS."""
    for entry in entries:
        if JournalState(entry.state) not in _SETTLEABLE:
            raise ValueError(
                f"journal_settle records outcomes (sent, failed, retryable, ambiguous), "
                f"not {JournalState(entry.state).value!r}"
            )


def check_reclaim(states: Collection[JournalState]) -> list[str]:
    """The values of ``states``, refusing any that cannot be reclaimed."""
    values = []
    for state in states:
        state = JournalState(state)
        if state not in RECLAIMABLE_STATES:
            raise ValueError(
                f"only retryable, skipped and ambiguous entries can be reclaimed, "
                f"not {state.value!r}"
            )
        values.append(state.value)
    return values
