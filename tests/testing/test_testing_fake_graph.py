"""Tests for FakeGraphAPI's endpoints and validation, through its requests-mock form."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import pytest
import requests
import requests_mock

from fmc.testing import FakeGraphAPI

TOKEN = "page-token"
BASE = "https://graph.facebook.com/v25.0"


@pytest.fixture
def fake() -> FakeGraphAPI:
    return FakeGraphAPI(access_token=TOKEN)


@pytest.fixture
def session(fake: FakeGraphAPI) -> Iterator[requests.Session]:
    with requests_mock.Mocker() as mocker:
        fake.mock(mocker)
        with requests.Session() as session:
            yield session


def text_send(psid: str = "111", text: str = "hello", **extra: Any) -> dict[str, Any]:
    return {
        "recipient": {"id": psid},
        "messaging_type": "RESPONSE",
        "message": {"text": text},
        **extra,
    }


def post_json(session: requests.Session, body: dict[str, Any], path: str = "/me/messages") -> Any:
    return session.post(f"{BASE}{path}", params={"access_token": TOKEN}, json=body)


def as_form(body: dict[str, Any]) -> dict[str, str]:
    return {k: json.dumps(v) if isinstance(v, dict) else v for k, v in body.items()}


def error_of(response: requests.Response) -> dict[str, Any]:
    error: dict[str, Any] = response.json()["error"]
    return error


class TestSendAPI:
    """POST /{version}/me/messages and /{version}/{page_id}/messages."""

    @pytest.mark.parametrize(
        "path", ["/me/messages", "/1234567890/messages"], ids=["me", "page-id"]
    )
    def test_json_send(self, session: requests.Session, fake: FakeGraphAPI, path: str) -> None:
        """A JSON send is answered with recipient_id and message_id and recorded."""
        response = post_json(session, text_send(), path)
        assert response.status_code == 200
        answer = response.json()
        assert answer["recipient_id"] == "111"
        assert answer["message_id"].startswith("m_")
        [delivery] = fake.deliveries
        assert (delivery.psid, delivery.text, delivery.messaging_type) == (
            "111",
            "hello",
            "RESPONSE",
        )
        assert delivery.message_id == answer["message_id"]

    def test_form_send_with_token_in_body(
        self, session: requests.Session, fake: FakeGraphAPI
    ) -> None:
        """A form send (recipient and message as JSON strings, token in the body) is accepted."""
        form = {**as_form(text_send("222", "form")), "access_token": TOKEN}
        response = session.post(f"{BASE}/me/messages", data=form)
        assert response.status_code == 200
        assert fake.delivered_to("222")[0].text == "form"

    def test_single_quoted_form_values(self, session: requests.Session, fake: FakeGraphAPI) -> None:
        """Meta's curl samples' single-quoted recipient is accepted."""
        form = {
            "recipient": "{'id':'333'}",
            "messaging_type": "UPDATE",
            "message": "{'text':'hi'}",
            "access_token": TOKEN,
        }
        assert session.post(f"{BASE}/me/messages", data=form).status_code == 200
        assert fake.delivery_counts() == {"333": 1}

    def test_user_ref_answer_has_no_recipient_id(self, session: requests.Session) -> None:
        """A send to a user_ref answers only the message_id."""
        body = text_send()
        body["recipient"] = {"user_ref": "abc"}
        assert set(post_json(session, body).json()) == {"message_id"}

    def test_sender_action(self, session: requests.Session, fake: FakeGraphAPI) -> None:
        """A sender action answers recipient_id only and is recorded without a message."""
        response = post_json(session, {"recipient": {"id": "5"}, "sender_action": "typing_on"})
        assert response.json() == {"recipient_id": "5"}
        [delivery] = fake.deliveries
        assert (delivery.sender_action, delivery.message, delivery.message_id) == (
            "typing_on",
            None,
            None,
        )

    def test_tagged_send_records_tag(self, session: requests.Session, fake: FakeGraphAPI) -> None:
        """A MESSAGE_TAG send records its tag and notification type."""
        body = text_send(
            messaging_type="MESSAGE_TAG", tag="ACCOUNT_UPDATE", notification_type="NO_PUSH"
        )
        assert post_json(session, body).status_code == 200
        [delivery] = fake.deliveries
        assert (delivery.tag, delivery.notification_type) == ("ACCOUNT_UPDATE", "NO_PUSH")

    def test_message_ids_are_unique(self, session: requests.Session) -> None:
        """Every send gets its own message id."""
        ids = {post_json(session, text_send()).json()["message_id"] for _ in range(20)}
        assert len(ids) == 20

    def test_same_seed_same_ids(self) -> None:
        """Two fakes with the same seed make up the same message ids."""
        body = json.dumps(text_send()).encode()
        headers = {"Content-Type": "application/json"}
        answers = [
            FakeGraphAPI(seed=4)
            .handle("POST", "/v25.0/me/messages?access_token=x", headers, body)
            .json()
            for _ in range(2)
        ]
        assert answers[0] == answers[1]

    def test_delivery_records_times_and_request_number(
        self, session: requests.Session, fake: FakeGraphAPI
    ) -> None:
        """Deliveries carry server times, increasing, and the HTTP request number."""
        post_json(session, text_send("1"))
        post_json(session, text_send("2"))
        first, second = fake.deliveries
        assert first.time <= second.time
        assert first.wall_time.tzinfo is not None
        assert (first.request_number, second.request_number) == (1, 2)
        assert (first.number, second.number) == (1, 2)

    @pytest.mark.parametrize(
        ("body", "code", "subcode", "fragment"),
        [
            (
                {"messaging_type": "RESPONSE", "message": {"text": "x"}},
                100,
                None,
                "recipient is required",
            ),
            (text_send() | {"recipient": {"id": "1", "user_ref": "u"}}, 100, None, "exactly one"),
            (text_send() | {"recipient": {}}, 100, None, "exactly one"),
            (text_send() | {"recipient": {"psid": "1"}}, 100, None, "exactly one"),
            (text_send() | {"recipient": {"id": ""}}, 100, None, "non-empty"),
            (text_send() | {"sender_action": "typing_on"}, 100, None, "both message and state"),
            (
                {"recipient": {"id": "1"}, "messaging_type": "RESPONSE"},
                100,
                None,
                "either message or state",
            ),
            (
                {"recipient": {"id": "1"}, "message": {"text": "x"}},
                100,
                None,
                "messaging_type is required",
            ),
            (text_send(messaging_type="SOMETIME"), 100, None, "messaging_type must be one of"),
            (text_send(messaging_type="MESSAGE_TAG"), 100, None, "Tag is required"),
            (
                text_send(messaging_type="MESSAGE_TAG", tag="SHIPPING_UPDATE"),
                100,
                None,
                "tag must be one of",
            ),
            (text_send(tag="ACCOUNT_UPDATE"), 100, None, "only be used with"),
            (text_send(text="x" * 2001), 100, None, "less than or equal to 2000"),
            (text_send(text=""), 100, 2018034, "cannot be empty"),
            (text_send() | {"message": {}}, 100, 2018034, "cannot be empty"),
            (text_send(notification_type="LOUD"), 100, None, "notification_type"),
            (
                {"recipient": {"id": "1"}, "sender_action": "dance"},
                100,
                None,
                "sender_action must be",
            ),
            (
                {"recipient": {"post_id": "1"}, "sender_action": "mark_seen"},
                100,
                None,
                "id or user_ref",
            ),
            (text_send() | {"recipient": "1"}, 100, None, "recipient must be a JSON object"),
            (text_send() | {"message": ["hi"]}, 100, None, "message must be a JSON object"),
            (
                text_send() | {"message": {"text": "x", "metadata": "m" * 1001}},
                100,
                None,
                "message[metadata]",
            ),
            (
                text_send() | {"message": {"text": "x", "quick_replies": []}},
                100,
                None,
                "non-empty array",
            ),
        ],
        ids=[
            "no-recipient",
            "two-recipient-keys",
            "empty-recipient",
            "unknown-recipient-key",
            "empty-psid",
            "message-and-action",
            "neither",
            "no-messaging-type",
            "bad-messaging-type",
            "tag-missing",
            "retired-tag",
            "tag-without-message-tag",
            "text-2001",
            "empty-text",
            "empty-message",
            "bad-notification-type",
            "bad-sender-action",
            "sender-action-to-post",
            "recipient-not-object",
            "message-not-object",
            "metadata-1001",
            "no-quick-replies",
        ],
    )
    def test_refusals(
        self,
        session: requests.Session,
        fake: FakeGraphAPI,
        body: dict[str, Any],
        code: int,
        subcode: int | None,
        fragment: str,
    ) -> None:
        """Bodies Meta refuses get HTTP 400 and Meta's error envelope, and nothing is delivered."""
        response = post_json(session, body)
        assert response.status_code == 400
        error = error_of(response)
        assert (error["code"], error.get("error_subcode")) == (code, subcode)
        assert fragment in error["message"]
        assert error["type"] == "OAuthException"
        assert error["fbtrace_id"]
        assert fake.deliveries == []

    def test_text_of_2000_characters_is_accepted(self, session: requests.Session) -> None:
        """Exactly 2,000 characters is within the limit."""
        assert post_json(session, text_send(text="é" * 2000)).status_code == 200

    @pytest.mark.parametrize(
        ("message", "fragment"),
        [
            (
                {
                    "text": "x",
                    "quick_replies": [{"content_type": "text", "title": "t", "payload": "p"}] * 14,
                },
                "at most 13",
            ),
            ({"text": "x", "quick_replies": [{"content_type": "location"}]}, "content_type"),
            (
                {
                    "text": "x",
                    "quick_replies": [{"content_type": "text", "title": "t" * 21, "payload": "p"}],
                },
                "title",
            ),
            ({"text": "x", "attachment": {"type": "image", "payload": {"url": "u"}}}, "not both"),
            ({"attachment": {"type": "sticker", "payload": {}}}, "[type] must be one of"),
            ({"attachment": {"type": "image", "payload": {}}}, "url or attachment_id"),
            (
                {"attachment": {"type": "template", "payload": {"template_type": "list"}}},
                "not a valid template",
            ),
            (
                {
                    "attachment": {
                        "type": "template",
                        "payload": {"template_type": "generic", "elements": [{"title": "t"}] * 11},
                    }
                },
                "between 1 and 10",
            ),
            (
                {
                    "attachment": {
                        "type": "template",
                        "payload": {"template_type": "button", "text": "t", "buttons": []},
                    }
                },
                "between 1 and 3",
            ),
            (
                {
                    "attachment": {
                        "type": "template",
                        "payload": {
                            "template_type": "button",
                            "text": "t",
                            "buttons": [{"type": "postback", "title": "b", "payload": "p"}] * 4,
                        },
                    }
                },
                "between 1 and 3",
            ),
            (
                {
                    "attachment": {
                        "type": "template",
                        "payload": {
                            "template_type": "button",
                            "text": "t",
                            "buttons": [{"type": "phone_number", "title": "b", "payload": "555"}],
                        },
                    }
                },
                "phone number",
            ),
            (
                {
                    "attachment": {
                        "type": "template",
                        "payload": {
                            "template_type": "media",
                            "elements": [{"media_type": "gif", "url": "u"}],
                        },
                    }
                },
                "media_type",
            ),
        ],
        ids=[
            "14-quick-replies",
            "location-quick-reply",
            "quick-reply-title",
            "text-and-attachment",
            "attachment-type",
            "media-without-url",
            "list-template",
            "11-elements",
            "no-buttons",
            "4-buttons",
            "phone-without-plus",
            "media-type",
        ],
    )
    def test_message_refusals(
        self, session: requests.Session, message: dict[str, Any], fragment: str
    ) -> None:
        """Messages over Meta's limits are refused with code 100."""
        response = post_json(session, text_send() | {"message": message})
        assert response.status_code == 400
        assert fragment in error_of(response)["message"]

    def test_templates_within_limits_are_accepted(self, session: requests.Session) -> None:
        """A generic template with 10 elements of 3 buttons each is accepted."""
        button = {"type": "web_url", "url": "https://example.com", "title": "Open"}
        element = {"title": "T", "subtitle": "S", "buttons": [button] * 3}
        message = {
            "attachment": {
                "type": "template",
                "payload": {"template_type": "generic", "elements": [element] * 10},
            }
        }
        assert post_json(session, text_send() | {"message": message}).status_code == 200

    def test_invalid_json_body(self, session: requests.Session) -> None:
        """A JSON body that does not parse is refused with code 100."""
        response = session.post(
            f"{BASE}/me/messages?access_token={TOKEN}",
            data=b"{not json",
            headers={"Content-Type": "application/json"},
        )
        assert response.status_code == 400
        assert error_of(response)["code"] == 100

    def test_other_page_is_refused(self, session: requests.Session) -> None:
        """Sending as another Page's id is refused like Meta's unsupported request."""
        response = post_json(session, text_send(), "/999/messages")
        assert error_of(response)["error_subcode"] == 33


