"""Broadcast journal entries: who has been sent what, so a broadcast resumes safely."""

from __future__ import annotations

import enum
from datetime import datetime

import attrs

__all__ = ["JournalEntry", "JournalState"]


class JournalState(str, enum.Enum):
    """Where one subscriber stands in one broadcast."""

    #: Claimed and about to be sent; the intent is journaled before the send.
    PENDING = "pending"
    #: Meta accepted the send.
    SENT = "sent"
    #: The policy did not allow it; resuming asks the policy again.
    SKIPPED = "skipped"
    #: Meta refused it with a permanent error; resuming does not resend.
    FAILED = "failed"
    #: A retryable failure that ran out of retries; resuming sends again.
    RETRYABLE = "retryable"
    #: The send may or may not have reached Meta; resuming does not resend
    #: unless the caller chose at-least-once delivery.
    AMBIGUOUS = "ambiguous"


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
