"""The policy as of late 2026 (issue 15): rule statuses, honoured routes, utility templates, ads."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from fmc.errors import ConfigurationError
from fmc.models.send import MessagingType
from fmc.models.subscriber import NotificationToken, Subscriber, TokenKind
from fmc.policy import RULES, MessagingPolicy, Purpose, Route, RuleStatus, render_table_rst

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=timezone.utc)
BASIC = MessagingPolicy({"pages_messaging"})


def person(hours: float | None = 31, **fields: object) -> Subscriber:
    """A subscriber whose last interaction was ``hours`` ago."""
    last = None if hours is None else NOW - timedelta(hours=hours)
    return Subscriber("page", "psid-9", last_interaction_at=last, **fields)  # type: ignore[arg-type]


class TestStatuses:
    @pytest.mark.parametrize("rule", RULES, ids=lambda rule: f"{rule.purpose.value}-{rule.code}")
    def test_every_row_has_a_status_and_a_source(self, rule: object) -> None:
        """Each row names its status and a source marked official or third-party."""
        assert rule.status in RuleStatus  # type: ignore[attr-defined]
        assert rule.source.startswith(("[C]", "[3p]"))  # type: ignore[attr-defined]

    def test_refused_by_default_rows_are_dated_and_name_a_route(self) -> None:
        """A deprecated or reported-removed row says since when, and how to re-enable it."""
        refused = [rule for rule in RULES if rule.status.refused_by_default]
        assert refused
        assert all(rule.changed is not None and rule.route is not None for rule in refused)

    def test_the_rendered_table_shows_status_and_source(self) -> None:
        """The docs table has status and source columns with the 2026 dates."""
        text = render_table_rst()
        assert "reported removed (since 2026-04-27)" in text
        assert "deprecated (since 2026-02-10)" in text
        assert "honour={'account_update_tag'}" in text


class TestDeprecatedRoutes:
    def test_a_tag_refusal_says_why_and_how_to_reenable(self) -> None:
        """Without a utility template an update is refused with the 2026 reason."""
        decision = BASIC.decide(person(), Purpose.ACCOUNT_UPDATE, NOW)
        assert not decision.allowed
        assert "error 100 since 27 April 2026" in decision.reason
        assert "honour={'account_update_tag'}" in decision.reason

    def test_an_honoured_tag_is_used(self) -> None:
        """An operator who honours the tag route gets the tagged send."""
        policy = MessagingPolicy({"pages_messaging"}, honour=["account-update-tag"])
        decision = policy.decide(person(), Purpose.ACCOUNT_UPDATE, NOW)
        assert (decision.allowed, decision.rule) == (True, "message_tag")

    def test_a_recurring_token_is_not_spent_by_default(self) -> None:
        """A recurring token is skipped and the refusal names the deprecation."""
        token = NotificationToken(TokenKind.NOTIFICATION_MESSAGES, "nm-secret")
        decision = BASIC.decide(person(tokens=(token,)), Purpose.PROMOTIONAL, NOW)
        assert not decision.allowed
        assert "Marketing Messages API" in decision.reason
        assert "deprecated since 2026-02-10" in decision.reason
        assert "nm-secret" not in decision.reason

    @pytest.mark.parametrize("honour", ["account_update", ["nope"]], ids=["string", "unknown"])
    def test_bad_routes_are_configuration_errors(self, honour: object) -> None:
        """A bare string or an unknown route name is refused, naming the problem."""
        with pytest.raises(ConfigurationError, match="route"):
            MessagingPolicy({"pages_messaging"}, honour=honour)  # type: ignore[arg-type]


class TestUtilityTemplates:
    def test_an_update_goes_as_the_configured_template(self) -> None:
        """Outside the window an update with a configured template is a utility message."""
        policy = MessagingPolicy(
            {"pages_messaging"}, utility_templates={"post_purchase_update": "order_shipped"}
        )
        decision = policy.decide(person(), Purpose.POST_PURCHASE_UPDATE, NOW)
        assert (decision.allowed, decision.messaging_type, decision.template) == (
            True,
            MessagingType.UTILITY,
            "order_shipped",
        )
        assert "utility message" in decision.reason
        assert "'order_shipped'" in decision.reason

    def test_inside_the_window_no_template_is_needed(self) -> None:
        """Inside the window the message goes as UPDATE, not as a template."""
        policy = MessagingPolicy({"pages_messaging"}, utility_templates={"transactional": "t"})
        decision = policy.decide(person(2), Purpose.TRANSACTIONAL, NOW)
        assert (decision.messaging_type, decision.template) == (MessagingType.UPDATE, None)

    def test_a_template_for_another_purpose_does_not_apply(self) -> None:
        """A template configured for one purpose does not serve another."""
        policy = MessagingPolicy({"pages_messaging"}, utility_templates={"account_update": "t"})
        decision = policy.decide(person(), Purpose.TRANSACTIONAL, NOW)
        assert (decision.allowed, decision.rule) == (False, "no_utility_template")

    def test_a_blank_template_name_is_refused(self) -> None:
        """A template must have a name."""
        with pytest.raises(ConfigurationError, match="utility_templates"):
            MessagingPolicy({"pages_messaging"}, utility_templates={"transactional": " "})


class TestAdWindow:
    @pytest.mark.parametrize(
        ("days_since_ad", "allowed"), [(1, True), (6.9, True), (7, False), (None, False)]
    )
    def test_a_message_from_an_ad_keeps_the_window_open_7_days(
        self, days_since_ad: float | None, allowed: bool
    ) -> None:
        """A person who wrote from a Click-to-Messenger ad can be answered for 7 days."""
        ad = None if days_since_ad is None else NOW - timedelta(days=days_since_ad)
        subscriber = person(hours=None if ad is None else days_since_ad * 24, ad_referral_at=ad)
        decision = BASIC.decide(subscriber, Purpose.RESPONSE, NOW)
        assert decision.allowed is allowed
        if allowed:
            assert "Click-to-Messenger ad" in decision.reason


def test_routes_parse_their_values() -> None:
    """Route.parse reads values with hyphens and any case."""
    assert Route.parse("Recurring-Notifications") is Route.RECURRING_NOTIFICATIONS
