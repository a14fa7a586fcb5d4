"""MessagingPolicy.decide: boundaries, statuses, precedence, tokens and reasons."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from fmc.errors import ConfigurationError
from fmc.models.send import MessageTag, MessagingType
from fmc.models.subscriber import (
    NotificationToken,
    Subscriber,
    SubscriberStatus,
    TokenKind,
    TokenStatus,
)
from fmc.policy import MessagingPolicy, Permission, Purpose

NOW = datetime(2026, 5, 1, 12, 0, tzinfo=timezone.utc)
BASIC = MessagingPolicy({"pages_messaging"})
FULL = MessagingPolicy({"pages_messaging", "pages_messaging_subscriptions", "human_agent"})
NEWS_INDEX = MessagingPolicy(
    {"pages_messaging", "pages_messaging_subscriptions", "news_page_index"}
)
# Recurring notifications are deprecated (2026-02-10): these tests honour the route.
RECURRING = MessagingPolicy({"pages_messaging"}, honour={"recurring_notifications"})


def person(
    ago: timedelta | None = None,
    *,
    tokens: tuple[NotificationToken, ...] = (),
    status: SubscriberStatus = SubscriberStatus.ACTIVE,
    status_reason: str | None = None,
) -> Subscriber:
    """A subscriber whose last interaction was ``ago`` before NOW (None: never)."""
    last = None if ago is None else NOW - ago
    return Subscriber(
        "page",
        "psid-7",
        status=status,
        last_interaction_at=last,
        tokens=tokens,
        status_reason=status_reason,
    )


def recurring(topic: str | None = None, secret: str = "nm-secret") -> NotificationToken:
    """A usable recurring notification token."""
    return NotificationToken(TokenKind.NOTIFICATION_MESSAGES, secret, topic=topic)


def one_time(topic: str | None = None, secret: str = "otn-secret") -> NotificationToken:
    """A usable one-time notification token."""
    return NotificationToken(TokenKind.ONE_TIME, secret, topic=topic)


class TestBoundaries:
    """Where the 24-hour and 7-day windows end."""

    def test_just_inside_the_window_a_reply_is_allowed(self) -> None:
        """One microsecond before 24 h the window is still open."""
        decision = BASIC.decide(
            person(timedelta(hours=24) - timedelta(microseconds=1)), "response", NOW
        )
        assert decision.allowed
        assert decision.messaging_type is MessagingType.RESPONSE

    def test_exactly_24_hours_is_outside_the_window(self) -> None:
        """At exactly 24 h the window has closed."""
        decision = BASIC.decide(person(timedelta(hours=24)), Purpose.RESPONSE, NOW)
        assert (decision.allowed, decision.rule) == (False, "response_outside_window")

    def test_exactly_24_hours_news_needs_a_subscription(self) -> None:
        """At exactly 24 h a news message needs a subscription route."""
        decision = BASIC.decide(person(timedelta(hours=24)), Purpose.NEWS, NOW)
        assert decision.rule == "outside_window_no_subscription"

    def test_just_inside_7_days_the_human_agent_tag_is_allowed(self) -> None:
        """One microsecond before 7 days a human agent may still reply with the tag."""
        decision = FULL.decide(
            person(timedelta(days=7) - timedelta(microseconds=1)), "human_agent", NOW
        )
        assert (decision.allowed, decision.tag) == (True, MessageTag.HUMAN_AGENT)

    def test_exactly_7_days_the_human_agent_tag_is_refused(self) -> None:
        """At exactly 7 days the HUMAN_AGENT tag may no longer be used."""
        decision = FULL.decide(person(timedelta(days=7)), Purpose.HUMAN_AGENT, NOW)
        assert (decision.allowed, decision.rule) == (False, "human_agent_window_closed")

    def test_the_window_is_configurable(self) -> None:
        """A policy with a 48 h window treats 31 h as inside."""
        policy = MessagingPolicy({"pages_messaging"}, window=timedelta(hours=48))
        decision = policy.decide(person(timedelta(hours=31)), Purpose.RESPONSE, NOW)
        assert decision.rule == "inside_window"

    def test_the_human_agent_window_is_configurable(self) -> None:
        """A policy with a 3-day human agent window refuses the tag at 4 days."""
        policy = MessagingPolicy(
            {"pages_messaging", "human_agent"}, human_agent_window=timedelta(days=3)
        )
        decision = policy.decide(person(timedelta(days=4)), Purpose.HUMAN_AGENT, NOW)
        assert decision.rule == "human_agent_window_closed"

    def test_a_last_interaction_in_the_future_counts_as_just_now(self) -> None:
        """Clock skew (an interaction after now) is treated as inside the window."""
        decision = BASIC.decide(person(-timedelta(minutes=5)), Purpose.RESPONSE, NOW)
        assert decision.rule == "inside_window"
        assert decision.reason.startswith("last interaction just now;")


class TestStatus:
    """Subscribers who may not be messaged at all."""

    @pytest.mark.parametrize(
        "status",
        [SubscriberStatus.UNAVAILABLE, SubscriberStatus.OPTED_OUT, SubscriberStatus.BLOCKED],
        ids=lambda status: status.value,
    )
    @pytest.mark.parametrize("purpose", list(Purpose), ids=lambda purpose: purpose.value)
    def test_inactive_subscribers_are_never_messaged(
        self, status: SubscriberStatus, purpose: Purpose
    ) -> None:
        """An unavailable, opted-out or blocked subscriber is refused for every purpose."""
        subscriber = person(timedelta(minutes=1), tokens=(recurring(),), status=status)
        decision = FULL.decide(subscriber, purpose, NOW)
        assert (decision.allowed, decision.rule) == (False, status.value)

    def test_the_reason_names_the_status_and_its_reason(self) -> None:
        """The refusal says the status and why it was set."""
        subscriber = person(
            timedelta(hours=1),
            status=SubscriberStatus.UNAVAILABLE,
            status_reason="(#551) This person isn't available right now.",
        )
        decision = BASIC.decide(subscriber, Purpose.RESPONSE, NOW)
        assert decision.reason == (
            "subscriber is unavailable: (#551) This person isn't available right now.; "
            "nothing may be sent to them"
        )

    def test_the_reason_says_when_no_status_reason_was_recorded(self) -> None:
        """Without a status_reason the refusal says none was recorded."""
        decision = BASIC.decide(person(status=SubscriberStatus.OPTED_OUT), Purpose.RESPONSE, NOW)
        assert "subscriber is opted_out (no reason recorded)" in decision.reason

    def test_the_status_is_checked_before_the_permission(self) -> None:
        """A blocked subscriber is reported as blocked even when pages_messaging is missing."""
        decision = MessagingPolicy(()).decide(
            person(status=SubscriberStatus.BLOCKED), Purpose.NEWS, NOW
        )
        assert decision.rule == "blocked"


class TestTokens:
    """Which notification token is used, and when."""

    def test_a_topic_token_is_preferred_to_a_catch_all_one(self) -> None:
        """Of two usable tokens of a kind, the one opted in for this purpose is used."""
        tokens = (recurring(None, "catch-all"), recurring("news", "for-news"))
        decision = RECURRING.decide(person(tokens=tokens), Purpose.NEWS, NOW)
        assert decision.token == tokens[1]
        assert decision.recipient is not None
        assert decision.recipient.notification_messages_token == "for-news"

    def test_a_blank_topic_is_a_catch_all(self) -> None:
        """A token whose topic is blank covers any purpose its kind may carry."""
        decision = BASIC.decide(person(tokens=(one_time("  "),)), Purpose.PRODUCTIVITY, NOW)
        assert decision.rule == "one_time_token"

    def test_the_decision_carries_the_one_time_token_it_uses(self) -> None:
        """A one-time route returns the token so the caller can mark it used."""
        token = one_time("news")
        decision = BASIC.decide(person(timedelta(days=2), tokens=(token,)), Purpose.NEWS, NOW)
        assert decision.token == token
        assert decision.recipient is not None
        assert decision.recipient.one_time_notif_token == "otn-secret"

    def test_a_token_past_its_expiry_is_not_used(self) -> None:
        """A token whose expires_at has passed is skipped."""
        token = NotificationToken(
            TokenKind.NOTIFICATION_MESSAGES, "old", expires_at=NOW - timedelta(days=1)
        )
        decision = BASIC.decide(person(tokens=(token,)), Purpose.PROMOTIONAL, NOW)
        assert decision.rule == "promotional_outside_window"

    def test_a_token_that_expires_later_is_used(self) -> None:
        """A token whose expires_at is still ahead is used."""
        token = NotificationToken(
            TokenKind.NOTIFICATION_MESSAGES, "fresh", expires_at=NOW + timedelta(days=1)
        )
        decision = RECURRING.decide(person(tokens=(token,)), Purpose.PROMOTIONAL, NOW)
        assert decision.rule == "notification_messages_token"

    def test_inside_the_window_no_token_is_spent(self) -> None:
        """Inside the window the PSID is used and the decision carries no token."""
        decision = FULL.decide(person(timedelta(hours=2), tokens=(one_time(),)), "news", NOW)
        assert decision.token is None
        assert decision.recipient is not None
        assert decision.recipient.id == "psid-7"

    def test_a_used_token_is_not_used_again(self) -> None:
        """A one-time token marked used is skipped."""
        token = NotificationToken(TokenKind.ONE_TIME, "spent", status=TokenStatus.USED)
        decision = BASIC.decide(person(tokens=(token,)), Purpose.NEWS, NOW)
        assert not decision.allowed


class TestReasons:
    """The sentences people read."""

    def test_news_outside_the_window_says_what_it_needs(self) -> None:
        """The refusal gives the hours, the window and what would allow it."""
        decision = BASIC.decide(person(timedelta(hours=31, minutes=40)), Purpose.NEWS, NOW)
        assert decision.reason == (
            "last interaction 31 h ago; outside the 24 h window; NEWS outside the 24 h "
            "window needs a Page in the News Page Index (news_page_index and "
            "pages_messaging_subscriptions) or a one-time token (topic 'news' or none)"
        )

    def test_no_interaction_recorded(self) -> None:
        """Without a last interaction the reason says none was recorded."""
        decision = BASIC.decide(person(None), Purpose.RESPONSE, NOW)
        assert decision.reason == (
            "no interaction recorded; outside the 24 h window; a response needs the 24 h window"
        )

    def test_minutes_inside_the_window(self) -> None:
        """A recent interaction is said in minutes."""
        decision = BASIC.decide(person(timedelta(minutes=12, seconds=30)), Purpose.RESPONSE, NOW)
        assert decision.reason == (
            "last interaction 12 min ago; inside the 24 h window; a reply, sent as RESPONSE"
        )

    def test_days_for_long_silences(self) -> None:
        """A silence of several days is said in whole days."""
        decision = FULL.decide(person(timedelta(days=9, hours=20)), Purpose.HUMAN_AGENT, NOW)
        assert decision.reason.startswith("last interaction 9 days ago; outside the 24 h window;")
        assert decision.reason.endswith("within 7 days of their last interaction")

    def test_the_legacy_route_says_it_is_legacy(self) -> None:
        """A news subscription send says it is for a Page in the News Page Index."""
        decision = NEWS_INDEX.decide(person(timedelta(days=2)), Purpose.NEWS, NOW)
        assert "news messaging" in decision.reason
        assert "News Page Index" in decision.reason

    def test_a_token_route_names_the_topic(self) -> None:
        """A token send says which topic the token was for."""
        decision = RECURRING.decide(person(tokens=(recurring("news"),)), Purpose.NEWS, NOW)
        assert decision.reason.endswith("(token topic 'news')")

    def test_a_catch_all_token_route_says_it_has_no_topic(self) -> None:
        """A token send with a topic-less token says so."""
        decision = RECURRING.decide(person(tokens=(recurring(),)), Purpose.NEWS, NOW)
        assert decision.reason.endswith("(token with no topic)")

    def test_the_token_never_appears_in_the_reason_or_repr(self) -> None:
        """The token, a credential, is in neither the reason nor the decision's repr."""
        decision = BASIC.decide(person(tokens=(one_time(None, "SECRET-OTN"),)), "news", NOW)
        assert decision.allowed
        assert "SECRET-OTN" not in decision.reason
        assert "SECRET-OTN" not in repr(decision)

    def test_no_pages_messaging(self) -> None:
        """Without pages_messaging the reason says so."""
        decision = MessagingPolicy({"human_agent"}).decide(
            person(timedelta(hours=1)), "response", NOW
        )
        assert (
            decision.reason == "the Page has not been granted pages_messaging; nothing may be sent"
        )


