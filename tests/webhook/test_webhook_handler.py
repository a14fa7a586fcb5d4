"""WebhookHandler: the handshake table, POST statuses, dispatch, isolation, dedup and fuzzing."""

from __future__ import annotations

import json
import logging
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from webhook_support import (
    APP_SECRET,
    VERIFY_TOKEN,
    delivery,
    fixture_bytes,
    signed_headers,
    text_item,
)

from fmc.errors import ConfigurationError, PayloadError, PayloadTooLargeError, SignatureError
from fmc.webhook import (
    Event,
    MemoryDedup,
    MessageEvent,
    PostbackEvent,
    ReadEvent,
    Response,
    SignatureVerifier,
    UnknownEvent,
    WebhookHandler,
    sign,
)

GOOD = {"hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "1158201444"}


def make(**kwargs: Any) -> WebhookHandler:
    """A handler with the test secrets."""
    return WebhookHandler(APP_SECRET, VERIFY_TOKEN, **kwargs)


def post(handler: WebhookHandler, body: bytes, headers: Any = None, query: Any = None) -> Response:
    """POST a body signed correctly unless headers are given."""
    return handler.respond(
        "POST", query or {}, signed_headers(body) if headers is None else headers, body
    )


class TestHandshake:
    @pytest.mark.parametrize(
        ("query", "status"),
        [
            (GOOD, 200),
            ({**GOOD, "hub.verify_token": "wrong"}, 403),
            ({**GOOD, "hub.verify_token": VERIFY_TOKEN + "x"}, 403),
            ({**GOOD, "hub.verify_token": ""}, 403),
            ({**GOOD, "hub.mode": "unsubscribe"}, 403),
            ({k: v for k, v in GOOD.items() if k != "hub.mode"}, 400),
            ({k: v for k, v in GOOD.items() if k != "hub.verify_token"}, 400),
            ({k: v for k, v in GOOD.items() if k != "hub.challenge"}, 400),
            ({}, 400),
            ({**GOOD, "hub.verify_token": [VERIFY_TOKEN, "x"]}, 400),
            ({k: [v] for k, v in GOOD.items()}, 200),
            (
                "hub.mode=subscribe&hub.verify_token=" + VERIFY_TOKEN + "&hub.challenge=1158201444",
                200,
            ),
            ("hub.mode=subscribe&hub.verify_token=nope&hub.challenge=1", 403),
            (None, 400),
        ],
        ids=[
            "ok",
            "wrong-token",
            "token-prefix",
            "empty-token",
            "wrong-mode",
            "no-mode",
            "no-token",
            "no-challenge",
            "nothing",
            "repeated-token",
            "list-values",
            "raw-query-string",
            "raw-query-wrong-token",
            "no-query",
        ],
    )
    def test_table(self, query: Any, status: int) -> None:
        """The GET handshake answers 200 / 400 / 403 as in the table."""
        assert make().respond("GET", query, {}, b"").status == status

    def test_challenge_echoed_as_plain_text(self) -> None:
        """A good handshake answers the raw challenge as text/plain."""
        response = make().respond("GET", GOOD, {}, b"")
        assert response.body == b"1158201444"
        assert dict(response.headers)["Content-Type"].startswith("text/plain")

    def test_verify_token_required(self) -> None:
        """A handler without a verify token cannot be built."""
        with pytest.raises(ConfigurationError):
            WebhookHandler(APP_SECRET, "")

    def test_ready_verifier_accepted(self) -> None:
        """A SignatureVerifier (for example with rotated secrets) can be passed as the secret."""
        handler = WebhookHandler(SignatureVerifier(["new", APP_SECRET]), VERIFY_TOKEN)
        body = fixture_bytes("message_text")
        assert handler.respond("POST", {}, signed_headers(body), body).status == 200

    def test_sign_and_verify_helpers(self) -> None:
        """handler.sign() and handler.verify_signature() use the handler's secret."""
        handler = make()
        handler.verify_signature(b"{}", handler.sign(b"{}"))
        assert handler.sign(b"{}") == sign(b"{}", APP_SECRET)
        with pytest.raises(SignatureError):
            handler.verify_signature(b"{}", sign(b"{}", "other"))

    def test_body_limit_positive(self) -> None:
        """max_body_bytes must be positive."""
        with pytest.raises(ConfigurationError):
            make(max_body_bytes=0)

    def test_app_secret_required(self) -> None:
        """A handler without an app secret cannot be built (fail closed)."""
        with pytest.raises(ConfigurationError):
            WebhookHandler("", VERIFY_TOKEN)


class TestMethods:
    @pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "BREW", ""])
    def test_other_methods_405(self, method: str) -> None:
        """Methods other than GET and POST are answered 405 with Allow."""
        response = make().respond(method, GOOD, {}, b"")
        assert response.status == 405
        assert dict(response.headers)["Allow"] == "GET, POST"

    def test_method_case_insensitive(self) -> None:
        """A lowercase method name is understood."""
        body = fixture_bytes("message_text")
        assert make().respond("post", {}, signed_headers(body), body).status == 200


