"""The client's single calls: URLs, auth, bodies, answers, errors and secrets."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import traceback
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import requests_mock
from hypothesis import given, settings
from hypothesis import strategies as st

from fmc.errors import (
    AmbiguousSendError,
    AuthenticationError,
    ConfigurationError,
    FMCError,
    GraphAPIError,
    NetworkError,
    OutsideWindowError,
    RateLimitError,
    RecipientUnavailableError,
    SendTimeoutError,
    TransientError,
    UncertainDeliveryError,
)
from fmc.models import (
    MessageTag,
    Page,
    PostbackButton,
    Recipient,
    SenderAction,
    SendRequest,
    SendResult,
    Text,
)
from fmc.transport import Client, RateLimiter, RetryPolicy, UserProfile
from fmc.transport.answer import decode_answer
from fmc.transport.outcome import read_send_result

OK = {"recipient_id": "42", "message_id": "m_1"}


def _query(request: requests_mock.request._RequestObjectProxy) -> dict[str, list[str]]:
    return parse_qs(urlsplit(request.url).query)


def _urllib3_logging() -> dict[str, tuple[object, ...]]:
    """The filters, handlers, level and propagation of every urllib3 logger."""
    names = {n for n in logging.root.manager.loggerDict if n.startswith("urllib3")}
    names |= {"urllib3", "urllib3.connectionpool", "urllib3.connection", "urllib3.util.retry"}
    return {
        name: (
            tuple(logging.getLogger(name).filters),
            tuple(logging.getLogger(name).handlers),
            logging.getLogger(name).level,
            logging.getLogger(name).propagate,
        )
        for name in sorted(names)
    }


class TestSend:
    def test_posts_json_to_the_page_messages_endpoint(self, client, graph, messages_url) -> None:
        """send() POSTs the Send API body as JSON to /{version}/{page_id}/messages."""
        graph.post(messages_url, json=OK)
        client.send(Recipient("42"), Text("Hello"))
        request = graph.last_request
        assert request.headers["Content-Type"] == "application/json"
        assert request.json() == {
            "recipient": {"id": "42"},
            "message": {"text": "Hello"},
            "messaging_type": "RESPONSE",
        }

    def test_returns_the_send_result(self, client, graph, messages_url) -> None:
        """Meta's answer becomes a SendResult."""
        graph.post(messages_url, json=OK)
        assert client.send(Recipient("42"), Text("Hi")) == SendResult("42", "m_1")

    def test_token_and_appsecret_proof_as_query_params(
        self, client, graph, messages_url, page
    ) -> None:
        """access_token and the HMAC-SHA256 appsecret_proof travel as query parameters."""
        graph.post(messages_url, json=OK)
        client.send(Recipient("42"), Text("Hi"))
        expected = hmac.new(page.app_secret.encode(), page.access_token.encode(), hashlib.sha256)
        assert _query(graph.last_request) == {
            "access_token": [page.access_token],
            "appsecret_proof": [expected.hexdigest()],
        }

    def test_no_proof_without_app_secret(self, graph, messages_url) -> None:
        """A page without an app secret sends no appsecret_proof."""
        graph.post(messages_url, json=OK)
        with Client(Page("1234", "tok")) as client:
            client.send(Recipient("42"), Text("Hi"))
        assert "appsecret_proof" not in _query(graph.last_request)

    def test_tag_sets_message_tag_type(self, client, graph, messages_url) -> None:
        """A tag makes the send a MESSAGE_TAG send with that tag."""
        graph.post(messages_url, json=OK)
        client.send(
            Recipient("42"), Text("Your order shipped"), tag=MessageTag.POST_PURCHASE_UPDATE
        )
        body = graph.last_request.json()
        assert (body["messaging_type"], body["tag"]) == ("MESSAGE_TAG", "POST_PURCHASE_UPDATE")

    def test_sender_action_sends_only_the_action(self, client, graph, messages_url) -> None:
        """sender_action() sends the recipient and the action, no message."""
        graph.post(messages_url, json={"recipient_id": "42"})
        result = client.sender_action(Recipient("42"), SenderAction.TYPING_ON)
        assert graph.last_request.json() == {
            "recipient": {"id": "42"},
            "sender_action": "typing_on",
        }
        assert result == SendResult("42", None)

    def test_send_request_takes_a_prepared_request(self, client, graph, messages_url) -> None:
        """send_request() sends a SendRequest as built."""
        graph.post(messages_url, json=OK)
        client.send_request(
            SendRequest(Recipient("42"), Text("x"), notification_type="SILENT_PUSH")
        )
        assert graph.last_request.json()["notification_type"] == "SILENT_PUSH"

    def test_send_request_refuses_other_types(self, client) -> None:
        """send_request() takes only SendRequest objects."""
        with pytest.raises(TypeError):
            client.send_request({"recipient": {"id": "42"}})  # type: ignore[arg-type]

    def test_invalid_message_fails_before_any_call(self, client, graph) -> None:
        """A message Meta would refuse raises ValueError and makes no HTTP call."""
        with pytest.raises(ValueError, match="2,000"):
            client.send(Recipient("42"), Text("x" * 2001))
        assert graph.call_count == 0

    def test_version_and_base_url_are_configurable(self, page, graph) -> None:
        """base_url and api_version make the endpoint."""
        graph.post("http://fake.test/v21.0/1234/messages", json=OK)
        with Client(page, base_url="http://fake.test/", api_version="v21.0") as client:
            client.send(Recipient("42"), Text("x"))
        assert graph.call_count == 1

    def test_timeout_is_always_sent(self, client, graph, messages_url) -> None:
        """Every call carries the (connect, read) timeout."""
        graph.post(messages_url, json=OK)
        client.send(Recipient("42"), Text("x"))
        assert graph.last_request.timeout == (3.05, 20.0)

    def test_redirects_are_not_followed(self, client, graph, messages_url) -> None:
        """A redirect is an error, never followed with the token in the URL."""
        graph.post(messages_url, status_code=302, headers={"Location": "http://evil.test/"})
        with pytest.raises(GraphAPIError):
            client.send(Recipient("42"), Text("x"))
        assert graph.call_count == 1


