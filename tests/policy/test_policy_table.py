"""The decision table as a test: purpose × hours since last interaction × permissions × tokens."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from fmc.models.send import MessageTag, MessagingType
from fmc.models.subscriber import NotificationToken, Subscriber, TokenKind, TokenStatus
from fmc.policy import RULES, MessagingPolicy, Permission, Purpose, Route

NOW = datetime(2026, 5, 1, 12, 0, tzinfo=timezone.utc)
PM = Permission.PAGES_MESSAGING
SUBS = Permission.PAGES_MESSAGING_SUBSCRIPTIONS
HA = Permission.HUMAN_AGENT
NPI = Permission.NEWS_PAGE_INDEX
# Operator choices, written into the permission set of a row: deprecated routes
# honoured (MessagingPolicy(honour=...)) and a utility template configured.
RN = Route.RECURRING_NOTIFICATIONS
NNS = Route.NON_NEWS_SUBSCRIPTION
CEU_TAG, PPU_TAG, AU_TAG = (
    Route.CONFIRMED_EVENT_UPDATE_TAG,
    Route.POST_PURCHASE_UPDATE_TAG,
    Route.ACCOUNT_UPDATE_TAG,
)
UT = "utility-template"
UTILITY = MessagingType.UTILITY
P = Purpose
RESPONSE, UPDATE, TAG = MessagingType.RESPONSE, MessagingType.UPDATE, MessagingType.MESSAGE_TAG
T = MessageTag
NPS = MessageTag.NON_PROMOTIONAL_SUBSCRIPTION
NO_SUB = "outside_window_no_subscription"
NM_RULE = "notification_messages_token"
OTN_RULE = "one_time_token"
INSIDE = "inside_window"
TAGGED = "message_tag"
NO_REPLY = "response_outside_window"
NO_UPDATE = "update_outside_window"
UTILITY_RULE = "utility_template"
MM_API = "promotional_use_marketing_api"
ALL = {PM, SUBS, HA}
OK, NO = True, False
CEU = MessageTag.CONFIRMED_EVENT_UPDATE
PPU = MessageTag.POST_PURCHASE_UPDATE

# Token shorthands: kind[:topic][/state]; "nm" recurring, "otn" one-time.
_KINDS = {"nm": TokenKind.NOTIFICATION_MESSAGES, "otn": TokenKind.ONE_TIME}
PSID = "id"
NM = "notification_messages_token"
OTN = "one_time_notif_token"


def token(spec: str) -> NotificationToken:
    """Build a token from a shorthand such as ``"nm:news"`` or ``"otn/used"``."""
    spec, _, state = spec.partition("/")
    kind, _, topic = spec.partition(":")
    status = {"used": TokenStatus.USED, "stopped": TokenStatus.STOPPED}.get(
        state, TokenStatus.ACTIVE
    )
    expires = NOW - timedelta(seconds=1) if state == "expired" else None
    return NotificationToken(
        _KINDS[kind],
        f"secret-{spec}-{state}",
        topic=topic or None,
        expires_at=expires,
        status=status,
    )


# purpose, hours since last interaction (None: none recorded), permissions, tokens,
#   -> allowed, messaging_type, tag, recipient form, rule
# fmt: off
TABLE = [
    # a reply needs the window
    (P.RESPONSE, 1, {PM}, (), OK, RESPONSE, None, PSID, INSIDE),
    (P.RESPONSE, 23.5, {PM}, (), OK, RESPONSE, None, PSID, INSIDE),
    (P.RESPONSE, 31, ALL, ("nm", "otn"), NO, None, None, None, NO_REPLY),
    (P.RESPONSE, None, {PM}, (), NO, None, None, None, NO_REPLY),
    # subscription purposes
    (P.NEWS, 1, {PM}, (), OK, UPDATE, None, PSID, INSIDE),
    (P.NEWS, 1, {PM, SUBS}, ("otn:news",), OK, UPDATE, None, PSID, INSIDE),
    (P.NEWS, 31, {PM}, (), NO, None, None, None, NO_SUB),
    (P.NEWS, None, {PM}, (), NO, None, None, None, NO_SUB),
    (P.NEWS, 31, {PM, SUBS, NPI}, (), OK, TAG, NPS, PSID, "legacy_subscription"),
    (P.NEWS, 31, {PM, SUBS, NPI}, ("nm",), OK, TAG, NPS, PSID, "legacy_subscription"),
    (P.NEWS, 31, {PM, SUBS}, (), NO, None, None, None, NO_SUB),
    (P.NEWS, 31, {PM, NPI}, (), NO, None, None, None, NO_SUB),
    (P.NEWS, 31, {PM}, ("nm",), NO, None, None, None, NO_SUB),
    (P.NEWS, 31, {PM, RN}, ("nm",), OK, UPDATE, None, NM, NM_RULE),
    (P.NEWS, 31, {PM, RN}, ("nm:news",), OK, UPDATE, None, NM, NM_RULE),
    (P.NEWS, 31, {PM}, ("otn",), OK, UPDATE, None, OTN, OTN_RULE),
    (P.NEWS, 31, {PM}, ("otn:news", "nm"), OK, UPDATE, None, OTN, OTN_RULE),
    (P.NEWS, 31, {PM, RN}, ("otn:news", "nm"), OK, UPDATE, None, NM, NM_RULE),
    (P.NEWS, None, {PM}, ("otn:News",), OK, UPDATE, None, OTN, OTN_RULE),
    (P.NEWS, 31, {PM}, ("otn:productivity",), NO, None, None, None, NO_SUB),
    (P.NEWS, 31, {PM}, ("nm:promotional",), NO, None, None, None, NO_SUB),
    (P.NEWS, 31, {PM}, ("otn/used",), NO, None, None, None, NO_SUB),
    (P.NEWS, 31, {PM}, ("nm/stopped",), NO, None, None, None, NO_SUB),
    (P.NEWS, 31, {PM}, ("nm/expired",), NO, None, None, None, NO_SUB),
    (P.NEWS, 31, {PM, HA}, (), NO, None, None, None, NO_SUB),
    (P.PRODUCTIVITY, 5, {PM}, (), OK, UPDATE, None, PSID, INSIDE),
    (P.PRODUCTIVITY, 31, {PM, SUBS}, (), NO, None, None, None, NO_SUB),
    (P.PRODUCTIVITY, 31, {PM, SUBS, NNS}, (), OK, TAG, NPS, PSID, "legacy_subscription"),
    (P.PRODUCTIVITY, 31, {PM}, ("nm:productivity",), NO, None, None, None, NO_SUB),
    (P.PRODUCTIVITY, 31, {PM, RN}, ("nm:productivity",), OK, UPDATE, None, NM, NM_RULE),
    (P.PRODUCTIVITY, 31, {PM}, ("otn",), OK, UPDATE, None, OTN, OTN_RULE),
    (P.PRODUCTIVITY, 31, {PM}, (), NO, None, None, None, NO_SUB),
    (P.PERSONAL_FOLLOW_UP, 5, {PM}, (), OK, UPDATE, None, PSID, INSIDE),
    (P.PERSONAL_FOLLOW_UP, 48, {PM, SUBS, NNS}, (), OK, TAG, NPS, PSID, "legacy_subscription"),
    (P.PERSONAL_FOLLOW_UP, 48, {PM, RN}, ("nm",), OK, UPDATE, None, NM, NM_RULE),
    (P.PERSONAL_FOLLOW_UP, 48, {PM}, ("otn:Personal follow-up",), OK, UPDATE, None, OTN, OTN_RULE),
    (P.PERSONAL_FOLLOW_UP, 48, {PM}, (), NO, None, None, None, NO_SUB),
    # message tags
    (P.CONFIRMED_EVENT_UPDATE, 1, {PM}, (), OK, UPDATE, None, PSID, INSIDE),
    (P.CONFIRMED_EVENT_UPDATE, 31, {PM}, (), NO, None, None, None, NO_UPDATE),
    (P.CONFIRMED_EVENT_UPDATE, 31, {PM, UT}, (), OK, UTILITY, None, PSID, UTILITY_RULE),
    (P.CONFIRMED_EVENT_UPDATE, 31, {PM, CEU_TAG}, (), OK, TAG, CEU, PSID, TAGGED),
    (P.CONFIRMED_EVENT_UPDATE, 31, {PM, UT, CEU_TAG}, (), OK, UTILITY, None, PSID, UTILITY_RULE),
    (P.CONFIRMED_EVENT_UPDATE, None, {PM, CEU_TAG}, ("nm",), OK, TAG, CEU, PSID, TAGGED),
    (P.CONFIRMED_EVENT_UPDATE, None, {PM}, ("nm",), NO, None, None, None, NO_UPDATE),
    (P.CONFIRMED_EVENT_UPDATE, 31, {PM, AU_TAG}, (), NO, None, None, None, NO_UPDATE),
    (P.POST_PURCHASE_UPDATE, 1, {PM}, (), OK, UPDATE, None, PSID, INSIDE),
    (P.POST_PURCHASE_UPDATE, 1000, {PM, PPU_TAG}, (), OK, TAG, PPU, PSID, TAGGED),
    (P.POST_PURCHASE_UPDATE, 1000, {PM, UT}, (), OK, UTILITY, None, PSID, UTILITY_RULE),
    (P.POST_PURCHASE_UPDATE, 1000, {PM}, (), NO, None, None, None, NO_UPDATE),
    (P.ACCOUNT_UPDATE, 1, {PM}, (), OK, UPDATE, None, PSID, INSIDE),
    (P.ACCOUNT_UPDATE, 31, {PM, AU_TAG}, (), OK, TAG, T.ACCOUNT_UPDATE, PSID, TAGGED),
    (P.ACCOUNT_UPDATE, 31, {PM, UT}, (), OK, UTILITY, None, PSID, UTILITY_RULE),
    (P.ACCOUNT_UPDATE, 31, {PM}, (), NO, None, None, None, NO_UPDATE),
    # transactional (utility messages)
    (P.TRANSACTIONAL, 1, {PM}, (), OK, UPDATE, None, PSID, INSIDE),
    (P.TRANSACTIONAL, 31, {PM, UT}, (), OK, UTILITY, None, PSID, UTILITY_RULE),
    (P.TRANSACTIONAL, None, {PM, UT}, (), OK, UTILITY, None, PSID, UTILITY_RULE),
    (P.TRANSACTIONAL, 31, ALL, ("nm", "otn"), NO, None, None, None, "no_utility_template"),
    # human agent
    (P.HUMAN_AGENT, 1, {PM}, (), OK, RESPONSE, None, PSID, INSIDE),
    (P.HUMAN_AGENT, 31, {PM, HA}, (), OK, TAG, T.HUMAN_AGENT, PSID, "human_agent_tag"),
    (P.HUMAN_AGENT, 167, {PM, HA}, (), OK, TAG, T.HUMAN_AGENT, PSID, "human_agent_tag"),
    (P.HUMAN_AGENT, 31, {PM, SUBS}, ("nm",), NO, None, None, None, "human_agent_not_granted"),
    (P.HUMAN_AGENT, 169, {PM, HA}, (), NO, None, None, None, "human_agent_window_closed"),
    (P.HUMAN_AGENT, 169, {PM}, (), NO, None, None, None, "human_agent_window_closed"),
    (P.HUMAN_AGENT, None, {PM, HA}, (), NO, None, None, None, "human_agent_window_closed"),
    # promotional
    (P.PROMOTIONAL, 1, {PM}, (), OK, UPDATE, None, PSID, INSIDE),
    (P.PROMOTIONAL, 31, {PM, RN}, ("nm",), OK, UPDATE, None, NM, NM_RULE),
    (P.PROMOTIONAL, 31, {PM, RN}, ("nm:promotional",), OK, UPDATE, None, NM, NM_RULE),
    (P.PROMOTIONAL, None, {PM, RN}, ("nm",), OK, UPDATE, None, NM, NM_RULE),
    (P.PROMOTIONAL, 31, {PM}, ("nm",), NO, None, None, None, "promotional_use_marketing_api"),
    (P.PROMOTIONAL, None, ALL, ("nm:promotional",), NO, None, None, None, MM_API),
    (P.PROMOTIONAL, 31, {PM}, ("nm/stopped",), NO, None, None, None, "promotional_outside_window"),
    (P.PROMOTIONAL, 31, {PM, UT}, (), NO, None, None, None, "promotional_outside_window"),
    (P.PROMOTIONAL, 31, {PM}, (), NO, None, None, None, "promotional_outside_window"),
    (P.PROMOTIONAL, 31, {PM}, ("nm:news",), NO, None, None, None, "promotional_outside_window"),
    (P.PROMOTIONAL, 31, {PM}, ("otn",), NO, None, None, None, "promotional_outside_window"),
    (P.PROMOTIONAL, 31, ALL, (), NO, None, None, None, "promotional_outside_window"),
    # without pages_messaging nothing goes
    (P.RESPONSE, 1, {SUBS, HA}, (), NO, None, None, None, "no_pages_messaging"),
    (P.NEWS, 31, {SUBS}, ("nm",), NO, None, None, None, "no_pages_messaging"),
    (P.CONFIRMED_EVENT_UPDATE, 31, set(), (), NO, None, None, None, "no_pages_messaging"),
]
# fmt: on


_SHORT: dict[object, str] = {
    PM: "pm",
    SUBS: "subs",
    HA: "ha",
    NPI: "npi",
    UT: "utility",
    **{route: f"honour-{route.value}" for route in Route},
}


def _id(row: tuple[object, ...]) -> str:
    purpose, hours, permissions, tokens, *_, rule = row
    assert isinstance(purpose, Purpose)
    assert isinstance(permissions, set)
    assert isinstance(tokens, tuple)
    when = "never" if hours is None else f"{hours}h"
    granted = "+".join(sorted(_SHORT[p] for p in permissions))
    held = ",".join(tokens) or "no-token"
    return f"{purpose.value}-{when}-{granted or 'nothing'}-{held}->{rule}"


def _subscriber(hours: float | None, tokens: tuple[str, ...]) -> Subscriber:
    last = None if hours is None else NOW - timedelta(hours=hours)
    return Subscriber("page", "psid-1", last_interaction_at=last, tokens=[token(t) for t in tokens])


@pytest.mark.parametrize(
    (
        "purpose",
        "hours",
        "permissions",
        "tokens",
        "allowed",
        "messaging_type",
        "tag",
        "form",
        "rule",
    ),
    TABLE,
    ids=[_id(row) for row in TABLE],
)
def test_decision_table(
    purpose: Purpose,
    hours: float | None,
    permissions: set[object],
    tokens: tuple[str, ...],
    allowed: bool,
    messaging_type: MessagingType | None,
    tag: MessageTag | None,
    form: str | None,
    rule: str,
) -> None:
    """Each row of the table decides allowed, type, tag, recipient form and rule as listed."""
    policy = MessagingPolicy(
        {item for item in permissions if isinstance(item, Permission)},
        honour={item for item in permissions if isinstance(item, Route)},
        utility_templates={purpose: "order_update"} if UT in permissions else {},
    )
    decision = policy.decide(_subscriber(hours, tokens), purpose, NOW)
    assert (decision.template is not None) == (decision.messaging_type is UTILITY)
    recipient_form = decision.recipient.kind if decision.recipient is not None else None
    got = (decision.allowed, decision.messaging_type, decision.tag, recipient_form, decision.rule)
    assert got == (allowed, messaging_type, tag, form, rule)


def test_table_covers_every_rule_row() -> None:
    """The test table exercises every row of the policy's own table."""
    exercised = {(row[0], row[-1]) for row in TABLE}
    assert {(rule.purpose, rule.code) for rule in RULES} <= exercised
