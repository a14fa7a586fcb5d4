"""One webhook endpoint for every app and Page of a platform.

Nothing in a delivery names the app, so each app has its own path
(``/webhook/<app-id>``): the path picks the app, the app's secrets verify the
delivery, and each entry goes to the Page its ``id`` names, through that Page's
own :attr:`fmc.Channel.webhook` (so registration, dedup, the durable commit
and forwarding are exactly the single-Page handler's). What it answers:

* an unknown app path: 404; a GET handshake: that app's verify token decides;
* a POST whose signature does not fit any of the app's secrets: 403;
* an entry for a Page that is not connected to *this* app (unknown, of
  another app, or disconnected): refused and logged, the others processed;
* 200 only when every Page's part was committed; otherwise the worst of their
  answers (503 when one could not be stored: Meta delivers the whole again
  and the parts already committed are recognised as redeliveries).

When all the entries are for one Page of an app with one secret, the request
goes to that Page's handler unchanged (its handler verifies it). Otherwise
the body is split per Page and each part is signed with the app's newest
secret, so a Page's ``redirect_to`` receives only its own entries, verifiable
with its app secret.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterable, Mapping
from typing import Any, cast
from urllib.parse import parse_qs

from fmc.errors import SignatureError
from fmc.platform.channels import ChannelCache
from fmc.platform.errors import UnknownAccountError
from fmc.platform.records import App, PageRecord, PageStatus
from fmc.platform.registry import Registry
from fmc.platform.serving import AppWebhook
from fmc.webhook.handler import DEFAULT_MAX_BODY_BYTES, WebhookHandler
from fmc.webhook.request import Headers, Query
from fmc.webhook.response import OK, PAYLOAD_TOO_LARGE, Response, text_response
from fmc.webhook.signature import SIGNATURE_HEADER

__all__ = ["DEFAULT_PREFIX", "PlatformWebhook"]

#: The path under which each app's webhook lives: ``/webhook/<app-id>``.
DEFAULT_PREFIX = "/webhook/"

_NOT_FOUND = text_response(404, "not found: no app is registered at this path")
_SIG = SIGNATURE_HEADER.lower()


def _forbidden(reason: str) -> Response:
    return text_response(403, f"forbidden: {reason}")


def _signature(headers: Headers) -> str | None:
    items = getattr(headers, "items", None)
    pairs = cast("Iterable[tuple[Any, Any]]", items() if items is not None else headers or ())
    found: list[str] = []
    for name, value in pairs:
        text = name.decode("latin-1") if isinstance(name, bytes) else name
        if text.lower() == _SIG:
            found.append(value.decode("latin-1") if isinstance(value, bytes) else str(value))
    if len(found) > 1:
        raise SignatureError("repeated signature header")
    return found[0] if found else None


def _by_page(entries: list[Any]) -> dict[str, list[Any]]:
    """The entries grouped by Page id (``entry[].id``), in order."""
    if len(entries) == 1:  # the usual delivery
        entry = entries[0]
        return {str(entry["id"]): entries}
    groups: dict[str, list[Any]] = {}
    for entry in entries:
        groups.setdefault(str(entry["id"]), []).append(entry)
    return groups


def _accepts(app: App, record: PageRecord | None) -> bool:
    """Whether a Page's entries may be delivered on ``app``'s webhook."""
    return (
        record is not None
        and record.app_id == app.id
        and record.status is not PageStatus.DISCONNECTED
    )


def _hand_over(
    handler: WebhookHandler,
    record: PageRecord | None,
    query: Query,
    headers: Headers,
    body: bytes,
    data: Any,
) -> Response:
    """The Page's handler answers; it still checks the signature over the bytes."""
    if record is not None and record.redirect_to is not None:
        query = _with_redirect(query, record.redirect_to)
    return handler._respond_decoded(query, headers, body, data)


def _with_redirect(query: Query, redirect_to: str | None) -> Query:
    """``query`` with the Page's default ``redirect_to`` when it names none."""
    if redirect_to is None:
        return query
    values = (
        parse_qs(query.lstrip("?"), keep_blank_values=True) if isinstance(query, str) else query
    )
    if values and "redirect_to" in values:
        return query
    merged: dict[str, Any] = dict(values or {})
    merged["redirect_to"] = redirect_to
    return merged