ERROR_TABLE = [
    (400, {"code": 190, "message": "bad token"}, AuthenticationError),
    (400, {"code": 10, "error_subcode": 2018278, "message": "window"}, OutsideWindowError),
    (400, {"code": 551, "message": "not available"}, RecipientUnavailableError),
    (400, {"code": 100, "error_subcode": 2018001, "message": "no user"}, RecipientUnavailableError),
    (500, {"code": 1, "error_subcode": 1357046, "message": "invalid JSON"}, UncertainDeliveryError),
    (400, {"code": 12345, "message": "new"}, GraphAPIError),
]


class TestErrors:
    @pytest.mark.parametrize(
        ("status", "error", "cls"),
        ERROR_TABLE,
        ids=["190", "10/2018278", "551", "100/2018001", "1/1357046", "unknown"],
    )
    def test_error_answers_are_typed_and_not_retried(
        self, client, graph, messages_url, status, error, cls
    ) -> None:
        """A permanent Graph error raises its class from the code table after one call."""
        graph.post(messages_url, status_code=status, json={"error": error})
        with pytest.raises(cls) as raised:
            client.send(Recipient("42"), Text("x"))
        assert type(raised.value) is cls
        assert graph.call_count == 1

    def test_success_status_with_error_object_is_an_error(
        self, client, graph, messages_url
    ) -> None:
        """A 200 whose JSON holds an error object raises that error."""
        graph.post(messages_url, json={"error": {"code": 551, "message": "gone"}})
        with pytest.raises(RecipientUnavailableError):
            client.send(Recipient("42"), Text("x"))

    @pytest.mark.parametrize(
        "body",
        [
            b"<html><body>Proxy</body></html>",
            b"",
            b'{"recipient_id": "42", "mess',
            b"[1, 2]",
            b'"ok"',
            b'{"recipient_id": 42}',
            b"null",
            b"\xff\xfe",
        ],
        ids=["html", "empty", "truncated", "list", "string", "wrong-type", "null", "not-utf8"],
    )
    def test_unreadable_success_is_an_ambiguous_send(
        self, client, graph, messages_url, body
    ) -> None:
        """A 200 that is not a send result raises UncertainDeliveryError, never KeyError, once."""
        graph.post(messages_url, content=body)
        with pytest.raises(UncertainDeliveryError) as raised:
            client.send(Recipient("42"), Text("x"))
        assert isinstance(raised.value, AmbiguousSendError)
        assert graph.call_count == 1

    @pytest.mark.parametrize(
        "body", [b"<html>Bad gateway</html>", b"", b'{"err'], ids=["html", "empty", "truncated"]
    )
    def test_unreadable_5xx_is_transient_and_retried(
        self, client, graph, messages_url, body
    ) -> None:
        """A 502 without a Graph envelope is a transient error and retried."""
        graph.post(messages_url, [{"status_code": 502, "content": body}, {"json": OK}])
        assert client.send(Recipient("42"), Text("x")) == SendResult("42", "m_1")
        assert graph.call_count == 2

    def test_gateway_timeout_on_a_send_is_ambiguous(self, client, graph, messages_url) -> None:
        """A 504 from a gateway may hide a delivered send: ambiguous, not retried."""
        graph.post(messages_url, status_code=504, text="<html>Gateway Timeout</html>")
        with pytest.raises(UncertainDeliveryError):
            client.send(Recipient("42"), Text("x"))
        assert graph.call_count == 1

    def test_unreadable_answer_to_a_read_is_a_graph_error(self, client, graph) -> None:
        """A garbled 200 to a profile read is a plain GraphAPIError."""
        graph.get("https://graph.facebook.com/v26.0/42", text="<html></html>")
        with pytest.raises(GraphAPIError) as raised:
            client.get_user_profile("42")
        assert not isinstance(raised.value, AmbiguousSendError)

    def test_rate_limit_is_retried_then_succeeds(
        self, client, graph, messages_url, monotonic
    ) -> None:
        """A 613 is retried after Retry-After and the second answer is returned."""
        graph.post(
            messages_url,
            [
                {
                    "status_code": 400,
                    "json": {"error": {"code": 613}},
                    "headers": {"Retry-After": "3"},
                },
                {"json": OK},
            ],
        )
        assert client.send(Recipient("42"), Text("x")) == SendResult("42", "m_1")
        assert (graph.call_count, monotonic.sleeps) == (2, [3.0])

    def test_retries_run_out_with_the_last_error(self, client, graph, messages_url) -> None:
        """Four transient answers raise the last TransientError after four calls."""
        graph.post(messages_url, status_code=500, json={"error": {"code": 2, "message": "later"}})
        with pytest.raises(TransientError):
            client.send(Recipient("42"), Text("x"))
        assert graph.call_count == 4

    def test_connect_timeout_is_retried_as_network_error(self, client, graph, messages_url) -> None:
        """A connect timeout cannot have reached Meta: retried, then NetworkError."""
        graph.post(messages_url, exc=requests.exceptions.ConnectTimeout("connect timed out"))
        with pytest.raises(NetworkError):
            client.send(Recipient("42"), Text("x"))
        assert graph.call_count == 4

    @pytest.mark.parametrize(
        "exc",
        [requests.exceptions.SSLError("handshake failed"), requests.exceptions.ProxyError("no")],
        ids=["tls-handshake", "proxy"],
    )
    def test_handshake_failures_are_retried(self, client, graph, messages_url, exc) -> None:
        """A TLS or proxy handshake failure wrote no request: retried, then NetworkError."""
        graph.post(messages_url, exc=exc)
        with pytest.raises(NetworkError):
            client.send(Recipient("42"), Text("x"))
        assert graph.call_count == 4

    def test_read_timeout_is_ambiguous_and_not_retried(self, client, graph, messages_url) -> None:
        """A read timeout after sending raises SendTimeoutError after exactly one call."""
        graph.post(messages_url, exc=requests.exceptions.ReadTimeout("read timed out"))
        with pytest.raises(SendTimeoutError):
            client.send(Recipient("42"), Text("x"))
        assert graph.call_count == 1

    def test_unknown_request_failure_is_an_fmc_error(self, client, graph, messages_url) -> None:
        """Any other requests failure becomes an FMCError, not a requests exception."""
        graph.post(messages_url, exc=requests.exceptions.InvalidHeader("bad header"))
        with pytest.raises(FMCError, match="InvalidHeader") as raised:
            client.send(Recipient("42"), Text("x"))
        assert not isinstance(raised.value, requests.RequestException)


