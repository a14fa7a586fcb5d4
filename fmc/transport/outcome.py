"""The outcome of one send in :meth:`fmc.Client.send_many`."""

from __future__ import annotations

import attrs

from fmc.errors import AmbiguousSendError
from fmc.models import SendRequest, SendResult

__all__ = ["SendOutcome"]


@attrs.frozen
class SendOutcome:
    """What became of one :class:`~fmc.models.SendRequest`: a result or an error.

    Attributes:
        request: The request, as it was given.
        result: Meta's answer when the send succeeded, else ``None``.
        error: The typed error when it failed (a
            :class:`~fmc.errors.GraphAPIError` subclass, a
            :class:`~fmc.errors.NetworkError`, an
            :class:`~fmc.errors.AmbiguousSendError`, or the ``ValueError`` /
            ``TypeError`` of a request that could not be encoded), else ``None``.
    """

    request: SendRequest
    result: SendResult | None = None
    error: Exception | None = None

    @property
    def ok(self) -> bool:
        """Whether the send succeeded."""
        return self.error is None

    @property
    def ambiguous(self) -> bool:
        """Whether the send may or may not have reached the person (never retried)."""
        return isinstance(self.error, AmbiguousSendError)
