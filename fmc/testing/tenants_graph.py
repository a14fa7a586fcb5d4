"""The fake Graph API's side of many apps and Pages: tokens, ``debug_token``, ``subscribed_apps``.

:attr:`FakeGraphAPI.tenants <fmc.testing.FakeGraphAPI.tenants>` learns apps
(:meth:`TenantsGraph.add_app`), Pages with their Page tokens
(:meth:`TenantsGraph.add_page`) and user tokens (:meth:`TenantsGraph.add_user_token`);
then the fake answers, like Meta:

* ``GET /debug_token?input_token=...`` with an app token (``<app-id>|<secret>``):
  the token's ``type`` (``PAGE``/``USER``), ``app_id``, ``profile_id``, ``scopes``
  and ``is_valid``;
* ``GET|POST|DELETE /{page-id}/subscribed_apps`` with that Page's token;
* ``GET|POST|DELETE /{app-id}/subscriptions`` with that app's token: the app's
  webhook (``object``, ``callback_url``, ``verify_token``, ``fields``), kept
  in :attr:`TenantsGraph.app_subscriptions`; with
  :attr:`TenantsGraph.verify_callback` set, a POST first runs Meta's
  ``hub.challenge`` handshake against the callback and is refused (2200) when
  it fails;
* ``GET /{page-id}`` (or ``/me``) with a Page token: its id and name;
* 190 (``OAuthException``) on any call made with a revoked token
  (:meth:`TenantsGraph.revoke`), and sends to any known Page's ``/messages``.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import attrs

from fmc.testing._rules import Refusal
from fmc.testing._wire import Answer, dumps

__all__ = ["CallbackCheck", "FakeToken", "TenantsGraph"]

Route = Callable[[], Answer]

#: Answers Meta's handshake GET: ``(callback_url, query) -> (status, body)``.
CallbackCheck = Callable[[str, Mapping[str, str]], tuple[int, bytes]]

#: The version the fake reports for subscribed app fields.
_FIELD_VERSION = "v25.0"

#: The scopes a Page token gets when none are named.
DEFAULT_SCOPES = ("pages_messaging", "pages_manage_metadata", "pages_show_list")


@attrs.frozen
class FakeToken:
    """What the fake knows of one access token."""

    type: str
    app_id: str
    profile_id: str
    scopes: tuple[str, ...]
    valid: bool = True


class TenantsGraph:
    """Apps, Pages and tokens the fake Graph API knows (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.apps: dict[str, str] = {}
        self.pages: dict[str, str] = {}
        self.tokens: dict[str, FakeToken] = {}
        #: Page id -> app id -> subscribed fields.
        self.subscriptions: dict[str, dict[str, list[str]]] = {}
        #: App id -> object -> its webhook: ``callback_url``, ``verify_token``,
        #: ``fields`` (names), ``active``.
        self.app_subscriptions: dict[str, dict[str, dict[str, Any]]] = {}
        #: When set, a POST to ``/{app-id}/subscriptions`` first runs the
        #: handshake through it, as Meta does (by default none is run).
        self.verify_callback: CallbackCheck | None = None

    def __repr__(self) -> str:
        return f"TenantsGraph(apps={len(self.apps)}, pages={len(self.pages)})"

    # -- what a test sets up -------------------------------------------------------------

    def add_app(self, app_id: str, secret: str) -> None:
        """Know an app; its app token is ``<app_id>|<secret>``."""
        with self._lock:
            self.apps[app_id] = secret

    def add_page(
        self,
        page_id: str,
        token: str,
        *,
        app_id: str,
        name: str | None = None,
        scopes: Iterable[str] = DEFAULT_SCOPES,
    ) -> None:
        """Know a Page and a Page token of it, issued through ``app_id``."""
        with self._lock:
            self.pages[page_id] = name or self.pages.get(page_id) or f"Page {page_id}"
            self.tokens[token] = FakeToken("PAGE", app_id, page_id, tuple(scopes))

    def add_user_token(
        self, token: str, *, app_id: str, user_id: str = "100001", scopes: Iterable[str] = ()
    ) -> None:
        """Know a user token (the mistake of connecting one instead of a Page token)."""
        with self._lock:
            self.tokens[token] = FakeToken("USER", app_id, user_id, tuple(scopes))

    def revoke(self, token: str) -> None:
        """Make a token dead: every call with it is answered 190."""
        with self._lock:
            self.tokens[token] = attrs.evolve(self.tokens[token], valid=False)

    # -- what the fake asks ------------------------------------------------------------

    def is_page(self, node: str) -> bool:
        """Whether ``node`` is a Page this module knows."""
        return node in self.pages

    def check_token(self, token: str) -> None:
        """Refuse a revoked token with 190, as Meta does on any call."""
        known = self.tokens.get(token)
        if known is not None and not known.valid:
            raise Refusal(
                "Error validating access token: The session has been invalidated because "
                "the user changed their password or Facebook has changed the session for "
                "security reasons.",
                190,
                subcode=460,
            )

    def route(
        self, method: str, node: str, edge: str | None, params: Mapping[str, Any]
    ) -> Route | None:
        """The answer for a call this module serves, or ``None`` to let the fake route it."""
        if node == "debug_token" and edge is None and method == "GET":
            return lambda: self._debug(params)
        if node in self.apps and edge == "subscriptions" and method in ("GET", "POST", "DELETE"):
            return lambda: self._app_subscriptions(method, node, params)
        token = self.tokens.get(str(params.get("access_token", "")))
        page_id = token.profile_id if node == "me" and token is not None else node
        if page_id not in self.pages:
            return None
        if edge == "subscribed_apps" and method in ("GET", "POST", "DELETE"):
            return lambda: self._subscribed_apps(method, page_id, token, params)
        if edge is None and method == "GET" and token is not None and token.type == "PAGE":
            return lambda: Answer(200, dumps({"id": page_id, "name": self.pages[page_id]}))
        return None

    # -- answers -----------------------------------------------------------------------

    def _debug(self, params: Mapping[str, Any]) -> Answer:
        app_token = str(params.get("access_token", ""))
        app_id, _, secret = app_token.partition("|")
        if self.apps.get(app_id) != secret or not secret:
            raise Refusal("Invalid OAuth access token - Cannot parse access token", 190)
        known = self.tokens.get(str(params.get("input_token", "")))
        if known is None:
            raise Refusal("Invalid OAuth access token - Cannot parse access token", 190)
        data: dict[str, Any] = {
            "app_id": known.app_id,
            "type": known.type,
            "application": f"App {known.app_id}",
            "is_valid": known.valid,
            "scopes": list(known.scopes),
            "user_id": "100001",
        }
        if known.type == "PAGE":
            data["profile_id"] = known.profile_id
        if not known.valid:
            data["error"] = {"code": 190, "subcode": 460, "message": "The session was invalidated"}
        return Answer(200, dumps({"data": data}))

    def _subscribed_apps(
        self, method: str, page_id: str, token: FakeToken | None, params: Mapping[str, Any]
    ) -> Answer:
        if token is None or token.type != "PAGE" or token.profile_id != page_id:
            raise Refusal("(#210) A page access token is required to request this resource.", 210)
        if "pages_manage_metadata" not in token.scopes:
            raise Refusal(
                "(#200) Requires pages_manage_metadata permission", 200, type="OAuthException"
            )
        with self._lock:
            apps = self.subscriptions.setdefault(page_id, {})
            if method == "GET":
                found = [{"id": a, "subscribed_fields": f} for a, f in sorted(apps.items())]
                return Answer(200, dumps({"data": found}))
            if method == "DELETE":
                apps.pop(token.app_id, None)
                return Answer(200, dumps({"success": True}))
            fields = params.get("subscribed_fields")
            if not fields:
                raise Refusal("(#100) The parameter subscribed_fields is required", 100)
            names = fields if isinstance(fields, list) else str(fields).split(",")
            apps[token.app_id] = [str(n).strip() for n in names]
            return Answer(200, dumps({"success": True}))

    def _app_subscriptions(self, method: str, app_id: str, params: Mapping[str, Any]) -> Answer:
        if str(params.get("access_token", "")) != f"{app_id}|{self.apps[app_id]}":
            raise Refusal("(#15) This method must be called with an app access_token.", 15)
        if method == "GET":
            with self._lock:
                found = [
                    {
                        "object": item["object"],
                        "callback_url": item["callback_url"],
                        "active": item["active"],
                        "fields": [{"name": n, "version": _FIELD_VERSION} for n in item["fields"]],
                    }
                    for item in self.app_subscriptions.get(app_id, {}).values()
                ]
            return Answer(200, dumps({"data": found}))
        if method == "DELETE":
            target = params.get("object")
            with self._lock:
                objects = self.app_subscriptions.get(app_id, {})
                if target is None:
                    objects.clear()
                else:
                    objects.pop(str(target), None)
            return Answer(200, dumps({"success": True}))
        wanted = {k: params.get(k) for k in ("object", "callback_url", "verify_token", "fields")}
        for key, value in wanted.items():
            if not isinstance(value, str) or not value:
                raise Refusal(f"(#100) The parameter {key} is required", 100)
        self._handshake(str(wanted["callback_url"]), str(wanted["verify_token"]))
        names = [n.strip() for n in str(wanted["fields"]).split(",") if n.strip()]
        with self._lock:
            self.app_subscriptions.setdefault(app_id, {})[str(wanted["object"])] = {
                "object": wanted["object"],
                "callback_url": wanted["callback_url"],
                "verify_token": wanted["verify_token"],
                "fields": names,
                "active": True,
            }
        return Answer(200, dumps({"success": True}))

    def _handshake(self, callback_url: str, verify_token: str) -> None:
        check = self.verify_callback
        if check is None:
            return
        challenge = str(secrets.randbelow(10**9))
        query = {
            "hub.mode": "subscribe",
            "hub.challenge": challenge,
            "hub.verify_token": verify_token,
        }
        status, body = check(callback_url, query)
        if status != 200 or body != challenge.encode():
            raise Refusal(
                "(#2200) Callback verification failed with the following errors: "
                f"HTTP Status Code = {status}; HTTP Message = the response does not match "
                "the challenge",
                2200,
            )