class TestPost:
    def test_good_delivery_200(self) -> None:
        """A signed delivery is answered 200."""
        response = post(make(), fixture_bytes("message_text"))
        assert (response.status, response.body) == (200, b"EVENT_RECEIVED")

    @pytest.mark.parametrize(
        "headers",
        [
            {},
            {"X-Hub-Signature-256": sign(b"other", APP_SECRET)},
            {"X-Hub-Signature-256": sign(fixture_bytes("message_text"), "wrong")},
        ],
        ids=["missing", "other-body", "wrong-secret"],
    )
    def test_bad_signature_403_and_nothing_dispatched(self, headers: dict[str, str]) -> None:
        """A missing or wrong signature is 403 and no callback runs."""
        handler = make()
        seen: list[Event] = []
        handler.on_any(seen.append)
        assert post(handler, fixture_bytes("message_text"), headers).status == 403
        assert seen == []

    @pytest.mark.parametrize(
        "headers",
        [
            lambda sig: {"x-hub-signature-256": sig},
            lambda sig: {"X-HUB-SIGNATURE-256": sig},
            lambda sig: [("X-Hub-Signature-256", sig)],
            lambda sig: {"X-Hub-Signature-256": [sig]},
            lambda sig: [(b"x-hub-signature-256".decode(), sig.encode())],
        ],
        ids=["lower", "upper", "pairs", "list-value", "bytes-value"],
    )
    def test_header_forms(self, headers: Any) -> None:
        """Header names are case-insensitive; mappings, pairs and list values all work."""
        body = fixture_bytes("message_text")
        assert post(make(), body, headers(sign(body, APP_SECRET))).status == 200

    @pytest.mark.parametrize(
        "headers",
        [
            lambda sig: [("X-Hub-Signature-256", sig), ("x-hub-signature-256", sig)],
            lambda sig: {"X-Hub-Signature-256": sig, "x-hub-signature-256": sig},
            lambda sig: {"X-Hub-Signature-256": [sig, sig]},
        ],
        ids=["pairs", "mapping-two-cases", "list-two-values"],
    )
    def test_two_signature_headers_403(self, headers: Any) -> None:
        """Two signature headers are refused, even when both are right."""
        body = fixture_bytes("message_text")
        assert post(make(), body, headers(sign(body, APP_SECRET))).status == 403

    def test_sha1_only_when_opted_in(self) -> None:
        """A delivery signed only with the legacy header is 403 unless accept_sha1 is set."""
        body = fixture_bytes("message_text")
        headers = {"X-Hub-Signature": SignatureVerifier(APP_SECRET).sign_sha1(body)}
        assert post(make(), body, headers).status == 403
        assert post(make(accept_sha1=True), body, headers).status == 200

    @pytest.mark.parametrize(
        ("body", "status"),
        [
            (b"not json", 400),
            (b'{"object":"user","entry":[]}', 400),
            (b'{"object":"page","entry":"x"}', 400),
            (b'{"object":"page","entry":[]}', 200),
            (b"[" * 50_000 + b"]" * 50_000, 400),
            (b'{"object":"page","entry":[{"id":"1","messaging":[{"timestamp":1e999}]}]}', 200),
            (b'{"object":"page","entry":[],"entry":"dup"}', 400),
            (b'{"n":' + b"9" * 5000 + b"}", 400),
        ],
        ids=[
            "not-json",
            "wrong-object",
            "entry-string",
            "no-entries",
            "deep-nesting",
            "huge-float",
            "duplicate-key-last-wins",
            "huge-integer",
        ],
    )
    def test_body_statuses(self, body: bytes, status: int) -> None:
        """Signed bodies get 200 when they are deliveries and 400 otherwise."""
        response = post(make(), body)
        assert response.status == status
        assert b"Traceback" not in response.body

    def test_400_reason_is_short(self) -> None:
        """A 400 says briefly what was wrong."""
        response = post(make(), b'{"object":"user","entry":[]}')
        assert response.body.startswith(b"bad request: ")
        assert len(response.body) < 200

    def test_oversized_413_before_signature(self) -> None:
        """A body over max_body_bytes is 413 whatever its signature."""
        handler = make(max_body_bytes=100)
        assert post(handler, b"x" * 101, {}).status == 413
        body = delivery(text_item("m1"))
        assert post(make(max_body_bytes=len(body)), body).status == 200

    def test_default_limit_is_one_mebibyte(self) -> None:
        """The default body limit is 1 MiB."""
        assert post(make(), b" " * (1024 * 1024 + 1), {}).status == 413

    def test_no_headers_no_body(self) -> None:
        """None for headers and body is a 403 (no signature), not an error."""
        assert make().respond("POST", None, None, None).status == 403  # type: ignore[arg-type]

    def test_bytes_header_names(self) -> None:
        """Header names given as bytes are understood."""
        body = fixture_bytes("message_text")
        headers = [(b"X-Hub-Signature-256", sign(body, APP_SECRET))]
        assert post(make(), body, headers).status == 200

    def test_refusals_logged_without_secrets(self, caplog: pytest.LogCaptureFixture) -> None:
        """A forged delivery is logged at INFO and a signed broken one at WARNING, with reasons."""
        with caplog.at_level(logging.INFO, logger="fmc.webhook"):
            post(make(), b"{}", {"X-Hub-Signature-256": "sha256=" + "0" * 64})
            post(make(), b"[]")
        levels = [(record.levelname, record.getMessage()) for record in caplog.records]
        assert levels == [
            ("INFO", "webhook delivery refused (403): signature does not match the body"),
            ("WARNING", "signed webhook delivery refused (400): body is not a JSON object"),
        ]

    def test_memoryview_body(self) -> None:
        """A bytes-like body (bytearray) is accepted."""
        body = fixture_bytes("message_text")
        assert make().respond("POST", {}, signed_headers(body), bytearray(body)).status == 200  # type: ignore[arg-type]

    def test_unexpected_failure_is_503_without_traceback(
        self, caplog: pytest.LogCaptureFixture
    ) -> None:
        """An internal failure (a broken clock) answers 503, logs, and shows no traceback."""

        def broken_clock() -> datetime:
            raise RuntimeError("clock exploded")

        handler = make(clock=broken_clock)
        with caplog.at_level(logging.ERROR, logger="fmc.webhook"):
            response = post(handler, fixture_bytes("message_text"))
        assert response.status == 503
        assert b"exploded" not in response.body
        assert "unexpectedly" in caplog.text


