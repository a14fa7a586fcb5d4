"""Graph batch requests: encoding, decoding, and mapping each answer to its send."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, parse_qsl, quote_plus

import pytest
import requests
from hypothesis import given
from hypothesis import strategies as st

from fmc.errors import (
    AuthenticationError,
    GraphAPIError,
    InvalidRequestError,
    RateLimitError,
    RecipientUnavailableError,
    SendTimeoutError,
    UncertainDeliveryError,
)
from fmc.models import Page, Recipient, SendRequest, SendResult, Text
from fmc.transport import BatchAnswer, BatchCall, RateLimiter
from fmc.transport.batch import (
    decode_batch_answers,
    encode_batch_form,
    encode_form_body,
    form_quote,
)
from fmc.transport.core import GraphCore


def _request(psid: str) -> SendRequest:
    return SendRequest(Recipient(psid), Text(f"hello {psid}"))


def _form(request) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(request.text).items()}


def _calls(request) -> list[dict[str, str]]:
    return json.loads(_form(request)["batch"])


def _psid(call: dict[str, str]) -> str:
    return json.loads(parse_qs(call["body"])["recipient"][0])["id"]


def _ok(psid: str) -> dict[str, object]:
    return {"code": 200, "body": json.dumps({"recipient_id": psid, "message_id": f"m_{psid}"})}


def _err(code: int, status: int = 400) -> dict[str, object]:
    return {
        "code": status,
        "body": json.dumps({"error": {"code": code, "message": f"error {code}"}}),
    }


class TestEncoding:
    def test_form_body_encodes_objects_as_json(self) -> None:
        """Objects travel as compact JSON, strings as they are, None not at all."""
        body = encode_form_body({"recipient": {"id": "1"}, "messaging_type": "UPDATE", "tag": None})
        assert parse_qs(body) == {"recipient": ['{"id":"1"}'], "messaging_type": ["UPDATE"]}

    def test_batch_form_fields(self) -> None:
        """The batch form holds the token, the proof, include_headers=false and the calls."""
        form = encode_batch_form([BatchCall("GET", "me")], access_token="tok", appsecret_proof="pf")
        assert form == {
            "access_token": "tok",
            "appsecret_proof": "pf",
            "include_headers": "false",
            "batch": '[{"method":"GET","relative_url":"me"}]',
        }

    def test_batch_form_without_proof(self) -> None:
        """Without an app secret the form has no appsecret_proof."""
        form = encode_batch_form([BatchCall("GET", "me")], access_token="tok", appsecret_proof=None)
        assert "appsecret_proof" not in form

    @pytest.mark.parametrize("count", [0, 51], ids=["empty", "over-50"])
    def test_batch_size_limits(self, count: int) -> None:
        """A batch holds 1 to 50 calls."""
        with pytest.raises(ValueError, match="50"):
            encode_batch_form(
                [BatchCall("GET", "me")] * count, access_token="t", appsecret_proof=None
            )

    def test_call_method_is_checked(self) -> None:
        """Only GET, POST and DELETE calls exist."""
        with pytest.raises(ValueError, match="method"):
            BatchCall("PATCH", "me")

    def test_call_repr_hides_the_body(self) -> None:
        """A call's repr never shows its body, which may carry a notification token."""
        call = BatchCall(
            "POST", "1/messages", {"recipient": {"one_time_notif_token": "otn-secret"}}
        )
        assert "otn-secret" not in repr(call)


class TestDecoding:
    def test_answers_in_order_with_nulls(self) -> None:
        """Each item becomes a BatchAnswer; null stays None."""
        answers = decode_batch_answers([{"code": 200, "body": "{}"}, None], 2)
        assert answers == [BatchAnswer(200, "{}"), None]

    @pytest.mark.parametrize(
        "data",
        [
            {"a": 1},
            [],
            [{"code": 200, "body": "{}"}] * 3,
            [{"code": "200", "body": "{}"}, None],
            [{"code": 200, "body": {"x": 1}}, None],
            ["x", None],
        ],
        ids=["object", "too-short", "too-long", "string-code", "object-body", "string-item"],
    )
    def test_wrong_shapes_are_ambiguous(self, data: object) -> None:
        """An answer that does not match the calls makes every call ambiguous."""
        with pytest.raises(UncertainDeliveryError):
            decode_batch_answers(data, 2)

    def test_answer_json_success(self) -> None:
        """A 2xx item decodes to its object."""
        assert BatchAnswer(200, '{"id": "1"}').json() == {"id": "1"}

    def test_answer_json_error_is_typed(self) -> None:
        """A failed item raises the error of its code."""
        with pytest.raises(RecipientUnavailableError):
            BatchAnswer(400, '{"error": {"code": 551}}').json()

    @pytest.mark.parametrize(
        "body",
        [None, "", "<html>", "[1]", '{"error": {"code": 100}}'],
        ids=["none", "empty", "html", "list", "error-in-200"],
    )
    def test_answer_json_garbage_is_a_graph_error(self, body: str | None) -> None:
        """A 2xx item that is not a JSON object raises a GraphAPIError."""
        with pytest.raises(GraphAPIError):
            BatchAnswer(200, body).json()


