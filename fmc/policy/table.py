"""The decision table: Meta's messaging rules as data, one row per route or refusal.

:class:`~fmc.policy.MessagingPolicy` consults :data:`RULES` and the docs render
the same rows (:func:`fmc.policy.render_table_rst`). For a purpose, rows are
tried top to bottom and the first whose conditions hold decides; the last row
of every purpose has no condition, so a decision is always reached. Hence the
order is the precedence: inside the window the PSID always wins; outside it, a
message tag, then the legacy subscription permission, then a recurring
(``notification_messages``) token, then a one-time token, which the send uses
up. Before any row, the policy refuses subscribers who are not active and Pages
without ``pages_messaging``.
"""

from __future__ import annotations

import enum

import attrs

from fmc.models.send import MessageTag, MessagingType
from fmc.models.subscriber import TokenKind
from fmc.policy.purpose import Permission, Purpose

__all__ = ["RULES", "Rule", "Window", "rules_for"]


class Window(str, enum.Enum):
    """When a row applies, measured from the subscriber's last interaction."""

    #: Within the policy's ``window`` (24 h) of the last interaction.
    INSIDE = "inside"
    #: Within the policy's ``human_agent_window`` (7 days) of the last interaction.
    HUMAN_AGENT = "human_agent"
    #: Whenever no earlier row applied, i.e. outside the window or with no interaction.
    ANY = "any"


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
        requires: A Page permission the row needs, if any.
        token: A usable notification token of this kind and a matching topic
            the row needs, if any; the recipient is then the token.
    """

    purpose: Purpose
    window: Window
    allowed: bool
    code: str
    note: str
    messaging_type: MessagingType | None = None
    tag: MessageTag | None = None
    requires: Permission | None = None
    token: TokenKind | None = None

    @property
    def unconditional(self) -> bool:
        """Whether the row applies in every situation (it ends its purpose)."""
        return self.window is Window.ANY and self.requires is None and self.token is None


_INSIDE = "inside_window"
_OPT_IN_PURPOSES = (Purpose.NEWS, Purpose.PRODUCTIVITY, Purpose.PERSONAL_FOLLOW_UP)
_TAG_PURPOSES = (
    (Purpose.CONFIRMED_EVENT_UPDATE, MessageTag.CONFIRMED_EVENT_UPDATE),
    (Purpose.POST_PURCHASE_UPDATE, MessageTag.POST_PURCHASE_UPDATE),
    (Purpose.ACCOUNT_UPDATE, MessageTag.ACCOUNT_UPDATE),
)
_RECURRING = (
    "sent to the person's recurring notification (marketing messages) token, "
    "as UPDATE without a tag"
)
_ONE_TIME = "sent to the person's one-time notification token, as UPDATE; the send uses it up"


def _update_inside(purpose: Purpose) -> Rule:
    return Rule(
        purpose,
        Window.INSIDE,
        True,
        _INSIDE,
        "a proactive message, sent as UPDATE",
        MessagingType.UPDATE,
    )


def _opt_in_rows(purpose: Purpose) -> tuple[Rule, ...]:
    return (
        _update_inside(purpose),
        Rule(
            purpose,
            Window.ANY,
            True,
            "legacy_subscription",
            "legacy subscription messaging: tag NON_PROMOTIONAL_SUBSCRIPTION under "
            "pages_messaging_subscriptions, which Meta has restricted since 4 March 2020 "
            "to Pages in the News Page Index",
            MessagingType.MESSAGE_TAG,
            MessageTag.NON_PROMOTIONAL_SUBSCRIPTION,
            requires=Permission.PAGES_MESSAGING_SUBSCRIPTIONS,
        ),
        Rule(
            purpose,
            Window.ANY,
            True,
            "notification_messages_token",
            _RECURRING,
            MessagingType.UPDATE,
            token=TokenKind.NOTIFICATION_MESSAGES,
        ),
        Rule(
            purpose,
            Window.ANY,
            True,
            "one_time_token",
            _ONE_TIME,
            MessagingType.UPDATE,
            token=TokenKind.ONE_TIME,
        ),
        Rule(
            purpose,
            Window.ANY,
            False,
            "outside_window_no_subscription",
            "{purpose} needs pages_messaging_subscriptions or a notification token "
            "(topic '{topic}' or none)",
        ),
    )


def _tag_rows(purpose: Purpose, tag: MessageTag) -> tuple[Rule, ...]:
    return (
        _update_inside(purpose),
        Rule(
            purpose,
            Window.ANY,
            True,
            "message_tag",
            f"sent with the {tag.value} tag (non-promotional content only)",
            MessagingType.MESSAGE_TAG,
            tag,
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
    *(row for purpose in _OPT_IN_PURPOSES for row in _opt_in_rows(purpose)),
    *(row for purpose, tag in _TAG_PURPOSES for row in _tag_rows(purpose, tag)),
    Rule(
        Purpose.HUMAN_AGENT,
        Window.INSIDE,
        True,
        _INSIDE,
        "a human agent's reply, sent as RESPONSE",
        MessagingType.RESPONSE,
    ),
    Rule(
        Purpose.HUMAN_AGENT,
        Window.HUMAN_AGENT,
        True,
        "human_agent_tag",
        "a human agent's reply within {human_agent_window} of the last interaction, "
        "sent with the HUMAN_AGENT tag",
        MessagingType.MESSAGE_TAG,
        MessageTag.HUMAN_AGENT,
        requires=Permission.HUMAN_AGENT,
    ),
    Rule(
        Purpose.HUMAN_AGENT,
        Window.HUMAN_AGENT,
        False,
        "human_agent_not_granted",
        "the HUMAN_AGENT tag needs the human_agent permission",
    ),
    Rule(
        Purpose.HUMAN_AGENT,
        Window.ANY,
        False,
        "human_agent_window_closed",
        "the HUMAN_AGENT tag only reaches people within {human_agent_window} "
        "of their last interaction",
    ),
    Rule(
        Purpose.PROMOTIONAL,
        Window.INSIDE,
        True,
        _INSIDE,
        "promotional content is allowed inside the window, sent as UPDATE",
        MessagingType.UPDATE,
    ),
    Rule(
        Purpose.PROMOTIONAL,
        Window.ANY,
        True,
        "notification_messages_token",
        _RECURRING,
        MessagingType.UPDATE,
        token=TokenKind.NOTIFICATION_MESSAGES,
    ),
    Rule(
        Purpose.PROMOTIONAL,
        Window.ANY,
        False,
        "promotional_outside_window",
        "promotional content outside the {window} window needs a recurring notification "
        "(marketing messages) token (topic '{topic}' or none)",
    ),
)


def rules_for(purpose: Purpose) -> tuple[Rule, ...]:
    """The rows about one purpose, in the order they are tried.

    Args:
        purpose: The purpose.

    Returns:
        Its rows, the unconditional one last.
    """
    return tuple(rule for rule in RULES if rule.purpose is purpose)
