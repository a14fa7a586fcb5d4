"""Personas: a name and picture a human agent (or a bot) sends as, on ``/{page-id}/personas``.

Meta ("Personas", updated 22 April 2026): create with ``name`` and
``profile_picture_url`` (Meta downloads and re-hosts the picture), list them
on the Page, read or delete one by its id; send as one with
``SendRequest(..., persona_id=...)``. Needs a Page token of someone with the
MESSAGING task and ``pages_messaging``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import attrs

from fmc.errors import GraphAPIError
from fmc.models.limits import ValidationError

if TYPE_CHECKING:
    from fmc.transport.client import Client

__all__ = ["Persona", "create_persona", "delete_persona", "list_personas"]

#: Meta's limit on a persona's name.
MAX_PERSONA_NAME = 50


@attrs.frozen
class Persona:
    """A persona of the Page.

    Attributes:
        id: Its id, to send with ``persona_id``.
        name: The name people see.
        profile_picture_url: The picture's URL (Meta's copy once created).
    """

    id: str
    name: str | None = None
    profile_picture_url: str | None = None


def create_persona(client: Client, name: str, profile_picture_url: str) -> Persona:
    """Create a persona on the Page.

    Args:
        client: The Page's client.
        name: The name people see, 1 to 50 characters.
        profile_picture_url: An http(s) URL of the picture.

    Returns:
        The new persona.

    Raises:
        ValidationError: The name is empty or too long, or the URL is not http(s).
        GraphAPIError: Meta refused, or answered without an id.
    """
    if not isinstance(name, str) or not 1 <= len(name) <= MAX_PERSONA_NAME:
        raise ValidationError(f"a persona name must be 1 to {MAX_PERSONA_NAME} characters")
    if not profile_picture_url.startswith(("http://", "https://")):
        raise ValidationError("a persona's profile_picture_url must be an http(s) URL")
    data = client.call_graph(
        "POST",
        f"{client.page.id}/personas",
        what="persona create",
        body={"name": name, "profile_picture_url": profile_picture_url},
    )
    persona_id = data.get("id")
    if persona_id is None:
        raise GraphAPIError("persona create answered without an id", status=200)
    return Persona(str(persona_id), name, profile_picture_url)


def _persona(item: Any) -> Persona:
    return Persona(str(item["id"]), item.get("name"), item.get("profile_picture_url"))


def list_personas(client: Client) -> tuple[Persona, ...]:
    """List the Page's personas.

    Args:
        client: The Page's client.

    Returns:
        The personas.
    """
    data = client.call_graph("GET", f"{client.page.id}/personas", what="persona list")
    items = data.get("data")
    if not isinstance(items, list):
        raise GraphAPIError("persona list answered without a data list", status=200)
    return tuple(_persona(item) for item in items if isinstance(item, dict) and "id" in item)


def delete_persona(client: Client, persona_id: str) -> None:
    """Delete a persona by its id.

    Args:
        client: The Page's client.
        persona_id: The persona's id.

    Raises:
        ValueError: The id is not a plain id.
        GraphAPIError: Meta refused, or did not answer success.
    """
    if not isinstance(persona_id, str) or not persona_id.isdigit():
        raise ValueError("persona_id must be the persona's numeric id")
    data = client.call_graph("DELETE", persona_id, what="persona delete")
    if data.get("success") is not True:
        raise GraphAPIError("persona delete did not answer success", status=200)
