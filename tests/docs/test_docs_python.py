"""Every Python example of the README and the docs runs, against the fake Graph API.

Doctests run in the docs build; these are the ``code-block:: python`` examples,
which show whole programs (reading the environment, serving a framework). Each
document's blocks run in order in one namespace, as a reader would paste them,
with the environment they expect; the framework examples then answer Meta's
handshake and a signed delivery through each framework's own test client.
"""

from __future__ import annotations

import subprocess
import sys
import types
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from docs_support import Block, blocks_of

import fmc
from fmc.testing import FakeGraphAPI, message_event, signed_delivery

PAGE_ID = "1234567890"
PAGE_TOKEN = "EAAGdocsExamplePageToken0123456789"
APP_SECRET = "docs-example-app-secret-0123456789"
VERIFY_TOKEN = "docs-example-verify-token"
PSID = "24000000000000001"
HANDSHAKE = f"hub.mode=subscribe&hub.verify_token={VERIFY_TOKEN}&hub.challenge=1158201444"

Namespace = dict[str, Any]


def python_blocks(path: str) -> list[Block]:
    return [block for block in blocks_of("python") if block.path == path]


def run(block: Block, namespace: Namespace) -> None:
    """Run a block; one headed ``# package/module.py`` becomes that importable module."""
    namespace.setdefault("__name__", "docs_example")
    exec(compile(block.code, str(block), "exec"), namespace)  # noqa: S102
    first = block.code.splitlines()[0]
    if first.startswith("# ") and first.endswith(".py") and "/" in first:
        package, module = first[2:-3].split("/")
        loaded = types.ModuleType(f"{package}.{module}")
        loaded.__dict__.update(namespace)
        parent = sys.modules.setdefault(package, types.ModuleType(package))
        setattr(parent, module, loaded)
        sys.modules[loaded.__name__] = loaded


