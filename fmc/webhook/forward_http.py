"""The pinned-DNS sender of the forwarder: one POST of a delivery, its answer classified.

:class:`PinnedSender` checks a ``redirect_to`` address against the allowlist,
resolves its host (refusing private and metadata addresses), and sends the body
once to the address it checked (:class:`PinnedAdapter`, so DNS cannot change
between the check and the connection), with no redirects followed, a timeout,
and at most a small part of the answer read; :func:`post_once` says whether a
failure is worth retrying. The :class:`~fmc.webhook.Forwarder` decides when to
send and what to do with a failure.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import requests
from requests.adapters import HTTPAdapter

from fmc.errors import ConfigurationError, ForwardingError, ForwardingRefused
from fmc.webhook.addresses import Resolver, Target, check_url, resolve, strip_url_to_path

__all__ = [
    "PermanentError",
    "PinnedAdapter",
    "PinnedSender",
    "RetryableError",
    "normalise_hosts",
    "post_once",
]

#: Connection pools kept by the forwarder's own session (one per receiver host).
_POOLS = 4


class RetryableError(ForwardingError):
    """A failure worth retrying: no connection, a timeout, 5xx, 408 or 429."""


class PermanentError(ForwardingError):
    """A failure retrying will not fix: a 4xx answer or a redirect."""


class PinnedAdapter(HTTPAdapter):
    """Connects to the address the forwarder checked, not to whatever DNS says a moment later."""

    def build_connection_pool_key_attributes(  # type: ignore[override]
        self, request: requests.PreparedRequest, verify: Any, cert: Any = None
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        params, kwargs = super().build_connection_pool_key_attributes(request, verify, cert)
        host_params: dict[str, Any] = dict(params)
        pool_kwargs: dict[str, Any] = dict(kwargs)
        pinned = getattr(request, "fmc_pinned_ip", None)
        if pinned is not None:
            hostname = host_params["host"]
            host_params = {**host_params, "host": pinned}
            if host_params["scheme"] == "https":
                pool_kwargs = {
                    **pool_kwargs,
                    "server_hostname": hostname,
                    "assert_hostname": hostname,
                }
        return host_params, pool_kwargs


def post_once(
    session: requests.Session,
    target: Target,
    address: str,
    body: bytes,
    headers: tuple[tuple[str, str], ...],
    *,
    timeout: tuple[float, float],
    verify: bool | str,
    max_response_bytes: int,
) -> int:
    """POST once to ``target`` at ``address``.

    Returns:
        The 2xx status.

    Raises:
        RetryableError: no connection, a timeout, 5xx, 408 or 429.
        PermanentError: another answer, a redirect, or a request that cannot be sent.
    """
    request = requests.Request("POST", target.url, data=body, headers=dict(headers)).prepare()
    default_port = 443 if target.scheme == "https" else 80
    host = f"[{target.host}]" if ":" in target.host else target.host
    request.headers["Host"] = host if target.port == default_port else f"{host}:{target.port}"
    request.fmc_pinned_ip = address  # type: ignore[attr-defined]
    try:
        response = session.send(
            request, timeout=timeout, allow_redirects=False, stream=True, verify=verify
        )
    except (requests.ConnectionError, requests.Timeout) as exc:
        raise RetryableError(f"{type(exc).__name__} talking to the receiver") from None
    except requests.RequestException as exc:
        raise PermanentError(f"request failed: {type(exc).__name__}") from None
    try:
        read = 0
        for chunk in response.iter_content(8192):
            read += len(chunk)
            if read >= max_response_bytes:
                break
    except (requests.RequestException, OSError):
        pass
    finally:
        response.close()
    status = response.status_code
    if 200 <= status < 300:
        return status
    if status >= 500 or status in (408, 429):
        raise RetryableError(f"receiver answered {status}")
    if 300 <= status < 400:
        raise PermanentError(f"receiver answered a redirect ({status}), not followed")
    raise PermanentError(f"receiver answered {status}")


def normalise_hosts(allow_hosts: Iterable[str]) -> tuple[str, ...]:
    """An allowlist as lowercased hosts or ``*.domain`` patterns.

    Raises:
        ConfigurationError: an entry is not a host or ``*.domain``.
    """
    if isinstance(allow_hosts, str):
        allow_hosts = [allow_hosts]
    hosts = []
    for host in allow_hosts:
        pattern = host.strip().lower().rstrip(".")
        bare = pattern[2:] if pattern.startswith("*.") else pattern
        if not bare or "*" in bare or "/" in bare or "@" in bare:
            raise ConfigurationError(f"allow_hosts entry {host!r} is not a host or *.domain")
        hosts.append(pattern.strip("[]"))
    return tuple(hosts)


class PinnedSender:
    """Checks, resolves and POSTs deliveries, each to the address that was checked.

    Args:
        allow_hosts: The normalised allowlist (see :func:`normalise_hosts`).
        allow_private: Also allow ``http`` and private addresses for allowlisted hosts.
        resolver: Resolves host names.
        session: The session to send with; ``None`` builds one that pins each
            connection and ignores proxy environment variables (closed by :meth:`close`).
        timeout: ``(connect, read)`` seconds per request.
        verify: TLS verification: True or the path of a CA bundle.
        max_response_bytes: The most of an answer that is read.
        pool_size: Connections kept per receiver host by the session built here.
    """

    def __init__(
        self,
        *,
        allow_hosts: tuple[str, ...],
        allow_private: bool,
        resolver: Resolver,
        session: requests.Session | None,
        timeout: tuple[float, float],
        verify: bool | str,
        max_response_bytes: int,
        pool_size: int,
    ) -> None:
        self.allow_hosts = allow_hosts
        self.allow_private = allow_private
        self._resolver = resolver
        self._timeout = timeout
        self._verify = verify
        self._max_response_bytes = max_response_bytes
        self._owns_session = session is None
        if session is None:
            session = requests.Session()
            session.trust_env = False
            adapter = PinnedAdapter(pool_connections=_POOLS, pool_maxsize=pool_size)
            session.mount("https://", adapter)
            session.mount("http://", adapter)
        self._session = session

    def check(self, url: object) -> Target:
        """Check a URL without resolving its host.

        Raises:
            ForwardingRefused: the URL is not allowed (its ``url`` stripped to its path).
        """
        try:
            return check_url(url, allow_hosts=self.allow_hosts, allow_private=self.allow_private)
        except ForwardingRefused as exc:
            raise ForwardingRefused(exc.reason, url=strip_url_to_path(url)) from None

    def resolve(self, target: Target, url: object, *, transient: type[Exception]) -> str:
        """The checked address to connect to for ``target``.

        Args:
            target: The checked URL.
            url: The URL as given (for the error).
            transient: What a host that does not resolve raises: ``ForwardingRefused``
                when checking, :class:`RetryableError` when sending.

        Raises:
            ForwardingRefused: the host resolves to a refused address.
        """
        try:
            return resolve(target, resolver=self._resolver, allow_private=self.allow_private)
        except ForwardingRefused as exc:
            raise ForwardingRefused(exc.reason, url=strip_url_to_path(url)) from None
        except (OSError, UnicodeError) as exc:
            reason = f"host {target.host!r} does not resolve ({type(exc).__name__})"
            if transient is ForwardingRefused:
                raise ForwardingRefused(reason, url=strip_url_to_path(url)) from None
            raise transient(reason) from None

    def send(self, url: str, body: bytes, headers: tuple[tuple[str, str], ...]) -> int:
        """POST once; return the status, or raise a retryable / permanent / refused error."""
        target = self.check(url)
        address = self.resolve(target, url, transient=RetryableError)
        return post_once(
            self._session,
            target,
            address,
            body,
            headers,
            timeout=self._timeout,
            verify=self._verify,
            max_response_bytes=self._max_response_bytes,
        )

    def close(self) -> None:
        """Close the session if this sender built it."""
        if self._owns_session:
            self._session.close()
