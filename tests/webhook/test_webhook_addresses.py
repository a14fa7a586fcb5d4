"""SSRF checks on redirect_to: every refusal with its reason, and what is allowed."""

from __future__ import annotations

import socket
from collections.abc import Sequence

import pytest

from fmc.errors import ConfigurationError, ForwardingRefused
from fmc.webhook import Forwarder, strip_url_to_path
from fmc.webhook.addresses import check_address

DNS = {
    "example.com": ["93.184.216.34"],
    "hooks.example.com": ["93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946"],
    "a.b.example.com": ["93.184.216.35"],
    "localhost": ["127.0.0.1", "::1"],
    "rebind.example.com": ["93.184.216.34", "127.0.0.1"],
    "internal.example.com": ["10.1.2.3"],
    "metadata.example.com": ["169.254.169.254"],
    "mapped.example.com": ["::ffff:127.0.0.1"],
    "empty.example.com": [],
}


def resolver(host: str, port: int) -> Sequence[str]:
    """A fake DNS: the table above, anything else does not resolve."""
    if host not in DNS:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
    return DNS[host]


ALLOWED_HOSTS = [
    "example.com",
    "*.example.com",
    "localhost",
    "127.0.0.1",
    "::1",
    "0.0.0.0",  # noqa: S104 - an allowlist entry the address check must still refuse
    "::",
    "2130706433",
    "10.0.0.5",
    "172.16.3.4",
    "192.168.1.1",
    "fd00::1",
    "169.254.169.254",
    "169.254.1.1",
    "fe80::1",
    "::ffff:127.0.0.1",
    "::ffff:169.254.169.254",
    "64:ff9b::7f00:1",
    "2002:7f00:1::",
    "224.0.0.1",
    "100.64.0.1",
    "240.0.0.1",
    "8.8.8.8",
]


def forwarder(**kwargs: object) -> Forwarder:
    """A forwarder with the fake resolver and the wide test allowlist."""
    return Forwarder(allow_hosts=ALLOWED_HOSTS, resolver=resolver, **kwargs)  # type: ignore[arg-type]


REFUSED = [
    ("loopback-v4", "https://127.0.0.1/hook", "loopback"),
    ("loopback-v6", "https://[::1]/hook", "loopback"),
    ("unspecified-v4", "https://0.0.0.0/", "unspecified"),
    ("unspecified-v6", "https://[::]/", "unspecified"),
    ("localhost-name", "https://localhost/hook", "resolves to"),
    ("decimal-ip", "https://2130706433/", "loopback"),
    ("octal-ip", "https://0177.0.0.1/", "loopback"),
    ("hex-ip", "https://0x7f.0.0.1/", "loopback"),
    ("hex-integer-ip", "https://0x7f000001/", "loopback"),
    ("short-ip", "https://127.1/", "loopback"),
    ("private-10", "https://10.0.0.5/", "private"),
    ("private-172", "https://172.16.3.4/", "private"),
    ("private-192", "https://192.168.1.1/", "private"),
    ("private-ula-v6", "https://[fd00::1]/", "private"),
    ("metadata", "https://169.254.169.254/latest/meta-data/", "metadata"),
    ("link-local-v4", "https://169.254.1.1/", "link-local"),
    ("link-local-v6", "https://[fe80::1]/", "link-local"),
    ("mapped-loopback", "https://[::ffff:127.0.0.1]/", "loopback"),
    ("mapped-metadata", "https://[::ffff:169.254.169.254]/", "metadata"),
    ("nat64-loopback", "https://[64:ff9b::7f00:1]/", "loopback"),
    ("6to4-loopback", "https://[2002:7f00:1::]/", "loopback"),
    ("multicast", "https://224.0.0.1/", "multicast"),
    ("shared-cgnat", "https://100.64.0.1/", "shared"),
    ("reserved", "https://240.0.0.1/", "reserved"),
    ("name-to-loopback", "https://rebind.example.com/", "resolves to"),
    ("name-to-private", "https://internal.example.com/", "private"),
    ("name-to-metadata", "https://metadata.example.com/", "metadata"),
    ("name-to-mapped", "https://mapped.example.com/", "loopback"),
    ("no-resolution", "https://nowhere.example.com/", "does not resolve"),
    ("empty-resolution", "https://empty.example.com/", "does not resolve"),
    ("file-scheme", "file:///etc/passwd", "scheme"),
    ("gopher-scheme", "gopher://example.com/_GET", "scheme"),
    ("ftp-scheme", "ftp://example.com/x", "scheme"),
    ("javascript-scheme", "javascript:alert(1)", "scheme"),
    ("no-scheme", "//example.com/x", "scheme"),
    ("plain-http", "http://example.com/hook", "scheme"),
    ("credentials", "https://user:pass@example.com/", "credentials"),
    ("username-only", "https://user@example.com/", "credentials"),
    ("overlong", "https://example.com/" + "a" * 2100, "longer than"),
    ("not-allowlisted", "https://evil.com/", "allowlist"),
    ("allowlisted-suffix-trick", "https://example.com.evil.com/", "allowlist"),
    ("wildcard-not-apex-lookalike", "https://evilexample.com/", "allowlist"),
    ("backslash", "https://example.com\\@evil.com/", "whitespace, control"),
    ("crlf", "https://example.com/\r\nHost: evil", "whitespace, control"),
    ("space", "https://exa mple.com/", "whitespace, control"),
    ("non-ascii", "https://exämple.com/", "non-ASCII"),
    ("empty", "", "empty"),
    ("no-host", "https:///path", "no host"),
    ("bad-port", "https://example.com:99999/", "not a valid URL"),
    ("port-zero", "https://example.com:0/", "port 0"),
]