class TestLoopback:
    """Real sockets on 127.0.0.1, to check how real failures are classified."""

    def test_refused_connection_is_retried(self, page, closed_port, monotonic) -> None:
        """A refused connection never reached Meta: retried, then NetworkError."""
        policy = RetryPolicy(attempts=3, wait_jitter=0.0)
        with (
            Client(
                page,
                base_url=f"http://127.0.0.1:{closed_port}",
                retry=policy,
                monotonic=monotonic,
                sleep=monotonic.sleep,
            ) as client,
            pytest.raises(NetworkError),
        ):
            client.send(Recipient("42"), Text("x"))
        assert len(monotonic.sleeps) == 2

    def test_connection_dropped_after_sending_is_ambiguous(self, page, loopback, monotonic) -> None:
        """A connection closed after the request was sent gives SendTimeoutError, sent once."""
        server = loopback("drop")
        client = Client(page, base_url=server.url, monotonic=monotonic, sleep=monotonic.sleep)
        with client, pytest.raises(SendTimeoutError):
            client.send(Recipient("42"), Text("x"))
        assert len(server.requests) == 1

    def test_read_timeout_is_ambiguous(self, page, loopback, monotonic) -> None:
        """No answer within the read timeout gives SendTimeoutError, sent once."""
        server = loopback("hang")
        with (
            Client(
                page,
                base_url=server.url,
                timeout=(1.0, 0.2),
                monotonic=monotonic,
                sleep=monotonic.sleep,
            ) as client,
            pytest.raises(SendTimeoutError),
        ):
            client.send(Recipient("42"), Text("x"))
        assert len(server.requests) == 1

    def test_dropped_read_is_retried(self, page, loopback, monotonic) -> None:
        """A profile read whose connection drops is safe to repeat, so it is retried."""
        server = loopback("drop")
        policy = RetryPolicy(attempts=3, wait_jitter=0.0)
        with (
            Client(
                page, base_url=server.url, retry=policy, monotonic=monotonic, sleep=monotonic.sleep
            ) as client,
            pytest.raises(NetworkError),
        ):
            client.get_user_profile("42")
        assert len(server.requests) == 3

    def test_real_answer_round_trip(self, page, loopback, http_reply) -> None:
        """A real HTTP answer is read into a SendResult."""
        server = loopback("reply", http_reply(200, json.dumps(OK).encode()))
        with Client(page, base_url=server.url) as client:
            assert client.send(Recipient("42"), Text("x")) == SendResult("42", "m_1")
        assert server.requests[0].startswith(b"POST /v26.0/1234/messages?access_token=")