class TestDecodedBody:
    """The platform's router hands over the body it already decoded (internal)."""

    def test_decoded_body_is_dispatched(self) -> None:
        """A decoded body with its signed bytes is answered 200 and its events dispatched."""
        handler, seen = make(), []
        handler.on(MessageEvent, seen.append)
        body = delivery(text_item("m1"))
        answer = handler._respond_decoded({}, signed_headers(body), body, json.loads(body))
        assert answer.status == 200
        assert [event.mid for event in seen] == ["m1"]

    def test_signature_still_checked_over_the_bytes(self) -> None:
        """Decoded data does not stand in for the signature: wrongly signed bytes get 403."""
        handler, seen = make(), []
        handler.on(MessageEvent, seen.append)
        body = delivery(text_item("m1"))
        headers = signed_headers(body + b" ")
        assert handler._respond_decoded({}, headers, body, json.loads(body)).status == 403
        assert seen == []

    def test_decoded_non_delivery_is_400(self) -> None:
        """Decoded data that is not a delivery is refused like the same bytes would be."""
        body = b"[1, 2]"
        answer = make()._respond_decoded({}, signed_headers(body), body, json.loads(body))
        assert answer.status == 400


class TestHandle:
    def test_returns_events(self) -> None:
        """handle() verifies and returns every event."""
        body = fixture_bytes("multi_entry")
        assert len(make().handle(body, signed_headers(body))) == 5

    def test_raises_signature_error(self) -> None:
        """handle() raises SignatureError for a wrong signature."""
        with pytest.raises(SignatureError):
            make().handle(b"{}", {"X-Hub-Signature-256": sign(b"x", APP_SECRET)})

    def test_raises_payload_error(self) -> None:
        """handle() raises PayloadError for a signed non-delivery."""
        with pytest.raises(PayloadError):
            make().handle(b"[]", signed_headers(b"[]"))

    def test_raises_too_large(self) -> None:
        """handle() raises PayloadTooLargeError over the limit."""
        with pytest.raises(PayloadTooLargeError):
            make(max_body_bytes=1).handle(b"{}", signed_headers(b"{}"))

    def test_repeated_header(self) -> None:
        """handle() refuses two signature headers."""
        body = fixture_bytes("message_text")
        sig = sign(body, APP_SECRET)
        with pytest.raises(SignatureError, match="repeated"):
            make().handle(body, [("X-Hub-Signature-256", sig), ("X-Hub-Signature-256", sig)])

    def test_does_not_dispatch(self) -> None:
        """handle() does not run callbacks."""
        handler = make()
        seen: list[Event] = []
        handler.on_any(seen.append)
        body = fixture_bytes("message_text")
        handler.handle(body, signed_headers(body))
        assert seen == []


