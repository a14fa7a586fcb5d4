"""Drill: no secret in any log line, exception, ``repr`` or ``str``.

The page token, the app secret (and the ``appsecret_proof`` made from both),
the verify token and notification tokens are run through every path that
logs or fails — sends, retries, errors, dropped connections, refused
connections, batches, profiles, the webhook and its handshake, forwarding,
registration of notification opt-ins, a broadcast over notification tokens,
and the ``fmc`` command — with the root logger at DEBUG (urllib3's request
lines included, masked by the documented opt-in ``install_log_redaction``).
Then every record (message, arguments and traceback), every exception raised,
every report and journal text, and the ``repr``/``str`` of every fmc object
reachable are searched for the secrets.
"""

from __future__ import annotations

import io
import logging
import traceback
from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import drill_support as ds
import pytest

import fmc
from fmc.cli import config as cli_config
from fmc.cli.entry import main as fmc_main
from fmc.testing import (
    FakeGraphAPI,
    FakeGraphServer,
    Fault,
    message_event,
    optin_event,
    signed_delivery,
    verification_query,
)
from fmc.transport.redact import (
    appsecret_proof,
    install_log_redaction,
    remove_log_redaction,
)
from fmc.webhook.forward import ForwardRetry

NOTIFICATION_TOKEN = "NotifMsgsTokenSecret0123456789abcdef"
ONE_TIME_TOKEN = "OneTimeNotifTokenSecret9876543210"
SECRETS = {
    "page token": ds.PAGE_TOKEN,
    "app secret": ds.APP_SECRET,
    "verify token": ds.VERIFY_TOKEN,
    "appsecret_proof": appsecret_proof(ds.PAGE_TOKEN, ds.APP_SECRET),
    "notification token": NOTIFICATION_TOKEN,
    "one-time token": ONE_TIME_TOKEN,
}


def leaks(text: str) -> list[str]:
    """The names of the secrets found in a text."""
    return [name for name, value in SECRETS.items() if value in text]


def assert_clean(text: str, where: str) -> None:
    found = leaks(text)
    assert not found, f"{', '.join(found)} in {where}: {text[:500]!r}"


def exception_texts(error: BaseException) -> Iterator[str]:
    """Everything an exception shows: str, repr, args and the formatted traceback."""
    yield str(error)
    yield repr(error)
    yield "".join(traceback.format_exception(type(error), error, error.__traceback__))
    yield from (repr(arg) for arg in error.args)
    for name in ("reason", "url", "decision"):
        if hasattr(error, name):
            yield repr(getattr(error, name))


