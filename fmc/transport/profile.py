"""User profiles and the Page's Messenger profile (get started, greeting, menu …).

Pure helpers that turn Python values into the Graph bodies of the User
Profile API and the Messenger Profile API, and Graph's answers
back into values. :class:`~fmc.transport.client.Client` does the HTTP.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import attrs

from fmc.errors import GraphAPIError

__all__ = [
    "DEFAULT_PROFILE_FIELDS",
    "MESSENGER_PROFILE_FIELDS",
    "UserProfile",
    "messenger_profile_body",
    "messenger_profile_fields",
]

#: The User Profile fields every app may read.
DEFAULT_PROFILE_FIELDS = ("first_name", "last_name", "profile_pic")

#: Messenger profile properties fmc knows how to set, get and delete.
MESSENGER_PROFILE_FIELDS = (
    "get_started",
    "greeting",
    "ice_breakers",
    "persistent_menu",
    "whitelisted_domains",
    "account_linking_url",
)


def _str_or_none(value: object) -> str | None:
    return value if isinstance(value, str) else None


@attrs.frozen
class UserProfile:
    """A person's public profile as the User Profile API returns it.

    Attributes:
        id: The PSID.
        first_name: First name.
        last_name: Last name.
        name: Full name.
        profile_pic: URL of the profile picture (it expires).
        locale: Locale, e.g. ``en_US`` (needs extra approval).
        timezone: Offset from UTC in hours (needs extra approval).
        gender: Gender (needs extra approval).
        raw: Every field Graph returned, as it returned them.
    """

    id: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    name: str | None = None
    profile_pic: str | None = None
    locale: str | None = None
    timezone: float | None = None
    gender: str | None = None
    raw: Mapping[str, Any] = attrs.field(factory=dict, eq=False, repr=False)

    @classmethod
    def from_wire(cls, data: Mapping[str, Any]) -> UserProfile:
        """Build a profile from Graph's JSON, ignoring fields of the wrong type.

        Args:
            data: The decoded JSON object Graph answered.

        Returns:
            The profile.
        """
        timezone = data.get("timezone")
        if isinstance(timezone, bool) or not isinstance(timezone, (int, float)):
            timezone = None
        return cls(
            id=_str_or_none(data.get("id")),
            first_name=_str_or_none(data.get("first_name")),
            last_name=_str_or_none(data.get("last_name")),
            name=_str_or_none(data.get("name")),
            profile_pic=_str_or_none(data.get("profile_pic")),
            locale=_str_or_none(data.get("locale")),
            timezone=float(timezone) if timezone is not None else None,
            gender=_str_or_none(data.get("gender")),
            raw=dict(data),
        )


def messenger_profile_fields(fields: Iterable[str] | str) -> list[str]:
    """Check a list of Messenger profile property names.

    Args:
        fields: Property names, e.g. ``["greeting", "get_started"]``, or one name.

    Returns:
        The names as a list.

    Raises:
        ValueError: No names, or a name that is not a string of letters and
            underscores.
    """
    names = [fields] if isinstance(fields, str) else list(fields)
    if not names:
        raise ValueError("name at least one Messenger profile field")
    for name in names:
        if not isinstance(name, str) or not name or not name.replace("_", "").isalpha():
            raise ValueError(f"not a Messenger profile field name: {name!r}")
    return names


def _wire(value: Any) -> Any:
    # Models (buttons) become Graph JSON; plain JSON values pass through.
    if attrs.has(type(value)):
        from fmc.convert import to_wire

        return to_wire(value)
    return value


def _greeting(greeting: str | Mapping[str, str] | Sequence[Mapping[str, Any]]) -> list[Any]:
    if isinstance(greeting, str):
        return [{"locale": "default", "text": greeting}]
    if isinstance(greeting, Mapping):
        return [{"locale": locale, "text": text} for locale, text in greeting.items()]
    return [dict(item) for item in greeting]


def _persistent_menu(menu: Sequence[Any]) -> list[Any]:
    items = list(menu)
    if items and all(not isinstance(item, Mapping) for item in items):
        # A plain list of buttons: the default-locale menu.
        return [
            {
                "locale": "default",
                "composer_input_disabled": False,
                "call_to_actions": [_wire(item) for item in items],
            }
        ]
    return [_wire(item) for item in items]


def _ice_breakers(ice_breakers: Sequence[Any]) -> list[Any]:
    items = list(ice_breakers)
    if items and all(isinstance(item, tuple) for item in items):
        return [
            {
                "locale": "default",
                "call_to_actions": [
                    {"question": question, "payload": payload} for question, payload in items
                ],
            }
        ]
    return [dict(item) for item in items]


def messenger_profile_body(
    *,
    get_started: str | Mapping[str, Any] | None = None,
    greeting: str | Mapping[str, str] | Sequence[Mapping[str, Any]] | None = None,
    persistent_menu: Sequence[Any] | None = None,
    ice_breakers: Sequence[Any] | None = None,
    whitelisted_domains: Sequence[str] | None = None,
) -> dict[str, Any]:
    """Build the body of a Messenger profile update.

    Args:
        get_started: The Get Started button's postback payload, or its JSON.
        greeting: A greeting text for every locale, a ``{locale: text}``
            mapping, or Graph's list of ``{"locale", "text"}`` objects.
        persistent_menu: Buttons for the default-locale menu, or Graph's list
            of per-locale menu objects.
        ice_breakers: ``(question, payload)`` pairs for the default locale, or
            Graph's list of per-locale objects.
        whitelisted_domains: Domains (``https://…``) allowed in webviews.

    Returns:
        The JSON body for ``POST /{page_id}/messenger_profile``.

    Raises:
        ValueError: No property given.
    """
    body: dict[str, Any] = {}
    if get_started is not None:
        body["get_started"] = (
            {"payload": get_started} if isinstance(get_started, str) else dict(get_started)
        )
    if greeting is not None:
        body["greeting"] = _greeting(greeting)
    if persistent_menu is not None:
        body["persistent_menu"] = _persistent_menu(persistent_menu)
    if ice_breakers is not None:
        body["ice_breakers"] = _ice_breakers(ice_breakers)
    if whitelisted_domains is not None:
        if isinstance(whitelisted_domains, str):
            raise ValueError("whitelisted_domains must be a list of domains, not one string")
        body["whitelisted_domains"] = list(whitelisted_domains)
    if not body:
        raise ValueError("set at least one Messenger profile property")
    return body


def first_profile(data: Mapping[str, Any]) -> dict[str, Any]:
    """Unwrap Graph's ``{"data": [{...}]}`` answer to a Messenger profile read.

    Args:
        data: The decoded answer.

    Returns:
        The profile properties (empty when none is set).

    Raises:
        GraphAPIError: The answer does not have that shape.
    """
    items = data.get("data")
    if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
        raise GraphAPIError("Messenger profile answer has no 'data' list of objects", status=200)
    return dict(items[0]) if items else {}
