"""Purposes, permissions, policy configuration, decisions and the helpers behind reasons."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from fmc.errors import ConfigurationError
from fmc.models.recipient import Recipient
from fmc.models.send import MessageTag, MessagingType
from fmc.models.subscriber import Subscriber
from fmc.policy import (
    Decision,
    MessagingPolicy,
    Permission,
    Purpose,
    format_duration,
    topic_matches,
)


class TestPurpose:
    """Reading purposes."""

    @pytest.mark.parametrize(
        ("text", "purpose"),
        [
            ("news", Purpose.NEWS),
            ("NEWS", Purpose.NEWS),
            (" News ", Purpose.NEWS),
            ("personal-follow-up", Purpose.PERSONAL_FOLLOW_UP),
            ("personal follow up", Purpose.PERSONAL_FOLLOW_UP),
            ("PERSONAL_FOLLOW_UP", Purpose.PERSONAL_FOLLOW_UP),
            ("post-purchase-update", Purpose.POST_PURCHASE_UPDATE),
            (Purpose.PROMOTIONAL, Purpose.PROMOTIONAL),
        ],
        ids=repr,
    )
    def test_parse(self, text: str, purpose: Purpose) -> None:
        """CLI spellings, names and members all parse."""
        assert Purpose.parse(text) is purpose

    def test_values_are_the_lower_case_names(self) -> None:
        """Every value is its member's name in lower case."""
        assert all(purpose.value == purpose.name.lower() for purpose in Purpose)

    def test_unknown_text_lists_the_valid_purposes(self) -> None:
        """An unknown purpose is a ConfigurationError naming it and the valid ones."""
        with pytest.raises(ConfigurationError, match=r"'newz'.*news, productivity"):
            Purpose.parse("newz")

    def test_a_non_string_is_refused(self) -> None:
        """A number is not a purpose."""
        with pytest.raises(ConfigurationError, match="int"):
            Purpose.parse(3)  # type: ignore[arg-type]


class TestPermission:
    """Reading permissions."""

    def test_meta_names(self) -> None:
        """The values are Meta's permission names."""
        assert {p.value for p in Permission} == {
            "pages_messaging",
            "pages_messaging_subscriptions",
            "human_agent",
            "news_page_index",
            "page_utility_messaging",
        }

    def test_case_and_spaces_are_ignored(self) -> None:
        """Upper case and surrounding spaces still name the permission."""
        assert Permission.parse(" PAGES_MESSAGING ") is Permission.PAGES_MESSAGING

    def test_unknown_name_is_named_in_the_error(self) -> None:
        """An unknown permission is a ConfigurationError naming it."""
        with pytest.raises(ConfigurationError, match="'pages_messaging_phone_number'"):
            Permission.parse("pages_messaging_phone_number")

    def test_a_non_string_is_refused(self) -> None:
        """A number is not a permission."""
        with pytest.raises(ConfigurationError, match="int"):
            Permission.parse(7)  # type: ignore[arg-type]


class TestMessagingPolicy:
    """Building a policy."""

    def test_unknown_permission_fails_construction(self) -> None:
        """The constructor names an unknown permission."""
        with pytest.raises(ConfigurationError, match="'pages_mesaging'"):
            MessagingPolicy({"pages_mesaging"})

    def test_a_bare_string_is_refused(self) -> None:
        """A single string is not mistaken for a collection of one-letter names."""
        with pytest.raises(ConfigurationError, match="collection"):
            MessagingPolicy("pages_messaging")

    @pytest.mark.parametrize("field", ["window", "human_agent_window"])
    @pytest.mark.parametrize("value", [timedelta(0), timedelta(hours=-1), 24], ids=repr)
    def test_windows_must_be_positive_timedeltas(self, field: str, value: Any) -> None:
        """A zero, negative or non-timedelta window is refused."""
        with pytest.raises(ConfigurationError, match=field):
            MessagingPolicy({"pages_messaging"}, **{field: value})

    def test_defaults(self) -> None:
        """The windows default to 24 hours and 7 days."""
        policy = MessagingPolicy({"pages_messaging"})
        assert (policy.window, policy.human_agent_window) == (
            timedelta(hours=24),
            timedelta(days=7),
        )

    def test_frozen(self) -> None:
        """A policy cannot be changed after construction."""
        policy = MessagingPolicy({"pages_messaging"})
        with pytest.raises(AttributeError):
            policy.window = timedelta(hours=1)  # type: ignore[misc]


PSID = Recipient("1")
UPDATE, TAG = MessagingType.UPDATE, MessagingType.MESSAGE_TAG


