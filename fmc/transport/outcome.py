"""The outcome of one send in :meth:`fmc.Client.send_many`, and reading a send's answer."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from fmc.convert import send_result_from_wire
from fmc.errors import AmbiguousSendError, UncertainDeliveryError
from fmc.models import SendRequest, SendResult

__all__ = ["SendOutcome", "read_send_result"]


def read_send_result(data: Mapping[str, Any], *, message: bool = False) -> SendResult:
    """Read the JSON object of a successful send into a :class:`~fmc.models.SendResult`.

    Args:
        data: The decoded 2xx answer.
        message: Whether the send carried a message (not a sender action):
            Meta then always answers a ``message_id``, and an answer without
            one has the wrong shape.

    Returns:
        The result.

    Raises:
        UncertainDeliveryError: The answer has the wrong shape. Meta accepted
            the call, so the message may well have gone out: the error must
            not look retryable.
    """
    try:
        result = send_result_from_wire(data)
        if message and result.message_id is None:
            raise ValueError("a message send was answered without a message_id")
    except (ValueError, TypeError) as exc:
        raise UncertainDeliveryError(
            f"Send API answered a success of the wrong shape ({exc}); "
            "the message may or may not have been sent",
            status=200,
        ) from None
    return result


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
