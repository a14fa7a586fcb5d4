"""Where a rule stands with Meta, and the deprecated routes an operator may still honour."""

from __future__ import annotations

import enum

__all__ = ["Route", "RuleStatus"]


class RuleStatus(str, enum.Enum):
    """Where a route stands with Meta, as of late 2026."""

    #: Documented by Meta and in use.
    CURRENT = "current"
    #: Documented, but only for Pages Meta flags (the News Page Index).
    RESTRICTED = "restricted"
    #: Meta deprecated it; refused unless the operator honours the route.
    DEPRECATED = "deprecated"
    #: Independent sources report Meta refuses it; Meta's own copy is unclear.
    #: Refused unless the operator honours the route.
    REPORTED_REMOVED = "reported_removed"

    @property
    def refused_by_default(self) -> bool:
        """Whether the policy skips rows of this status unless their route is honoured."""
        return self in (RuleStatus.DEPRECATED, RuleStatus.REPORTED_REMOVED)


class Route(str, enum.Enum):
    """A route Meta deprecated that an operator may still honour (``MessagingPolicy(honour=...)``).

    List one only for a Page that Meta demonstrably still serves that way
    (for example a send that succeeded this week); otherwise the send fails
    with error 100 or worse, a policy strike.
    """

    #: Recurring notifications (``notification_messages`` tokens).
    RECURRING_NOTIFICATIONS = "recurring_notifications"
    #: ``NON_PROMOTIONAL_SUBSCRIPTION`` for content other than news.
    NON_NEWS_SUBSCRIPTION = "non_news_subscription"
    #: The ``CONFIRMED_EVENT_UPDATE`` tag.
    CONFIRMED_EVENT_UPDATE_TAG = "confirmed_event_update_tag"
    #: The ``POST_PURCHASE_UPDATE`` tag.
    POST_PURCHASE_UPDATE_TAG = "post_purchase_update_tag"
    #: The ``ACCOUNT_UPDATE`` tag.
    ACCOUNT_UPDATE_TAG = "account_update_tag"

    @classmethod
    def parse(cls, value: Route | str) -> Route:
        """Read a route from its value, case and hyphens ignored.

        Raises:
            ValueError: The text names no route; the message lists them.
        """
        if isinstance(value, Route):
            return value
        text = str(value).strip().lower().replace("-", "_")
        try:
            return cls(text)
        except ValueError:
            known = ", ".join(route.value for route in cls)
            raise ValueError(f"unknown route {value!r}; the routes are {known}") from None
