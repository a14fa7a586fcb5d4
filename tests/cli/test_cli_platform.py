"""``fmc apps``, ``fmc pages`` and ``fmc keys`` against the fake Graph API."""

from __future__ import annotations

import os
import signal
import socket
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from cli_support import Runner

from fmc.platform import KeyRing
from fmc.testing import DEFAULT_BASE_URL, FakeGraphAPI

APP_SECRET = "platform-cli-app-secret-1"
VERIFY = "platform-cli-verify-token"
PAGE_TOKEN = "EAAGplatformCliPageToken0001"
KEY = KeyRing.generate_key()


@pytest.fixture
def fake(requests_mock: Any) -> FakeGraphAPI:
    """The fake knows app 1001 and Page 2001 with its token."""
    graph = FakeGraphAPI()
    graph.tenants.add_app("1001", APP_SECRET)
    graph.tenants.add_page("2001", PAGE_TOKEN, app_id="1001", name="Bakery")
    graph.mock(requests_mock, base_url=DEFAULT_BASE_URL)
    return graph


@pytest.fixture
def run(tmp_path: Path, fake: FakeGraphAPI) -> Runner:
    """Runs fmc with a store in tmp_path and the encryption key in its environment."""
    return Runner(
        {
            "FMC_DB": str(tmp_path / "fmc.db"),
            "FMC_APP_SECRET": APP_SECRET,
            "FMC_VERIFY_TOKEN": VERIFY,
            "FMC_PAGE_TOKEN": PAGE_TOKEN,
            "FMC_ENCRYPTION_KEYS": KEY,
        }
    )


def test_add_connect_list(run: Runner) -> None:
    """apps add, pages connect, then both lists show them, never a secret."""
    assert run("apps", "add", "1001", "--name", "Bakery").code == 0
    connected = run("pages", "connect", "1001")
    assert connected.code == 0, connected.err
    assert "Page 2001 (Bakery) connected to app 1001" in connected.out
    apps, pages = run("apps", "list"), run("pages", "list")
    assert "1001\tBakery\t/webhook/1001\t1 Pages" in apps.out
    assert "2001\t1001\tBakery\tactive" in pages.out
    for text in (apps.out, pages.out, connected.out, connected.err):
        for secret in (APP_SECRET, VERIFY, PAGE_TOKEN, KEY):
            assert secret not in text


def test_check_shows_a_dead_token(run: Runner, fake: FakeGraphAPI) -> None:
    """pages check marks a revoked token token_invalid, lists it so, and exits non-zero."""
    run("apps", "add", "1001")
    run("pages", "connect", "1001")
    fake.tenants.revoke(PAGE_TOKEN)
    checked = run("pages", "check")
    assert checked.code != 0
    assert "2001\t1001\ttoken_invalid" in checked.out
    assert "token_invalid" in run("pages", "list").out


def test_disconnect(run: Runner) -> None:
    """pages disconnect marks the Page disconnected."""
    run("apps", "add", "1001")
    run("pages", "connect", "1001")
    assert run("pages", "disconnect", "2001").code == 0
    assert "2001\t1001\tBakery\tdisconnected" in run("pages", "list").out


def test_keys_rotate(run: Runner) -> None:
    """keys rotate re-seals with a new first key; then the new key alone opens the store."""
    run("apps", "add", "1001")
    run("pages", "connect", "1001")
    new = run("keys", "generate").out.strip()
    rotated = run("keys", "rotate", environ={**run.environ, "FMC_ENCRYPTION_KEYS": f"{new},{KEY}"})
    assert rotated.out == "re-sealed 2 secrets with the newest key\n"
    listed = run("pages", "list", environ={**run.environ, "FMC_ENCRYPTION_KEYS": new})
    assert "2001\t1001\tBakery\tactive" in listed.out


def test_missing_key_names_the_variable(run: Runner) -> None:
    """Without FMC_ENCRYPTION_KEYS the command fails and says what to set."""
    environ = {k: v for k, v in run.environ.items() if k != "FMC_ENCRYPTION_KEYS"}
    result = run("apps", "list", environ=environ)
    assert result.code != 0
    assert "FMC_ENCRYPTION_KEYS" in result.err


