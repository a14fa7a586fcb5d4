"""Regression (found by the secrets drill): an outbox item's ``repr`` showed the receiver's secrets.

``OutboxItem`` printed its ``url`` and ``order_key`` (which ends with the
URL) whole, so a ``redirect_to`` carrying credentials or a token in its query
string reached any log line or traceback that showed the item. The ``repr``
now leaves out credentials, query and fragment; the fields keep them.
"""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from fmc.models.outbox import OutboxItem

URLS = [
    "https://receiver.example.com/hook?access_token=SECRET-QUERY",
    "https://user:SECRET-PASSWORD@receiver.example.com/hook",
    "https://receiver.example.com/hook#SECRET-FRAGMENT",
    "https://receiver.example.com/hook?key=SECRET-KEY&x=1#SECRET-FRAGMENT",
]


@pytest.mark.parametrize("url", URLS, ids=["query", "credentials", "fragment", "both"])
def test_the_repr_of_an_outbox_item_hides_url_secrets(url: str) -> None:
    """Neither the url nor the order key shows what may be a secret."""
    item = OutboxItem(
        url=url,
        body=b"{}",
        headers=[("Content-Type", "application/json")],
        order_key=f"111|{url}",
        created_at=datetime(2026, 1, 1, tzinfo=timezone.utc),
    )
    assert "SECRET" not in repr(item)
    assert "receiver.example.com/hook" in repr(item)
    assert item.url == url
    assert item.order_key == f"111|{url}"
