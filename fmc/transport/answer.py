"""Reading one Graph answer: its JSON, or the typed error it stands for.

Pure functions over ``(status, headers, body)``: no I/O, shared by every
driver. The rules:

* a non-2xx answer, or a 2xx answer whose JSON holds an ``error`` object,
  becomes the :class:`~fmc.errors.GraphAPIError` subclass of its code;
* a 2xx answer that is not a JSON object (HTML, empty, truncated, wrong shape)
  becomes a :class:`~fmc.errors.GraphAPIError` — for a send, an
  :class:`~fmc.errors.UncertainDeliveryError`, because Meta accepted the
  request and the message may well have gone out;
* an HTTP 504 without a Graph error, for a send, is ambiguous too.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from fmc.errors import (
    USAGE_HEADERS,
    GraphAPIError,
    UncertainDeliveryError,
    graph_error_from_response,
)

__all__ = ["decode_answer", "usage_headers"]


def usage_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """The rate-limit usage headers of an answer, with lower-case names.

    Args:
        headers: Response headers, any case.

    Returns:
        ``X-App-Usage``, ``X-Page-Usage``, ``X-Business-Use-Case-Usage``,
        ``X-Ad-Account-Usage`` and ``Retry-After`` when present.
    """
    found: dict[str, str] = {}
    for name in USAGE_HEADERS:
        value = headers.get(name)
        if value is not None:
            found[name] = value
    return found


def decode_answer(
    status: int,
    content: bytes | str | None,
    headers: Mapping[str, str],
    *,
    sends_message: bool,
    want_list: bool = False,
) -> Any:
    """Turn one Graph answer into its JSON object, or raise its typed error.

    Args:
        status: HTTP status.
        content: Raw body.
        headers: Response headers (for usage and ``Retry-After``).
        sends_message: Whether the call sent a message, which makes a garbled
            success and a gateway timeout ambiguous rather than plain failures.
        want_list: Expect a JSON list (a batch answer) instead of an object.

    Returns:
        The decoded JSON object (or list) of a 2xx answer.

    Raises:
        GraphAPIError: The typed error (see the module docstring).
    """
    if not 200 <= status < 300:
        error = graph_error_from_response(status, content, headers)
        if sends_message and status == 504 and error.code is None:
            raise UncertainDeliveryError(
                "Graph API answered HTTP 504 (gateway timeout): "
                "the message may or may not have been sent",
                status=status,
                usage=error.usage,
            )
        raise error
    try:
        data = json.loads(content) if content else None
    except (ValueError, RecursionError):  # RecursionError: a body nested too deep
        data = None
    if isinstance(data, dict):
        if "error" in data:
            raise graph_error_from_response(status, data, headers)
        if not want_list:
            return data
    elif want_list and isinstance(data, list):
        return data
    if not content or (isinstance(content, (bytes, str)) and not content.strip()):
        kind = "an empty body"
    elif data is None:
        kind = "a body that is not JSON"
    else:
        kind = "JSON that is not a list" if want_list else "JSON that is not an object"
    if sends_message:
        raise UncertainDeliveryError(
            f"Graph API answered HTTP {status} with {kind}; "
            "the message may or may not have been sent",
            status=status,
        )
    raise GraphAPIError(f"Graph API answered HTTP {status} with {kind}", status=status)