class TestRouting:
    """Paths, methods and bodies the fake does not serve."""

    @pytest.mark.parametrize(
        ("method", "target", "content_type", "body", "fragment"),
        [
            ("DELETE", "/v25.0/me", "", b"", "Unsupported delete request"),
            ("GET", "/v25.0/", "", b"", "Unsupported get request"),
            ("GET", "/v25.0/me/messages", "", b"", "Unsupported get request"),
            ("GET", "/v25.0/me/feed/x", "", b"", "Unknown path components"),
            ("GET", "/v2x/me", "", b"", "Unknown path components"),
            (
                "POST",
                "/v25.0/me/messages",
                "application/x-www-form-urlencoded",
                b"\xff",
                "not UTF-8",
            ),
            ("POST", "/v25.0/me/messages", "application/json", b"[1]", "must be a JSON object"),
            ("POST", "/v25.0/me/messages", "multipart/form-data", b"junk", "multipart"),
        ],
        ids=[
            "delete-page",
            "get-root",
            "get-messages",
            "deep-path",
            "bad-version",
            "non-utf8-form",
            "json-array-body",
            "broken-multipart",
        ],
    )
    def test_refused(
        self, method: str, target: str, content_type: str, body: bytes, fragment: str
    ) -> None:
        """Calls outside the modelled endpoints get a Graph error, never a crash."""
        reply = FakeGraphAPI().handle(
            method, target + "?access_token=t", {"Content-Type": content_type}, body
        )
        assert reply.status == 400
        assert fragment in reply.json()["error"]["message"]

    @pytest.mark.parametrize(
        ("method", "path", "body", "status"),
        [
            ("POST", "/_fake/faults", b"{not json", 400),
            ("GET", "/_fake/nothing", b"", 404),
            ("POST", "/_fake/faults", b'{"faults": [{"kind": "latency", "delay": -1}]}', 400),
        ],
        ids=["bad-json", "unknown", "bad-fault"],
    )
    def test_control_refusals(self, method: str, path: str, body: bytes, status: int) -> None:
        """The control endpoints refuse what they cannot use."""
        assert FakeGraphAPI().handle(method, path, {}, body).status == status


