"""One POST of a delivery to its receiver: pinned to the checked address, answers classified.

The :class:`~fmc.webhook.Forwarder` checks and resolves the address; this
module sends the body once, with no redirects followed, a timeout, and at most
a small part of the answer read, and says whether a failure is worth retrying.
"""

from __future__ import annotations

from typing import Any

import requests
from requests.adapters import HTTPAdapter

from fmc.errors import ForwardingError
from fmc.webhook.addresses import Target

__all__ = ["PermanentError", "PinnedAdapter", "RetryableError", "post_once"]


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
