"""Regression (found by the Graph replies drill): a message send answered without a message id.

A 200 answer such as ``{"success": true}`` or ``{"recipient_id": "…"}`` to a
message send was read as a success with ``message_id=None``, so a broadcast
journaled it as SENT although the answer did not have the Send API's shape.
It is now an ambiguous send (Meta accepted the call; the message may have
gone out). A sender action, whose answer has no message id, still succeeds.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import drill_support as ds
import pytest
import requests_mock

import fmc
from fmc.testing import DEFAULT_BASE_URL

MESSAGES = re.compile(r"^https://graph\.facebook\.com/v[\d.]+/[^/?]+/messages")
BATCH = re.compile(r"^https://graph\.facebook\.com/v[\d.]+/(\?.*)?$")
WRONG = [b'{"success":true}', b'{"recipient_id":"psid1"}', b"{}"]


@pytest.fixture
def client() -> Iterator[fmc.Client]:
    with ds.client(DEFAULT_BASE_URL, attempts=1) as made:
        yield made


@pytest.mark.parametrize("body", WRONG, ids=["success-true", "recipient-only", "empty-object"])
def test_a_message_send_without_a_message_id_is_ambiguous(client: fmc.Client, body: bytes) -> None:
    """Client.send raises UncertainDeliveryError, not a result with message_id None."""
    with requests_mock.Mocker() as mocker:
        mocker.post(MESSAGES, content=body)
        with pytest.raises(fmc.UncertainDeliveryError):
            client.send(fmc.Recipient("psid1"), fmc.Text("hi"))


@pytest.mark.parametrize("body", WRONG, ids=["success-true", "recipient-only", "empty-object"])
def test_a_batched_message_send_without_a_message_id_is_ambiguous(
    client: fmc.Client, body: bytes
) -> None:
    """In a Graph batch, the item's outcome is ambiguous."""
    request = fmc.SendRequest(fmc.Recipient("psid1"), fmc.Text("hi"))
    answer = json.dumps([{"code": 200, "body": body.decode()}])
    with requests_mock.Mocker() as mocker:
        mocker.post(BATCH, text=answer)
        (outcome,) = client.send_many([request], batch_size=1)
    assert outcome.ambiguous


def test_a_sender_action_without_a_message_id_succeeds(client: fmc.Client) -> None:
    """A sender action is answered with the recipient only, and that is a success."""
    with requests_mock.Mocker() as mocker:
        mocker.post(MESSAGES, content=b'{"recipient_id":"psid1"}')
        result = client.sender_action(fmc.Recipient("psid1"), fmc.SenderAction.TYPING_ON)
    assert result == fmc.SendResult("psid1", None)
