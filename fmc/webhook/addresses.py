"""Which ``redirect_to`` addresses fmc may forward to.

``redirect_to`` comes from the query string of a request anyone can send, so it
is checked like any attacker input before a single byte leaves: the scheme, the
shape of the URL, the host against the operator's allowlist, and then every
address the host resolves to. Loopback, private, link-local, multicast,
reserved, unspecified and cloud-metadata addresses are refused unless the
operator explicitly allows private addresses for a host on the allowlist
(multicast, unspecified and metadata addresses never are). Numeric host forms
(``2130706433``, ``0177.0.0.1``, ``0x7f.1``) are normalised the way the C
library reads them, and IPv4 addresses embedded in IPv6 (mapped, 6to4, NAT64)
are checked as the IPv4 address they carry.
"""

from __future__ import annotations

import ipaddress
import socket
import warnings
from collections.abc import Callable, Iterable, Sequence
from urllib.parse import urlsplit

import attrs

from fmc.errors import ForwardingRefused

__all__ = [
    "MAX_URL_LENGTH",
    "Resolver",
    "Target",
    "check_address",
    "check_url",
    "host_allowed",
    "redact_url",
    "resolve",
    "strip_url_to_path",
    "system_resolver",
]

#: How to allow plain http and private addresses, for local development only.
_ALLOW_PRIVATE_HINT = "for development: allow_private=True, fmc serve --allow-private-forwarding"

#: Longer ``redirect_to`` values are refused.
MAX_URL_LENGTH = 2048

#: ``(host, port) -> addresses`` as strings; injectable so tests need no DNS.
Resolver = Callable[[str, int], Sequence[str]]

_IP = ipaddress.IPv4Address | ipaddress.IPv6Address
_METADATA = frozenset(
    {
        ipaddress.ip_address("169.254.169.254"),
        ipaddress.ip_address("169.254.170.2"),
        ipaddress.ip_address("fd00:ec2::254"),
    }
)
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_SHARED = ipaddress.ip_network("100.64.0.0/10")
_FORBIDDEN_CHARS = frozenset(" \t\r\n\\\x00\x0b\x0c")


@attrs.frozen
class Target:
    """A checked ``redirect_to`` address.

    Attributes:
        url: The URL as given (fragment removed).
        scheme: ``https`` (or ``http`` when private addresses are allowed).
        host: The host, lowercased, without a trailing dot or IPv6 brackets.
        port: The port (default for the scheme when absent).
        ip: The host as an IP address when it is a literal (any numeric form).
    """

    url: str
    scheme: str
    host: str
    port: int
    ip: str | None = None


def strip_url_to_path(url: object) -> str:
    """A URL cut down to what is safe to log: scheme, host, port and path.

    Credentials, the query and the fragment are dropped whole (a receiver's
    ``redirect_to`` may carry its own secrets anywhere in them), unlike
    :func:`fmc.transport.redact_url`, which keeps a Graph URL whole and masks
    only the values of known secret parameters.

    Args:
        url: Anything; non-strings are described, not shown.

    Returns:
        ``scheme://host[:port]/path`` (the path cut at 200 characters).
    """
    if not isinstance(url, str):
        return f"<{type(url).__name__}>"
    try:
        parts = urlsplit(url[:MAX_URL_LENGTH])
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return "<unparseable URL>"
    path = parts.path[:200]
    return f"{parts.scheme}://{host}{port}{path}".encode("ascii", "backslashreplace").decode()


def redact_url(url: object) -> str:
    """Deprecated name of :func:`strip_url_to_path` (removed in the next release).

    It was renamed because :func:`fmc.transport.redact_url` does something
    else under the same name.

    Warns:
        DeprecationWarning: on every call.
    """
    warnings.warn(
        "fmc.webhook.redact_url is deprecated and will be removed in the next release; "
        "use fmc.webhook.strip_url_to_path (same behaviour)",
        DeprecationWarning,
        stacklevel=2,
    )
    return strip_url_to_path(url)


def _literal_ip(host: str) -> _IP | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    if host.replace(".", "").isalnum() and (host[0].isdigit()):
        # The C library reads "2130706433", "0177.0.0.1" and "0x7f.1" as IPv4
        # addresses; so would the connection, so the check must too.
        try:
            return ipaddress.IPv4Address(socket.inet_aton(host))
        except OSError:
            return None
    return None


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def _classify(ip: _IP) -> str | None:
    """The reason an address is not a public one, or None when it is."""
    if ip in _METADATA:
        return "a cloud metadata address"
    if ip.is_unspecified:
        return "the unspecified address"
    if ip.is_multicast:
        return "a multicast address"
    if ip.is_loopback:
        return "a loopback address"
    if ip.is_link_local:
        return "a link-local address"
    if ip.is_reserved:
        return "a reserved address"
    if isinstance(ip, ipaddress.IPv4Address) and ip in _SHARED:
        return "a shared (carrier-grade NAT) address"
    if ip.is_private:
        return "a private address"
    if not ip.is_global:
        return "not a public address"
    return None


