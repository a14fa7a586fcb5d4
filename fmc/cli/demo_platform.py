"""``fmc demo --platform``: two businesses (two apps, three Pages) served by one platform.

Everything runs on loopback: a fake Graph API that knows both apps, their
Pages and tokens; the platform's one webhook endpoint; a bot of the bakery
that receives its Page's deliveries. Nothing is left running.
"""

from __future__ import annotations

import http.server
import json
import secrets
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, TextIO

from fmc.models import Text
from fmc.platform import App, KeyRing, Platform
from fmc.policy import Purpose
from fmc.store import SQLiteStore
from fmc.testing import FakeGraphAPI, message_event, signature_headers
from fmc.transport import RetryPolicy
from fmc.webhook import Forwarder

__all__ = ["run_platform_demo"]

#: (app id, business, [(Page id, Page name, people writing)]).
BUSINESSES = (
    ("1001", "Bakery", [("2001", "Bakery Main St", 2), ("2002", "Bakery Station", 1)]),
    ("1002", "Garage", [("3001", "Garage Central", 2)]),
)


class _Bot(http.server.BaseHTTPRequestHandler):
    received: list[bytes] = []

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        type(self).received.append(self.rfile.read(length))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextmanager
def _bot() -> Iterator[tuple[str, list[bytes]]]:
    received: list[bytes] = []
    handler = type("Bot", (_Bot,), {"received": received})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hook", received
    finally:
        server.shutdown()
        thread.join()
        server.server_close()


def run_platform_demo(out: TextIO) -> int:
    """Run the multi-business demo and print what happens (under 40 lines)."""
    apps = {
        app_id: App(app_id, secrets.token_hex(16), secrets.token_hex(8), name=name)
        for app_id, name, _ in BUSINESSES
    }
    fake = FakeGraphAPI()
    tokens: dict[str, str] = {}
    for app_id, _, pages in BUSINESSES:
        fake.tenants.add_app(app_id, apps[app_id].secret)
        for page_id, page_name, _ in pages:
            tokens[page_id] = "EAAdemo" + secrets.token_hex(12)
            fake.tenants.add_page(page_id, tokens[page_id], app_id=app_id, name=page_name)
    with tempfile.TemporaryDirectory() as workdir, fake.serve() as graph, _bot() as (bot, got):
        store = SQLiteStore(Path(workdir) / "platform.db")
        forwarder = Forwarder(["127.0.0.1"], allow_private=True, outbox=store)
        forwarder.start()
        platform = Platform(
            store,
            keys=KeyRing([KeyRing.generate_key()]),
            base_url=graph,
            forwarder=forwarder,
            retry=RetryPolicy.none(),
        )
        try:
            _play(out, platform, apps, tokens, bot)
            deadline = time.monotonic() + 5.0
            while len(got) < 2 and time.monotonic() < deadline:  # Page 2001's two deliveries
                time.sleep(0.01)
            forwarder.close()
            out.write(f"Page 2001's deliveries forwarded to the bakery's own bot: {len(got)}\n")
            report = platform.broadcast(Text("We are open this Sunday"), Purpose.RESPONSE)
            out.write("One broadcast per Page, each under its own policy:\n")
            for line in report.summary().splitlines():
                out.write(f"  {line}\n")
        finally:
            platform.close()
            store.close()
    out.write("Done: nothing left running.\n")
    return 0


def _play(
    out: TextIO, platform: Platform, apps: dict[str, App], tokens: dict[str, str], bot: str
) -> None:
    out.write("Two businesses, one platform endpoint (fmc demo --platform):\n")
    for app_id, name, pages in BUSINESSES:
        platform.add_app(apps[app_id])
        for page_id, _, _ in pages:
            redirect = bot if page_id == "2001" else None
            page = platform.connect_page(app_id, tokens[page_id], redirect_to=redirect)
            out.write(
                f"  {name} (app {app_id}): Page {page.id} '{page.name}' connected, "
                f"webhook /webhook/{app_id}\n"
            )
    now = datetime.now(timezone.utc)
    out.write("People write to each Page:\n")
    for app_id, _, pages in BUSINESSES:
        for page_id, page_name, people in pages:
            for number in range(people):
                psid = f"{page_id}{number:04d}"
                status = _deliver(platform, apps[app_id], page_id, psid, now)
                out.write(f"  {psid} -> {page_name}: {status}\n")
    for page_id in ("2001", "2002", "3001"):
        count = platform.channel(page_id).subscriber_count()
        out.write(f"  Page {page_id} has {count} subscribers, registered under that Page\n")
    forged = _deliver(platform, apps["1002"], "2001", "20019999", now, path_app="1001")
    out.write(f"A delivery for the bakery signed with the garage's secret: {forged}\n")


def _deliver(
    platform: Platform,
    app: App,
    page_id: str,
    psid: str,
    now: datetime,
    *,
    path_app: str | None = None,
) -> int:
    event = message_event(psid, "Are you open on Sunday?", page_id=page_id, timestamp=now)
    entry = {"id": page_id, "time": int(now.timestamp() * 1000), "messaging": [event]}
    body = json.dumps({"object": "page", "entry": [entry]}).encode()
    path = f"/webhook/{path_app or app.id}"
    headers = signature_headers(body, app.secret)
    return platform.webhook.respond("POST", path, {}, headers, body).status
