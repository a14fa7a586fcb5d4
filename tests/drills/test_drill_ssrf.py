"""Drill: ``redirect_to`` is attacker input; fmc must not become a request forger.

Every address below is put on the forwarder's allowlist on purpose, so that
what refuses it is the address check itself, not the allowlist: loopback in
every spelling, private, shared, link-local and metadata addresses, IPv4
hidden in IPv6, names that resolve to such addresses (the resolver is
injected: no DNS), other schemes, credentials, overlong URLs. Each is refused
by default, with the reason. End to end, a loopback listener receives not one
connection, and a receiver's redirect to loopback is not followed.
"""

from __future__ import annotations

import logging
import socket
import threading
from collections.abc import Iterator, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

import drill_support as ds
import pytest

import fmc
from fmc.testing import message_event, signed_delivery

PUBLIC = "93.184.216.34"
DNS = {
    "localhost": ["127.0.0.1", "::1"],
    "evil.example.com": ["127.0.0.1"],
    "mixed.example.com": [PUBLIC, "127.0.0.1"],
    "metadata.example.com": ["169.254.169.254"],
    "intranet.example.com": ["10.1.2.3"],
    "v6.example.com": ["::ffff:127.0.0.1"],
    "127.0.0.1.nip.io": ["127.0.0.1"],
    "example.com": [PUBLIC],
}


def resolver(host: str, port: int) -> Sequence[str]:
    """The drill's DNS: a table, and nothing else is ever resolved."""
    try:
        return DNS[host]
    except KeyError:
        raise OSError(f"no such host in the drill: {host}") from None


def _host(url: str) -> str:
    try:
        return (urlsplit(url).hostname or "").rstrip(".")
    except ValueError:
        return ""


CASES: list[tuple[str, str, str]] = [
    # id, redirect_to, a fragment of the reason
    ("loopback", "https://127.0.0.1/hook", "loopback"),
    ("loopback-other", "https://127.8.9.10/hook", "loopback"),
    ("ipv6-loopback", "https://[::1]/hook", "loopback"),
    ("unspecified", "https://0.0.0.0/hook", "unspecified"),
    ("unspecified-zero", "https://0/hook", "unspecified"),
    ("ipv6-unspecified", "https://[::]/hook", "unspecified"),
    ("localhost", "https://localhost/hook", "loopback"),
    ("localhost-dot", "https://localhost./hook", "loopback"),
    ("decimal", "https://2130706433/hook", "loopback"),
    ("octal", "https://0177.0.0.1/hook", "loopback"),
    ("hex", "https://0x7f000001/hook", "loopback"),
    ("hex-dotted", "https://0x7f.0x0.0x0.0x1/hook", "loopback"),
    ("short-form", "https://127.1/hook", "loopback"),
    ("private-10", "https://10.0.0.1/hook", "private"),
    ("private-172", "https://172.16.5.4/hook", "private"),
    ("private-192", "https://192.168.1.1/hook", "private"),
    ("private-octal", "https://012.0.0.1/hook", "private"),
    ("shared-cgnat", "https://100.64.0.1/hook", "shared"),
    ("link-local", "https://169.254.1.1/hook", "link-local"),
    ("metadata", "https://169.254.169.254/latest/meta-data/", "metadata"),
    ("metadata-decimal", "https://2852039166/latest/meta-data/", "metadata"),
    ("metadata-ecs", "https://169.254.170.2/v2/credentials", "metadata"),
    ("metadata-ipv6", "https://[fd00:ec2::254]/latest/", "metadata"),
    ("ipv6-link-local", "https://[fe80::1]/hook", "link-local"),
    ("ipv6-unique-local", "https://[fd12:3456::1]/hook", "private"),
    ("ipv4-mapped", "https://[::ffff:127.0.0.1]/hook", "loopback"),
    ("ipv4-mapped-hex", "https://[::ffff:7f00:1]/hook", "loopback"),
    ("ipv4-mapped-metadata", "https://[::ffff:169.254.169.254]/", "metadata"),
    ("nat64", "https://[64:ff9b::7f00:1]/hook", "loopback"),
    ("6to4", "https://[2002:7f00:1::]/hook", "loopback"),
    ("multicast", "https://224.0.0.1/hook", "multicast"),
    ("broadcast", "https://255.255.255.255/hook", "reserved"),
    ("name-to-loopback", "https://evil.example.com/hook", "loopback"),
    ("name-to-loopback-and-public", "https://mixed.example.com/hook", "loopback"),
    ("name-to-metadata", "https://metadata.example.com/hook", "metadata"),
    ("name-to-private", "https://intranet.example.com/hook", "private"),
    ("name-to-mapped-v6", "https://v6.example.com/hook", "loopback"),
    ("nip-io", "https://127.0.0.1.nip.io/hook", "loopback"),
    ("plain-http", "http://example.com/hook", "scheme 'http'"),
    ("file", "file:///etc/passwd", "scheme 'file'"),
    ("gopher", "gopher://example.com:70/_GET", "scheme 'gopher'"),
    ("ftp", "ftp://example.com/pub", "scheme 'ftp'"),
    ("dict", "dict://example.com:11211/stat", "scheme 'dict'"),
    ("no-scheme", "//example.com/hook", "scheme"),
    ("javascript", "javascript:alert(1)", "scheme"),
    ("credentials", "https://user:secret-pass@example.com/hook", "credentials"),
    ("user-only", "https://user@example.com/hook", "credentials"),
    ("at-confusion", "https://example.com@127.0.0.1/hook", "credentials"),
    ("overlong", "https://example.com/" + "a" * 3000, "longer than"),
    ("port-zero", "https://example.com:0/hook", "port 0"),
    ("crlf", "https://example.com/hook\r\nHost: 127.0.0.1", "control"),
    ("space", "https://example.com /hook", "whitespace"),
    ("backslash", "https://example.com\\@127.0.0.1/", "whitespace"),
    ("unicode-host", "https://ex\u0430mple.com/hook", "non-ASCII"),
    ("not-allowlisted", "https://example.org/hook", "not on the allowlist"),
    ("empty", "", "empty"),
]


