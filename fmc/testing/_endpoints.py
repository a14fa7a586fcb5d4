"""The fake Graph API's smaller endpoints: access checks, user profile, uploads, Messenger profile.

Each function answers one call from the values it is given, raising a
:class:`~fmc.testing._rules.Refusal` where Meta would refuse; the fake owns the
state and the lock.
"""

from __future__ import annotations

import hashlib
import hmac
import threading
from collections.abc import Mapping
from typing import Any

from fmc.testing import _rules, _wire
from fmc.testing._rules import Refusal
from fmc.testing._wire import Answer, dumps
from fmc.testing.tenants_graph import TenantsGraph

__all__ = ["check_auth", "messenger_profile", "profile", "upload_record"]

MAX_ATTACHMENT_BYTES = 25 * 1024 * 1024
PROFILE_FIELDS = frozenset(
    {"id", "name", "first_name", "last_name", "profile_pic", "locale", "timezone", "gender"}
)
DEFAULT_PROFILE_FIELDS = ("first_name", "last_name", "profile_pic")
SUCCESS = b'{"result":"success"}'


def check_auth(
    params: Mapping[str, Any],
    *,
    access_token: str | None,
    app_secret: str | None,
    tenants: TenantsGraph,
) -> None:
    """Refuse a call without a token, with the wrong token, or without the right proof."""
    token = params.get("access_token")
    if not isinstance(token, str) or not token:
        raise Refusal("An access token is required to request this resource.", 104)
    tenants.check_token(token)
    if access_token is not None and not hmac.compare_digest(token, access_token):
        raise Refusal("Invalid OAuth access token - Cannot parse access token", 190)
    if app_secret is None:
        return
    proof = params.get("appsecret_proof")
    if not isinstance(proof, str) or not proof:
        raise Refusal(
            "API calls from the server require an appsecret_proof argument",
            type="GraphMethodException",
        )
    expected = hmac.new(app_secret.encode(), token.encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(proof, expected):
        raise Refusal(
            "Invalid appsecret_proof provided in the API argument", type="GraphMethodException"
        )


def profile(psid: str, params: Mapping[str, Any], user: Mapping[str, Any] | None) -> Answer:
    """``GET /{psid}``: the fields asked for of a known user."""
    raw = params.get("fields")
    fields = (
        [f.strip() for f in str(raw).split(",") if f.strip()] if raw else DEFAULT_PROFILE_FIELDS
    )
    for field in fields:
        if field not in PROFILE_FIELDS:
            raise Refusal(f"(#100) Tried accessing nonexisting field ({field}) on node type (User)")
    if user is None:
        raise Refusal("No profile available for this user.", subcode=2018218)
    answer = {field: user[field] for field in fields if field in user and field != "id"}
    answer["id"] = psid
    return Answer(200, dumps(answer))


def upload_record(params: Mapping[str, Any]) -> dict[str, Any]:
    """``POST /me/message_attachments``: what the fake keeps of a valid upload."""
    message = _rules.json_param("message", params.get("message"))
    attachment = message.get("attachment") if isinstance(message, Mapping) else None
    if not isinstance(attachment, Mapping) or attachment.get("type") not in _rules.MEDIA_TYPES:
        raise Refusal(
            "(#100) param message[attachment][type] must be one of {image, audio, video, file}"
        )
    payload = attachment.get("payload") or {}
    if not isinstance(payload, Mapping):
        raise Refusal("(#100) param message[attachment][payload] must be a JSON object")
    upload = params.get("filedata")
    record: dict[str, Any] = {
        "type": attachment["type"],
        "is_reusable": bool(payload.get("is_reusable", False)),
    }
    if isinstance(upload, _wire.Upload):
        if len(upload.data) > MAX_ATTACHMENT_BYTES:
            raise Refusal("(#100) Attachment size exceeds allowable limit", subcode=2018109)
        record.update(filename=upload.filename, size=len(upload.data), content_type=upload.type)
    elif isinstance(payload.get("url"), str):
        record["url"] = payload["url"]
    else:
        raise Refusal("(#100) Upload attachment failure: give payload.url or filedata")
    return record


def messenger_profile(
    method: str, params: Mapping[str, Any], current: dict[str, Any], lock: threading.Lock
) -> Answer:
    """``GET``/``POST``/``DELETE /me/messenger_profile`` on the Page's ``current`` fields."""
    if method == "GET":
        raw = params.get("fields")
        if not raw:
            raise Refusal("(#100) The parameter fields is required")
        fields = [f.strip() for f in str(raw).split(",") if f.strip()]
        _wire.known_profile_fields(fields)
        with lock:
            found = {f: current[f] for f in fields if f in current}
        return Answer(200, dumps({"data": [found] if found else []}))
    if method == "DELETE":
        fields = _rules.json_param("fields", params.get("fields"))
        if isinstance(fields, str):
            fields = [f.strip() for f in fields.split(",") if f.strip()]
        if not isinstance(fields, list) or not fields:
            raise Refusal("(#100) The parameter fields is required")
        _wire.known_profile_fields(fields)
        with lock:
            for field in fields:
                current.pop(field, None)
        return Answer(200, SUCCESS)
    given = {k: v for k, v in params.items() if k not in ("access_token", "appsecret_proof")}
    _wire.known_profile_fields(given)
    update = {key: _rules.json_param(key, value) for key, value in given.items()}
    with lock:
        _rules.check_profile_fields(update, current)
        current.update(update)
    return Answer(200, SUCCESS)
