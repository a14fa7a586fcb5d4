"""Regression (found by the webhook fuzz drill): one odd echo lost a whole delivery's registrations.

An echo whose ``recipient.id`` was empty parsed fine, but the Registrar built
an ``EventRecord`` for it, whose validator raised; since a delivery's records
are stored in one call, nobody else in that delivery was registered, and the
failure was only logged. Such echoes are now skipped.
"""

from __future__ import annotations

import logging

import drill_support as ds
import pytest

import fmc
from fmc.testing import echo_event, message_event, signed_delivery

T = 1_790_000_000_000


@pytest.mark.parametrize("recipient", ["", ds.PAGE_ID], ids=["empty", "the-page-itself"])
def test_an_echo_without_a_person_does_not_cost_the_rest_of_the_delivery(
    recipient: str, caplog: pytest.LogCaptureFixture
) -> None:
    """The other people of the delivery are registered and nothing fails."""
    caplog.set_level(logging.ERROR)
    odd = echo_event("111", "echo", timestamp=T, mid="m_odd")
    odd["recipient"]["id"] = recipient
    body, headers = signed_delivery(
        [odd, message_event("222", "hi", timestamp=T, mid="m_ok")], ds.APP_SECRET
    )
    with ds.client("http://127.0.0.1:9") as client:
        channel = ds.channel(client, fmc.MemoryStore())
        response = channel.webhook.respond("POST", {}, headers, body)
        registered = channel.subscriber("222")
    assert response.status == 200
    assert registered is not None
    assert channel.subscriber_count() == 1
    assert caplog.records == []
