"""An app's own webhook on Meta's side: ``/{app-id}/subscriptions`` with the app token.

Meta's facts this follows (see the guide "Serving many businesses", section
"Meta's side"): ``POST /{app-id}/subscriptions`` with ``object``,
``callback_url``, ``verify_token`` and ``fields`` and the app access token
sets the app's webhook for that object and answers ``{"success": true}``;
``GET`` on the edge (app token required) lists
``data[{object, callback_url, active, fields[{name, version}]}]``; ``DELETE``
on it removes the object's subscription. Meta checks the callback at once
with the ``hub.challenge`` handshake, over HTTPS with a valid certificate.

The app token (``<app-id>|<app-secret>``) travels only as the client's
``access_token`` (masked in every logged URL and error, like a Page token);
the verify token goes in the JSON body, never in a URL.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

import attrs

from fmc.platform.errors import OnboardingError
from fmc.platform.onboarding import ClientFor, app_page
from fmc.platform.records import App

__all__ = ["PAGE_OBJECT", "AppSubscription", "AppSubscriptions"]

#: The ``object`` of a Messenger webhook subscription.
PAGE_OBJECT = "page"


def _fields(value: Any) -> tuple[str, ...]:
    return tuple(str(f.get("name") if isinstance(f, Mapping) else f) for f in value or ())


@attrs.frozen
class AppSubscription:
    """One object's webhook subscription of an app, as Meta holds it.

    Meta never reads the verify token back, so it is not here.

    Attributes:
        object: What it is for (``page`` for Messenger).
        callback_url: Where Meta delivers.
        active: Whether Meta delivers to it.
        fields: The subscribed fields.
    """

    object: str
    callback_url: str
    active: bool
    fields: tuple[str, ...]

    @classmethod
    def from_graph(cls, item: Mapping[str, Any]) -> AppSubscription:
        """Read one item of Graph's ``data`` list (fields as ``{name, version}``)."""
        return cls(
            str(item.get("object") or ""),
            str(item.get("callback_url") or ""),
            bool(item.get("active")),
            _fields(item.get("fields")),
        )


def check_callback_url(url: str, app: App, *, prefix: str | None) -> str:
    """``url`` if Meta can call it and it names ``app``'s path, else an OnboardingError.

    Args:
        url: The callback URL to set.
        app: The app it is for.
        prefix: The platform's path before the app id (``/webhook/``), or
            ``None`` to skip the path check (a proxy rewrites paths).
    """
    parts = urlsplit(url) if isinstance(url, str) else None
    if parts is None or parts.scheme != "https" or not parts.hostname or parts.fragment:
        raise OnboardingError(
            "the callback URL must be an absolute https:// URL without a #fragment (Meta "
            "calls it over HTTPS with a valid certificate), e.g. "
            f"https://your-host/webhook/{app.id}"
        )
    if prefix is not None and parts.path.rstrip("/") != _path(prefix, app.id):
        raise OnboardingError(
            f"the callback URL's path is {parts.path or '/'!r}, but this platform answers "
            f"app {app.id} at {_path(prefix, app.id)!r}; use https://your-host"
            f"{_path(prefix, app.id)} (or check_path=False behind a proxy that rewrites paths)"
        )
    return url


def _path(prefix: str, app_id: str) -> str:
    return prefix.rstrip("/") + "/" + app_id


class AppSubscriptions:
    """Sets, reads and removes apps' webhooks with their app tokens.

    Args:
        client_for: Builds a client for a token (the platform's base URL and session).
        prefix: The platform's path before each app id, for the path check.
    """

    def __init__(self, client_for: ClientFor, *, prefix: str) -> None:
        self._client_for = client_for
        self.prefix = prefix

    def _call(
        self,
        app: App,
        method: str,
        *,
        what: str,
        params: Mapping[str, str] | None = None,
        body: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        with self._client_for(app_page(app)) as client:
            return client.call_graph(
                method, f"{app.id}/subscriptions", what=what, params=params, body=body
            )

    def set(
        self,
        app: App,
        callback_url: str,
        *,
        fields: Sequence[str],
        object: str = PAGE_OBJECT,
        check_path: bool = True,
    ) -> AppSubscription:
        """Point the app's webhook at ``callback_url`` with its verify token; read it back.

        Raises:
            OnboardingError: a URL Meta cannot call or that names another path,
                or no fields.
            fmc.errors.GraphAPIError: Meta refused (e.g. the handshake failed).
        """
        check_callback_url(callback_url, app, prefix=self.prefix if check_path else None)
        names = [str(f).strip() for f in ([fields] if isinstance(fields, str) else fields)]
        if not names or not all(names):
            raise OnboardingError(
                "name at least one webhook field (e.g. messages, messaging_postbacks); "
                "fmc.platform.DEFAULT_FIELDS are the ones fmc handles"
            )
        body = {
            "object": object,
            "callback_url": callback_url,
            "verify_token": app.verify_token,
            "fields": ",".join(names),
        }
        self._call(app, "POST", what="set the app's webhook", body=body)
        found = self.get(app, object=object)
        if found is None:
            raise OnboardingError(
                f"Meta accepted app {app.id}'s webhook but does not list it; check the app "
                "dashboard's Webhooks settings"
            )
        return found

    def get(self, app: App, *, object: str = PAGE_OBJECT) -> AppSubscription | None:
        """The app's webhook for ``object``, or ``None`` when none is set."""
        answer = self._call(app, "GET", what="read the app's webhook")
        for item in answer.get("data") or ():
            if isinstance(item, Mapping) and item.get("object") == object:
                return AppSubscription.from_graph(item)
        return None

    def delete(self, app: App, *, object: str = PAGE_OBJECT) -> None:
        """Remove the app's webhook for ``object`` (Meta stops delivering to it)."""
        self._call(app, "DELETE", what="remove the app's webhook", params={"object": object})