class TestDispatch:
    def test_callbacks_by_class(self) -> None:
        """on(cls) receives only that class (and subclasses); on_any receives all."""
        handler = make()
        messages: list[Event] = []
        everything: list[Event] = []
        handler.on(MessageEvent, messages.append)
        handler.on_any(everything.append)
        post(handler, fixture_bytes("multi_entry"))
        assert [type(e) for e in messages] == [MessageEvent, MessageEvent]
        assert [type(e) for e in everything] == [
            MessageEvent,
            ReadEvent,
            MessageEvent,
            UnknownEvent,
            PostbackEvent,
        ]

    def test_decorator_form(self) -> None:
        """on() works as a decorator and returns the function."""
        handler = make()
        seen: list[str] = []

        @handler.on(PostbackEvent)
        def on_postback(event: PostbackEvent) -> None:
            seen.append(event.payload or "")

        post(handler, fixture_bytes("postback"))
        assert seen == ["GET_STARTED"]
        assert callable(on_postback)

    def test_on_refuses_non_event_class(self) -> None:
        """on() takes event classes only."""
        with pytest.raises(TypeError):
            make().on(dict)  # type: ignore[type-var]

    def test_registration_after_first_dispatch(self) -> None:
        """A callback registered after traffic started receives later events."""
        handler = make()
        post(handler, delivery(text_item("m1")))
        seen: list[Event] = []
        handler.on(MessageEvent, seen.append)
        post(handler, delivery(text_item("m2")))
        assert [e.mid for e in seen] == ["m2"]

    def test_on_delivery_once_per_delivery(self) -> None:
        """on_delivery gets one call per delivery with all its new events."""
        handler = make()
        batches: list[list[Event]] = []
        handler.on_delivery(batches.append)
        post(handler, fixture_bytes("multi_entry"))
        assert len(batches) == 1
        assert len(batches[0]) == 5

    def test_raising_callback_isolated(self, caplog: pytest.LogCaptureFixture) -> None:
        """A raising callback is logged with kind and mid; others still run; answer is 200."""
        handler = make()
        seen: list[Event] = []
        batches: list[list[Event]] = []

        def explode(event: Event) -> None:
            raise ValueError("boom")

        handler.on(MessageEvent, explode)
        handler.on_any(seen.append)
        handler.on_delivery(batches.append)
        with caplog.at_level(logging.ERROR, logger="fmc.webhook"):
            response = post(handler, delivery(text_item("m_a"), text_item("m_b")))
        assert response.status == 200
        assert len(seen) == 2
        assert len(batches) == 1
        assert "messages" in caplog.text
        assert "m_a" in caplog.text
        assert "explode" in caplog.text

    def test_raising_delivery_callback_isolated(self, caplog: pytest.LogCaptureFixture) -> None:
        """A raising on_delivery callback is logged and the answer is still 200."""
        handler = make()

        def explode(events: list[Event]) -> None:
            raise RuntimeError("store down")

        handler.on_delivery(explode)
        with caplog.at_level(logging.ERROR, logger="fmc.webhook"):
            assert post(handler, delivery(text_item("m1"))).status == 200
        assert "delivery callback" in caplog.text


