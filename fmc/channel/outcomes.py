"""What a send's outcome changes about a subscriber, for notify and broadcast alike."""

from __future__ import annotations

from datetime import datetime

from fmc.errors import GraphAPIError
from fmc.models.subscriber import NotificationToken, SubscriberStatus, TokenKind, TokenStatus
from fmc.store.protocols import SubscriberDirectory

__all__ = ["mark_unavailable", "spend_token"]


def mark_unavailable(
    store: SubscriberDirectory, page_id: str, psid: str, error: Exception, at: datetime
) -> None:
    """Record that Meta said the person cannot be reached, with Meta's own sentence."""
    reason = error.message if isinstance(error, GraphAPIError) else str(error)
    store.set_status(page_id, psid, SubscriberStatus.UNAVAILABLE, reason=reason, at=at)


def spend_token(
    store: SubscriberDirectory, page_id: str, psid: str, token: NotificationToken | None
) -> None:
    """Mark a one-time notification token used once a send through it succeeded."""
    if token is not None and token.kind is TokenKind.ONE_TIME:
        store.set_token_status(page_id, psid, token.token, TokenStatus.USED)