@pytest.fixture
def graph(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[FakeGraphAPI]:
    """A fake Graph API at Meta's address, the settings in the environment, a fresh cwd."""
    monkeypatch.chdir(tmp_path)
    for name, value in {
        "FMC_PAGE_ID": PAGE_ID,
        "FMC_PAGE_TOKEN": PAGE_TOKEN,
        "FMC_APP_SECRET": APP_SECRET,
        "FMC_VERIFY_TOKEN": VERIFY_TOKEN,
        "FMC_DB": str(tmp_path / "fmc.db"),
    }.items():
        monkeypatch.setenv(name, value)
    fake = FakeGraphAPI(page_id=PAGE_ID)
    with fake.mock():
        yield fake


def delivery() -> tuple[bytes, dict[str, str]]:
    return signed_delivery(message_event(PSID, "Hi", page_id=PAGE_ID), APP_SECRET, page_id=PAGE_ID)


def texts_to(fake: FakeGraphAPI, psid: str) -> list[str | None]:
    return [sent.text for sent in fake.delivered_to(psid)]


def test_every_document_with_python_examples_is_covered() -> None:
    """A new page with Python examples needs a test here (this list) to run them."""
    assert {block.path for block in blocks_of("python")} == set(COVERED)


@pytest.mark.parametrize("path", ["README.rst", "docs/index.rst"])
def test_the_headline_example_sends(graph: FakeGraphAPI, path: str) -> None:
    """The first example sends its text to PSID (and the README's broadcasts)."""
    namespace: Namespace = {}
    for block in python_blocks(path):
        run(block, namespace)
    assert texts_to(graph, "PSID") == ["Your order has shipped."]
    if "report" in namespace:
        assert namespace["report"].audience == 0
        assert namespace["client"].rate_limiter is not None, "a broadcast needs a rate limit"


def test_getting_started_answers_registers_and_broadcasts(graph: FakeGraphAPI) -> None:
    """The walkthrough's program echoes a message, then notifies and broadcasts to the writer."""
    first, second, third = python_blocks("docs/getting-started.rst")
    namespace: Namespace = {}
    run(first, namespace)
    body, headers = delivery()
    assert namespace["channel"].webhook.respond("POST", "", headers, body).status == 200
    assert texts_to(graph, PSID) == ["You said: Hi"]
    run(second, namespace)
    assert texts_to(graph, PSID)[1:] == ["Thanks for writing!", "Our new timetable is online."]
    assert namespace["report"].sent == 1
    run(third, namespace)
    assert {p.value for p in namespace["policy"].permissions} == {"pages_messaging", "human_agent"}


def wsgi_exchange(app: Any, path: str) -> tuple[str, int]:
    from werkzeug.test import Client

    client = Client(app)
    challenge = client.get(f"{path}?{HANDSHAKE}").get_data(as_text=True)
    body, headers = delivery()
    return challenge, client.post(path, data=body, headers=headers).status_code


def flask_exchange(app: Any, path: str) -> tuple[str, int]:
    client = app.test_client()
    challenge = client.get(f"{path}?{HANDSHAKE}").get_data(as_text=True)
    body, headers = delivery()
    return challenge, client.post(path, data=body, headers=headers).status_code


def django_exchange(view: Any, path: str) -> tuple[str, int]:
    from django.test import RequestFactory

    factory = RequestFactory()
    challenge = view(factory.get(f"{path}?{HANDSHAKE}")).content.decode()
    body, headers = delivery()
    request = factory.post(path, data=body, content_type="application/json", headers=headers)
    return challenge, view(request).status_code


def asgi_exchange(app: Any, path: str) -> tuple[str, int]:
    from fastapi.testclient import TestClient

    with TestClient(app) as client:
        challenge = client.get(f"{path}?{HANDSHAKE}").text
        body, headers = delivery()
        return challenge, client.post(path, content=body, headers=headers).status_code


def async_reply_exchange(namespace: Namespace, path: str) -> tuple[str, int]:
    """The async FastAPI example, its AsyncClient answered in process by the fake."""
    from fmc.testing import AsyncFakeTransport

    fake: FakeGraphAPI = namespace["graph"]
    replies: fmc.AsyncChannel = namespace["replies"]
    replies.client = fmc.AsyncClient(replies.channel.page, transport=AsyncFakeTransport(fake))
    answered = asgi_exchange(namespace["app"], path)
    assert texts_to(fake, PSID)[-1] == "You said: Hi"
    return answered


def django_settings() -> None:
    import django
    from django.conf import settings

    if not settings.configured:
        settings.configure(ALLOWED_HOSTS=["testserver"], DEFAULT_CHARSET="utf-8")
        django.setup()


#: What each frameworks-guide block builds, and how to talk to it (None: setup only).
FRAMEWORK_CHECKS: list[Callable[[Namespace], tuple[str, int]] | None] = [
    None,  # the handler
    lambda ns: wsgi_exchange(ns["app"], "/"),
    lambda ns: flask_exchange(ns["app"], "/webhook"),
    lambda ns: flask_exchange(ns["app"], "/webhook"),
    lambda ns: django_exchange(ns["webhook"], "/webhook"),
    lambda ns: django_exchange(ns["urlpatterns"][0].resolve("webhook").func, "/webhook"),
    lambda ns: asgi_exchange(ns["app"], "/webhook/"),
    lambda ns: asgi_exchange(ns["app"], "/webhook"),
    lambda ns: async_reply_exchange(ns, "/webhook/"),
]


def test_every_framework_example_answers_meta(
    graph: FakeGraphAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each framework example answers the handshake and accepts a signed delivery."""
    django_settings()
    for name in ("myapp", "myapp.views", "myapp.urls"):
        monkeypatch.delitem(sys.modules, name, raising=False)
    blocks = python_blocks("docs/guides/frameworks.rst")
    assert len(blocks) == len(FRAMEWORK_CHECKS), "a new example needs its check here"
    namespace: Namespace = {"graph": graph}
    try:
        for block, check in zip(blocks, FRAMEWORK_CHECKS, strict=True):
            run(block, namespace)
            if check is not None:
                assert check(namespace) == ("1158201444", 200), str(block)
    finally:
        for name in ("myapp", "myapp.views", "myapp.urls"):
            sys.modules.pop(name, None)
    assert namespace["channel"].subscriber(PSID) is not None


def test_the_cli_guides_production_module_serves_the_webhook(graph: FakeGraphAPI) -> None:
    """webhook.py from the command-line guide is a working WSGI application."""
    namespace: Namespace = {}
    for block in python_blocks("docs/guides/cli.rst"):
        run(block, namespace)
    assert wsgi_exchange(namespace["app"], "/") == ("1158201444", 200)


def base_namespace(tmp_path: Path) -> Namespace:
    """What the guides' fragments assume was made earlier on their page."""
    page = fmc.Page(id=PAGE_ID, access_token=PAGE_TOKEN, app_secret=APP_SECRET)
    client = fmc.Client(page)
    store = fmc.SQLiteStore(tmp_path / "guide.db")
    policy = fmc.MessagingPolicy(permissions={"pages_messaging"})
    channel = fmc.Channel(page, client=client, store=store, policy=policy)
    return {
        "fmc": fmc,
        "page": page,
        "client": client,
        "store": store,
        "policy": policy,
        "channel": channel,
        "verify_token": VERIFY_TOKEN,
        "recipient": fmc.Recipient(PSID),
        "message": fmc.Text("Fresh bread at 7"),
    }


def test_the_broadcasting_guide_reports_progress(
    graph: FakeGraphAPI, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The rate-limited clients build, and the progress callback prints as the broadcast runs."""
    namespace = base_namespace(tmp_path)
    namespace["store"].record_event(PAGE_ID, PSID, at=datetime.now(timezone.utc), interaction=True)
    for block in python_blocks("docs/guides/broadcasting.rst"):
        run(block, namespace)
    assert namespace["report"].sent == 1
    assert "1/1 done, 1 sent, 0 in flight" in capsys.readouterr().out


def test_the_sending_guide_sends_what_it_shows(graph: FakeGraphAPI, tmp_path: Path) -> None:
    """The tagged and silent sends go out; the retry hook is accepted."""
    namespace = base_namespace(tmp_path)
    for block in python_blocks("docs/guides/sending.rst"):
        run(block, namespace)
    assert texts_to(graph, PSID) == ["Your parcel left the warehouse.", "New this week…"]
    assert namespace["client"].retry.attempts == 4


def test_the_forwarding_guide_builds_a_forwarding_channel(
    graph: FakeGraphAPI, tmp_path: Path
) -> None:
    """The forwarder allows the CRM host and keeps its outbox in the store."""
    namespace = base_namespace(tmp_path)
    for block in python_blocks("docs/guides/forwarding.rst"):
        run(block, namespace)
    forwarder = namespace["forwarder"]
    try:
        assert forwarder.outbox is namespace["store"]
        forwarder.check("https://crm.example.com/messenger")
    finally:
        forwarder.close()


def test_the_stores_guide_dsns_are_valid_libpq(monkeypatch: pytest.MonkeyPatch) -> None:
    """Both DSNs parse as libpq connection strings (no server at db.internal is reached)."""
    conninfo = pytest.importorskip("psycopg.conninfo")
    seen: list[str] = []
    namespace: Namespace = {"fmc": types.SimpleNamespace(PostgresStore=seen.append)}
    for block in python_blocks("docs/guides/stores.rst"):
        run(block, namespace)
    assert seen == ["postgresql://fmc:secret@db.internal:5432/messenger", ""]
    assert conninfo.conninfo_to_dict(seen[0])["host"] == "db.internal"


MY_APP = """
import fmc


def confirm_order(client, *, psid, order):
    client.send(fmc.Recipient(psid), fmc.Text(f"Order {order} is confirmed."),
                tag=fmc.MessageTag.POST_PURCHASE_UPDATE)
"""


def test_the_testing_guides_tests_pass(tmp_path: Path) -> None:
    """The testing guide's example tests pass under pytest with the guide's conftest.py."""
    conftest, block = python_blocks("docs/guides/testing.rst")
    (tmp_path / "conftest.py").write_text(conftest.code, encoding="utf-8")
    (tmp_path / "my_app.py").write_text(MY_APP, encoding="utf-8")
    (tmp_path / "test_from_the_guide.py").write_text(
        "import my_app\n" + block.code, encoding="utf-8"
    )
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_from_the_guide.py"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "3 passed" in result.stdout


COVERED = (
    "README.rst",
    "docs/index.rst",
    "docs/getting-started.rst",
    "docs/guides/frameworks.rst",
    "docs/guides/cli.rst",
    "docs/guides/broadcasting.rst",
    "docs/guides/sending.rst",
    "docs/guides/forwarding.rst",
    "docs/guides/stores.rst",
    "docs/guides/testing.rst",
)
