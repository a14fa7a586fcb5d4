"""The messaging policy: may this purpose be sent to this subscriber now, and how."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime, timedelta
from functools import partial
from typing import Any

import attrs

from fmc.errors import ConfigurationError
from fmc.models.recipient import Recipient
from fmc.models.subscriber import NotificationToken, Subscriber, SubscriberStatus, TokenKind
from fmc.policy.decision import Decision
from fmc.policy.purpose import Permission, Purpose, _normalize
from fmc.policy.table import Route, Rule, Window, rules_for

__all__ = ["MessagingPolicy", "format_duration", "topic_matches"]

_ROWS = {purpose: rules_for(purpose) for purpose in Purpose}
_MINUTE = timedelta(minutes=1)
_HOUR = timedelta(hours=1)
_DAY = timedelta(days=1)


def _permissions(value: Iterable[Permission | str]) -> frozenset[Permission]:
    if isinstance(value, str):
        raise ConfigurationError(
            f"permissions must be a collection of names such as {{'pages_messaging'}}, "
            f"not the string {value!r}"
        )
    return frozenset(Permission.parse(name) for name in value)


def _routes(value: Iterable[Route | str]) -> frozenset[Route]:
    if isinstance(value, str):
        raise ConfigurationError(
            f"honour must be a collection of routes such as {{'account_update_tag'}}, "
            f"not the string {value!r}"
        )
    try:
        return frozenset(Route.parse(route) for route in value)
    except ValueError as exc:
        raise ConfigurationError(str(exc)) from None


def _templates(value: Mapping[Purpose | str, str]) -> Mapping[Purpose, str]:
    if not isinstance(value, Mapping):
        raise ConfigurationError(
            "utility_templates must map purposes to template names, "
            "e.g. {'post_purchase_update': 'order_shipped'}"
        )
    templates: dict[Purpose, str] = {}
    for purpose, name in value.items():
        if not isinstance(name, str) or not name.strip():
            raise ConfigurationError(
                f"utility_templates[{purpose!r}] must be a template name, got {name!r}"
            )
        templates[Purpose.parse(purpose)] = name
    return templates


def _positive(_instance: object, attribute: attrs.Attribute[Any], value: timedelta) -> None:
    if not isinstance(value, timedelta) or value <= timedelta(0):
        raise ConfigurationError(f"{attribute.name} must be a positive timedelta, got {value!r}")


def format_duration(duration: timedelta) -> str:
    """Say a duration the way the reasons do: ``"24 h"``, ``"7 days"``, ``"31 h"``.

    Whole days from two days up are said in days, durations under three days
    in hours, shorter ones in minutes; each is rounded down, so a reason never
    claims more time passed than did.

    Args:
        duration: A non-negative duration.

    Returns:
        The duration in words.
    """
    if duration >= 3 * _DAY or (duration >= 2 * _DAY and duration % _DAY == timedelta(0)):
        return f"{duration // _DAY} days"
    if duration >= _HOUR:
        return f"{duration // _HOUR} h"
    if duration >= _MINUTE:
        return f"{duration // _MINUTE} min"
    return "less than a minute"


def topic_matches(topic: str | None, purpose: Purpose) -> bool:
    """Whether a notification token's topic covers a purpose.

    A token with no topic (or a blank one) covers every purpose its kind may
    carry; otherwise the topic, compared like :meth:`Purpose.parse` reads it
    (case, spaces and hyphens ignored), must name the purpose: a token whose
    opt-in payload was ``"news"`` covers ``Purpose.NEWS`` only. Give your
    opt-in requests the purpose's value as their payload to tie them to it.

    Args:
        topic: The token's topic.
        purpose: The purpose of the send.

    Returns:
        Whether the token may carry it.
    """
    if topic is None or not topic.strip():
        return True
    return _normalize(topic) == purpose.value


def _pick_token(
    subscriber: Subscriber, kind: TokenKind, purpose: Purpose, now: datetime
) -> NotificationToken | None:
    fitting = [
        token
        for token in subscriber.tokens
        if token.kind is kind and token.is_usable(now) and topic_matches(token.topic, purpose)
    ]
    # A token opted in for exactly this purpose before a catch-all one.
    fitting.sort(key=lambda token: token.topic is None or not token.topic.strip())
    return fitting[0] if fitting else None


def _status_reason(subscriber: Subscriber) -> str:
    why = f": {subscriber.status_reason}" if subscriber.status_reason else " (no reason recorded)"
    return f"subscriber is {subscriber.status.value}{why}; nothing may be sent to them"


@attrs.frozen
class MessagingPolicy:
    """What a Page may send, given what Meta has granted it.

    Pure: :meth:`decide` reads no clock and does no I/O; ``now`` is passed in.
    The rules are the rows of :data:`fmc.policy.RULES`.

    Attributes:
        permissions: The Page's permissions, as Meta names them
            (``pages_messaging``, ``pages_messaging_subscriptions``,
            ``human_agent``); plain strings are accepted.
        window: The standard messaging window after the last interaction.
        human_agent_window: How long after the last interaction the
            ``HUMAN_AGENT`` tag may be used.
        ad_window: How long a message that came from a Click-to-Messenger ad
            keeps the window open (Meta: up to 7 days).
        honour: Deprecated routes (:class:`~fmc.policy.Route`) the operator
            re-enables because Meta still serves them for this Page; every
            other deprecated row is skipped and named in the reason.
        utility_templates: The Page's approved utility template for each
            purpose that may use one outside the window, by name.

    Raises:
        ConfigurationError: An unknown permission or route name (the message
            names it), a bare string instead of a collection, a window that
            is not a positive ``timedelta``, or a template that is no name.
    """

    permissions: frozenset[Permission] = attrs.field(converter=_permissions)
    window: timedelta = attrs.field(default=timedelta(hours=24), kw_only=True, validator=_positive)
    human_agent_window: timedelta = attrs.field(
        default=timedelta(days=7), kw_only=True, validator=_positive
    )
    ad_window: timedelta = attrs.field(default=timedelta(days=7), kw_only=True, validator=_positive)
    honour: frozenset[Route] = attrs.field(default=(), converter=_routes, kw_only=True)
    utility_templates: Mapping[Purpose, str] = attrs.field(
        factory=dict, converter=_templates, kw_only=True
    )

    def decide(self, subscriber: Subscriber, purpose: Purpose | str, now: datetime) -> Decision:
        """Decide whether, and how, a message of this purpose may go to this subscriber now.

        Args:
            subscriber: The person, with status, last interaction and tokens.
            purpose: Why the message is sent (a :class:`Purpose` or its name).
            now: The current time, timezone-aware.

        Returns:
            The decision (allowed with messaging type, tag and recipient, or
            refused), with a reason a person can read either way.

        Raises:
            ConfigurationError: ``purpose`` names no purpose.
            ValueError: ``now`` is naive.
        """
        purpose = Purpose.parse(purpose)
        if now.tzinfo is None:
            raise ValueError("now must be a timezone-aware datetime")
        if subscriber.status is not SubscriberStatus.ACTIVE:
            return Decision.refuse(_status_reason(subscriber), rule=subscriber.status.value)
        if Permission.PAGES_MESSAGING not in self.permissions:
            return Decision.refuse(
                "the Page has not been granted pages_messaging; nothing may be sent",
                rule="no_pages_messaging",
            )
        last = subscriber.last_interaction_at
        # A last interaction "in the future" is clock skew: count it as just now.
        elapsed = None if last is None else max(now - last, timedelta(0))
        by_ad = self._ad_window_open(subscriber, now)
        skipped: list[Rule] = []
        rule, token = next(self._matches(subscriber, purpose, now, elapsed, by_ad, skipped))
        # Written only when someone reads it: a broadcast's allowed sends never do.
        reason = partial(self._reason, rule, token, elapsed, by_ad, skipped)
        if not rule.allowed:
            return Decision.refuse(reason, rule=rule.code)
        if rule.template:
            return Decision(
                True,
                rule.messaging_type,
                None,
                Recipient(subscriber.psid),
                reason,
                template=self.utility_templates[purpose],
                rule=rule.code,
            )
        recipient = Recipient(subscriber.psid) if token is None else Recipient.from_token(token)
        return Decision(
            True, rule.messaging_type, rule.tag, recipient, reason, token, rule=rule.code
        )

    def _reason(
        self,
        rule: Rule,
        token: NotificationToken | None,
        elapsed: timedelta | None,
        by_ad: bool,
        skipped: list[Rule],
    ) -> str:
        reason = f"{self._context(elapsed, by_ad)}; {self.describe(rule)}"
        if token is not None:
            topic = token.topic if token.topic and token.topic.strip() else None
            reason += f" (token topic {topic!r})" if topic else " (token with no topic)"
        if skipped:
            reason += "; not taken: " + "; ".join(self._why_skipped(row) for row in skipped)
        return reason

    def describe(self, rule: Rule) -> str:
        """A row's note with this policy's windows filled in.

        Args:
            rule: A row of the decision table.

        Returns:
            The note as a sentence fragment.
        """
        note = rule.note
        if rule.template and rule.purpose in self.utility_templates:
            note += f" (template '{self.utility_templates[rule.purpose]}')"
        return note.format(
            window=format_duration(self.window),
            human_agent_window=format_duration(self.human_agent_window),
            purpose=rule.purpose.name,
            topic=rule.purpose.value,
        )

    def _why_skipped(self, rule: Rule) -> str:
        assert rule.route is not None  # a Rule refused by default always names its route
        what = f"the {rule.tag.value} tag" if rule.tag else rule.code
        when = f" since {rule.changed.isoformat()}" if rule.changed else ""
        return (
            f"{what} ({rule.status.value.replace('_', ' ')}{when}; "
            f"honour={{'{rule.route.value}'}} re-enables it where Meta still serves it)"
        )

    def _ad_window_open(self, subscriber: Subscriber, now: datetime) -> bool:
        opened = subscriber.ad_referral_at
        return opened is not None and max(now - opened, timedelta(0)) < self.ad_window

    def _applies(self, rule: Rule, elapsed: timedelta | None, by_ad: bool) -> bool:
        if any(permission not in self.permissions for permission in rule.requires):
            return False
        if rule.template and rule.purpose not in self.utility_templates:
            return False
        if rule.window is Window.INSIDE:
            return by_ad or (elapsed is not None and elapsed < self.window)
        if rule.window is Window.HUMAN_AGENT:
            return elapsed is not None and elapsed < self.human_agent_window
        return True

    def _matches(
        self,
        subscriber: Subscriber,
        purpose: Purpose,
        now: datetime,
        elapsed: timedelta | None,
        by_ad: bool,
        skipped: list[Rule],
    ) -> Iterator[tuple[Rule, NotificationToken | None]]:
        # The table ends every purpose with an unconditional row, so this
        # always yields at least once.
        for rule in _ROWS[purpose]:
            if not self._applies(rule, elapsed, by_ad):
                continue
            if rule.status.refused_by_default and rule.route not in self.honour:
                # Would have applied: say so in the reason, then look further.
                if rule.token is None or _pick_token(subscriber, rule.token, purpose, now):
                    skipped.append(rule)
                continue
            token = (
                None if rule.token is None else _pick_token(subscriber, rule.token, purpose, now)
            )
            if rule.token is None or token is not None:
                yield rule, token

    def _context(self, elapsed: timedelta | None, by_ad: bool = False) -> str:
        window = format_duration(self.window)
        if by_ad and (elapsed is None or elapsed >= self.window):
            return (
                f"inside the {format_duration(self.ad_window)} window opened by the "
                "person's message from a Click-to-Messenger ad"
            )
        if elapsed is None:
            return f"no interaction recorded; outside the {window} window"
        ago = "just now" if elapsed < _MINUTE else f"{format_duration(elapsed)} ago"
        side = "inside" if elapsed < self.window else "outside"
        return f"last interaction {ago}; {side} the {window} window"