class TestSendManyBatches:
    def test_one_http_request_per_batch(self, client, graph, batch_url) -> None:
        """120 sends with batch_size=50 take three batch requests of 50, 50 and 20."""
        graph.post(batch_url, json=lambda req, ctx: [_ok(_psid(c)) for c in _calls(req)])
        outcomes = list(client.send_many((_request(str(i)) for i in range(120)), batch_size=50))
        assert len(outcomes) == 120
        assert all(o.ok for o in outcomes)
        assert sorted(len(_calls(r)) for r in graph.request_history) == [20, 50, 50]

    def test_batch_goes_to_the_versioned_root_with_token_in_the_body(
        self, client, graph, batch_url, page
    ) -> None:
        """The batch POSTs to /{version}/ with the token in the form, not the URL."""
        graph.post(batch_url, json=[_ok("1")])
        list(client.send_many([_request("1")], batch_size=10))
        request = graph.last_request
        assert request.url == batch_url
        assert _form(request)["access_token"] == page.access_token
        assert _form(request)["include_headers"] == "false"
        call = _calls(request)[0]
        assert (call["method"], call["relative_url"]) == ("POST", "1234/messages")
        body = {k: v[0] for k, v in parse_qs(call["body"]).items()}
        assert body == {
            "recipient": '{"id":"1"}',
            "message": '{"text":"hello 1"}',
            "messaging_type": "RESPONSE",
        }

    def test_each_answer_maps_to_its_request(self, client, graph, batch_url) -> None:
        """Successes, item errors and incomplete items land on the right requests."""
        graph.post(batch_url, json=[_ok("a"), _err(551), None, _err(100), _ok("e")])
        requests_ = [_request(p) for p in "abcde"]
        outcomes = {o.request.recipient.id: o for o in client.send_many(requests_, batch_size=5)}
        assert outcomes["a"].result == SendResult("a", "m_a")
        assert isinstance(outcomes["b"].error, RecipientUnavailableError)
        assert isinstance(outcomes["c"].error, UncertainDeliveryError)
        assert outcomes["c"].ambiguous
        assert isinstance(outcomes["d"].error, InvalidRequestError)
        assert outcomes["e"].result == SendResult("e", "m_e")
        assert graph.call_count == 1

    def test_rate_limited_items_are_retried_alone(
        self, client, graph, batch_url, monotonic
    ) -> None:
        """A 613 item is resent in a later batch; the items that succeeded are not resent."""
        answers = [
            [_ok("a"), _err(613), _ok("c"), _err(2, status=500)],
            [_ok("b"), _ok("d")],
        ]
        graph.post(batch_url, [{"json": a} for a in answers])
        outcomes = {
            o.request.recipient.id: o
            for o in client.send_many([_request(p) for p in "abcd"], batch_size=4)
        }
        assert all(o.ok for o in outcomes.values())
        assert [_psid(c) for c in _calls(graph.request_history[1])] == ["b", "d"]
        assert len(monotonic.sleeps) == 1

    def test_item_retries_run_out_with_each_items_own_error(self, client, graph, batch_url) -> None:
        """When retries run out, each still-failing item keeps its own last error."""
        graph.post(batch_url, json=lambda req, ctx: [_err(613) for _ in _calls(req)])
        outcomes = list(client.send_many([_request("a"), _request("b")], batch_size=2))
        assert all(isinstance(o.error, RateLimitError) for o in outcomes)
        assert outcomes[0].error is not outcomes[1].error
        assert graph.call_count == 4

    def test_whole_batch_rate_limit_is_retried(self, client, graph, batch_url) -> None:
        """A batch request refused as a whole with 613 is resent whole."""
        graph.post(
            batch_url,
            [
                {"status_code": 400, "json": {"error": {"code": 613}}},
                {"json": [_ok("a"), _ok("b")]},
            ],
        )
        outcomes = list(client.send_many([_request("a"), _request("b")], batch_size=2))
        assert all(o.ok for o in outcomes)
        assert graph.call_count == 2

    def test_whole_batch_timeout_is_ambiguous_for_every_item(
        self, client, graph, batch_url
    ) -> None:
        """A batch request without an answer marks every item ambiguous, sent once."""
        graph.post(batch_url, exc=requests.exceptions.ReadTimeout("timed out"))
        outcomes = list(client.send_many([_request("a"), _request("b")], batch_size=2))
        assert all(isinstance(o.error, SendTimeoutError) and o.ambiguous for o in outcomes)
        assert graph.call_count == 1

    @pytest.mark.parametrize(
        "answer",
        [{"json": {"ok": True}}, {"text": "<html>"}, {"json": [_ok("a")]}],
        ids=["object", "html", "wrong-length"],
    )
    def test_unreadable_batch_answer_is_ambiguous(self, client, graph, batch_url, answer) -> None:
        """A 200 batch answer that cannot be mapped makes every item ambiguous, sent once."""
        graph.post(batch_url, **answer)
        outcomes = list(client.send_many([_request("a"), _request("b")], batch_size=2))
        assert all(isinstance(o.error, UncertainDeliveryError) for o in outcomes)
        assert graph.call_count == 1

    def test_whole_batch_permanent_error_fails_every_item(self, client, graph, batch_url) -> None:
        """A batch refused for its token gives every item that error."""
        graph.post(batch_url, status_code=400, json={"error": {"code": 190, "message": "expired"}})
        outcomes = list(client.send_many([_request("a"), _request("b")], batch_size=2))
        assert all(isinstance(o.error, AuthenticationError) for o in outcomes)

    def test_timeout_on_item_retry_applies_to_remaining_items(
        self, client, graph, batch_url
    ) -> None:
        """If the retry batch gets no answer, only the retried items are ambiguous."""
        graph.post(
            batch_url,
            [
                {"json": [_ok("a"), _err(613)]},
                {"exc": requests.exceptions.ReadTimeout("timed out")},
            ],
        )
        outcomes = {
            o.request.recipient.id: o
            for o in client.send_many([_request("a"), _request("b")], batch_size=2)
        }
        assert outcomes["a"].ok
        assert isinstance(outcomes["b"].error, SendTimeoutError)

    def test_unencodable_item_fails_alone(self, client, graph, batch_url) -> None:
        """A non-request item gets a TypeError outcome; the rest of the batch is sent."""
        graph.post(batch_url, json=[_ok("a")])
        outcomes = list(client.send_many([_request("a"), "junk"], batch_size=2))  # type: ignore[list-item]
        assert outcomes[0].ok
        assert isinstance(outcomes[1].error, TypeError)
        assert len(_calls(graph.last_request)) == 1

    @pytest.mark.parametrize("size", [0, 51, True], ids=["zero", "over-50", "bool"])
    def test_batch_size_is_checked(self, client, size) -> None:
        """batch_size must be 1 to 50."""
        with pytest.raises(ValueError, match="batch_size"):
            client.send_many([], batch_size=size)

    def test_rate_limiter_charges_one_token_per_item(
        self, page, graph, batch_url, monotonic
    ) -> None:
        """Each batch takes as many tokens as it carries sends, and is capped at the rate."""
        charged: list[int] = []

        class Spy(RateLimiter):
            def acquire(self, tokens: int = 1) -> float:
                charged.append(tokens)
                return 0.0

        from fmc.transport import Client

        graph.post(batch_url, json=lambda req, ctx: [_ok(_psid(c)) for c in _calls(req)])
        with Client(page, rate_limit=Spy(20), monotonic=monotonic, sleep=monotonic.sleep) as client:
            outcomes = list(client.send_many((_request(str(i)) for i in range(45)), batch_size=50))
        assert len(outcomes) == 45
        assert sorted(charged) == [5, 20, 20]


