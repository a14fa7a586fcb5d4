"""The fake Graph API's 2026 endpoints: utility templates, personas, thread control.

:class:`PlatformGraph` holds their state and answers them; the fake
(:class:`~fmc.testing.FakeGraphAPI`, attribute ``platform``) routes calls here
before its own routes. It answers with Meta's shapes and errors:

* ``GET /message_template_library``: :attr:`PlatformGraph.library`, filtered by
  ``search`` and ``language``.
* ``GET|POST|DELETE /{page}/message_templates``: the Page's templates; a new
  one is ``APPROVED`` at once (Meta: "within seconds") unless its name is in
  :attr:`PlatformGraph.reject_names`; a clone needs a library template.
* ``GET|POST /{page}/personas`` and ``GET|DELETE /{persona-id}``.
* ``POST /{page}/take_thread_control`` and ``pass_thread_control``, and
  ``GET /{page}/thread_owner?recipient=<PSID>``.
* ``POST /act_<AD_ACCOUNT_ID>/messages``: a marketing message to an opt-in
  token, kept in :attr:`PlatformGraph.marketing_messages`; refused with Meta's
  2300000 while :attr:`PlatformGraph.campaign_active` is false.

A utility send (``messaging_type`` ``UTILITY``) is refused unless the Page has
that template approved, and a tag in :attr:`PlatformGraph.removed_tags` is
refused with error 100.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Mapping
from typing import Any

from fmc.testing._rules import Refusal
from fmc.testing._wire import Answer, dumps

__all__ = ["DEFAULT_LIBRARY", "PAGE_INBOX_APP_ID", "REPORTED_REMOVED_TAGS", "PlatformGraph"]

#: The tags reported returning error 100 since 27 April 2026. Set
#: ``fake.platform.removed_tags = REPORTED_REMOVED_TAGS`` to have the fake refuse
#: them the same way (it accepts them by default).
REPORTED_REMOVED_TAGS = frozenset(
    {"CONFIRMED_EVENT_UPDATE", "POST_PURCHASE_UPDATE", "ACCOUNT_UPDATE"}
)

#: The Page Inbox's app id, the usual target of a hand-over to humans.
PAGE_INBOX_APP_ID = "263902037430900"

#: Library templates the fake offers unless told otherwise (shaped like Meta's).
DEFAULT_LIBRARY: tuple[Mapping[str, Any], ...] = (
    {
        "name": "order_shipped_1",
        "language": "en_US",
        "category": "UTILITY",
        "topic": "ORDER_MANAGEMENT",
        "usecase": "SHIPMENT_CONFIRMATION",
        "body": "Good news {{1}}! Your order {{2}} has shipped.",
    },
    {
        "name": "appointment_reminder_1",
        "language": "en_US",
        "category": "UTILITY",
        "topic": "APPOINTMENTS",
        "usecase": "APPOINTMENT_REMINDER",
        "body": "Hi {{1}}, this is a reminder of your appointment on {{2}}.",
    },
)

Route = Callable[[], Answer]


def _json(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _required(params: Mapping[str, Any], key: str) -> str:
    value = params.get(key)
    if not isinstance(value, str) or not value:
        raise Refusal(f"(#100) The parameter {key} is required")
    return value


class PlatformGraph:
    """State and answers of the fake's template, persona and thread-control endpoints.

    Attributes:
        library: Meta's template library as the fake offers it.
        templates: The Page's templates by name.
        personas: Personas by id.
        thread_owners: PSID to the app id that owns the thread (idle when absent).
        reject_names: Template names the fake rejects on creation.
        marketing_messages: Bodies sent to the Marketing Messages API, in order.
        campaign_active: Whether the marketing campaign is active (else 2300000).
        removed_tags: Message tags refused with error 100 (none by default).
        app_id: The calling app's id (the owner after a take).
    """

    def __init__(self, *, page_id: str, app_id: str = "1517776481860111") -> None:
        """Create the endpoints' state for the fake Page ``page_id``."""
        self.page_id = page_id
        self.app_id = app_id
        self.library: list[dict[str, Any]] = [dict(item) for item in DEFAULT_LIBRARY]
        self.templates: dict[str, dict[str, Any]] = {}
        self.personas: dict[str, dict[str, Any]] = {}
        self.thread_owners: dict[str, str] = {}
        self.reject_names: set[str] = set()
        self.marketing_messages: list[dict[str, Any]] = []
        self.campaign_active = True
        self.removed_tags: frozenset[str] = frozenset()
        self._lock = threading.Lock()
        self._ids = 0

    def route(
        self, method: str, node: str, edge: str | None, params: Mapping[str, Any]
    ) -> Route | None:
        """The answer for a call this module serves, or ``None`` to let the fake route it."""
        is_page = node in ("me", self.page_id)
        if node.startswith("act_") and edge == "messages" and method == "POST":
            return lambda: self._marketing(params)
        if node == "message_template_library" and edge is None and method == "GET":
            return lambda: self._library(params)
        if edge is None and node in self.personas and method in ("GET", "DELETE"):
            return lambda: self._persona(method, node)
        if not is_page or edge is None:
            return None
        handlers: dict[tuple[str, str], Route] = {
            ("GET", "message_templates"): self._list_templates,
            ("POST", "message_templates"): lambda: self._create_template(params),
            ("DELETE", "message_templates"): lambda: self._delete_template(params),
            ("GET", "personas"): self._list_personas,
            ("POST", "personas"): lambda: self._create_persona(params),
            ("POST", "take_thread_control"): lambda: self._take(params),
            ("POST", "pass_thread_control"): lambda: self._pass(params),
            ("GET", "thread_owner"): lambda: self._owner(params),
        }
        return handlers.get((method, edge))

    def check_send(
        self, messaging_type: str | None, message: Mapping[str, Any] | None, tag: str | None = None
    ) -> None:
        """Refuse a removed tag, or a utility send whose template is not approved."""
        if tag is not None and tag in self.removed_tags:
            raise Refusal(f"(#100) The {tag} tag is no longer supported")
        template = None if message is None else message.get("template")
        if messaging_type != "UTILITY" and template is None:
            return
        if messaging_type != "UTILITY" or not isinstance(template, Mapping):
            raise Refusal("(#100) A template message must be sent with messaging_type UTILITY")
        name = template.get("name")
        with self._lock:
            found = self.templates.get(name) if isinstance(name, str) else None
        if found is None or found["status"] != "APPROVED":
            raise Refusal(f"(#100) Template {name!r} does not exist or is not approved")

    # -- templates ----------------------------------------------------------------------

    def _next_id(self) -> str:
        with self._lock:
            self._ids += 1
            return str(7 * 10**14 + self._ids)

    def _library(self, params: Mapping[str, Any]) -> Answer:
        search = str(params.get("search") or "").lower()
        language = params.get("language")
        found = [
            item
            for item in self.library
            if search in item["name"].lower() + " " + item.get("body", "").lower()
            and (language is None or item.get("language") == language)
        ]
        return Answer(200, dumps({"data": found}))

    def _list_all(self, table: Mapping[str, dict[str, Any]]) -> Answer:
        """A Graph list answer with a copy of every row of ``table``, read under the lock."""
        with self._lock:
            found = [dict(item) for item in table.values()]
        return Answer(200, dumps({"data": found}))

    def _list_templates(self) -> Answer:
        return self._list_all(self.templates)

    def _create_template(self, params: Mapping[str, Any]) -> Answer:
        name = _required(params, "name")
        language = _required(params, "language")
        if params.get("category") != "UTILITY":
            raise Refusal("(#100) Param category must be UTILITY for Page message templates")
        library_name = params.get("library_template_name")
        if library_name is not None:
            source = next((t for t in self.library if t["name"] == library_name), None)
            if source is None:
                raise Refusal(f"(#100) Library template {library_name!r} does not exist")
            components = [{"type": "BODY", "text": source.get("body", "")}]
        else:
            components = _json(params.get("components"))
            if not isinstance(components, list) or not components:
                raise Refusal("(#100) The parameter components is required")
        with self._lock:
            if name in self.templates:
                raise Refusal(f"(#100) A template named {name!r} already exists", subcode=2388024)
        status = "REJECTED" if name in self.reject_names else "APPROVED"
        template = {
            "id": self._next_id(),
            "name": name,
            "language": language,
            "category": "UTILITY",
            "status": status,
            "components": components,
        }
        with self._lock:
            self.templates[name] = template
        answer = {"id": template["id"], "status": status, "category": "UTILITY"}
        return Answer(200, dumps(answer))

    def _delete_template(self, params: Mapping[str, Any]) -> Answer:
        name = _required(params, "name")
        with self._lock:
            if self.templates.pop(name, None) is None:
                raise Refusal(f"(#100) Template {name!r} does not exist", subcode=2593002)
        return Answer(200, dumps({"success": True}))

    # -- marketing messages -------------------------------------------------------------

    def _marketing(self, params: Mapping[str, Any]) -> Answer:
        if not self.campaign_active:
            raise Refusal(
                "You cannot send a message unless the message campaign under which the "
                "message exists is active.",
                2300000,
            )
        recipient = _json(params.get("recipient"))
        token = (
            recipient.get("notification_messages_token") if isinstance(recipient, Mapping) else None
        )
        if not isinstance(token, str) or not token:
            raise Refusal("(#100) param recipient[notification_messages_token] is required")
        message = _json(params.get("message"))
        if not isinstance(message, Mapping):
            raise Refusal("(#100) param message must be a JSON object")
        with self._lock:
            self.marketing_messages.append({"token": token, "message": dict(message)})
        return Answer(200, dumps({"message_id": f"m_mm{self._next_id()}"}))

    # -- personas -----------------------------------------------------------------------

    def _list_personas(self) -> Answer:
        return self._list_all(self.personas)

    def _create_persona(self, params: Mapping[str, Any]) -> Answer:
        name = _required(params, "name")
        picture = _required(params, "profile_picture_url")
        if not picture.startswith(("http://", "https://")):
            raise Refusal("(#100) param profile_picture_url must be a valid URL")
        persona_id = self._next_id()
        with self._lock:
            self.personas[persona_id] = {
                "id": persona_id,
                "name": name,
                "profile_picture_url": picture,
            }
        return Answer(200, dumps({"id": persona_id}))

    def _persona(self, method: str, persona_id: str) -> Answer:
        with self._lock:
            if method == "DELETE":
                self.personas.pop(persona_id, None)
                return Answer(200, dumps({"success": True}))
            return Answer(200, dumps(self.personas[persona_id]))

    # -- thread control -----------------------------------------------------------------

    def _psid(self, params: Mapping[str, Any]) -> str:
        raw = params.get("recipient")
        recipient = _json(raw)
        if isinstance(recipient, Mapping) and isinstance(recipient.get("id"), str):
            return str(recipient["id"])
        if isinstance(raw, str) and raw.isdigit():
            return raw
        raise Refusal("(#100) The parameter recipient is required")

    def _take(self, params: Mapping[str, Any]) -> Answer:
        # Conversation control: the answer names the new owner.
        psid = self._psid(params)
        with self._lock:
            self.thread_owners[psid] = self.app_id
        return Answer(200, dumps({"data": [{"thread_owner": {"app_id": self.app_id}}]}))

    def _pass(self, params: Mapping[str, Any]) -> Answer:
        psid = self._psid(params)
        target = params.get("target_app_id")
        if not isinstance(target, (str, int)) or isinstance(target, bool):
            raise Refusal("(#100) The parameter target_app_id is required")
        with self._lock:
            self.thread_owners[psid] = str(target)
        return Answer(200, dumps({"success": True}))

    def _owner(self, params: Mapping[str, Any]) -> Answer:
        psid = self._psid(params)
        with self._lock:
            owner = self.thread_owners.get(psid)
        data = [] if owner is None else [{"thread_owner": {"app_id": owner}}]
        return Answer(200, dumps({"data": data}))