class TestRefusals:
    @pytest.mark.parametrize(
        ("url", "reason"), [r[1:] for r in REFUSED], ids=[r[0] for r in REFUSED]
    )
    def test_refused_with_reason(self, url: str, reason: str) -> None:
        """Each dangerous redirect_to is refused by default, naming why."""
        with pytest.raises(ForwardingRefused, match=reason) as info:
            forwarder().validate(url)
        assert info.value.reason

    def test_refusal_url_is_redacted(self) -> None:
        """The refused URL carried by the error has no query string."""
        with pytest.raises(ForwardingRefused) as info:
            forwarder().validate("https://127.0.0.1/hook?token=SECRET")
        assert info.value.url == "https://127.0.0.1/hook"

    @pytest.mark.parametrize(
        "url", [None, 42, b"https://example.com/"], ids=["none", "int", "bytes"]
    )
    def test_non_strings_refused(self, url: object) -> None:
        """Anything but a string is refused."""
        with pytest.raises(ForwardingRefused):
            forwarder().validate(url)

    def test_empty_allowlist_refuses_everything(self) -> None:
        """With no allowlist, even a public host is refused."""
        with pytest.raises(ForwardingRefused, match="allowlist"):
            Forwarder(resolver=resolver).validate("https://example.com/")


ALLOWED = [
    ("exact-host", "https://example.com/hook"),
    ("wildcard-subdomain", "https://a.b.example.com/hook"),
    ("query-and-port", "https://hooks.example.com:8443/hook?x=1"),
    ("trailing-dot", "https://example.com./hook"),
    ("uppercase-host", "https://EXAMPLE.com/hook"),
    ("public-ip", "https://8.8.8.8/hook"),
]


class TestAllowed:
    @pytest.mark.parametrize("url", [a[1] for a in ALLOWED], ids=[a[0] for a in ALLOWED])
    def test_allowed(self, url: str) -> None:
        """Public https addresses on the allowlist pass."""
        forwarder().validate(url)

    @pytest.mark.parametrize(
        "url",
        [
            "http://127.0.0.1:8080/hook",
            "https://[::1]/hook",
            "http://localhost:9000/",
            "https://10.0.0.5/",
        ],
        ids=["loopback-http", "loopback-v6", "localhost", "private"],
    )
    def test_allow_private_lets_local_receivers_through(self, url: str) -> None:
        """allow_private plus the allowlist lets a local receiver (and http) through."""
        forwarder(allow_private=True).validate(url)

    @pytest.mark.parametrize(
        ("url", "reason"),
        [
            ("https://169.254.169.254/", "metadata"),
            ("https://0.0.0.0/", "unspecified"),
            ("https://224.0.0.1/", "multicast"),
            ("https://evil.com/", "allowlist"),
            ("gopher://127.0.0.1/", "scheme"),
        ],
        ids=["metadata", "unspecified", "multicast", "not-allowlisted", "gopher"],
    )
    def test_allow_private_still_refuses(self, url: str, reason: str) -> None:
        """allow_private never opens metadata, unspecified, multicast, other hosts or schemes."""
        with pytest.raises(ForwardingRefused, match=reason):
            forwarder(allow_private=True).validate(url)


class TestConfiguration:
    @pytest.mark.parametrize("entry", ["*", "", "*.", "exa*mple.com", "a/b", "u@h"])
    def test_bad_allowlist_entry(self, entry: str) -> None:
        """Allowlist entries must be hosts or *.domain patterns."""
        with pytest.raises(ConfigurationError):
            Forwarder(allow_hosts=[entry])

    def test_single_string_allowlist(self) -> None:
        """A single host string is taken as a one-host allowlist."""
        Forwarder(allow_hosts="example.com", resolver=resolver).validate("https://example.com/")

    def test_check_address_rejects_non_ip(self) -> None:
        """check_address refuses something that is not an address."""
        with pytest.raises(ForwardingRefused, match="not an IP"):
            check_address("example.com")


class TestRedaction:
    @pytest.mark.parametrize(
        ("url", "expected"),
        [
            ("https://user:pw@example.com/x?token=SECRET#frag", "https://example.com/x"),
            ("https://example.com:8443/hook", "https://example.com:8443/hook"),
            (42, "<int>"),
            ("https://example.com:99999/", "<unparseable URL>"),
        ],
        ids=["credentials-query-fragment", "port-kept", "not-a-string", "unparseable"],
    )
    def test_strip_url_to_path(self, url: object, expected: str) -> None:
        """Logged URLs keep scheme, host, port and path only."""
        assert strip_url_to_path(url) == expected