class TestAuth:
    """Access token, appsecret_proof and API version."""

    def test_wrong_token_gets_190(self, session: requests.Session) -> None:
        """A token other than the fake's gets OAuthException 190."""
        response = session.post(
            f"{BASE}/me/messages", params={"access_token": "other"}, json=text_send()
        )
        assert (response.status_code, error_of(response)["code"]) == (400, 190)

    def test_missing_token(self, session: requests.Session) -> None:
        """A call without a token is refused."""
        response = session.post(f"{BASE}/me/messages", json=text_send())
        assert error_of(response)["code"] == 104

    def test_any_token_without_configured_token(self) -> None:
        """A fake without access_token accepts any token."""
        fake = FakeGraphAPI()
        reply = fake.handle(
            "POST",
            "/v25.0/me/messages?access_token=whatever",
            {"Content-Type": "application/json"},
            json.dumps(text_send()).encode(),
        )
        assert reply.status == 200

    @pytest.mark.parametrize(
        ("proof", "fragment"),
        [(None, "require an appsecret_proof"), ("0" * 64, "Invalid appsecret_proof")],
        ids=["missing", "wrong"],
    )
    def test_appsecret_proof_refused(self, proof: str | None, fragment: str) -> None:
        """With an app secret, a missing or wrong proof gets Meta's GraphMethodException."""
        fake = FakeGraphAPI(access_token=TOKEN, app_secret="shh")
        query = {"access_token": TOKEN} | ({"appsecret_proof": proof} if proof else {})
        reply = fake.handle(
            "POST",
            "/v25.0/me/messages?" + urlencode(query),
            {"Content-Type": "application/json"},
            json.dumps(text_send()).encode(),
        )
        error = reply.json()["error"]
        assert (reply.status, error["code"], error["type"]) == (400, 100, "GraphMethodException")
        assert fragment in error["message"]

    def test_appsecret_proof_accepted(self) -> None:
        """The HMAC-SHA256 of the token with the app secret is accepted."""
        fake = FakeGraphAPI(access_token=TOKEN, app_secret="shh")
        proof = hmac.new(b"shh", TOKEN.encode(), hashlib.sha256).hexdigest()
        query = urlencode({"access_token": TOKEN, "appsecret_proof": proof})
        reply = fake.handle(
            "POST",
            f"/v25.0/me/messages?{query}",
            {"Content-Type": "application/json"},
            json.dumps(text_send()).encode(),
        )
        assert reply.status == 200

    def test_other_api_version_refused(self) -> None:
        """A fake pinned to one version refuses calls to another."""
        fake = FakeGraphAPI(api_version="v25.0")
        reply = fake.handle(
            "POST",
            "/v19.0/me/messages?access_token=t",
            {"Content-Type": "application/json"},
            json.dumps(text_send()).encode(),
        )
        assert reply.status == 400
        assert "v19.0" in reply.json()["error"]["message"]

    def test_any_version_accepted_by_default(self) -> None:
        """Without api_version, any vN.N is served."""
        fake = FakeGraphAPI()
        reply = fake.handle(
            "POST",
            "/v3.3/me/messages?access_token=t",
            {"Content-Type": "application/json"},
            json.dumps(text_send()).encode(),
        )
        assert reply.status == 200

    def test_unknown_path(self, session: requests.Session) -> None:
        """An unknown edge gets Meta's 'Unknown path components' error."""
        response = session.get(f"{BASE}/me/nonsense", params={"access_token": TOKEN})
        assert error_of(response)["code"] == 2500


