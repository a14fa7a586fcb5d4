"""Utility message templates: Meta's library, the Page's own templates, and their status.

Built on :meth:`fmc.Client.call_graph`. Meta's flows ("Send a utility message",
updated 13 March 2026) are: search Meta's library (``GET
/message_template_library``), clone a library template to the Page, or create
a Page-owned template (approved within seconds); list the Page's templates
(``GET /{page-id}/message_templates``, Page token with
``page_utility_messaging``); follow approvals and rejections through the
``message_template_status_update`` webhook field; then send a
:class:`~fmc.models.UtilityTemplate`. The clone and create bodies follow the
shape of Meta's template APIs (``name``, ``language``, ``category``
``UTILITY``, ``library_template_name`` or ``components``); the stored copy of
the Messenger page is cut before them, so they are fmc's assumption.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

import attrs

from fmc.errors import GraphAPIError
from fmc.webhook.events import Event, UnknownEvent

if TYPE_CHECKING:
    from fmc.transport.client import Client

__all__ = [
    "STATUS_FIELD",
    "MessageTemplate",
    "TemplateStatusUpdate",
    "clone_library_template",
    "create_page_template",
    "delete_page_template",
    "list_library_templates",
    "list_page_templates",
    "template_status_updates",
    "track_template_status",
]

#: The webhook field that reports a template's approval, rejection or disabling.
STATUS_FIELD = "message_template_status_update"


def _text(data: Mapping[str, Any], key: str) -> str | None:
    value = data.get(key)
    if value is None:
        return None
    return str(value)


@attrs.frozen(kw_only=True)
class MessageTemplate:
    """A template as Graph describes it (in Meta's library or on the Page).

    Attributes:
        name: Its name.
        language: Its language code.
        id: Its id (Page templates).
        status: ``APPROVED``, ``PENDING``, ``REJECTED`` ... (Page templates).
        category: ``UTILITY`` for utility templates.
        body: The body text with its placeholders, when Graph gave it.
        raw: The object as received.
    """

    name: str
    language: str | None = None
    id: str | None = None
    status: str | None = None
    category: str | None = None
    body: str | None = None
    raw: Mapping[str, Any] = attrs.field(factory=dict, eq=False, repr=False)

    @property
    def approved(self) -> bool:
        """Whether the template may be sent."""
        return self.status == "APPROVED"

    @classmethod
    def from_wire(cls, data: Mapping[str, Any]) -> MessageTemplate:
        """Read one template object.

        Raises:
            GraphAPIError: It has no name.
        """
        name = data.get("name")
        if not isinstance(name, str) or not name:
            raise GraphAPIError("a message template came back without a name", status=200)
        body = data.get("body")
        for component in data.get("components") or ():
            if isinstance(component, Mapping) and str(component.get("type")).upper() == "BODY":
                body = component.get("text", body)
        return cls(
            name=name,
            language=_text(data, "language"),
            id=_text(data, "id"),
            status=_text(data, "status"),
            category=_text(data, "category"),
            body=None if body is None else str(body),
            raw=dict(data),
        )


def _templates(data: Mapping[str, Any], what: str) -> tuple[MessageTemplate, ...]:
    items = data.get("data")
    if not isinstance(items, list):
        raise GraphAPIError(f"{what} answered without a data list", status=200)
    return tuple(MessageTemplate.from_wire(item) for item in items if isinstance(item, Mapping))


def list_library_templates(
    client: Client,
    *,
    search: str | None = None,
    language: str | None = None,
    topic: str | None = None,
    usecase: str | None = None,
    industry: str | None = None,
) -> tuple[MessageTemplate, ...]:
    """Search Meta's library of pre-approved utility templates.

    Args:
        client: The Page's client.
        search: Words in the template's name or content.
        language: A language code, e.g. ``en_US``.
        topic: Meta's topic filter (e.g. ``ORDER_MANAGEMENT``).
        usecase: Meta's use-case filter (e.g. ``SHIPMENT_CONFIRMATION``).
        industry: Meta's industry filter.

    Returns:
        The matching library templates.
    """
    given = {
        "search": search,
        "language": language,
        "topic": topic,
        "usecase": usecase,
        "industry": industry,
    }
    params = {key: value for key, value in given.items() if value is not None}
    data = client.call_graph(
        "GET", "message_template_library", what="template library", params=params
    )
    return _templates(data, "template library")


def _created(data: Mapping[str, Any], name: str, language: str, what: str) -> MessageTemplate:
    template_id = data.get("id")
    if template_id is None:
        raise GraphAPIError(f"{what} answered without an id", status=200)
    return MessageTemplate(
        name=name,
        language=language,
        id=str(template_id),
        status=_text(data, "status"),
        category=_text(data, "category") or "UTILITY",
        raw=dict(data),
    )


def clone_library_template(
    client: Client, library_template_name: str, *, name: str, language: str = "en_US"
) -> MessageTemplate:
    """Copy one of Meta's library templates to the Page's templates.

    Args:
        client: The Page's client.
        library_template_name: The library template's name.
        name: The name it gets on the Page.
        language: Its language code.

    Returns:
        The Page's new template, with the status Meta gave it.
    """
    body = {
        "name": name,
        "language": language,
        "category": "UTILITY",
        "library_template_name": library_template_name,
    }
    data = client.call_graph(
        "POST", f"{client.page.id}/message_templates", what="template clone", body=body
    )
    return _created(data, name, language, "template clone")


def create_page_template(
    client: Client,
    name: str,
    body_text: str,
    *,
    language: str = "en_US",
    examples: Iterable[str] = (),
) -> MessageTemplate:
    """Create a Page-owned utility template (Meta approves it within seconds).

    Args:
        client: The Page's client.
        name: Its name (lower-case letters, digits, underscores).
        body_text: The body, with placeholders ``{{1}}``, ``{{2}}`` ...
        language: Its language code.
        examples: One example value per placeholder, for Meta's review.

    Returns:
        The new template, with the status Meta gave it.
    """
    component: dict[str, Any] = {"type": "BODY", "text": body_text}
    sample = list(examples)
    if sample:
        component["example"] = {"body_text": [sample]}
    body = {"name": name, "language": language, "category": "UTILITY", "components": [component]}
    data = client.call_graph(
        "POST", f"{client.page.id}/message_templates", what="template create", body=body
    )
    return _created(data, name, language, "template create")


def list_page_templates(client: Client) -> tuple[MessageTemplate, ...]:
    """List the Page's templates with their status.

    Args:
        client: The Page's client.

    Returns:
        The Page's templates.
    """
    data = client.call_graph("GET", f"{client.page.id}/message_templates", what="template list")
    return _templates(data, "template list")


def delete_page_template(client: Client, name: str) -> None:
    """Delete one of the Page's templates (every language of that name).

    Args:
        client: The Page's client.
        name: The template's name.

    Raises:
        GraphAPIError: Meta refused, or did not answer success.
    """
    data = client.call_graph(
        "DELETE",
        f"{client.page.id}/message_templates",
        what="template delete",
        params={"name": name},
    )
    if data.get("success") is not True:
        raise GraphAPIError("template delete did not answer success", status=200)


@attrs.frozen(kw_only=True)
class TemplateStatusUpdate:
    """A ``message_template_status_update`` change: a template was approved, rejected ...

    Attributes:
        page_id: The entry's id.
        event: ``APPROVED``, ``REJECTED``, ``DISABLED``, ``PAUSED`` ...
        name: The template's name.
        language: Its language code.
        template_id: Its id.
        reason: Meta's reason, for a rejection.
    """

    page_id: str | None
    event: str
    name: str
    language: str | None = None
    template_id: str | None = None
    reason: str | None = None


def template_status_updates(events: Iterable[Event]) -> list[TemplateStatusUpdate]:
    """Pick the template status changes out of parsed webhook events.

    They arrive as ``entry[].changes`` items (``field``
    ``message_template_status_update``), which the parser keeps as
    :class:`~fmc.webhook.UnknownEvent`.

    Args:
        events: Events from :func:`fmc.webhook.parse_events` or a handler.

    Returns:
        The status changes, in order.
    """
    updates = []
    for event in events:
        if not isinstance(event, UnknownEvent) or event.raw.get("field") != STATUS_FIELD:
            continue
        value = event.raw.get("value")
        if not isinstance(value, Mapping) or not isinstance(value.get("event"), str):
            continue
        name = value.get("message_template_name")
        if not isinstance(name, str):
            continue
        updates.append(
            TemplateStatusUpdate(
                page_id=event.page_id,
                event=value["event"],
                name=name,
                language=_text(value, "message_template_language"),
                template_id=_text(value, "message_template_id"),
                reason=_text(value, "reason"),
            )
        )
    return updates


def track_template_status(
    statuses: Mapping[str, str], updates: Iterable[TemplateStatusUpdate]
) -> dict[str, str]:
    """Apply status changes to a name → status map.

    Args:
        statuses: The statuses known so far (e.g. from :func:`list_page_templates`).
        updates: Changes from :func:`template_status_updates`, oldest first.

    Returns:
        A new map with each updated template's latest status.
    """
    tracked = dict(statuses)
    for update in updates:
        tracked[update.name] = update.event
    return tracked
