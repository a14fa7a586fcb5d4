"""The sync client's Graph calls beyond sending messages: profiles, attachments, any call.

:class:`PageCalls` holds the calls about the Page and the people it talks to
(a person's profile, attachment upload, the Messenger profile) and
:meth:`~PageCalls.call_graph`, the way to any other Graph call.
:class:`fmc.Client` inherits them: each call builds its request with the
client's :class:`~fmc.transport.core.GraphCore` and runs it through the
client's whole pipeline (shared pause, rate limiter, retry policy, redaction),
the same ``_run`` its sends use.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from fmc.models import AttachmentType
from fmc.transport.core import GraphCore, GraphRequest, attachment_id, expect_success
from fmc.transport.profile import DEFAULT_PROFILE_FIELDS, UserProfile, first_profile

__all__ = ["PageCalls"]


class PageCalls:
    """The Graph calls of :class:`fmc.Client` that send no message (see the module docstring).

    A class that mixes it in sets ``_core`` and defines ``_run``.
    """

    #: Builds every Graph request of the Page.
    _core: GraphCore
    #: Runs one request through the client's pipeline and returns Graph's JSON.
    _run: Callable[[GraphRequest], Any]

    def get_user_profile(
        self, psid: str, fields: Iterable[str] = DEFAULT_PROFILE_FIELDS
    ) -> UserProfile:
        """Read a person's profile (``GET /{psid}?fields=…``).

        Args:
            psid: The person's page-scoped id.
            fields: Profile fields; ``locale``, ``timezone`` and ``gender``
                need extra approval from Meta.

        Returns:
            The profile; fields Meta did not return are ``None``.

        Raises:
            ValueError: The PSID is not a plain id, or no fields are named.
            GraphAPIError: Meta refused (e.g. 100/2018218 for a phone-created
                account).
            NetworkError: Graph could not be reached.
        """
        return UserProfile.from_wire(self._run(self._core.user_profile(psid, fields)))

    def upload_attachment(
        self, type: AttachmentType | str, url: str, *, is_reusable: bool = True
    ) -> str:
        """Upload a file by URL for reuse (``POST /{page_id}/message_attachments``).

        Args:
            type: ``image``, ``audio``, ``video`` or ``file``.
            url: Where Meta fetches the file.
            is_reusable: Whether the id may be sent to many people.

        Returns:
            The ``attachment_id`` to send with ``Attachment(type, attachment_id=…)``.

        Raises:
            ValueError: An unknown type or a URL that is not http(s).
            GraphAPIError: Meta refused it, or answered without an id.
            NetworkError: Graph could not be reached.
        """
        request = self._core.upload_attachment(type, url, is_reusable=is_reusable)
        return attachment_id(self._run(request))

    def get_messenger_profile(self, fields: Iterable[str] | str) -> dict[str, Any]:
        """Read Messenger profile properties (``GET /{page_id}/messenger_profile``).

        Args:
            fields: Property names, e.g. ``["greeting", "get_started"]``.

        Returns:
            The properties that are set, as Graph JSON.

        Raises:
            ValueError: No field or an invalid name.
            GraphAPIError: Meta refused.
            NetworkError: Graph could not be reached.
        """
        return first_profile(self._run(self._core.get_messenger_profile(fields)))

    def set_messenger_profile(
        self,
        *,
        get_started: str | Mapping[str, Any] | None = None,
        greeting: str | Mapping[str, str] | Sequence[Mapping[str, Any]] | None = None,
        persistent_menu: Sequence[Any] | None = None,
        ice_breakers: Sequence[Any] | None = None,
        whitelisted_domains: Sequence[str] | None = None,
    ) -> None:
        """Set Messenger profile properties (``POST /{page_id}/messenger_profile``).

        Args:
            get_started: The Get Started button's postback payload.
            greeting: A greeting for every locale, or ``{locale: text}``.
            persistent_menu: Buttons (models) for the default menu, or Graph's
                per-locale menu objects.
            ice_breakers: ``(question, payload)`` pairs, or Graph's objects.
            whitelisted_domains: Domains allowed in webviews.

        Raises:
            ValueError: No property given.
            GraphAPIError: Meta refused, or did not answer ``success``.
            NetworkError: Graph could not be reached.
        """
        request = self._core.set_messenger_profile(
            get_started=get_started,
            greeting=greeting,
            persistent_menu=persistent_menu,
            ice_breakers=ice_breakers,
            whitelisted_domains=whitelisted_domains,
        )
        expect_success(self._run(request))

    def delete_messenger_profile(self, fields: Iterable[str] | str) -> None:
        """Delete Messenger profile properties (``DELETE /{page_id}/messenger_profile``).

        Args:
            fields: Property names to delete.

        Raises:
            ValueError: No field or an invalid name.
            GraphAPIError: Meta refused, or did not answer ``success``.
            NetworkError: Graph could not be reached.
        """
        expect_success(self._run(self._core.delete_messenger_profile(fields)))

    def call_graph(
        self,
        method: str,
        path: str,
        *,
        what: str,
        params: Mapping[str, str] | None = None,
        body: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Make one Graph call with this client's token, proof, retries and redaction.

        The public path for Graph calls fmc wraps in standalone modules
        (templates, personas, thread control, marketing messages). It goes
        through the same pipeline as every other call: the throttling gate,
        the rate limiter, the retry policy.

        Args:
            method: ``GET``, ``POST`` or ``DELETE``.
            path: The path after the version, e.g. ``"1234/personas"``; the
                Page's own id is ``client.page.id``.
            what: What the call is, for errors and logs (``"persona create"``).
            params: Query parameters (the token is added by the client).
            body: The JSON body.

        Returns:
            Graph's JSON answer.

        Raises:
            GraphAPIError: Meta refused.
            NetworkError: Graph could not be reached.
        """
        request = self._core.call(method.upper(), path, what=what, params=params, body=body)
        data: dict[str, Any] = self._run(request)
        return data