class PlatformWebhook:
    """Answers every app's webhook path and routes each entry to its Page's channel.

    Args:
        registry: The apps and Pages.
        channels: The Pages' channels.
        prefix: The path before the app id.
        max_body_bytes: Larger bodies are answered 413.
        logger: Where refused entries are logged.
    """

    def __init__(
        self,
        registry: Registry,
        channels: ChannelCache,
        *,
        prefix: str = DEFAULT_PREFIX,
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
        logger: logging.Logger | None = None,
    ) -> None:
        self._registry = registry
        self._channels = channels
        self.prefix = prefix if prefix.endswith("/") else prefix + "/"
        self.max_body_bytes = max_body_bytes
        self._log = logger if logger is not None else logging.getLogger("fmc.platform")
        self._lock = threading.Lock()
        self._fronts: dict[str, tuple[App, WebhookHandler]] = {}
        self._endpoints: dict[str, tuple[App, AppWebhook]] = {}
        # Page id -> (app, record, the Page's handler), valid while the registry
        # hands out these very app and record objects (it replaces them on change).
        self._routes: dict[str, tuple[App, PageRecord, WebhookHandler]] = {}
        registry.on_change(self._forget_route)

    def __repr__(self) -> str:
        return f"PlatformWebhook(prefix={self.prefix!r})"

    def _forget_route(self, page_id: str | None) -> None:
        with self._lock:
            if page_id is None:
                self._routes = {}
            else:
                self._routes.pop(page_id, None)

    def app_id_of(self, path: str) -> str | None:
        """The app id a request path names, or ``None`` when it names none."""
        if not path.startswith(self.prefix):
            return None
        rest = path[len(self.prefix) :].rstrip("/")
        return rest if rest and "/" not in rest else None

    def respond(
        self, method: str, path: str, query: Query, headers: Headers, body: bytes
    ) -> Response:
        """Answer one HTTP request to any app's webhook path.

        Args:
            method: The HTTP method.
            path: The request path (``/webhook/<app-id>``).
            query: The query parameters (mapping, or the raw query string).
            headers: The request headers.
            body: The raw body bytes.

        Returns:
            The response to send (see the module docstring).
        """
        app_id = self.app_id_of(path)
        return (
            _NOT_FOUND if app_id is None else self.respond_app(app_id, method, query, headers, body)
        )

    def for_app(self, app_id: str) -> AppWebhook | None:
        """One app's endpoint as a handler :mod:`fmc.adapters` can serve, or ``None``.

        Example: ``fmc.adapters.wsgi.make_app(platform.webhook.for_app("1001"))``
        mounted at that app's callback path.
        """
        app = self._registry.app(app_id)
        if app is None:
            return None
        known = self._endpoints.get(app_id)
        if known is not None and known[0] == app:
            return known[1]
        endpoint = AppWebhook(self, app)
        with self._lock:
            self._endpoints[app_id] = (app, endpoint)
        return endpoint

    def _front(self, app: App) -> WebhookHandler:
        """A handler holding the app's secrets and verify token (handshake and checks)."""
        known = self._fronts.get(app.id)
        # The registry hands out the same App until it changes: identity first, it is cheaper.
        if known is not None and (known[0] is app or known[0] == app):
            return known[1]
        front = WebhookHandler(app.secrets, app.verify_token, max_body_bytes=self.max_body_bytes)
        with self._lock:
            self._fronts[app.id] = (app, front)
        return front

    def respond_app(
        self, app_id: str, method: str, query: Query, headers: Headers, body: bytes
    ) -> Response:
        """Answer one HTTP request to the webhook of the app ``app_id``."""
        app = self._registry.app(app_id)
        if app is None:
            return _NOT_FOUND
        if method != "POST" and not (isinstance(method, str) and method.upper() == "POST"):
            return self._front(app).respond(method, query, headers, body)
        body = body if type(body) is bytes else bytes(body or b"")
        if len(body) > self.max_body_bytes:
            return PAYLOAD_TOO_LARGE
        try:
            data = json.loads(body)
            groups = _by_page(data["entry"])
        except Exception:
            # Not a routable delivery: the app's own handler verifies, then refuses it.
            return self._front(app).respond(method, query, headers, body)
        if len(groups) == 1 and len(app.secrets) == 1:
            # One Page, one secret: its own handler verifies the original bytes.
            page_id = next(iter(groups))
            record = self._registry.page(page_id)
            if record is not None and _accepts(app, record):
                route = self._routes.get(page_id)
                if route is not None and route[0] is app and route[1] is record:
                    return _hand_over(route[2], record, query, headers, body, data)
                return self._deliver(page_id, record, query, headers, body, data, app)
        try:
            self._front(app).verify_signature(body, _signature(headers))
        except SignatureError as exc:
            self._log.info("platform delivery for app %s refused (403): %s", app.id, exc)
            return _forbidden(str(exc))
        return self._split(app, data, groups, query)

    def _deliver(
        self,
        page_id: str,
        record: PageRecord | None,
        query: Query,
        headers: Headers,
        body: bytes,
        data: Any,
        app: App | None = None,
    ) -> Response:
        """Hand a Page its part; ``data`` is ``body`` decoded, so it is not decoded again.

        With ``app``, the Page's handler is remembered for the next delivery.
        """
        try:
            channel = self._channels.get(page_id)
        except UnknownAccountError:
            self._log.warning("delivery for Page %s refused: it is not connected", page_id)
            return OK
        handler = channel.webhook
        if app is not None and record is not None:
            self._routes[page_id] = (app, record, handler)
        return _hand_over(handler, record, query, headers, body, data)

    def _split(
        self, app: App, data: Mapping[str, Any], groups: dict[str, list[Any]], query: Query
    ) -> Response:
        worst = OK
        for page_id, entries in groups.items():
            record = self._registry.page(page_id)
            if not _accepts(app, record):
                why = (
                    "it is not registered"
                    if record is None
                    else (
                        "it is disconnected"
                        if record.app_id == app.id
                        else "it is connected to another app"
                    )
                )
                self._log.warning(
                    "%d entries for Page %s refused on app %s's webhook: %s",
                    len(entries), page_id, app.id, why,
                )  # fmt: skip
                continue
            decoded = {"object": data.get("object"), "entry": entries}
            part = json.dumps(decoded).encode()
            signed = self._front(app).sign(part)
            headers = [(SIGNATURE_HEADER, signed), ("Content-Type", "application/json")]
            answer = self._deliver(page_id, record, query, headers, part, decoded)
            if answer.status != 200 and (worst.status == 200 or answer.status == 503):
                worst = answer
        return worst