@pytest.mark.parametrize(("url", "reason"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_redirect_to_is_refused_by_default_with_the_reason(url: str, reason: str) -> None:
    """Even allowlisted, each address is refused, and the error says why."""
    host = _host(url)
    allow = [host] if host and host != "example.org" else ["example.com"]
    forwarder = fmc.Forwarder(allow, resolver=resolver)
    with pytest.raises(fmc.ForwardingRefused) as refused:
        forwarder.validate(url)
    assert reason in refused.value.reason
    assert "secret-pass" not in str(refused.value)
    assert "secret-pass" not in (refused.value.url or "")


NEVER = [c for c in CASES if c[2] in ("metadata", "unspecified", "multicast")]


@pytest.mark.parametrize(("url", "reason"), [c[1:] for c in NEVER], ids=[c[0] for c in NEVER])
def test_metadata_unspecified_and_multicast_are_refused_even_with_allow_private(
    url: str, reason: str
) -> None:
    """allow_private opens loopback and private ranges for development, never these."""
    forwarder = fmc.Forwarder([_host(url)], allow_private=True, resolver=resolver)
    with pytest.raises(fmc.ForwardingRefused, match=reason):
        forwarder.validate(url)


def test_a_public_allowlisted_address_is_accepted() -> None:
    """The control: a public host on the allowlist passes the same checks."""
    fmc.Forwarder(["example.com"], resolver=resolver).validate("https://example.com/hook")


# -- end to end ------------------------------------------------------------------------------


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    """A loopback TCP listener that must never be connected to."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(16)
        sock.setblocking(False)
        yield sock


def _post(handler: fmc.WebhookHandler, redirect_to: str, number: int) -> None:
    body, headers = signed_delivery(
        message_event(f"s{number}", "hi", timestamp=ds.NOW, mid=f"m_ssrf_{number}"), ds.APP_SECRET
    )
    assert handler.respond("POST", {"redirect_to": redirect_to}, headers, body).status == 200


def test_no_byte_reaches_loopback_through_the_webhook(
    listener: socket.socket, caplog: pytest.LogCaptureFixture
) -> None:
    """Deliveries with loopback redirect_to in every spelling: refused, logged, no connection."""
    caplog.set_level(logging.WARNING, logger="fmc")
    port = listener.getsockname()[1]
    spellings = [
        "127.0.0.1",
        "localhost",
        "2130706433",
        "0177.0.0.1",
        "0x7f000001",
        "[::ffff:127.0.0.1]",
        "evil.example.com",
    ]
    urls = [f"{scheme}://{host}:{port}/hook" for host in spellings for scheme in ("http", "https")]
    allow = [h.strip("[]") for h in spellings]
    with (
        fmc.Forwarder(allow, resolver=resolver, sleep=lambda _: None) as forwarder,
        ds.client("http://127.0.0.1:9") as client,
    ):
        handler = ds.channel(client, fmc.MemoryStore(), forwarder=forwarder).webhook
        for number, url in enumerate(urls):
            _post(handler, url, number)
        assert forwarder.flush(10)
        assert forwarder.outbox.outbox_count() == 0
    with pytest.raises(BlockingIOError):
        listener.accept()
    refusals = [r.getMessage() for r in caplog.records if "refused" in r.getMessage()]
    assert len(refusals) == len(urls)
    assert all(("loopback" in m) or ("scheme 'http'" in m) for m in refusals)


class _Redirecting(BaseHTTPRequestHandler):
    location = ""
    hits: list[str] = []

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        type(self).hits.append(self.path)
        self.send_response(302)
        self.send_header("Location", type(self).location)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


def test_a_redirect_to_loopback_is_not_followed(
    listener: socket.socket, caplog: pytest.LogCaptureFixture
) -> None:
    """An allowed loopback receiver answering 302 to another loopback port: not followed."""
    caplog.set_level(logging.WARNING, logger="fmc")
    target_port = listener.getsockname()[1]

    class Handler(_Redirecting):
        location = f"http://127.0.0.1:{target_port}/internal"
        hits: list[str] = []

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        with (
            fmc.Forwarder(["127.0.0.1"], allow_private=True, sleep=lambda _: None) as forwarder,
            ds.client("http://127.0.0.1:9") as client,
        ):
            handler = ds.channel(client, fmc.MemoryStore(), forwarder=forwarder).webhook
            _post(handler, f"http://127.0.0.1:{server.server_address[1]}/hook", 1)
            assert forwarder.flush(10)
            assert forwarder.outbox.outbox_count() == 0
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
    assert Handler.hits == ["/hook"], "one attempt, no retry of a redirect"
    with pytest.raises(BlockingIOError):
        listener.accept()
    assert any("redirect" in r.getMessage() for r in caplog.records)