class TestSecrets:
    def _texts(self, error: BaseException) -> str:
        return "\n".join([str(error), repr(error), *traceback.format_exception(error)])

    def test_no_secret_in_connection_error_text(self, client, graph, messages_url, page) -> None:
        """A requests error quoting the URL is redacted in the fmc error and its traceback."""
        leaked = (
            f"Max retries exceeded with url: /v26.0/1234/messages?access_token={page.access_token}"
        )
        graph.post(messages_url, exc=requests.exceptions.ReadTimeout(leaked))
        with pytest.raises(SendTimeoutError) as raised:
            client.send(Recipient("42"), Text("x"))
        text = self._texts(raised.value)
        assert page.access_token not in text
        assert "access_token=REDACTED" in text

    def test_no_secret_in_real_network_errors(self, page, closed_port, monotonic) -> None:
        """A real refused connection's error text holds neither token nor proof."""
        with (
            Client(
                page, base_url=f"http://127.0.0.1:{closed_port}", retry=RetryPolicy.none()
            ) as client,
            pytest.raises(NetworkError) as raised,
        ):
            client.send(Recipient("42"), Text("x"))
        text = self._texts(raised.value)
        assert page.access_token not in text
        assert client._core.appsecret_proof not in text

    def test_no_secret_in_any_log_record(
        self, page, loopback, http_reply, caplog, monotonic, log_redaction
    ) -> None:
        """With log redaction on, no DEBUG record from fmc, requests or urllib3 holds a secret."""
        caplog.set_level(logging.DEBUG)
        server = loopback("reply", http_reply(400, b'{"error": {"code": 613, "message": "slow"}}'))
        policy = RetryPolicy(attempts=2, wait_jitter=0.0)
        with (
            Client(
                page, base_url=server.url, retry=policy, monotonic=monotonic, sleep=monotonic.sleep
            ) as client,
            pytest.raises(RateLimitError),
        ):
            client.send(Recipient("42"), Text("x"))
        messages = [record.getMessage() for record in caplog.records]
        assert any("REDACTED" in m for m in messages)
        proof = client._core.appsecret_proof
        for message in messages:
            assert page.access_token not in message
            assert proof not in message
            assert page.app_secret not in message

    def test_fmc_records_hold_no_secret_without_the_opt_in(
        self, page, loopback, http_reply, caplog, monotonic
    ) -> None:
        """Without log redaction, fmc's own DEBUG records still hold neither token nor proof."""
        caplog.set_level(logging.DEBUG)
        server = loopback("reply", http_reply(400, b'{"error": {"code": 613, "message": "slow"}}'))
        policy = RetryPolicy(attempts=2, wait_jitter=0.0)
        with (
            Client(
                page, base_url=server.url, retry=policy, monotonic=monotonic, sleep=monotonic.sleep
            ) as client,
            pytest.raises(RateLimitError),
        ):
            client.send(Recipient("42"), Text("x"))
        messages = [r.getMessage() for r in caplog.records if r.name.startswith("fmc")]
        assert any("REDACTED" in m for m in messages)
        proof = client._core.appsecret_proof
        for message in messages:
            assert page.access_token not in message
            assert proof not in message

    def test_client_repr_has_no_secret(self, client, page) -> None:
        """The client's repr names the page id, never its token."""
        assert page.access_token not in repr(client)
        assert "1234" in repr(client)


