"""The fake Graph API's HTTP side: reading bodies and batches, writing Meta's errors and faults."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import attrs

from fmc.testing import _rules
from fmc.testing._rules import Refusal
from fmc.testing.faults import Fault, FaultKind
from fmc.testing.records import JSON_HEADERS, Reply

MAX_BATCH = 50
HTML_HEADERS = (("Content-Type", "text/html; charset=utf-8"),)

BatchItem = tuple[str, str, dict[str, Any]]


@attrs.frozen
class Answer:
    """One call's answer, before the transport adds latency or drops it."""

    status: int
    body: bytes
    headers: tuple[tuple[str, str], ...] = JSON_HEADERS


@attrs.frozen
class Upload:
    """A file part of a multipart body."""

    filename: str | None
    type: str | None
    data: bytes


def dumps(value: Any) -> bytes:
    """Serialise as Graph does: compact JSON in UTF-8."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def refused(
    refusal: Refusal,
    trace_id: str,
    *,
    is_transient: bool | None = None,
    status: int | None = None,
) -> Answer:
    """Meta's error envelope for a refusal, with a made-up ``fbtrace_id``."""
    error: dict[str, Any] = {"message": refusal.message, "type": refusal.type, "code": refusal.code}
    if refusal.subcode is not None:
        error["error_subcode"] = refusal.subcode
    if is_transient is not None:
        error["is_transient"] = is_transient
    error["fbtrace_id"] = trace_id
    return Answer(status or refusal.status, dumps({"error": error}))


def unsupported(method: str, node: str) -> Refusal:
    """Meta's refusal of a method a node does not support."""
    return Refusal(
        f"Unsupported {method.lower()} request. Object with ID '{node or 'root'}' does not "
        "exist, cannot be loaded due to missing permissions, or does not support this operation.",
        subcode=33,
    )


def params(headers: Mapping[str, str], body: bytes, query: str) -> dict[str, Any]:
    """Merge the query string and the body (JSON, form or multipart) into one dict."""
    params: dict[str, Any] = dict(parse_qsl(query, keep_blank_values=True)) if query else {}
    if not body:
        return params
    content_type = ""
    for name, value in headers.items():
        if name.lower() == "content-type":
            content_type = value
            break
    kind = content_type.partition(";")[0].strip().lower()
    if kind == "application/json" or kind.endswith("+json"):
        try:
            decoded = json.loads(body)
        except ValueError:
            raise Refusal("(#100) The request body is not valid JSON") from None
        if not isinstance(decoded, dict):
            raise Refusal("(#100) The request body must be a JSON object")
        params.update(decoded)
    elif kind == "multipart/form-data":
        params.update(_multipart(content_type, body))
    else:
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            raise Refusal("(#100) The request body is not UTF-8") from None
        params.update(parse_qsl(text, keep_blank_values=True))
    return params


def _multipart(content_type: str, body: bytes) -> dict[str, Any]:
    from email.parser import BytesParser
    from email.policy import HTTP

    message = BytesParser(policy=HTTP).parsebytes(
        b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n" + body
    )
    fields: dict[str, Any] = {}
    if not message.is_multipart():
        raise Refusal("(#100) The multipart body cannot be read")
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str):
            continue
        data = part.get_payload(decode=True)
        data = data if isinstance(data, bytes) else b""
        filename = part.get_filename()
        if filename is not None:
            fields[name] = Upload(filename, part.get_content_type(), data)
        else:
            fields[name] = data.decode("utf-8", "replace")
    return fields


def batch_items(params: Mapping[str, Any]) -> list[BatchItem]:
    """Read the ``batch`` parameter into ``(method, path, params)`` calls, as Graph checks it."""
    raw = params.get("batch")
    if raw is None:
        raise Refusal("(#100) The parameter batch is required")
    batch = _rules.json_param("batch", raw)
    if not isinstance(batch, list):
        raise Refusal("(#100) param batch must be a JSON array")
    if len(batch) > MAX_BATCH:
        raise Refusal(
            f"(#1) Too many requests in batch message. Maximum batch size is {MAX_BATCH}", 1
        )
    if not batch:
        raise Refusal("(#100) param batch must be a non-empty array")
    items: list[tuple[str, str, dict[str, Any]]] = []
    for index, item in enumerate(batch):
        if not isinstance(item, Mapping) or not isinstance(item.get("relative_url"), str):
            raise Refusal(f"(#100) batch[{index}] must have a relative_url")
        method = str(item.get("method", "GET")).upper()
        path, _, query = item["relative_url"].partition("?")
        item_params: dict[str, Any] = dict(parse_qsl(query, keep_blank_values=True))
        body = item.get("body")
        if isinstance(body, str):
            item_params.update(parse_qsl(body, keep_blank_values=True))
        elif isinstance(body, Mapping):
            item_params.update(body)
        items.append((method, "/" + path.lstrip("/"), item_params))
    return items


