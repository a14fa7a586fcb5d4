"""Why a message is sent, and the Page permissions that allow it."""

from __future__ import annotations

import difflib
import enum

from fmc.errors import ConfigurationError

__all__ = ["Permission", "Purpose"]


def _normalize(text: str) -> str:
    # CLI and config spellings: "News", "personal-follow-up", "personal follow up".
    return "_".join(text.strip().lower().replace("-", " ").replace("_", " ").split())


class Purpose(str, enum.Enum):
    """Why a message is sent; the policy judges every send by its purpose.

    The values are the lower-case names, so ``Purpose("news")`` works, and
    :meth:`parse` also accepts the spellings people type on a command line.
    """

    #: A reply to something the person just wrote or tapped.
    RESPONSE = "response"
    #: News (the legacy subscription messaging of the News Page Index).
    NEWS = "news"
    #: Reminders and updates the person set up themselves (productivity).
    PRODUCTIVITY = "productivity"
    #: Personalized follow-up / personal trackers.
    PERSONAL_FOLLOW_UP = "personal_follow_up"
    #: An update about an event the person registered for.
    CONFIRMED_EVENT_UPDATE = "confirmed_event_update"
    #: An update about something the person bought.
    POST_PURCHASE_UPDATE = "post_purchase_update"
    #: A change to the person's account or application.
    ACCOUNT_UPDATE = "account_update"
    #: A human agent's reply to the person's inquiry.
    HUMAN_AGENT = "human_agent"
    #: An order, account, appointment or event update, sent as a utility
    #: message outside the window (Meta's utility templates, 2026).
    TRANSACTIONAL = "transactional"
    #: Offers, sales and marketing (promotional content).
    PROMOTIONAL = "promotional"

    @classmethod
    def _missing_(cls, value: object) -> Purpose:
        # Purpose("NEWS") and Purpose("personal-follow-up") work like parse();
        # anything else fails with the list of valid purposes, not a bare ValueError.
        if isinstance(value, str):
            normalized = _normalize(value)
            for member in cls:
                if member.value == normalized:
                    return member
        valid = [member.value for member in cls]
        close = difflib.get_close_matches(_normalize(str(value)), valid, n=1)
        hint = f"did you mean {close[0]!r}? " if close else ""
        raise ConfigurationError(
            f"unknown purpose {value!r}; {hint}expected one of {', '.join(valid)}"
        )

    @classmethod
    def parse(cls, value: Purpose | str) -> Purpose:
        """Read a purpose from its value, its name or a CLI spelling.

        Args:
            value: A :class:`Purpose`, or text such as ``"news"``,
                ``"NEWS"`` or ``"personal-follow-up"``.

        Returns:
            The purpose.

        Raises:
            ConfigurationError: The text names no purpose; the message lists
                the valid ones.
        """
        if isinstance(value, Purpose):
            return value
        if not isinstance(value, str):
            raise ConfigurationError(
                f"a purpose must be a name such as 'news', got {type(value).__name__}"
            )
        try:
            return cls(_normalize(value))
        except ValueError:
            valid = ", ".join(member.value for member in cls)
            raise ConfigurationError(
                f"unknown purpose {value!r}; expected one of {valid}"
            ) from None


class Permission(str, enum.Enum):
    """A Page permission that changes what may be sent, named as Meta names it."""

    #: Send messages at all (required for everything).
    PAGES_MESSAGING = "pages_messaging"
    #: Legacy subscription messaging (``NON_PROMOTIONAL_SUBSCRIPTION``);
    #: restricted by Meta since 4 March 2020 to Pages in the News Page Index.
    PAGES_MESSAGING_SUBSCRIPTIONS = "pages_messaging_subscriptions"
    #: Approval to use the ``HUMAN_AGENT`` tag.
    HUMAN_AGENT = "human_agent"
    #: Not a permission but Meta's flag that the Page is in the News Page
    #: Index, the only Pages allowed news messaging outside the window.
    NEWS_PAGE_INDEX = "news_page_index"
    #: Send utility messages (``page_utility_messaging``).
    PAGE_UTILITY_MESSAGING = "page_utility_messaging"

    @classmethod
    def parse(cls, value: Permission | str) -> Permission:
        """Read a permission from Meta's name for it.

        Args:
            value: A :class:`Permission`, or text such as ``"pages_messaging"``
                (case and surrounding spaces are ignored).

        Returns:
            The permission.

        Raises:
            ConfigurationError: The text names no permission fmc knows; the
                message names it and lists the known ones.
        """
        if isinstance(value, Permission):
            return value
        if not isinstance(value, str):
            raise ConfigurationError(
                f"a permission must be a name such as 'pages_messaging', got {type(value).__name__}"
            )
        try:
            return cls(value.strip().lower())
        except ValueError:
            known = ", ".join(member.value for member in cls)
            raise ConfigurationError(f"unknown permission {value!r}; fmc knows {known}") from None
