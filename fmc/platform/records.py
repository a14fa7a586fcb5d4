"""The apps and Pages a platform serves: what the operator registers and reads back."""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable
from typing import Any

import attrs

from fmc.errors import ConfigurationError

__all__ = ["App", "PageRecord", "PageStatus"]

# Ids become URL path segments (the webhook path, Graph paths).
_ID = re.compile(r"[0-9A-Za-z_.\-]+")


def _check_id(_instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if not isinstance(value, str) or not _ID.fullmatch(value):
        raise ConfigurationError(
            f"{attribute.name} must be a Facebook id (letters, digits, '_', '.', '-'), "
            f"got {value!r}"
        )


def _as_id(value: Any) -> Any:
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


def _check_secret(_instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    # Never echo the value: it is a credential.
    if not isinstance(value, str) or not value or value != value.strip():
        raise ConfigurationError(
            f"{attribute.name} must be a non-empty string without surrounding whitespace"
        )


def _check_secrets(instance: Any, attribute: attrs.Attribute[Any], value: tuple[str, ...]) -> None:
    if not value:
        raise ConfigurationError("App.secrets needs at least one app secret (newest first)")
    for secret in value:
        _check_secret(instance, attribute, secret)


def _permissions(value: Iterable[str]) -> frozenset[str]:
    if isinstance(value, str):
        raise ConfigurationError("permissions must be a collection of names, not one string")
    return frozenset(str(v) for v in value)


def _secrets(value: Any) -> tuple[str, ...]:
    return (value,) if isinstance(value, str) else tuple(value)


@attrs.frozen
class App:
    """A Facebook app whose webhook the platform answers.

    The secrets and the verify token never appear in ``repr``.

    Attributes:
        id: The app's id; its webhook path is ``/webhook/<id>``.
        secrets: Its app secret, or several newest first while one is being
            rotated (a delivery signed with any of them is accepted).
        verify_token: The token set with the app's callback URL.
        name: A display name (the business), for lists and logs.

    Raises:
        ConfigurationError: an id that is not URL-safe, no secret, or an
            empty or padded secret or verify token.
    """

    id: str = attrs.field(converter=_as_id, validator=_check_id)
    secrets: tuple[str, ...] = attrs.field(converter=_secrets, validator=_check_secrets, repr=False)
    verify_token: str = attrs.field(validator=_check_secret, repr=False)
    name: str | None = None

    @property
    def secret(self) -> str:
        """The newest secret, which signs ``appsecret_proof`` and forwarded deliveries."""
        return self.secrets[0]

    @property
    def access_token(self) -> str:
        """The app access token, ``<app-id>|<app-secret>`` (for ``debug_token``)."""
        return f"{self.id}|{self.secret}"


class PageStatus(str, enum.Enum):
    """Whether the platform can speak for a Page."""

    #: Connected, token working.
    ACTIVE = "active"
    #: Meta answered 190 for its token; reconnect it with a fresh token.
    TOKEN_INVALID = "token_invalid"  # noqa: S105 - a status, not a password
    #: Meta restricted the Page's messaging.
    RESTRICTED = "restricted"
    #: Disconnected by the operator; deliveries for it are refused.
    DISCONNECTED = "disconnected"


@attrs.frozen
class PageRecord:
    """A Page connected to one app of the platform.

    The access token never appears in ``repr``.

    Attributes:
        id: The Page's id.
        app_id: The app it is connected to (its deliveries come through that app).
        access_token: Its Page access token.
        name: Its name.
        redirect_to: Where its deliveries are forwarded when the query names no
            ``redirect_to``.
        permissions: What its token was granted (``pages_messaging`` …).
        status: Whether the platform can speak for it.
        status_reason: Why the status last changed.
    """

    id: str = attrs.field(converter=_as_id, validator=_check_id)
    app_id: str = attrs.field(converter=_as_id, validator=_check_id)
    access_token: str = attrs.field(validator=_check_secret, repr=False)
    name: str | None = None
    redirect_to: str | None = None
    permissions: frozenset[str] = attrs.field(default=frozenset(), converter=_permissions)
    status: PageStatus = attrs.field(default=PageStatus.ACTIVE, converter=PageStatus)
    status_reason: str | None = None

    @property
    def active(self) -> bool:
        """Whether its deliveries are processed and its sends attempted."""
        return self.status is PageStatus.ACTIVE