class TestDecision:
    """A Decision's fields agree with each other."""

    def test_refuse(self) -> None:
        """Decision.refuse builds a refusal with nothing to send with."""
        decision = Decision.refuse("because", rule="blocked")
        assert (decision.allowed, decision.messaging_type, decision.recipient) == (
            False,
            None,
            None,
        )

    @pytest.mark.parametrize(
        ("args", "message"),
        [
            ((True, None, None, PSID, "r"), "messaging_type and a recipient"),
            ((True, UPDATE, None, None, "r"), "messaging_type and a recipient"),
            ((True, TAG, None, PSID, "r"), "MESSAGE_TAG"),
            ((True, UPDATE, MessageTag.ACCOUNT_UPDATE, PSID, "r"), "MESSAGE_TAG"),
            ((False, UPDATE, None, None, "r"), "refusal carries no"),
            ((False, None, None, PSID, "r"), "refusal carries no"),
            ((True, UPDATE, None, PSID, ""), "reason"),
        ],
        ids=[
            "allowed-without-type",
            "allowed-without-recipient",
            "tag-type-without-tag",
            "tag-without-tag-type",
            "refusal-with-type",
            "refusal-with-recipient",
            "empty-reason",
        ],
    )
    def test_contradictions_are_refused(self, args: tuple[Any, ...], message: str) -> None:
        """A Decision whose fields contradict each other cannot be built."""
        with pytest.raises(ValueError, match=message):
            Decision(*args, rule="r")

    def test_an_empty_rule_is_refused(self) -> None:
        """Every decision names its rule."""
        with pytest.raises(ValueError, match="rule"):
            Decision(True, UPDATE, None, PSID, "reason", rule="")


class TestDeferredReason:
    """A reason given as a function is written when first read, and only then."""

    def test_it_is_not_written_when_the_decision_is_built(self) -> None:
        """Building a decision with a deferred reason calls nothing."""
        calls: list[str] = []

        def write() -> str:
            calls.append("x")
            return "why"

        Decision(True, UPDATE, None, PSID, write, rule="r")
        assert calls == []

    def test_it_is_written_once_on_first_read(self) -> None:
        """Reading the reason twice writes it once and gives the same sentence."""
        calls: list[str] = []

        def write() -> str:
            calls.append("x")
            return "inside the window"

        decision = Decision(True, UPDATE, None, PSID, write, rule="r")
        assert (decision.reason, decision.reason) == ("inside the window", "inside the window")
        assert calls == ["x"]

    def test_equality_and_repr_use_the_sentence(self) -> None:
        """A deferred reason equals, hashes and prints as the same sentence given as text."""
        deferred = Decision.refuse(lambda: "because", rule="blocked")
        given = Decision.refuse("because", rule="blocked")
        assert deferred == given
        assert hash(deferred) == hash(given)
        assert repr(deferred) == repr(given)
        assert "reason='because'" in repr(given)

    def test_a_different_sentence_is_a_different_decision(self) -> None:
        """Two decisions whose reasons differ are not equal."""
        assert Decision.refuse(lambda: "one", rule="b") != Decision.refuse("two", rule="b")


def test_decide_writes_no_reason_until_it_is_read(monkeypatch: pytest.MonkeyPatch) -> None:
    """An allowed decision from the policy formats its reason only when read."""
    written: list[str] = []
    real = MessagingPolicy._reason

    def spy(self: MessagingPolicy, *args: Any) -> str:
        written.append("reason")
        return real(self, *args)

    monkeypatch.setattr(MessagingPolicy, "_reason", spy)
    policy = MessagingPolicy(permissions={"pages_messaging"})
    now = datetime(2026, 12, 1, tzinfo=timezone.utc)
    subscriber = Subscriber("p", "1", last_interaction_at=now - timedelta(hours=1))
    decision = policy.decide(subscriber, Purpose.NEWS, now)
    assert decision.allowed
    assert written == []
    assert decision.reason.startswith("last interaction 1 h ago; inside the 24 h window")
    assert written == ["reason"]


@pytest.mark.parametrize(
    ("duration", "text"),
    [
        (timedelta(seconds=59), "less than a minute"),
        (timedelta(minutes=1), "1 min"),
        (timedelta(minutes=59, seconds=59), "59 min"),
        (timedelta(hours=1), "1 h"),
        (timedelta(hours=24), "24 h"),
        (timedelta(hours=31, minutes=59), "31 h"),
        (timedelta(days=2), "2 days"),
        (timedelta(days=2, hours=1), "49 h"),
        (timedelta(hours=71, minutes=59), "71 h"),
        (timedelta(days=3), "3 days"),
        (timedelta(days=7), "7 days"),
        (timedelta(days=9, hours=23), "9 days"),
    ],
    ids=str,
)
def test_format_duration(duration: timedelta, text: str) -> None:
    """Durations are said in minutes, hours or days, rounded down."""
    assert format_duration(duration) == text


@pytest.mark.parametrize(
    ("topic", "purpose", "matches"),
    [
        (None, Purpose.NEWS, True),
        ("", Purpose.PROMOTIONAL, True),
        ("news", Purpose.NEWS, True),
        ("News", Purpose.NEWS, True),
        ("personal follow-up", Purpose.PERSONAL_FOLLOW_UP, True),
        ("news", Purpose.PRODUCTIVITY, False),
        ("Daily deals", Purpose.PROMOTIONAL, False),
    ],
    ids=repr,
)
def test_topic_matches(topic: str | None, purpose: Purpose, matches: bool) -> None:
    """No topic matches anything; a topic must name the purpose."""
    assert topic_matches(topic, purpose) is matches