def param_psid(params: Mapping[str, Any]) -> str | None:
    """The PSID a Send API call is for, if it names one (without checking the call)."""
    raw = params.get("recipient")
    if isinstance(raw, str):
        try:
            raw = _rules.json_param("recipient", raw)
        except Refusal:
            return None
    if isinstance(raw, Mapping):
        value = raw.get("id")
        return str(value) if isinstance(value, (str, int)) and not isinstance(value, bool) else None
    return None


def item_psid(item: BatchItem) -> str | None:
    """The PSID a batch item sends to, if it is a send."""
    method, path, params = item
    if method == "POST" and path.rstrip("/").endswith("/messages"):
        return param_psid(params)
    return None


def known_profile_fields(fields: Any) -> None:
    """Refuse Messenger profile fields Graph does not have."""
    for field in fields:
        if field not in _rules.PROFILE_FIELDS:
            raise Refusal(f"(#100) {field} is not a valid messenger profile field")


def drop_exception(reply: Reply) -> Exception:
    """The ``requests`` exception a dropped connection raises in the requests-mock form."""
    import requests

    text = (
        "fake Graph API dropped the connection before processing the request"
        if reply.drop == "before"
        else "fake Graph API dropped the connection after processing the request"
    )
    kinds: dict[str, type[Exception]] = {
        "connect_timeout": requests.exceptions.ConnectTimeout,
        "connection_error": requests.exceptions.ConnectionError,
        "read_timeout": requests.exceptions.ReadTimeout,
    }
    return kinds[reply.exception or "connection_error"](text)


def fault_answer(fault: Fault, success: Answer | None, trace_id: Callable[[], str]) -> Answer:
    """The answer of a fault that fires: an HTML 5xx page, a malformed 200 or a Graph error.

    Args:
        fault: The fault.
        success: The answer the call would have had, for faults that deliver.
        trace_id: Makes up an ``fbtrace_id``.
    """
    if fault.kind is FaultKind.SERVER_ERROR:
        status = fault.status or 502
        title = f"{status} Server Error"
        page = f"<html><head><title>{title}</title></head><body><h1>{title}</h1></body></html>"
        return Answer(status, page.encode(), HTML_HEADERS + fault.headers)
    if fault.kind is FaultKind.MALFORMED:
        return _malformed(fault.shape, success, trace_id)
    code, subcode, message, status, transient = fault.error_fields()
    refusal = Refusal(message, code, subcode=subcode, type=fault.error_type or "OAuthException")
    answer = refused(refusal, trace_id(), is_transient=transient, status=status)
    return Answer(answer.status, answer.body, answer.headers + fault.headers)


def _malformed(shape: str | None, success: Answer | None, trace_id: Callable[[], str]) -> Answer:
    if shape == "html":
        page = (
            b"<!DOCTYPE html><html><head><title>Error</title></head>"
            b"<body>Sorry, something went wrong.</body></html>"
        )
        return Answer(200, page, HTML_HEADERS)
    if shape == "empty":
        return Answer(200, b"")
    if shape == "truncated":
        body = success.body if success is not None else b'{"recipient_id":"0","message_id":"m_0"}'
        return Answer(200, body[: len(body) // 2])
    if shape == "wrong_shape":
        return Answer(200, b'{"success":true}')
    refusal = Refusal("An unknown error occurred", 1, subcode=99)
    return Answer(200, refused(refusal, trace_id()).body)


def mock_callback(
    handle: Callable[[str, str, Mapping[str, str], bytes], Reply],
    base: str,
    sleep: Callable[[float], None],
) -> Callable[[Any, Any], bytes]:
    """The requests-mock callback that answers every request under ``base`` with ``handle``."""
    base_path = urlsplit(base).path

    def callback(request: Any, context: Any) -> bytes:
        split = urlsplit(request.url)
        path = split.path[len(base_path) :] if base_path else split.path
        target = (path or "/") + ("?" + split.query if split.query else "")
        body = request.body
        if body is None:
            body = b""
        elif isinstance(body, str):
            body = body.encode("utf-8")
        elif not isinstance(body, (bytes, bytearray)):
            body = b"".join(
                chunk.encode("utf-8") if isinstance(chunk, str) else chunk for chunk in body
            )
        reply = handle(request.method, target, request.headers, bytes(body))
        if reply.drop is not None:
            if reply.drop == "after" and reply.delay:
                sleep(reply.delay)
            raise drop_exception(reply)
        if reply.delay:
            sleep(reply.delay)
        context.status_code = reply.status
        for name, value in reply.headers:
            context.headers[name] = value
        return reply.body

    return callback
