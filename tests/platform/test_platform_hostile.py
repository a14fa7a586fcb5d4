"""Hostile input to the platform endpoint: never a 500, never a registration it should not make."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from fmc.platform import App, KeyRing, PageRecord, Platform
from fmc.store import MemoryStore
from fmc.testing import message_event, signature_headers

APP = App("1001", "hostile-secret", "hostile-verify")
OTHER = App("1002", "other-secret", "other-verify")


def _platform() -> Platform:
    platform = Platform(MemoryStore(), keys=KeyRing([KeyRing.generate_key()]))
    platform.add_app(APP)
    platform.add_app(OTHER)
    platform.registry.put_page(PageRecord("2001", "1001", "token-2001"))
    platform.registry.put_page(PageRecord("3001", "1002", "token-3001"))
    return platform


PLATFORM = _platform()
ALLOWED = {200, 400, 403, 404, 405, 413}


@settings(max_examples=150)
@given(body=st.binary(max_size=2048), path=st.sampled_from(["/webhook/1001", "/webhook/x"]))
def test_arbitrary_signed_bytes_never_fail(body: bytes, path: str) -> None:
    """Arbitrary bytes signed with the app's secret: a 2xx/4xx answer, never 5xx."""
    answer = PLATFORM.webhook.respond("POST", path, {}, signature_headers(body, APP.secret), body)
    assert answer.status in ALLOWED


@settings(max_examples=60)
@given(
    ids=st.lists(
        st.one_of(st.sampled_from(["2001", "3001"]), st.text(min_size=1, max_size=12)),
        min_size=1,
        max_size=4,
    ),
    psid=st.from_regex(r"[0-9]{6,12}", fullmatch=True),
)
def test_only_own_pages_register(ids: list[str], psid: str) -> None:
    """Whatever entry ids a signed delivery names, only app 1001's Page 2001 registers anyone."""
    platform = _platform()
    entries: list[dict[str, Any]] = [
        {"id": page, "time": 1, "messaging": [message_event(psid, "hi", page_id=page)]}
        for page in ids
    ]
    body = json.dumps({"object": "page", "entry": entries}).encode()
    answer = platform.webhook.respond(
        "POST", "/webhook/1001", {}, signature_headers(body, APP.secret), body
    )
    assert answer.status in ALLOWED
    store: Any = platform.store
    assert store.get("3001", psid) is None
    for page in set(ids) - {"2001"}:
        assert store.get(page, psid) is None
    assert (store.get("2001", psid) is not None) == ("2001" in ids and answer.status == 200)
