"""Broadcast journal entries: who has been sent what, so a broadcast resumes safely."""

from __future__ import annotations

import enum
from datetime import datetime

import attrs

__all__ = [
    "CLAIMED_STATES",
    "FINAL_STATES",
    "RECLAIMABLE_STATES",
    "JournalEntry",
    "JournalState",
]


class JournalState(str, enum.Enum):
    """Where one subscriber stands in one broadcast.

    The states form a monotonic state machine (see the delivery guarantees in
    the security docs): ``SENT`` and ``FAILED`` are final and never
    overwritten; only the run that owns a claim moves it from ``PENDING`` to
    ``SENDING`` and records its outcome.
    """

    #: Claimed by a run; nothing has been handed to the HTTP layer yet, so a
    #: claim left by a run that died is released and sent by the next run.
    PENDING = "pending"
    #: Handed to the HTTP layer by the run that owns it. The send may reach Meta
    #: from here on, so if that run dies the entry becomes ``AMBIGUOUS``.
    SENDING = "sending"
    #: Meta accepted the send. Final.
    SENT = "sent"
    #: The policy did not allow it; resuming asks the policy again.
    SKIPPED = "skipped"
    #: Meta refused it with a permanent error about the person or the
    #: message; resuming does not resend. Final.
    FAILED = "failed"
    #: A failure after which sending again may succeed (throttling, a
    #: transient error, or a stop about the Page such as a dead token);
    #: resuming sends again.
    RETRYABLE = "retryable"
    #: The send may or may not have reached Meta; resuming does not resend
    #: unless the caller chose at-least-once delivery.
    AMBIGUOUS = "ambiguous"


#: States no write ever leaves.
FINAL_STATES = frozenset({JournalState.SENT, JournalState.FAILED})
#: States that belong to the run holding the claim.
CLAIMED_STATES = frozenset({JournalState.PENDING, JournalState.SENDING})
#: States a run may move back to ``PENDING`` to send again.
RECLAIMABLE_STATES = frozenset(
    {JournalState.RETRYABLE, JournalState.SKIPPED, JournalState.AMBIGUOUS}
)


@attrs.frozen
class JournalEntry:
    """The journal's record of one subscriber in one broadcast.

    Attributes:
        broadcast_id: The broadcast.
        psid: The subscriber.
        state: Where it stands.
        message_id: Meta's message id, once sent.
        detail: The policy reason or the error kind and message.
        updated_at: When the entry last changed.
    """

    broadcast_id: str
    psid: str
    state: JournalState
    message_id: str | None = None
    detail: str | None = None
    updated_at: datetime | None = None