class TestConstruction:
    @pytest.mark.parametrize(
        "kwargs",
        [
            {"base_url": "ftp://x"},
            {"api_version": "25"},
            {"concurrency": 0},
            {"timeout": -1},
            {"timeout": (1, 2, 3)},
            {"rate_limit": 0},
            {"retry": 3},
        ],
        ids=["scheme", "version", "concurrency", "timeout", "timeout-triple", "rate", "retry"],
    )
    def test_rejects_bad_configuration(self, page, kwargs) -> None:
        """Unusable options raise ConfigurationError."""
        with pytest.raises(ConfigurationError):
            Client(page, **kwargs)

    def test_rejects_non_page(self) -> None:
        """The first argument must be a Page."""
        with pytest.raises(ConfigurationError):
            Client("1234")  # type: ignore[arg-type]

    @pytest.mark.parametrize("own_session", [True, False], ids=["owned", "injected"])
    def test_leaves_urllib3_loggers_untouched(self, page, own_session) -> None:
        """Constructing a client adds no filter, handler or level to urllib3's loggers."""
        before = _urllib3_logging()
        session = None if own_session else requests.Session()
        with Client(page, session=session):
            assert _urllib3_logging() == before
        if session is not None:
            session.close()

    def test_sending_leaves_urllib3_loggers_untouched(self, page, loopback, http_reply) -> None:
        """A real HTTP exchange leaves urllib3's loggers as they were."""
        server = loopback("reply", http_reply(200, b'{"recipient_id": "42", "message_id": "m"}'))
        before = _urllib3_logging()
        with Client(page, base_url=server.url) as client:
            client.send(Recipient("42"), Text("x"))
        assert _urllib3_logging() == before

    def test_owned_session_pool_follows_concurrency(self, page) -> None:
        """The owned session's pool holds at least `concurrency` connections, no urllib3 retries."""
        with Client(page, concurrency=64) as client:
            adapter = client._requests_transport.session.get_adapter("https://graph.facebook.com")
            assert adapter._pool_maxsize >= 64
            assert adapter.max_retries.total == 0

    def test_send_many_grows_the_pool(self, page, graph, messages_url) -> None:
        """send_many with more threads than the client's concurrency enlarges the owned pool."""
        graph.post(messages_url, json=OK)
        with Client(page, concurrency=4) as client:
            list(client.send_many([SendRequest(Recipient("42"), Text("x"))], concurrency=32))
            adapter = client._requests_transport.session.get_adapter("https://graph.facebook.com")
            assert adapter._pool_maxsize == 32

    def test_close_closes_only_an_owned_session(self, page) -> None:
        """An injected session stays open after the client closes."""
        session = requests.Session()
        closed: list[bool] = []
        session.close = lambda: closed.append(True)  # type: ignore[method-assign]
        with Client(page, session=session):
            pass
        assert closed == []

    def test_context_manager_closes_owned_session(self, page) -> None:
        """Leaving the with-block closes the session the client created."""
        with Client(page) as client:
            session = client._requests_transport.session
            closed: list[bool] = []
            original = session.close
            session.close = lambda: (closed.append(True), original())  # type: ignore[method-assign]
        assert closed == [True]

    def test_rate_limit_number_builds_a_limiter(self, page) -> None:
        """rate_limit=300 gives a 300/s RateLimiter; an instance is shared as given."""
        shared = RateLimiter(10)
        assert Client(page, rate_limit=300).rate_limiter.rate == 300.0
        assert Client(page, rate_limit=shared).rate_limiter is shared
        assert Client(page).rate_limiter is None