def test_keys_come_from_mains_environ_not_the_process(
    run: Runner, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The key is read from main(environ=...): one in os.environ alone is not used."""
    monkeypatch.setenv("FMC_ENCRYPTION_KEYS", KEY)
    environ = {k: v for k, v in run.environ.items() if k != "FMC_ENCRYPTION_KEYS"}
    assert run("apps", "list", environ=environ).code != 0
    assert run("apps", "list").code == 0


def test_keys_from_the_config_file(run: Runner, tmp_path: Path) -> None:
    """encryption_keys in the --config file opens the registry like the variable does."""
    run("apps", "add", "1001", "--name", "Bakery")
    config = tmp_path / "fmc.toml"
    config.write_text(f'encryption_keys = ["{KEY}"]\n', encoding="utf-8")
    environ = {k: v for k, v in run.environ.items() if k != "FMC_ENCRYPTION_KEYS"}
    listed = run("apps", "list", "--config", str(config), environ=environ)
    assert listed.code == 0, listed.err
    assert "1001\tBakery" in listed.out


def test_a_wrong_key_is_never_echoed(run: Runner) -> None:
    """A key that opens nothing fails naming the variable; neither key is printed."""
    run("apps", "add", "1001")
    other = KeyRing.generate_key()
    result = run(
        "apps",
        "list",
        environ={**run.environ, "FMC_ENCRYPTION_KEYS": other},
    )
    assert result.code != 0
    assert "FMC_ENCRYPTION_KEYS" in result.err
    assert other not in result.err + result.out
    assert KEY not in result.err + result.out


def test_apps_webhook_set_show_delete(run: Runner, fake: FakeGraphAPI) -> None:
    """apps webhook --url sets the app's webhook, bare shows it, --delete removes it."""
    run("apps", "add", "1001")
    url = "https://platform.example/webhook/1001"
    made = run("apps", "webhook", "1001", "--url", url, "--fields", "messages,messaging_postbacks")
    assert made.code == 0, made.err
    assert made.out == f"app 1001 webhook: {url} (active), fields messages, messaging_postbacks\n"
    assert fake.tenants.app_subscriptions["1001"]["page"]["verify_token"] == VERIFY
    assert run("apps", "webhook", "1001").out == made.out
    assert run("apps", "webhook", "1001", "--delete").code == 0
    assert "no Messenger webhook set" in run("apps", "webhook", "1001").out
    for secret in (APP_SECRET, VERIFY, KEY):
        assert secret not in made.out + made.err


def test_apps_webhook_refuses_a_plain_http_url(run: Runner, fake: FakeGraphAPI) -> None:
    """apps webhook --url http://...: non-zero, the message asks for https://, nothing set."""
    run("apps", "add", "1001")
    result = run("apps", "webhook", "1001", "--url", "http://platform.example/webhook/1001")
    assert result.code != 0
    assert "https://" in result.err
    assert fake.tenants.app_subscriptions == {}


def test_apps_webhook_needs_the_app_id(run: Runner) -> None:
    """apps webhook without an app id is a usage error naming the form."""
    result = run("apps", "webhook")
    assert result.code != 0
    assert "fmc apps webhook APP_ID" in result.err


def _post(url: str, body: bytes, headers: dict[str, str]) -> int:
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=5) as answer:
            return int(answer.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


def test_serve_platform_routes_every_app(run: Runner, tmp_path: Path) -> None:
    """fmc serve --platform: the app's path registers under its Page; forged 403, unknown 404."""
    from fmc.platform import App, PageRecord, Platform
    from fmc.store import SQLiteStore
    from fmc.testing import message_event, signed_delivery

    with SQLiteStore(tmp_path / "fmc.db") as store, Platform(store, keys=KeyRing([KEY])) as made:
        made.add_app(App("1001", APP_SECRET, VERIFY))
        made.add_app(App("1002", "the-other-app-secret", "other-verify"))
        made.registry.put_page(PageRecord("2001", "1001", PAGE_TOKEN))
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    base = f"http://127.0.0.1:{port}/webhook/"
    body, headers = signed_delivery(
        message_event("4242", "hi", page_id="2001"), APP_SECRET, page_id="2001"
    )
    _, forged = signed_delivery(
        message_event("4242", "hi", page_id="2001"), "the-other-app-secret", page_id="2001"
    )
    seen: dict[str, int] = {}

    def drive() -> None:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                seen["post"] = _post(base + "1001", body, headers)
                break
            except OSError:
                time.sleep(0.05)
        seen["forged"] = _post(base + "1001", body, forged)
        seen["unknown"] = _post(base + "9999", body, headers)
        os.kill(os.getpid(), signal.SIGTERM)

    driver = threading.Thread(target=drive)
    driver.start()
    result = run("serve", "--platform", "--port", str(port))
    driver.join(10)
    assert result.code == 0, result.err
    assert seen == {"post": 200, "forged": 403, "unknown": 404}
    assert "2 apps, 1 Pages" in result.out
    with SQLiteStore(tmp_path / "fmc.db") as store:
        assert store.get("2001", "4242") is not None


def test_broadcast_all_pages(run: Runner, fake: FakeGraphAPI, tmp_path: Path) -> None:
    """fmc broadcast --all-pages sends from each Page to its own subscribers; one report."""
    from datetime import datetime, timezone

    from fmc.store import SQLiteStore

    fake.tenants.add_page("2002", "EAAGplatformCliPageToken0002", app_id="1001", name="Bakery 2")
    run("apps", "add", "1001")
    run("pages", "connect", "1001")
    second = {**run.environ, "FMC_PAGE_TOKEN": "EAAGplatformCliPageToken0002"}
    run("pages", "connect", "1001", environ=second)
    now = datetime.now(timezone.utc)
    with SQLiteStore(tmp_path / "fmc.db") as store:
        for page_id in ("2001", "2002"):
            store.record_event(page_id, f"{page_id}-p", at=now, interaction=True)
    result = run("broadcast", "--all-pages", "--text", "Fresh bread", "--purpose", "response")
    assert result.code == 0, result.err
    assert "Page 2001: sent 1" in result.out
    assert "Page 2002: sent 1" in result.out
    assert sorted(d.recipient["id"] for d in fake.deliveries) == ["2001-p", "2002-p"]
    one = run("broadcast", "--page", "2001", "--text", "Hi", "--purpose", "response")
    assert "Page 2001: sent 1" in one.out
    assert "2002" not in one.out


def test_broadcast_dry_run_sends_nothing(run: Runner, fake: FakeGraphAPI, tmp_path: Path) -> None:
    """fmc broadcast --all-pages --dry-run: per-Page counts, exit 0, nothing sent or journaled."""
    from datetime import datetime, timezone

    from fmc.store import SQLiteStore

    run("apps", "add", "1001")
    run("pages", "connect", "1001")
    with SQLiteStore(tmp_path / "fmc.db") as store:
        store.record_event("2001", "2001-p", at=datetime.now(timezone.utc), interaction=True)
    args = ("broadcast", "--text", "Fresh bread", "--purpose", "response")
    for pages in (["--all-pages"], ["--page", "2001"]):
        result = run(*args, *pages, "--dry-run")
        assert result.code == 0, result.err
        assert "nothing sent, nothing journaled" in result.out
        assert "Page 2001: 1 subscribers, 1 would be sent, 0 skipped" in result.out
    assert fake.deliveries == []
    real = run(*args, "--all-pages")
    assert "Page 2001: sent 1" in real.out


def test_the_same_broadcast_again_resumes_unless_again(
    run: Runner, fake: FakeGraphAPI, tmp_path: Path
) -> None:
    """Running the same --all-pages command twice sends once; --again sends once more."""
    from datetime import datetime, timezone

    from fmc.store import SQLiteStore

    run("apps", "add", "1001")
    run("pages", "connect", "1001")
    with SQLiteStore(tmp_path / "fmc.db") as store:
        store.record_event("2001", "2001-p", at=datetime.now(timezone.utc), interaction=True)
    args = ("broadcast", "--all-pages", "--text", "Fresh bread", "--purpose", "response")
    first = run(*args)
    assert "Page 2001: sent 1" in first.out
    second = run(*args)
    assert second.code == 0, second.err
    assert "resuming it, so nobody gets it twice" in second.err
    assert "Page 2001: sent 0" in second.out
    assert len(fake.delivered_to("2001-p")) == 1
    third = run(*args, "--again")
    assert "Page 2001: sent 1" in third.out
    assert len(fake.delivered_to("2001-p")) == 2


def test_platform_demo() -> None:
    """fmc demo --platform: under 40 lines, forgery refused, forwarding, a broadcast per Page."""
    import io

    from fmc.cli import main

    out = io.StringIO()
    assert main(["demo", "--platform"], environ={}, stdout=out, stderr=io.StringIO()) == 0
    text = out.getvalue()
    assert len(text.splitlines()) < 40
    assert "signed with the garage's secret: 403" in text
    assert "forwarded to the bakery's own bot: 2" in text
    assert "all Pages: sent 5, 0 paused" in text
    assert "Page 2001 has 2 subscribers" in text