class TestDedup:
    def test_redelivery_not_dispatched_twice(self) -> None:
        """The same delivery twice dispatches its events once."""
        handler = make()
        seen: list[Event] = []
        handler.on_any(seen.append)
        body = fixture_bytes("multi_entry")
        assert post(handler, body).status == 200
        assert post(handler, body).status == 200
        assert len(seen) == 5

    def test_partial_redelivery(self) -> None:
        """Only the new events of a partly redelivered batch are dispatched."""
        handler = make()
        seen: list[str] = []
        handler.on(MessageEvent, lambda e: seen.append(e.mid))
        post(handler, delivery(text_item("m1")))
        post(handler, delivery(text_item("m1"), text_item("m2")))
        assert seen == ["m1", "m2"]

    def test_window_expires(self) -> None:
        """After the window, the same event is dispatched again."""
        now = [datetime(2025, 1, 1, tzinfo=timezone.utc)]
        handler = make(clock=lambda: now[0], dedup_window=timedelta(minutes=5))
        seen: list[Event] = []
        handler.on_any(seen.append)
        body = delivery(text_item("m1"))
        post(handler, body)
        now[0] += timedelta(minutes=6)
        post(handler, body)
        assert len(seen) == 2

    def test_custom_store_used(self) -> None:
        """A given dedup store is consulted with the window."""
        calls: list[tuple[str, timedelta]] = []

        class Store:
            def dedup_check_and_mark(self, key: str, *, now: datetime, window: timedelta) -> bool:
                calls.append((key, window))
                return False

        post(make(dedup=Store(), dedup_window=timedelta(hours=2)), delivery(text_item("m1")))
        assert calls == [("mid:m1", timedelta(hours=2))]

    def test_failing_store_dispatches(self, caplog: pytest.LogCaptureFixture) -> None:
        """A failing dedup store is logged and events are dispatched anyway (at least once)."""

        class Broken:
            def dedup_check_and_mark(self, key: str, *, now: datetime, window: timedelta) -> bool:
                raise OSError("disk gone")

        handler = make(dedup=Broken())
        seen: list[Event] = []
        handler.on_any(seen.append)
        with caplog.at_level(logging.ERROR, logger="fmc.webhook"):
            assert post(handler, delivery(text_item("m1"))).status == 200
        assert len(seen) == 1
        assert "dedup store failed" in caplog.text

    def test_no_duplicate_on_delivery(self) -> None:
        """A delivery with only already seen events does not call on_delivery."""
        handler = make(dedup=MemoryDedup(10))
        batches: list[list[Event]] = []
        handler.on_delivery(batches.append)
        body = delivery(text_item("m1"))
        post(handler, body)
        post(handler, body)
        assert len(batches) == 1


