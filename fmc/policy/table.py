"""The decision table: Meta's messaging rules as data, one row per route or refusal.

:class:`~fmc.policy.MessagingPolicy` consults :data:`RULES` and the docs render
the same rows (:func:`fmc.policy.render_table_rst`). For a purpose, rows are
tried top to bottom and the first whose conditions hold decides; the last row
of every purpose has no condition, so a decision is always reached. Hence the
order is the precedence: inside the window (or the 7-day window a
Click-to-Messenger ad opened) the PSID always wins; outside it, a utility
template the operator configured, then a message tag, then the legacy
subscription permission, then a recurring (``notification_messages``) token,
then a one-time token, which the send uses up. Before any row, the policy
refuses subscribers who are not active and Pages without ``pages_messaging``.

Every row carries its :class:`RuleStatus` as of late 2026, the date its status
changed and the source that says so. A row whose status is
:attr:`RuleStatus.DEPRECATED` or :attr:`RuleStatus.REPORTED_REMOVED` names a
:class:`Route`; the policy skips it unless the operator lists that route in
``MessagingPolicy(honour=...)`` (a Page that Meta still serves that way), and
the refusal then says why the route was not taken.
"""

from __future__ import annotations

import enum
from datetime import date

import attrs

from fmc.models.send import MessageTag, MessagingType
from fmc.models.subscriber import TokenKind
from fmc.policy.purpose import Permission, Purpose
from fmc.policy.sources import (
    HUMAN_AGENT_SOURCE,
    MARKETING_SOURCE,
    NEWS_INDEX_SOURCE,
    OTN_SOURCE,
    POLICY_SOURCE,
    RECURRING_SOURCE,
    TAGS_REMOVED_SOURCE,
    UTILITY_SOURCE,
)
from fmc.policy.status import Route, RuleStatus

__all__ = ["RULES", "Route", "Rule", "RuleStatus", "Window", "rules_for"]


class Window(str, enum.Enum):
    """When a row applies, measured from the subscriber's last interaction."""

    #: Within the policy's ``window`` (24 h) of the last interaction, or within
    #: its ``ad_window`` (7 days) of a message that came from an ad.
    INSIDE = "inside"
    #: Within the policy's ``human_agent_window`` (7 days) of the last interaction.
    HUMAN_AGENT = "human_agent"
    #: Whenever no earlier row applied, i.e. outside the window or with no interaction.
    ANY = "any"


def _requires(value: Permission | tuple[Permission, ...] | None) -> tuple[Permission, ...]:
    if value is None:
        return ()
    return (value,) if isinstance(value, Permission) else tuple(value)


@attrs.frozen
class Rule:
    """One row of the decision table.

    Attributes:
        purpose: The purpose the row is about.
        window: When, relative to the last interaction, the row applies.
        allowed: Whether the row allows the send.
        code: The stable rule code the decision carries (``Decision.rule``).
        note: What the row means, for the reason; ``{window}``,
            ``{human_agent_window}``, ``{purpose}`` (the name) and ``{topic}``
            (the value a token topic must equal) are filled in.
        messaging_type: The ``messaging_type`` of an allowed send.
        tag: The tag of an allowed ``MESSAGE_TAG`` send.
        requires: The Page permissions the row needs (one or several).
        token: A usable notification token of this kind and a matching topic
            the row needs, if any; the recipient is then the token.
        template: Whether the row needs a utility template configured for
            the purpose (``MessagingPolicy(utility_templates=...)``).
        status: Where the route stands with Meta.
        changed: When that status began (``None`` for routes unchanged since
            fmc first described them).
        source: Who says so: the page and its date, or the third parties.
        route: The route an operator may honour, for refused-by-default rows.
    """

    purpose: Purpose
    window: Window
    allowed: bool
    code: str
    note: str
    messaging_type: MessagingType | None = None
    tag: MessageTag | None = None
    requires: tuple[Permission, ...] = attrs.field(default=(), converter=_requires)
    token: TokenKind | None = None
    template: bool = attrs.field(default=False, kw_only=True)
    status: RuleStatus = attrs.field(default=RuleStatus.CURRENT, kw_only=True)
    changed: date | None = attrs.field(default=None, kw_only=True)
    source: str = attrs.field(default=POLICY_SOURCE, kw_only=True)
    route: Route | None = attrs.field(default=None, kw_only=True)

    def __attrs_post_init__(self) -> None:
        if self.status.refused_by_default and self.route is None:
            raise ValueError(f"rule {self.code!r} is {self.status.value} but names no route")

    @property
    def unconditional(self) -> bool:
        """Whether the row applies in every situation (it ends its purpose)."""
        return (
            self.window is Window.ANY
            and not self.requires
            and self.token is None
            and not self.template
            and not self.status.refused_by_default
        )