def batch_item(body: dict[str, Any], url: str = "me/messages") -> dict[str, str]:
    return {"method": "POST", "relative_url": url, "body": urlencode(as_form(body))}


class TestBatch:
    """Graph batch requests."""

    def post_batch(
        self, session: requests.Session, items: list[Any], **form: str
    ) -> requests.Response:
        return session.post(
            f"{BASE}/", data={"access_token": TOKEN, "batch": json.dumps(items), **form}
        )

    def test_answers_in_order(self, session: requests.Session, fake: FakeGraphAPI) -> None:
        """Each item gets its answer at its own position; the sends are recorded in order."""
        items = [batch_item(text_send(str(i), f"t{i}")) for i in range(5)]
        response = self.post_batch(session, items)
        assert response.status_code == 200
        answers = response.json()
        assert [json.loads(a["body"])["recipient_id"] for a in answers] == ["0", "1", "2", "3", "4"]
        assert [d.batch_index for d in fake.deliveries] == [0, 1, 2, 3, 4]
        assert {d.request_number for d in fake.deliveries} == {1}
        assert fake.http_request_count == 1

    def test_per_item_errors(self, session: requests.Session, fake: FakeGraphAPI) -> None:
        """An invalid item gets its own error; the others are delivered."""
        items = [
            batch_item(text_send("1")),
            batch_item(text_send("2", "")),
            batch_item(text_send("3")),
        ]
        answers = self.post_batch(session, items).json()
        assert [a["code"] for a in answers] == [200, 400, 200]
        assert json.loads(answers[1]["body"])["error"]["error_subcode"] == 2018034
        assert sorted(fake.delivery_counts()) == ["1", "3"]

    def test_headers_included_by_default(self, session: requests.Session) -> None:
        """Items carry their headers unless include_headers=false."""
        with_headers = self.post_batch(session, [batch_item(text_send())]).json()[0]
        without = self.post_batch(
            session, [batch_item(text_send())], include_headers="false"
        ).json()[0]
        assert {"name": "Content-Type", "value": "application/json; charset=UTF-8"} in with_headers[
            "headers"
        ]
        assert "headers" not in without

    def test_more_than_50_refused(self, session: requests.Session, fake: FakeGraphAPI) -> None:
        """A batch of 51 is refused whole, and nothing is delivered."""
        response = self.post_batch(session, [batch_item(text_send())] * 51)
        assert response.status_code == 400
        assert "Maximum batch size is 50" in error_of(response)["message"]
        assert fake.deliveries == []

    def test_50_accepted(self, session: requests.Session, fake: FakeGraphAPI) -> None:
        """A batch of exactly 50 is accepted."""
        assert self.post_batch(session, [batch_item(text_send())] * 50).status_code == 200
        assert len(fake.deliveries) == 50

    def test_unversioned_root(self, session: requests.Session, fake: FakeGraphAPI) -> None:
        """A batch posted to the bare root URL is served too."""
        response = session.post(
            "https://graph.facebook.com",
            data={"access_token": TOKEN, "batch": json.dumps([batch_item(text_send())])},
        )
        assert response.status_code == 200
        assert len(fake.deliveries) == 1

    def test_item_token_and_version_in_url(self, session: requests.Session) -> None:
        """An item may carry its own token, and a versioned relative_url."""
        item = batch_item(text_send(), url=f"v25.0/me/messages?access_token={TOKEN}")
        response = session.post(f"{BASE}/", data={"batch": json.dumps([item])})
        assert response.json()[0]["code"] == 200

    def test_item_without_any_token(self, session: requests.Session) -> None:
        """An item with no token of its own and none to inherit is refused on its own."""
        items = [
            batch_item(text_send()),
            batch_item(text_send(), url=f"me/messages?access_token={TOKEN}"),
        ]
        answers = session.post(f"{BASE}/", data={"batch": json.dumps(items)}).json()
        assert [a["code"] for a in answers] == [400, 200]
        assert json.loads(answers[0]["body"])["error"]["code"] == 104

    def test_item_inherits_wrong_token(self, session: requests.Session) -> None:
        """Items without a token use the batch's; a wrong one is refused per item."""
        response = session.post(
            f"{BASE}/",
            data={"batch": json.dumps([batch_item(text_send())]), "access_token": "wrong"},
        )
        assert response.status_code == 400
        assert error_of(response)["code"] == 190

    def test_mixed_endpoints(self, session: requests.Session, fake: FakeGraphAPI) -> None:
        """A batch may mix a profile GET with sends."""
        fake.add_user("9", first_name="Ada")
        items = [
            {"method": "GET", "relative_url": "9?fields=first_name"},
            batch_item(text_send("9")),
        ]
        answers = self.post_batch(session, items).json()
        assert json.loads(answers[0]["body"]) == {"first_name": "Ada", "id": "9"}
        assert answers[1]["code"] == 200

    @pytest.mark.parametrize(
        ("batch", "fragment"),
        [
            ("{}", "JSON array"),
            ("[]", "non-empty"),
            ('[{"method": "POST"}]', "relative_url"),
            (None, "is required"),
        ],
        ids=["object", "empty", "no-relative-url", "missing"],
    )
    def test_bad_batch(self, session: requests.Session, batch: str | None, fragment: str) -> None:
        """A batch parameter that is not a list of calls is refused."""
        form = {"access_token": TOKEN} | ({"batch": batch} if batch is not None else {})
        response = session.post(f"{BASE}/", data=form)
        assert fragment in error_of(response)["message"]

    def test_json_body_batch(self, session: requests.Session, fake: FakeGraphAPI) -> None:
        """A batch sent as a JSON body is served too."""
        response = session.post(
            f"{BASE}/", json={"access_token": TOKEN, "batch": [batch_item(text_send())]}
        )
        assert response.json()[0]["code"] == 200