def check_address(address: str, *, allow_private: bool = False) -> None:
    """Refuse an address fmc must not connect to.

    Args:
        address: An IPv4 or IPv6 address (an IPv6 zone suffix is ignored).
        allow_private: Allow loopback, private and link-local addresses (never
            multicast, unspecified or metadata ones).

    Raises:
        ForwardingRefused: the address is not allowed; the reason names its kind.
    """
    try:
        ip: _IP = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        raise ForwardingRefused(f"{address!r} is not an IP address") from None
    candidates: list[_IP] = [ip]
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(ip)
        if embedded is not None:
            # The IPv4 address it carries is where a connection ends up: judge that first.
            candidates.insert(0, embedded)
    for candidate in candidates:
        reason = _classify(candidate)
        if reason is None:
            continue
        never = candidate in _METADATA or candidate.is_unspecified or candidate.is_multicast
        if allow_private and not never:
            continue
        hint = "" if never else f"; {_ALLOW_PRIVATE_HINT}"
        raise ForwardingRefused(f"{candidate} is {reason}{hint}")


def host_allowed(host: str, allow_hosts: Iterable[str]) -> bool:
    """Say whether a host is on the allowlist.

    Args:
        host: The lowercased host, without a trailing dot.
        allow_hosts: Exact hosts, or ``*.example.com`` for any subdomain of example.com.

    Returns:
        True when an entry matches.
    """
    for pattern in allow_hosts:
        if pattern.startswith("*."):
            if host.endswith(pattern[1:]) and len(host) > len(pattern) - 1:
                return True
        elif host == pattern:
            return True
    return False


def check_url(url: object, *, allow_hosts: Iterable[str], allow_private: bool = False) -> Target:
    """Check a ``redirect_to`` URL without resolving it.

    Args:
        url: The value from the query string.
        allow_hosts: The operator's allowlist (normalised: lowercase, no trailing dot).
        allow_private: Also allow ``http`` and private literal addresses.

    Returns:
        The checked target.

    Raises:
        ForwardingRefused: the URL is not allowed; the reason says why.
    """
    if not isinstance(url, str) or not url:
        raise ForwardingRefused("redirect_to is empty")
    if len(url) > MAX_URL_LENGTH:
        raise ForwardingRefused(f"redirect_to is longer than {MAX_URL_LENGTH} characters")
    if not url.isascii() or not url.isprintable() or _FORBIDDEN_CHARS.intersection(url):
        raise ForwardingRefused("redirect_to holds whitespace, control or non-ASCII characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise ForwardingRefused("redirect_to is not a valid URL") from None
    scheme = parts.scheme.lower()
    allowed_schemes = ("https", "http") if allow_private else ("https",)
    if scheme not in allowed_schemes:
        hint = f" ({_ALLOW_PRIVATE_HINT})" if scheme == "http" else ""
        raise ForwardingRefused(f"scheme {scheme or '(none)'!r} is not allowed; use https{hint}")
    if "@" in parts.netloc or parts.username is not None or parts.password is not None:
        raise ForwardingRefused("credentials in the URL are not allowed")
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise ForwardingRefused("redirect_to has no host")
    ip = _literal_ip(host)
    names = {host} if ip is None else {host, str(ip)}
    if not any(host_allowed(name, allow_hosts) for name in names):
        raise ForwardingRefused(f"host {host!r} is not on the allowlist")
    if ip is not None:
        check_address(str(ip), allow_private=allow_private)
    if port is None:
        port = 443 if scheme == "https" else 80
    if port == 0:
        raise ForwardingRefused("port 0 is not allowed")
    return Target(
        url=url.split("#", 1)[0],
        scheme=scheme,
        host=host,
        port=port,
        ip=None if ip is None else str(ip),
    )


def system_resolver(host: str, port: int) -> list[str]:
    """Resolve a host with the system resolver.

    Args:
        host: The host name.
        port: The port.

    Returns:
        Every address it resolves to.

    Raises:
        OSError: resolution failed.
    """
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


def resolve(target: Target, *, resolver: Resolver, allow_private: bool = False) -> str:
    """Resolve a checked target and check every address it resolves to.

    Args:
        target: From :func:`check_url`.
        resolver: Turns a host and port into addresses.
        allow_private: See :func:`check_address`.

    Returns:
        The address to connect to (the first one).

    Raises:
        ForwardingRefused: any address is not allowed (a name that also resolves to
            loopback is refused even when its other addresses are public).
        OSError: the name does not resolve (may be transient).
    """
    if target.ip is not None:
        return target.ip
    addresses = list(resolver(target.host, target.port))
    if not addresses:
        raise OSError(f"{target.host} resolved to no address")
    for address in addresses:
        try:
            check_address(address, allow_private=allow_private)
        except ForwardingRefused as exc:
            reason = f"host {target.host!r} resolves to a refused address: {exc.reason}"
            raise ForwardingRefused(reason) from None
    return addresses[0].split("%", 1)[0]