_INSIDE = "inside_window"
_UPDATE_PURPOSES = (
    (Purpose.CONFIRMED_EVENT_UPDATE, MessageTag.CONFIRMED_EVENT_UPDATE),
    (Purpose.POST_PURCHASE_UPDATE, MessageTag.POST_PURCHASE_UPDATE),
    (Purpose.ACCOUNT_UPDATE, MessageTag.ACCOUNT_UPDATE),
)
_TAG_ROUTES = {
    MessageTag.CONFIRMED_EVENT_UPDATE: Route.CONFIRMED_EVENT_UPDATE_TAG,
    MessageTag.POST_PURCHASE_UPDATE: Route.POST_PURCHASE_UPDATE_TAG,
    MessageTag.ACCOUNT_UPDATE: Route.ACCOUNT_UPDATE_TAG,
}
_TAGS_REMOVED = date(2026, 4, 27)
_RECURRING_DEPRECATED = date(2026, 2, 10)
_SUBSCRIPTIONS_LIMITED = date(2020, 3, 4)


def _update_inside(purpose: Purpose) -> Rule:
    return Rule(
        purpose,
        Window.INSIDE,
        True,
        _INSIDE,
        "a proactive message, sent as UPDATE",
        MessagingType.UPDATE,
    )


def _utility(purpose: Purpose) -> Rule:
    return Rule(
        purpose,
        Window.ANY,
        True,
        "utility_template",
        "sent as a utility message with the Page's approved template for {purpose} "
        "(Meta's replacement for the update tags; no marketing content)",
        MessagingType.UTILITY,
        template=True,
        changed=date(2026, 3, 13),
        source=UTILITY_SOURCE,
    )


def _recurring(purpose: Purpose) -> Rule:
    return Rule(
        purpose,
        Window.ANY,
        True,
        "notification_messages_token",
        "sent to the person's recurring notification token, as UPDATE without a tag; "
        "Meta deprecated recurring notifications on 10 February 2026",
        MessagingType.UPDATE,
        token=TokenKind.NOTIFICATION_MESSAGES,
        status=RuleStatus.DEPRECATED,
        changed=_RECURRING_DEPRECATED,
        source=RECURRING_SOURCE,
        route=Route.RECURRING_NOTIFICATIONS,
    )


def _one_time(purpose: Purpose) -> Rule:
    return Rule(
        purpose,
        Window.ANY,
        True,
        "one_time_token",
        "sent to the person's one-time notification token, as UPDATE; the send uses it up",
        MessagingType.UPDATE,
        token=TokenKind.ONE_TIME,
        source=OTN_SOURCE,
    )


def _news_rows() -> tuple[Rule, ...]:
    purpose = Purpose.NEWS
    return (
        _update_inside(purpose),
        Rule(
            purpose,
            Window.ANY,
            True,
            "legacy_subscription",
            "news messaging: tag NON_PROMOTIONAL_SUBSCRIPTION under "
            "pages_messaging_subscriptions, for a Page in the News Page Index",
            MessagingType.MESSAGE_TAG,
            MessageTag.NON_PROMOTIONAL_SUBSCRIPTION,
            requires=(Permission.PAGES_MESSAGING_SUBSCRIPTIONS, Permission.NEWS_PAGE_INDEX),
            status=RuleStatus.RESTRICTED,
            changed=_SUBSCRIPTIONS_LIMITED,
            source=NEWS_INDEX_SOURCE,
        ),
        _recurring(purpose),
        _one_time(purpose),
        Rule(
            purpose,
            Window.ANY,
            False,
            "outside_window_no_subscription",
            "NEWS outside the {window} window needs a Page in the News Page Index "
            "(news_page_index and pages_messaging_subscriptions) or a one-time token "
            "(topic '{topic}' or none)",
            changed=_SUBSCRIPTIONS_LIMITED,
            source=NEWS_INDEX_SOURCE,
        ),
    )


def _follow_up_rows(purpose: Purpose) -> tuple[Rule, ...]:
    return (
        _update_inside(purpose),
        Rule(
            purpose,
            Window.ANY,
            True,
            "legacy_subscription",
            "legacy subscription messaging (tag NON_PROMOTIONAL_SUBSCRIPTION), which Meta "
            "has limited to news since 4 March 2020",
            MessagingType.MESSAGE_TAG,
            MessageTag.NON_PROMOTIONAL_SUBSCRIPTION,
            requires=Permission.PAGES_MESSAGING_SUBSCRIPTIONS,
            status=RuleStatus.DEPRECATED,
            changed=_SUBSCRIPTIONS_LIMITED,
            source=NEWS_INDEX_SOURCE,
            route=Route.NON_NEWS_SUBSCRIPTION,
        ),
        _recurring(purpose),
        _one_time(purpose),
        Rule(
            purpose,
            Window.ANY,
            False,
            "outside_window_no_subscription",
            "{purpose} outside the {window} window needs a one-time token "
            "(topic '{topic}' or none)",
            changed=_RECURRING_DEPRECATED,
            source=RECURRING_SOURCE,
        ),
    )