class TestOtherEndpoints:
    """User profile, page, attachment upload and Messenger profile."""

    def test_profile_of_known_user(self, session: requests.Session, fake: FakeGraphAPI) -> None:
        """A known PSID answers the fields asked for that it has."""
        fake.add_user("42", first_name="Ada", last_name="Lovelace", locale="en_GB")
        response = session.get(
            f"{BASE}/42", params={"access_token": TOKEN, "fields": "first_name,locale,timezone"}
        )
        assert response.json() == {"first_name": "Ada", "locale": "en_GB", "id": "42"}

    def test_profile_default_fields(self, session: requests.Session, fake: FakeGraphAPI) -> None:
        """Without fields, first_name, last_name and profile_pic are answered."""
        fake.add_user("42", first_name="Ada", last_name="L", profile_pic="https://p", locale="x")
        response = session.get(f"{BASE}/42", params={"access_token": TOKEN})
        assert set(response.json()) == {"first_name", "last_name", "profile_pic", "id"}

    def test_profile_of_unknown_user(self, session: requests.Session) -> None:
        """An unknown PSID gets 100/2018218."""
        response = session.get(f"{BASE}/404", params={"access_token": TOKEN})
        error = error_of(response)
        assert (error["code"], error["error_subcode"]) == (100, 2018218)

    def test_profile_unknown_field(self, session: requests.Session, fake: FakeGraphAPI) -> None:
        """A field a user node does not have is refused."""
        fake.add_user("42")
        response = session.get(f"{BASE}/42", params={"access_token": TOKEN, "fields": "email"})
        assert "nonexisting field (email)" in error_of(response)["message"]

    def test_profile_users_from_constructor(self) -> None:
        """users= makes PSIDs known from the start."""
        fake = FakeGraphAPI(users={"7": {"first_name": "Bo"}})
        assert (
            fake.handle("GET", "/v25.0/7?fields=first_name&access_token=t", {}, b"").json()[
                "first_name"
            ]
            == "Bo"
        )

    def test_page(self, session: requests.Session) -> None:
        """GET /me answers the Page's id and name."""
        assert session.get(f"{BASE}/me", params={"access_token": TOKEN}).json() == {
            "name": "Fake Page",
            "id": "1234567890",
        }

    def test_upload_by_url(self, session: requests.Session, fake: FakeGraphAPI) -> None:
        """An attachment uploaded by URL answers an attachment_id and is recorded."""
        message = {
            "attachment": {
                "type": "image",
                "payload": {"url": "https://x/y.png", "is_reusable": True},
            }
        }
        response = post_json(session, {"message": message}, "/me/message_attachments")
        attachment_id = response.json()["attachment_id"]
        assert fake.attachments[attachment_id] == {
            "type": "image",
            "is_reusable": True,
            "url": "https://x/y.png",
        }

    def test_upload_by_file(self, session: requests.Session, fake: FakeGraphAPI) -> None:
        """A multipart upload with filedata is accepted and its size recorded."""
        message = {"attachment": {"type": "file", "payload": {"is_reusable": True}}}
        response = session.post(
            f"{BASE}/1234567890/message_attachments",
            params={"access_token": TOKEN},
            data={"message": json.dumps(message)},
            files={"filedata": ("a.pdf", b"%PDF-1.4 data", "application/pdf")},
        )
        record = fake.attachments[response.json()["attachment_id"]]
        assert (record["filename"], record["size"], record["content_type"]) == (
            "a.pdf",
            13,
            "application/pdf",
        )

    @pytest.mark.parametrize(
        "message",
        [
            {"attachment": {"type": "template", "payload": {}}},
            {"attachment": {"type": "image", "payload": {}}},
        ],
        ids=["template", "no-source"],
    )
    def test_upload_refused(self, session: requests.Session, message: dict[str, Any]) -> None:
        """Uploads of templates, or without a URL or file, are refused."""
        response = post_json(session, {"message": message}, "/me/message_attachments")
        assert response.status_code == 400

    def test_messenger_profile_round_trip(
        self, session: requests.Session, fake: FakeGraphAPI
    ) -> None:
        """Fields set by POST are answered by GET and removed by DELETE."""
        url = f"{BASE}/me/messenger_profile"
        fields = {
            "get_started": {"payload": "GO"},
            "greeting": [{"locale": "default", "text": "Hi!"}],
        }
        assert session.post(url, params={"access_token": TOKEN}, json=fields).json() == {
            "result": "success"
        }
        got = session.get(
            url, params={"access_token": TOKEN, "fields": "get_started,greeting,ice_breakers"}
        )
        assert got.json() == {"data": [fields]}
        session.delete(url, params={"access_token": TOKEN}, json={"fields": ["greeting"]})
        assert fake.messenger_profile == {"get_started": {"payload": "GO"}}

    def test_messenger_profile_form_bodies(
        self, session: requests.Session, fake: FakeGraphAPI
    ) -> None:
        """Messenger profile fields may come as form fields holding JSON."""
        url = f"{BASE}/1234567890/messenger_profile"
        session.post(
            url, data={"access_token": TOKEN, "get_started": json.dumps({"payload": "GO"})}
        )
        session.delete(url, data={"access_token": TOKEN, "fields": json.dumps(["get_started"])})
        assert fake.messenger_profile == {}

    def test_messenger_profile_empty(self, session: requests.Session) -> None:
        """GET of fields never set answers an empty data list."""
        got = session.get(
            f"{BASE}/me/messenger_profile", params={"access_token": TOKEN, "fields": "greeting"}
        )
        assert got.json() == {"data": []}

    @pytest.mark.parametrize(
        ("method", "body", "fragment"),
        [
            ("POST", {"persistent_menu": []}, "Get Started"),
            ("POST", {"colour": "red"}, "not a valid messenger profile field"),
            ("POST", {}, "Requires one of"),
            ("POST", {"greeting": [{"locale": "default", "text": "x" * 161}]}, "160"),
            ("POST", {"whitelisted_domains": ["http://insecure"]}, "https"),
            ("POST", {"ice_breakers": [{}] * 5}, "at most 4"),
            ("GET", None, "fields is required"),
            ("DELETE", {}, "fields is required"),
        ],
        ids=[
            "menu-without-get-started",
            "unknown-field",
            "nothing",
            "long-greeting",
            "http-domain",
            "5-ice-breakers",
            "get-no-fields",
            "delete-no-fields",
        ],
    )
    def test_messenger_profile_refusals(
        self, session: requests.Session, method: str, body: dict[str, Any] | None, fragment: str
    ) -> None:
        """Messenger profile calls Meta refuses get code 100."""
        response = session.request(
            method, f"{BASE}/me/messenger_profile", params={"access_token": TOKEN}, json=body
        )
        assert response.status_code == 400
        assert fragment in error_of(response)["message"]


