"""Conversation routing: who owns a thread, taking it, and passing it on.

Meta replaced the Handover Protocol with Conversation Routing for Messenger
(Conversation Routing page, updated 24 September 2025) and keeps the thread
control calls: ``take_thread_control`` (any app may take an idle thread; the
answer names the new owner), ``pass_thread_control`` (to ``target_app_id``,
e.g. the Page Inbox, :data:`PAGE_INBOX_APP_ID`) and the thread owner query.
App roles and secondary receivers are legacy and not offered here. A Page's
own app receives another app's threads under ``standby``: receiving a message
is not owning the thread (:func:`owns_thread`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fmc.errors import GraphAPIError

if TYPE_CHECKING:
    from fmc.transport.client import Client

__all__ = ["PAGE_INBOX_APP_ID", "owns_thread", "pass_thread", "take_thread", "thread_owner"]

#: The Page Inbox's app id, the usual target when a human takes over ([3p]).
PAGE_INBOX_APP_ID = "263902037430900"


def _recipient(psid: str) -> dict[str, str]:
    if not isinstance(psid, str) or not psid:
        raise ValueError("psid must be the person's page-scoped id")
    return {"id": psid}


def _owner(data: dict[str, Any]) -> str | None:
    items = data.get("data")
    if not isinstance(items, list):
        return None
    for item in items:
        owner = item.get("thread_owner") if isinstance(item, dict) else None
        if isinstance(owner, dict) and owner.get("app_id") is not None:
            return str(owner["app_id"])
    return None


def take_thread(client: Client, psid: str, *, metadata: str | None = None) -> str | None:
    """Take control of the thread with ``psid`` for this app.

    Args:
        client: The Page's client.
        psid: The person.
        metadata: Passed to the previous owner's webhook.

    Returns:
        The new owner's app id when Meta names it.

    Raises:
        GraphAPIError: Meta refused.
    """
    body: dict[str, Any] = {"recipient": _recipient(psid)}
    if metadata is not None:
        body["metadata"] = metadata
    data = client.call_graph(
        "POST", f"{client.page.id}/take_thread_control", what="take thread", body=body
    )
    if data.get("success") is not True and "data" not in data:
        raise GraphAPIError("take_thread_control did not answer success", status=200)
    return _owner(data)


def pass_thread(
    client: Client, psid: str, target_app_id: str, *, metadata: str | None = None
) -> None:
    """Pass the thread with ``psid`` to another app (e.g. :data:`PAGE_INBOX_APP_ID`).

    Args:
        client: The Page's client.
        psid: The person.
        target_app_id: The app that gets the thread.
        metadata: Passed to the new owner's webhook.

    Raises:
        GraphAPIError: Meta refused, or did not answer success.
    """
    body: dict[str, Any] = {"recipient": _recipient(psid), "target_app_id": str(target_app_id)}
    if metadata is not None:
        body["metadata"] = metadata
    data = client.call_graph(
        "POST", f"{client.page.id}/pass_thread_control", what="pass thread", body=body
    )
    if data.get("success") is not True:
        raise GraphAPIError("pass_thread_control did not answer success", status=200)


def thread_owner(client: Client, psid: str) -> str | None:
    """The app id that owns the thread with ``psid``, or ``None`` when it is idle.

    Args:
        client: The Page's client.
        psid: The person.

    Returns:
        The owner's app id, or ``None``.
    """
    data = client.call_graph(
        "GET",
        f"{client.page.id}/thread_owner",
        what="thread owner",
        params={"recipient": _recipient(psid)["id"]},
    )
    return _owner(data)


def owns_thread(owner_app_id: str | None, app_id: str) -> bool:
    """Whether ``app_id`` may answer: it owns the thread, or the thread is idle.

    Args:
        owner_app_id: From :func:`thread_owner` or the last handover event.
        app_id: This app's id.

    Returns:
        True when the app may answer.
    """
    return owner_app_id is None or str(owner_app_id) == str(app_id)
