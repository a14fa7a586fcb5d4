"""Regression (found by the Graph replies drill): deeply nested JSON from Graph crashed fmc.

``json.loads`` raises ``RecursionError`` (not ``ValueError``) on a body nested
a few thousand levels deep, and every place that read a Graph answer caught
only ``ValueError``: a proxy or a hostile endpoint could turn a send into an
untyped crash. Each place now treats such a body as unreadable.
"""

from __future__ import annotations

import pytest

from fmc.errors import (
    AmbiguousSendError,
    GraphAPIError,
    TransientError,
    UncertainDeliveryError,
    graph_error_from_response,
)
from fmc.transport.batch import BatchAnswer
from fmc.transport.http import decode_answer

DEEP = b"[" * 100_000


def test_a_deep_success_body_is_an_uncertain_send() -> None:
    """A 200 whose body is nested too deep: the send may have gone out."""
    with pytest.raises(UncertainDeliveryError):
        decode_answer(200, DEEP, {}, sends_message=True)


def test_a_deep_success_body_of_a_read_is_a_graph_error() -> None:
    """The same answer to a call that sends nothing is a plain GraphAPIError."""
    with pytest.raises(GraphAPIError) as raised:
        decode_answer(200, DEEP, {}, sends_message=False)
    assert not isinstance(raised.value, AmbiguousSendError)


def test_a_deep_error_body_is_typed_by_its_status() -> None:
    """A 500 whose body is nested too deep is a transient error, like any unreadable 5xx."""
    assert isinstance(graph_error_from_response(500, DEEP, {}), TransientError)


def test_a_deep_batch_item_body_is_a_graph_error() -> None:
    """A batch item's body nested too deep is a GraphAPIError, not a crash."""
    with pytest.raises(GraphAPIError):
        BatchAnswer(200, DEEP.decode()).json()


def test_a_deep_usage_header_is_ignored() -> None:
    """A usage header nested too deep gives no retry hint instead of a crash."""
    error = graph_error_from_response(
        400,
        b'{"error":{"code":613,"message":"slow down"}}',
        {"X-Business-Use-Case-Usage": "[" * 60_000},
    )
    assert error.retry_after is None