class TestRecords:
    """Counters, helpers and reset."""

    def test_http_requests_recorded_without_query(
        self, session: requests.Session, fake: FakeGraphAPI
    ) -> None:
        """Each HTTP request is recorded with method, path and time, never its token."""
        post_json(session, text_send())
        session.get(f"{BASE}/me", params={"access_token": TOKEN})
        recorded = fake.http_requests
        assert [(r.number, r.method, r.path) for r in recorded] == [
            (1, "POST", "/v25.0/me/messages"),
            (2, "GET", "/v25.0/me"),
        ]
        assert TOKEN not in repr(recorded)

    def test_delivery_counts(self, session: requests.Session, fake: FakeGraphAPI) -> None:
        """delivery_counts counts deliveries per recipient."""
        for psid in ["1", "2", "1"]:
            post_json(session, text_send(psid))
        assert fake.delivery_counts() == {"1": 2, "2": 1}
        assert [d.number for d in fake.delivered_to("1")] == [1, 3]

    def test_reset(self, session: requests.Session, fake: FakeGraphAPI) -> None:
        """reset forgets traffic, state and faults."""
        fake.faults.add("latency:delay=0")
        post_json(session, text_send())
        fake.reset()
        assert (fake.deliveries, fake.http_requests, fake.delivery_counts()) == ([], [], {})
        assert not fake.faults.active
        post_json(session, text_send())
        assert fake.deliveries[0].number == 1

    def test_reset_can_keep_faults(self, fake: FakeGraphAPI) -> None:
        """reset(faults=False) keeps the faults."""
        fake.faults.add("transient")
        fake.reset(faults=False)
        assert fake.faults.active

    def test_delivery_to_dict(self, session: requests.Session, fake: FakeGraphAPI) -> None:
        """A delivery's JSON form has its fields and times."""
        post_json(session, text_send("3"))
        data = fake.deliveries[0].to_dict()
        assert data["recipient"] == {"id": "3"}
        assert data["message"] == {"text": "hello"}
        assert isinstance(data["time"], float)
        assert isinstance(data["wall_time"], float)
        json.dumps(data)

    def test_repr_has_no_secrets(self) -> None:
        """The fake's repr shows neither its token nor its app secret."""
        text = repr(FakeGraphAPI(access_token="tok-123", app_secret="sec-456"))
        assert "tok-123" not in text
        assert "sec-456" not in text

    def test_unmatched_host_is_not_mocked(self, fake: FakeGraphAPI) -> None:
        """The mock covers the Graph base URL only."""
        with requests_mock.Mocker() as mocker:
            fake.mock(mocker)
            with pytest.raises(requests_mock.NoMockAddress):
                requests.get("https://graph.facebook.com.evil.example/v25.0/me", timeout=5)

    def test_custom_base_url(self, fake: FakeGraphAPI) -> None:
        """mock(base_url=...) serves paths below that base."""
        with requests_mock.Mocker() as mocker:
            fake.mock(mocker, base_url="http://fake.test/graph/")
            response = requests.post(
                f"http://fake.test/graph/v25.0/me/messages?access_token={TOKEN}",
                json=text_send(),
                timeout=5,
            )
        assert response.status_code == 200

    def test_mock_without_mocker(self, fake: FakeGraphAPI) -> None:
        """mock() with no mocker returns a new Mocker to use as a context manager."""
        with fake.mock():
            assert post_json(requests.Session(), text_send()).status_code == 200