def _update_rows(purpose: Purpose, tag: MessageTag) -> tuple[Rule, ...]:
    return (
        _update_inside(purpose),
        _utility(purpose),
        Rule(
            purpose,
            Window.ANY,
            True,
            "message_tag",
            f"sent with the {tag.value} tag, which is reported returning error 100 "
            "since 27 April 2026",
            MessagingType.MESSAGE_TAG,
            tag,
            status=RuleStatus.REPORTED_REMOVED,
            changed=_TAGS_REMOVED,
            source=TAGS_REMOVED_SOURCE,
            route=_TAG_ROUTES[tag],
        ),
        Rule(
            purpose,
            Window.ANY,
            False,
            "update_outside_window",
            f"{{purpose}} outside the {{window}} window needs a utility template; the "
            f"{tag.value} tag is reported returning error 100 since 27 April 2026",
            changed=_TAGS_REMOVED,
            source=TAGS_REMOVED_SOURCE,
        ),
    )


def _transactional_rows() -> tuple[Rule, ...]:
    purpose = Purpose.TRANSACTIONAL
    return (
        _update_inside(purpose),
        _utility(purpose),
        Rule(
            purpose,
            Window.ANY,
            False,
            "no_utility_template",
            "a transactional message outside the {window} window needs a utility template "
            "configured for {purpose}",
            changed=date(2026, 3, 13),
            source=UTILITY_SOURCE,
        ),
    )


def _human_agent_rows() -> tuple[Rule, ...]:
    purpose = Purpose.HUMAN_AGENT
    return (
        Rule(
            purpose,
            Window.INSIDE,
            True,
            _INSIDE,
            "a human agent's reply, sent as RESPONSE",
            MessagingType.RESPONSE,
        ),
        Rule(
            purpose,
            Window.HUMAN_AGENT,
            True,
            "human_agent_tag",
            "a human agent's reply within {human_agent_window} of the last interaction, "
            "sent with the HUMAN_AGENT tag",
            MessagingType.MESSAGE_TAG,
            MessageTag.HUMAN_AGENT,
            requires=Permission.HUMAN_AGENT,
            source=HUMAN_AGENT_SOURCE,
        ),
        Rule(
            purpose,
            Window.HUMAN_AGENT,
            False,
            "human_agent_not_granted",
            "the HUMAN_AGENT tag needs the human_agent permission",
            source=HUMAN_AGENT_SOURCE,
        ),
        Rule(
            purpose,
            Window.ANY,
            False,
            "human_agent_window_closed",
            "the HUMAN_AGENT tag only reaches people within {human_agent_window} "
            "of their last interaction",
            source=HUMAN_AGENT_SOURCE,
        ),
    )


def _promotional_rows() -> tuple[Rule, ...]:
    purpose = Purpose.PROMOTIONAL
    return (
        Rule(
            purpose,
            Window.INSIDE,
            True,
            _INSIDE,
            "promotional content is allowed inside the window, sent as UPDATE",
            MessagingType.UPDATE,
        ),
        _recurring(purpose),
        Rule(
            purpose,
            Window.ANY,
            False,
            "promotional_use_marketing_api",
            "the person opted in to marketing messages: send promotions outside the "
            "{window} window with fmc.transport.marketing.send_marketing_message (Meta's "
            "paid, region-limited Marketing Messages API), not the Send API",
            token=TokenKind.NOTIFICATION_MESSAGES,
            changed=date(2025, 7, 1),
            source=MARKETING_SOURCE,
        ),
        Rule(
            purpose,
            Window.ANY,
            False,
            "promotional_outside_window",
            "promotional content outside the {window} window goes only through Meta's "
            "paid, region-limited Marketing Messages API to people who opted in",
            changed=_RECURRING_DEPRECATED,
            source=RECURRING_SOURCE,
        ),
    )


#: The decision table, in precedence order within each purpose.
RULES: tuple[Rule, ...] = (
    Rule(
        Purpose.RESPONSE,
        Window.INSIDE,
        True,
        _INSIDE,
        "a reply, sent as RESPONSE",
        MessagingType.RESPONSE,
    ),
    Rule(
        Purpose.RESPONSE,
        Window.ANY,
        False,
        "response_outside_window",
        "a response needs the {window} window",
    ),
    *_news_rows(),
    *_follow_up_rows(Purpose.PRODUCTIVITY),
    *_follow_up_rows(Purpose.PERSONAL_FOLLOW_UP),
    *(row for purpose, tag in _UPDATE_PURPOSES for row in _update_rows(purpose, tag)),
    *_transactional_rows(),
    *_human_agent_rows(),
    *_promotional_rows(),
)


def rules_for(purpose: Purpose) -> tuple[Rule, ...]:
    """The rows about one purpose, in the order they are tried.

    Args:
        purpose: The purpose.

    Returns:
        Its rows, the unconditional one last.
    """
    return tuple(rule for rule in RULES if rule.purpose is purpose)