class TestLogging:
    def test_secrets_never_logged_or_answered(self, caplog: pytest.LogCaptureFixture) -> None:
        """Neither the app secret nor the verify token appears in logs, answers or repr."""
        handler = make()
        handler.on_any(lambda e: 1 / 0)
        with caplog.at_level(logging.DEBUG):
            answers = [
                handler.respond("GET", {**GOOD, "hub.verify_token": "bad"}, {}, b""),
                post(handler, fixture_bytes("message_text")),
                post(handler, b"{}", {"X-Hub-Signature-256": "sha256=" + "0" * 64}),
            ]
        text = caplog.text + repr(handler) + "".join(a.body.decode() for a in answers)
        assert APP_SECRET not in text
        assert VERIFY_TOKEN not in text


@st.composite
def json_documents(draw: st.DrawFn) -> Any:
    """Arbitrary JSON, sometimes shaped like a delivery."""
    leaves = (
        st.none()
        | st.booleans()
        | st.integers()
        | st.floats(allow_nan=False)
        | st.text(max_size=10)
    )
    values = st.recursive(
        leaves,
        lambda children: (
            st.lists(children, max_size=4)
            | st.dictionaries(st.text(max_size=8), children, max_size=4)
        ),
        max_leaves=25,
    )
    shaped = st.fixed_dictionaries(
        {
            "object": st.sampled_from(["page", "user", 1]),
            "entry": st.lists(
                st.fixed_dictionaries({"id": values, "messaging": st.lists(values, max_size=3)}),
                max_size=3,
            )
            | values,
        }
    )
    return draw(st.one_of(values, shaped))


class TestFuzz:
    @settings(max_examples=300)
    @given(body=st.binary(max_size=300), signed=st.booleans())
    def test_arbitrary_bytes(self, body: bytes, signed: bool) -> None:
        """Arbitrary bytes never raise and never give 500."""
        headers = signed_headers(body) if signed else {}
        assert make().respond("POST", {}, headers, body).status in {200, 400, 403, 413}

    @settings(max_examples=300)
    @given(document=json_documents())
    def test_arbitrary_json(self, document: Any) -> None:
        """Arbitrary signed JSON is answered 200 or 400, never an error."""
        handler = make()
        handler.on_any(lambda e: None)
        body = json.dumps(document).encode()
        assert post(handler, body).status in {200, 400}

    @settings(max_examples=100)
    @given(
        method=st.sampled_from(["GET", "POST", "get", "PUT"]),
        query=st.dictionaries(
            st.sampled_from(["hub.mode", "hub.verify_token", "hub.challenge", "redirect_to"]),
            st.text(max_size=10) | st.lists(st.text(max_size=5), max_size=3),
        ),
        headers=st.lists(st.tuples(st.text(max_size=20), st.text(max_size=20)), max_size=4),
    )
    def test_arbitrary_requests(
        self, method: str, query: dict[str, Any], headers: list[tuple[str, str]]
    ) -> None:
        """Arbitrary methods, queries and headers never give 500."""
        assert make().respond(method, query, headers, b"{}").status in {200, 400, 403, 405, 413}