class TestProfiles:
    def test_user_profile(self, client, graph, page) -> None:
        """get_user_profile GETs /{psid} with the fields and returns a UserProfile."""
        graph.get(
            "https://graph.facebook.com/v26.0/42",
            json={
                "id": "42",
                "first_name": "Ada",
                "last_name": "L",
                "profile_pic": "https://p",
                "timezone": 2,
            },
        )
        profile = client.get_user_profile("42")
        assert profile == UserProfile(
            id="42", first_name="Ada", last_name="L", profile_pic="https://p", timezone=2.0
        )
        assert _query(graph.last_request)["fields"] == ["first_name,last_name,profile_pic"]

    @pytest.mark.parametrize(
        "psid", ["../me", "42/messages", "", "42?x=1"], ids=["dots", "slash", "empty", "query"]
    )
    def test_user_profile_refuses_path_tricks(self, client, psid) -> None:
        """A PSID that would change the URL path is refused."""
        with pytest.raises(ValueError, match="psid"):
            client.get_user_profile(psid)

    def test_upload_attachment(self, client, graph) -> None:
        """upload_attachment POSTs the attachment and returns its id."""
        graph.post(
            "https://graph.facebook.com/v26.0/1234/message_attachments",
            json={"attachment_id": "777"},
        )
        assert client.upload_attachment("image", "https://cdn.test/a.png") == "777"
        assert graph.last_request.json() == {
            "message": {
                "attachment": {
                    "type": "image",
                    "payload": {"url": "https://cdn.test/a.png", "is_reusable": True},
                }
            }
        }

    def test_upload_accepts_numeric_id(self, client, graph) -> None:
        """A numeric attachment_id is returned as a string."""
        graph.post(
            "https://graph.facebook.com/v26.0/1234/message_attachments", json={"attachment_id": 77}
        )
        assert client.upload_attachment("video", "https://cdn.test/v.mp4") == "77"

    def test_upload_refuses_unknown_type(self, client) -> None:
        """An attachment type Meta does not know is refused before any call."""
        with pytest.raises(ValueError, match="sticker"):
            client.upload_attachment("sticker", "https://cdn.test/a.png")

    def test_upload_without_id_is_an_error(self, client, graph) -> None:
        """An upload answer without attachment_id raises GraphAPIError."""
        graph.post("https://graph.facebook.com/v26.0/1234/message_attachments", json={"ok": True})
        with pytest.raises(GraphAPIError):
            client.upload_attachment("file", "https://cdn.test/a.pdf")

    def test_get_messenger_profile(self, client, graph) -> None:
        """get_messenger_profile returns the first data item."""
        graph.get(
            "https://graph.facebook.com/v26.0/1234/messenger_profile",
            json={"data": [{"greeting": [{"locale": "default", "text": "Hi"}]}]},
        )
        assert client.get_messenger_profile(["greeting"]) == {
            "greeting": [{"locale": "default", "text": "Hi"}]
        }
        assert _query(graph.last_request)["fields"] == ["greeting"]

    def test_set_messenger_profile(self, client, graph) -> None:
        """set_messenger_profile POSTs every given property in Graph's shape."""
        graph.post(
            "https://graph.facebook.com/v26.0/1234/messenger_profile", json={"result": "success"}
        )
        client.set_messenger_profile(
            get_started="GET_STARTED",
            greeting="Hello!",
            persistent_menu=[PostbackButton("Help", "HELP")],
            ice_breakers=[("What are your hours?", "HOURS")],
            whitelisted_domains=["https://shop.test"],
        )
        body = graph.last_request.json()
        assert body["get_started"] == {"payload": "GET_STARTED"}
        assert body["greeting"] == [{"locale": "default", "text": "Hello!"}]
        assert body["persistent_menu"][0]["call_to_actions"] == [
            {"type": "postback", "title": "Help", "payload": "HELP"}
        ]
        assert body["ice_breakers"] == [
            {
                "locale": "default",
                "call_to_actions": [{"question": "What are your hours?", "payload": "HOURS"}],
            }
        ]
        assert body["whitelisted_domains"] == ["https://shop.test"]

    def test_set_messenger_profile_needs_a_property(self, client) -> None:
        """Setting nothing is refused before any call."""
        with pytest.raises(ValueError, match="at least one"):
            client.set_messenger_profile()

    def test_delete_messenger_profile(self, client, graph) -> None:
        """delete_messenger_profile sends DELETE with the field names."""
        graph.delete(
            "https://graph.facebook.com/v26.0/1234/messenger_profile", json={"result": "success"}
        )
        client.delete_messenger_profile(["greeting", "get_started"])
        assert graph.last_request.json() == {"fields": ["greeting", "get_started"]}

    def test_profile_call_without_success_is_an_error(self, client, graph) -> None:
        """A Messenger profile answer other than success raises GraphAPIError."""
        graph.delete(
            "https://graph.facebook.com/v26.0/1234/messenger_profile", json={"result": "nope"}
        )
        with pytest.raises(GraphAPIError):
            client.delete_messenger_profile("greeting")


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
_ENVELOPES = st.fixed_dictionaries(
    {},
    optional={
        "error": _JSON
        | st.fixed_dictionaries(
            {},
            optional={
                "code": _JSON,
                "error_subcode": _JSON,
                "message": _JSON,
                "is_transient": _JSON,
            },
        ),
        "recipient_id": _JSON,
        "message_id": _JSON,
    },
)