class TestArguments:
    """What decide accepts."""

    def test_a_purpose_may_be_given_by_name(self) -> None:
        """decide reads a purpose from a CLI spelling."""
        by_name = BASIC.decide(person(timedelta(hours=1)), "Personal-Follow-Up", NOW)
        assert by_name == BASIC.decide(person(timedelta(hours=1)), Purpose.PERSONAL_FOLLOW_UP, NOW)

    def test_an_unknown_purpose_is_a_configuration_error(self) -> None:
        """decide refuses a purpose it does not know."""
        with pytest.raises(ConfigurationError, match="'gossip'"):
            BASIC.decide(person(), "gossip", NOW)

    def test_a_naive_now_is_refused(self) -> None:
        """decide needs a timezone-aware now."""
        with pytest.raises(ValueError, match="timezone-aware"):
            BASIC.decide(person(), Purpose.NEWS, datetime(2026, 5, 1))

    def test_now_in_another_timezone_is_the_same_instant(self) -> None:
        """A now with a different UTC offset gives the same decision."""
        elsewhere = NOW.astimezone(timezone(timedelta(hours=-5)))
        subscriber = person(timedelta(hours=23, minutes=59))
        assert BASIC.decide(subscriber, "response", elsewhere) == BASIC.decide(
            subscriber, "response", NOW
        )

    def test_permissions_are_normalized(self) -> None:
        """Plain strings become Permission members."""
        policy = MessagingPolicy(["pages_messaging", Permission.HUMAN_AGENT])
        assert policy.permissions == frozenset({Permission.PAGES_MESSAGING, Permission.HUMAN_AGENT})