class TestGenericBatch:
    def test_batch_returns_raw_answers(self, client, graph, batch_url) -> None:
        """client.batch returns one answer per call for the caller to read."""
        graph.post(batch_url, json=[{"code": 200, "body": '{"name": "P"}'}, _err(100)])
        answers = client.batch(
            [BatchCall("GET", "1234?fields=name"), BatchCall("GET", "x")], idempotent=True
        )
        assert answers[0] is not None
        assert answers[0].json() == {"name": "P"}
        assert answers[1] is not None
        assert answers[1].code == 400

    def test_idempotent_batch_retries_lost_answers(self, client, graph, batch_url) -> None:
        """A read-only batch whose answer is lost is retried."""
        graph.post(batch_url, [{"exc": requests.exceptions.ReadTimeout("x")}, {"json": [_ok("a")]}])
        assert client.batch([BatchCall("GET", "me")], idempotent=True)[0] == BatchAnswer(
            200, _ok("a")["body"]
        )

    def test_sending_batch_does_not_retry_lost_answers(self, client, graph, batch_url) -> None:
        """A batch that may send messages is not resent when its answer is lost."""
        graph.post(batch_url, exc=requests.exceptions.ReadTimeout("x"))
        with pytest.raises(SendTimeoutError):
            client.batch([BatchCall("POST", "1234/messages", {"recipient": {"id": "1"}})])
        assert graph.call_count == 1


class TestFormQuote:
    @given(st.text(max_size=200))
    def test_matches_quote_plus(self, text: str) -> None:
        """form_quote encodes every text exactly as urllib's quote_plus does."""
        assert form_quote(text) == quote_plus(text)

    def test_batch_body_decodes_to_the_same_form(self) -> None:
        """A batch request's body parses back to the form fields it was built from."""
        page = Page("1234", "EAAGbatchtoken0123456789", app_secret="batch-app-secret")
        core = GraphCore(page, base_url="https://graph.facebook.com", api_version="v25.0")
        calls = [BatchCall("POST", "1234/messages", {"recipient": {"id": "42"}, "x": "a b+%&="})]
        request = core.batch(calls, sends_message=True)
        assert request.body is not None
        form = dict(parse_qsl(request.body.decode(), strict_parsing=True))
        assert json.loads(form["batch"]) == [call.to_wire() for call in calls]
        assert form["include_headers"] == "false"
