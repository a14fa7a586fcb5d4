"""The Page fmc speaks for, with the credentials to do so."""

from __future__ import annotations

import re
from typing import Any

import attrs

from fmc.errors import ConfigurationError

__all__ = ["Page"]

# The id becomes a URL path segment, so nothing that could change the path.
_PAGE_ID = re.compile(r"[A-Za-z0-9_.\-]+")


def _page_id(value: str | int) -> str:
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise ConfigurationError(f"Page.id must be a str or int, got {type(value).__name__}")
    return value if isinstance(value, str) else str(value)


def _check_id(_instance: Any, _attribute: attrs.Attribute[Any], value: str) -> None:
    if not _PAGE_ID.fullmatch(value):
        raise ConfigurationError(
            "Page.id must be the Page's numeric id (letters, digits, '_', '.', '-' only), "
            f"got {value!r}"
        )


def _check_secret(_instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    # Never echo the value: it is a credential.
    if value is None and attribute.name == "app_secret":
        return
    if not isinstance(value, str):
        raise ConfigurationError(f"Page.{attribute.name} must be a str, got {type(value).__name__}")
    if not value or value != value.strip():
        raise ConfigurationError(
            f"Page.{attribute.name} must be a non-empty string without surrounding whitespace"
        )


@attrs.frozen
class Page:
    """A Facebook Page and the credentials fmc uses for it.

    The access token and the app secret are never shown by ``repr`` or in
    an error message.

    Attributes:
        id: The Page's id (digits; an int is accepted and kept as a str).
        access_token: A Page access token with ``pages_messaging``.
        app_secret: The app's secret; when given, every Graph call carries an
            ``appsecret_proof``.
        name: The Page's name, for logs and reports.

    Raises:
        ConfigurationError: The id is empty or not URL-safe, or a credential is
            empty, not a string, or padded with whitespace.
    """

    id: str = attrs.field(converter=_page_id, validator=_check_id)
    access_token: str = attrs.field(repr=False, validator=_check_secret)
    app_secret: str | None = attrs.field(default=None, repr=False, validator=_check_secret)
    name: str | None = None