class Caught:
    """Runs calls, keeping every exception they raise for the final check."""

    def __init__(self) -> None:
        self.errors: list[BaseException] = []

    def __call__(self, call: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return call(*args, **kwargs)
        except Exception as error:
            self.errors.append(error)
            return None


@pytest.fixture
def caught(caplog: pytest.LogCaptureFixture) -> Iterator[Caught]:
    """Everything logged at DEBUG and every exception kept must be free of secrets."""
    caplog.set_level(logging.DEBUG)
    # urllib3's request lines too: an application that logs them opts in (sending guide).
    added = install_log_redaction()
    keeper = Caught()
    yield keeper
    if added:
        remove_log_redaction()
    formatter = logging.Formatter()
    records = caplog.get_records("call")
    assert records, "the drill must log something to check"
    for record in records:
        assert_clean(record.getMessage(), f"the log record {record.name}:{record.lineno}")
        if record.exc_info:
            assert_clean(formatter.formatException(record.exc_info), f"traceback of {record.name}")
        if record.stack_info:
            assert_clean(record.stack_info, f"stack of {record.name}")
    for error in keeper.errors:
        for text in exception_texts(error):
            assert_clean(text, f"the exception {type(error).__name__}")


def objects_clean(objects: Iterable[object]) -> None:
    for obj in objects:
        assert_clean(repr(obj), f"repr of {type(obj).__name__}")
        assert_clean(str(obj), f"str of {type(obj).__name__}")


@pytest.fixture
def server() -> Iterator[FakeGraphServer]:
    fake = FakeGraphAPI(access_token=ds.PAGE_TOKEN, app_secret=ds.APP_SECRET, seed=3)
    with FakeGraphServer(fake) as running:
        yield running


def test_send_retry_and_error_paths_leak_nothing(
    server: FakeGraphServer, caught: Caught, tmp_path: Path
) -> None:
    """Sends, retries, typed errors, drops, timeouts, refused connections, batches, profiles."""
    fake = server.fake
    fake.faults.add(
        Fault.unavailable(["gone"]),
        Fault.rate_limit(times=2, retry_after=0),
        Fault.transient(times=1),
        Fault.server_error(times=1),
        Fault.malformed("html", times=1),
        Fault.error(100, "(#100) Invalid parameter", psids=["bad"]),
    )
    client = ds.client(server.url, timeout=(1.0, 0.3))
    recipient = fmc.Recipient("psid1")
    for psid in ("psid1", "psid2", "gone", "bad", "psid3"):
        caught(client.send, fmc.Recipient(psid), fmc.Text("hello"))
    fake.faults.add(Fault.drop(after=True, times=1), Fault.drop(after=False, times=1))
    caught(client.send, recipient, fmc.Text("dropped after"))
    caught(client.send, recipient, fmc.Text("dropped before"))
    fake.faults.add(Fault.latency(1.0, times=1))
    caught(client.send, recipient, fmc.Text("read timeout"))
    requests = [fmc.SendRequest(fmc.Recipient(p), fmc.Text("x")) for p in ("a", "gone", "b")]
    outcomes = list(client.send_many(requests)) + list(client.send_many(requests, batch_size=3))
    caught.errors.extend(o.error for o in outcomes if o.error is not None)
    caught(client.sender_action, recipient, fmc.SenderAction.TYPING_ON)
    caught(client.get_user_profile, "nobody")
    caught(client.set_messenger_profile, greeting="hi")
    caught(client.get_messenger_profile, ["greeting"])
    fake.faults.add(Fault.drop(after=False, times=1))
    caught(client.get_user_profile, "nobody")
    closed = ds.client("http://127.0.0.1:9", attempts=2)
    caught(closed.send, recipient, fmc.Text("nobody listens"))
    wrong = fmc.Client(
        fmc.Page(ds.PAGE_ID, ds.PAGE_TOKEN + "x", app_secret=ds.APP_SECRET), base_url=server.url
    )
    caught(wrong.send, recipient, fmc.Text("wrong token"))
    assert len(caught.errors) >= 10
    objects_clean([client, closed, wrong, recipient, *requests, *outcomes, client.retry])
    objects_clean([client.page, fmc.SendResult("psid1", "m_1")])
    for made in (client, closed, wrong):
        made.close()


def no_dns(host: str, port: int) -> list[str]:
    """A resolver that knows no name: the drill never asks the real DNS."""
    raise OSError(f"{host} is not resolved in the drill")


def _deliveries() -> list[tuple[bytes, dict[str, str]]]:
    at = ds.NOW - timedelta(hours=30)
    events = [
        message_event("n1", "hi", timestamp=at, mid="m_n1"),
        optin_event("n1", timestamp=at, token=NOTIFICATION_TOKEN, payload="news"),
        message_event("o1", "hi", timestamp=at, mid="m_o1"),
        optin_event(
            "o1", type="one_time_notif_req", timestamp=at, token=ONE_TIME_TOKEN, payload="news"
        ),
        message_event("n2", "hi", timestamp=at, mid="m_n2"),
    ]
    return [signed_delivery(event, ds.APP_SECRET) for event in events]


def test_webhook_forwarding_registration_and_broadcast_leak_nothing(
    server: FakeGraphServer, caught: Caught, tmp_path: Path
) -> None:
    """Handshake, signatures, forwarding with secrets in redirect_to, token opt-ins, a broadcast."""
    store = fmc.SQLiteStore(tmp_path / "drill.db")
    forwarder = fmc.Forwarder(
        ["127.0.0.1", "example.com"],
        allow_private=True,
        outbox=store,
        retry=ForwardRetry(attempts=2, wait_initial=0.001, wait_max=0.001, wait_jitter=0),
        sleep=lambda _: None,
        resolver=no_dns,
    )
    forwarder.start()
    client = ds.client(server.url)
    channel = ds.channel(client, store, forwarder=forwarder)
    handler = channel.webhook
    handler.on(fmc.MessageEvent, lambda event: 1 / 0)  # a failing callback is logged
    query = verification_query(ds.VERIFY_TOKEN)
    assert handler.respond("GET", query, {}, b"").status == 200
    wrong = dict(query, **{"hub.verify_token": ds.VERIFY_TOKEN + "x"})
    assert handler.respond("GET", wrong, {}, b"").status == 403
    secret_query = f"access_token={ds.PAGE_TOKEN}&app_secret={ds.APP_SECRET}"
    redirects = [
        f"http://127.0.0.1:9/hook?{secret_query}",  # nobody listens: retried, then the outbox
        f"https://user:{ds.APP_SECRET}@example.com/hook?{secret_query}",  # credentials: refused
        f"https://169.254.169.254/?verify_token={ds.VERIFY_TOKEN}",  # not allowlisted
        f"https://example.com/hook?hub.verify_token={ds.VERIFY_TOKEN}#{ds.PAGE_TOKEN}",
        f"{server.url}/hook?{secret_query}&hub.verify_token={ds.VERIFY_TOKEN}",  # answers 4xx
    ]
    for (body, headers), redirect in zip(_deliveries(), redirects, strict=True):
        response = handler.respond("POST", {"redirect_to": redirect}, headers, body)
        assert response.status == 200
        assert_clean(repr(response), "a webhook response")
        bad = dict(headers, **{"X-Hub-Signature-256": "sha256=" + "0" * 64})
        assert handler.respond("POST", {"redirect_to": redirect}, bad, body).status == 403
    assert forwarder.flush(10)
    forwarder.drain()

    news = channel.broadcast(fmc.Text("news"), ds.NEWS, broadcast_id="secrets")
    token_sends = [d for d in server.fake.deliveries if "id" not in d.recipient]
    assert token_sends, "the broadcast must go through notification tokens"
    assert_clean(news.summary(), "the broadcast summary")
    subscribers = list(store.iter_subscribers(ds.PAGE_ID))
    assert any(s.tokens for s in subscribers)
    decisions = [channel.decide(s, ds.NEWS) for s in subscribers]
    journal = list(store.journal_entries("secrets"))
    outbox = store.outbox_due(ds.NOW + timedelta(days=365), 100)
    objects_clean([channel, handler, handler.verifier, forwarder, store, client, news])
    objects_clean([*subscribers, *decisions, *journal, *outbox])
    objects_clean([token for s in subscribers for token in s.tokens])
    objects_clean([d.recipient for d in decisions if d.recipient is not None])
    for entry in journal:
        assert_clean(entry.detail or "", "a journal entry")
    forwarder.close()
    client.close()
    store.close()


def test_the_cli_leaks_nothing(server: FakeGraphServer, caught: Caught, tmp_path: Path) -> None:
    """fmc send and broadcast, verbose, failing and not, with secrets from the env and a file."""
    environ = {
        "FMC_PAGE_ID": ds.PAGE_ID,
        "FMC_PAGE_TOKEN": ds.PAGE_TOKEN,
        "FMC_APP_SECRET": ds.APP_SECRET,
        "FMC_VERIFY_TOKEN": ds.VERIFY_TOKEN,
        "FMC_DB": str(tmp_path / "cli.db"),
        "FMC_GRAPH_URL": server.url,
    }
    with fmc.SQLiteStore(environ["FMC_DB"]) as store:
        ds.register(store, ["psid1", "psid2"], at=datetime.now(timezone.utc) - timedelta(hours=1))
    toml = tmp_path / "fmc.toml"
    toml.write_text(f'page_token = "{ds.PAGE_TOKEN}"\nnot_a_key = "{ds.APP_SECRET}"\n')
    broken = tmp_path / "broken.toml"
    broken.write_text(f'app_secret = "{ds.APP_SECRET}\n')
    runs = [
        (["send", "psid1", "--text", "hi", "-v"], environ),
        (["broadcast", "--text", "hi", "--purpose", "news", "-v"], environ),
        (["send", "psid1", "--text", "hi", "-v"], dict(environ, FMC_PAGE_TOKEN="wrong-token")),
        (["subscribers", "-v", "--config", str(toml)], {}),
        (["subscribers", "-v", "--config", str(broken)], {}),
        (["send", "psid1", "--text", "hi", "-v"], dict(environ, FMC_RATE_LIMIT=ds.APP_SECRET)),
    ]
    codes = []
    for argv, env in runs:
        out, err = io.StringIO(), io.StringIO()
        codes.append(caught(fmc_main, argv, environ=env, stdout=out, stderr=err))
        assert_clean(out.getvalue(), f"stdout of fmc {argv[0]}")
        assert_clean(err.getvalue(), f"stderr of fmc {argv[0]}")
    assert codes[:2] == [0, 0], "the send and the broadcast go out"
    assert all(code != 0 for code in codes[2:]), "the others fail, and say why"
    assert len(server.fake.deliveries) == 3
    config = cli_config.load_config({}, environ, None)
    objects_clean([config, config.describe(), config.page()])
    caught(cli_config.load_config, {}, environ, broken)
    caught(cli_config.load_config, {}, {}, toml)


def test_the_errors_of_bad_secrets_do_not_show_them(caught: Caught) -> None:
    """Constructors refusing a malformed secret say what is wrong, not what it is."""
    caught(fmc.Page, ds.PAGE_ID, ds.PAGE_TOKEN + "\n", app_secret=ds.APP_SECRET)
    caught(fmc.Page, ds.PAGE_ID, ds.PAGE_TOKEN, app_secret=ds.APP_SECRET + " ")
    caught(fmc.Recipient, "psid", notification_messages_token=NOTIFICATION_TOKEN)
    caught(fmc.Recipient, one_time_notif_token=ONE_TIME_TOKEN + "\x00")
    caught(fmc.WebhookHandler, ds.APP_SECRET, "")
    caught(fmc.NotificationToken, kind="bogus", token=NOTIFICATION_TOKEN)
    logging.getLogger("fmc.drill").debug("constructors checked")
    objects_clean(
        [
            fmc.Recipient(notification_messages_token=NOTIFICATION_TOKEN),
            fmc.Recipient(one_time_notif_token=ONE_TIME_TOKEN),
            fmc.SignatureVerifier([ds.APP_SECRET, ds.APP_SECRET + "old"]),
            fmc.WebhookHandler(ds.APP_SECRET, ds.VERIFY_TOKEN),
            fmc.NotificationToken(kind=fmc.TokenKind.ONE_TIME, token=ONE_TIME_TOKEN),
            fmc.Page(ds.PAGE_ID, ds.PAGE_TOKEN, app_secret=ds.APP_SECRET),
        ]
    )