class TestAnyAnswer:
    @settings(max_examples=200)
    @given(status=st.integers(100, 599), body=st.binary(max_size=64), sends=st.booleans())
    def test_any_bytes_give_a_dict_or_a_graph_error(self, status, body, sends) -> None:
        """Whatever bytes Graph answers, decoding returns a dict or raises a GraphAPIError."""
        try:
            data = decode_answer(status, body, {}, sends_message=sends)
        except GraphAPIError:
            return
        assert isinstance(data, dict)

    @settings(max_examples=200)
    @given(status=st.sampled_from([200, 400, 500, 503]), payload=_ENVELOPES | _JSON)
    def test_any_json_gives_a_result_or_a_graph_error(self, status, payload) -> None:
        """Any JSON answer to a send becomes a SendResult or a GraphAPIError, nothing else."""
        body = json.dumps(payload).encode()
        try:
            result = read_send_result(decode_answer(status, body, {}, sends_message=True))
        except GraphAPIError:
            return
        assert isinstance(result, SendResult)


class TestEnvironment:
    def test_proxies_are_resolved_once_per_client(self, page, monkeypatch) -> None:
        """An owned session reads proxy settings when the client is made, never per call."""
        monkeypatch.setenv("HTTPS_PROXY", "http://proxy.invalid:3128")
        monkeypatch.delenv("NO_PROXY", raising=False)
        monkeypatch.delenv("no_proxy", raising=False)
        with Client(page) as client:
            monkeypatch.setenv("HTTPS_PROXY", "http://other.invalid:3128")
            session = client._requests_transport.session
            assert session.trust_env is False
            assert client._requests_transport._proxies == {"https": "http://proxy.invalid:3128"}

    def test_injected_session_keeps_its_own_settings(self, page) -> None:
        """A session the caller passes in is not changed."""
        session = requests.Session()
        with Client(page, session=session):
            assert session.trust_env is True
        session.close()
