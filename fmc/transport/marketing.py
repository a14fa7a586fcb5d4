"""The Marketing Messages API for Messenger: paid promotional messages to people who opted in.

This is the only route fmc offers for ``Purpose.PROMOTIONAL`` outside the
24-hour window; the policy refuses it everywhere else and says to use this
module. Facts, from Meta's "Marketing Messages on Messenger" pages (API
reference updated 24 Apr 2026):

* It is **paid**: Meta bills the business per message, through an ad account.
* Only **tech providers** whose app passed App Review for ``ads_management``,
  ``pages_messaging`` and ``paid_marketing_messages`` or
  ``marketing_messages_messenger`` may use it, from web applications.
* It is **region-limited**: businesses in AU, BR, CL, CO, HK, IN, ID, IL, MY,
  MX, NZ, PE, PH, SA, SG, TW, TH, AE, US and VN; recipients anywhere except the
  European Union, Japan, South Korea, Australia and the United Kingdom.
* Messages go to ``POST /act_<AD_ACCOUNT_ID>/messages`` with the Page token,
  addressed to the person's opt-in token, not the PSID ([3p] Infobip).
* Errors 2300000 (the message's campaign is not active) and 2300001 (invalid
  or foreign message id) are in :data:`fmc.errors.GRAPH_ERROR_TABLE`.

The request body fmc writes (``recipient.notification_messages_token`` and a
Send API ``message``) is its assumption: the stored copies of Meta's send
guide are cut before it. Campaign creation (``/message_campaign``) is not
wrapped.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from types import MappingProxyType
from typing import TYPE_CHECKING

from fmc.convert import send_result_from_wire, to_wire
from fmc.errors import PolicyRefused
from fmc.models.messages import Message
from fmc.models.send import SendResult
from fmc.models.subscriber import NotificationToken, Subscriber, SubscriberStatus, TokenKind

if TYPE_CHECKING:
    from fmc.transport.client import Client

__all__ = ["MARKETING_ERRORS", "ad_account_path", "opted_in_token", "send_marketing_message"]

#: Marketing Messages API error codes and what Meta says they mean.
MARKETING_ERRORS: Mapping[int, str] = MappingProxyType(
    {
        2300000: "the message's campaign is not active",
        2300001: "the message id is invalid, or the message is not yours",
    }
)


def ad_account_path(ad_account_id: str) -> str:
    """``act_<id>`` from an ad account id given with or without its prefix.

    Raises:
        ValueError: Not an ad account id.
    """
    digits = ad_account_id.removeprefix("act_") if isinstance(ad_account_id, str) else ""
    if not digits.isdigit():
        raise ValueError("ad_account_id must be an ad account id such as 'act_1234567890'")
    return f"act_{digits}"


def opted_in_token(subscriber: Subscriber, now: datetime) -> NotificationToken | None:
    """The person's usable marketing opt-in token, one opted in for promotions first.

    Args:
        subscriber: The person.
        now: The current time, timezone-aware.

    Returns:
        The token, or ``None`` when the person has not opted in (or stopped,
        or the token expired).
    """
    usable = [
        token
        for token in subscriber.tokens
        if token.kind is TokenKind.NOTIFICATION_MESSAGES and token.is_usable(now)
    ]
    usable.sort(key=lambda token: (token.topic or "").strip().lower() != "promotional")
    return usable[0] if usable else None


def _refuse(reason: str) -> PolicyRefused:
    # Imported here: the policy layer sits above the transport.
    from fmc.policy.decision import Decision

    return PolicyRefused(Decision.refuse(reason, rule="marketing_not_opted_in"))


def send_marketing_message(
    client: Client,
    ad_account_id: str,
    subscriber: Subscriber,
    message: Message,
    *,
    now: datetime,
) -> SendResult:
    """Send a paid marketing message to a person who opted in.

    Args:
        client: The Page's client (its Page token is used).
        ad_account_id: The business's ad account (``act_…`` or digits).
        subscriber: The person; must be active with a usable opt-in token.
        message: The message.
        now: The current time, to judge the token.

    Returns:
        Meta's answer.

    Raises:
        PolicyRefused: The person is not active or has not opted in (rule
            ``marketing_not_opted_in``); nothing is sent.
        GraphAPIError: Meta refused (e.g. 2300000, the campaign is not active).
    """
    if subscriber.status is not SubscriberStatus.ACTIVE:
        raise _refuse(f"subscriber is {subscriber.status.value}; nothing may be sent to them")
    token = opted_in_token(subscriber, now)
    if token is None:
        raise _refuse(
            "marketing messages go only to people who opted in, and this person has no "
            "usable opt-in token; send a MarketingOptInRequest inside the window first"
        )
    body = {"recipient": {"notification_messages_token": token.token}, "message": to_wire(message)}
    data = client.call_graph(
        "POST", f"{ad_account_path(ad_account_id)}/messages", what="marketing message", body=body
    )
    return send_result_from_wire(data)
