"""Marketing messages: the opt-in request, the opted-in check, the paid send (issue 15)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

import fmc
from fmc.convert import to_wire
from fmc.errors import InvalidRequestError, PolicyRefused
from fmc.models import MarketingOptInRequest, NotificationToken, TokenKind, TokenStatus
from fmc.testing import FakeGraphAPI
from fmc.transport.marketing import (
    MARKETING_ERRORS,
    ad_account_path,
    opted_in_token,
    send_marketing_message,
)
from fmc.webhook import OptinEvent, parse_events

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=timezone.utc)
PSID = "6514567891234567"


def opted_in(*tokens: NotificationToken, **fields: object) -> fmc.Subscriber:
    """A subscriber holding these tokens."""
    return fmc.Subscriber("page", PSID, tokens=tokens, **fields)  # type: ignore[arg-type]


def marketing_token(topic: str | None = None, **fields: object) -> NotificationToken:
    """A marketing (notification_messages) opt-in token."""
    return NotificationToken(
        TokenKind.NOTIFICATION_MESSAGES,
        f"NMT-{topic}",
        topic=topic,
        **fields,  # type: ignore[arg-type]
    )


class TestOptInRequest:
    def test_is_a_notification_messages_template(self) -> None:
        """The consent request is Meta's notification_messages template."""
        request = MarketingOptInRequest(
            "Weekly deals", "promotional", notification_messages_cta_text="GET"
        )
        assert to_wire(request)["attachment"]["payload"] == {
            "template_type": "notification_messages",
            "title": "Weekly deals",
            "payload": "promotional",
            "notification_messages_cta_text": "GET",
        }

    def test_the_opt_in_event_carries_the_token(self) -> None:
        """The person's opt-in arrives with the token the marketing send uses."""
        # messaging_optins reference (updated 20 Jun 2023), notification_messages example.
        body = {
            "object": "page",
            "entry": [
                {
                    "id": "106437718793432",
                    "time": 1780000000000,
                    "messaging": [
                        {
                            "sender": {"id": PSID},
                            "recipient": {"id": "106437718793432"},
                            "timestamp": 1780000000000,
                            "optin": {
                                "type": "notification_messages",
                                "payload": "promotional",
                                "notification_messages_token": "NMT-SECRET-1",
                                "token_expiry_timestamp": 1795000000000,
                                "user_token_status": "NOT_REFRESHED",
                                "title": "Weekly deals",
                            },
                        }
                    ],
                }
            ],
        }
        (event,) = parse_events(body)
        assert isinstance(event, OptinEvent)
        assert (event.type, event.notification_messages_token) == (
            "notification_messages",
            "NMT-SECRET-1",
        )


class TestOptedIn:
    @pytest.mark.parametrize(
        ("token", "usable"),
        [
            (marketing_token("promotional"), True),
            (marketing_token(None), True),
            (marketing_token(None, status=TokenStatus.STOPPED), False),
            (marketing_token(None, expires_at=NOW - timedelta(days=1)), False),
            (NotificationToken(TokenKind.ONE_TIME, "otn"), False),
        ],
        ids=["promotional", "no-topic", "stopped", "expired", "one-time"],
    )
    def test_only_an_active_marketing_token_counts(
        self, token: NotificationToken, usable: bool
    ) -> None:
        """Opted in means an active, unexpired notification_messages token."""
        assert (opted_in_token(opted_in(token), NOW) is not None) is usable

    def test_a_promotional_token_is_preferred(self) -> None:
        """A token opted in for promotions wins over a catch-all one."""
        tokens = (marketing_token(None), marketing_token("promotional"))
        assert opted_in_token(opted_in(*tokens), NOW) == tokens[1]


class TestSend:
    def test_sends_to_the_token_through_the_ad_account(
        self, fmc_client: fmc.Client, fake_graph: FakeGraphAPI
    ) -> None:
        """A marketing message goes to act_<id>/messages addressed to the opt-in token."""
        result = send_marketing_message(
            fmc_client,
            "1234567890",
            opted_in(marketing_token("promotional")),
            fmc.Text("20% off"),
            now=NOW,
        )
        assert result.message_id is not None
        assert fake_graph.platform.marketing_messages == [
            {"token": "NMT-promotional", "message": {"text": "20% off"}}
        ]
        assert fake_graph.deliveries == []

    def test_refuses_people_who_did_not_opt_in(
        self, fmc_client: fmc.Client, fake_graph: FakeGraphAPI
    ) -> None:
        """Nobody is sent a marketing message without an opt-in; the refusal says why."""
        with pytest.raises(PolicyRefused, match="opted in") as caught:
            send_marketing_message(fmc_client, "act_1", opted_in(), fmc.Text("x"), now=NOW)
        assert caught.value.decision.rule == "marketing_not_opted_in"
        assert fake_graph.platform.marketing_messages == []

    def test_refuses_blocked_people(self, fmc_client: fmc.Client) -> None:
        """A blocked subscriber is refused even with a token."""
        person = opted_in(marketing_token(), status=fmc.SubscriberStatus.BLOCKED)
        with pytest.raises(PolicyRefused, match="blocked"):
            send_marketing_message(fmc_client, "act_1", person, fmc.Text("x"), now=NOW)

    def test_inactive_campaign_is_meta_error_2300000(
        self, fmc_client: fmc.Client, fake_graph: FakeGraphAPI
    ) -> None:
        """Meta's 2300000 (campaign not active) is an InvalidRequestError with its code."""
        fake_graph.platform.campaign_active = False
        with pytest.raises(InvalidRequestError) as caught:
            send_marketing_message(
                fmc_client, "act_1", opted_in(marketing_token()), fmc.Text("x"), now=NOW
            )
        assert caught.value.code == 2300000
        assert MARKETING_ERRORS[2300000] == "the message's campaign is not active"

    @pytest.mark.parametrize("bad", ["", "act_", "act_12a", "12-3"])
    def test_ad_account_ids_are_checked(self, bad: str) -> None:
        """An ad account id is digits, with or without act_."""
        with pytest.raises(ValueError, match="ad_account_id"):
            ad_account_path(bad)
        assert ad_account_path("act_42") == ad_account_path("42") == "act_42"


def test_the_policy_points_opted_in_people_to_the_marketing_api() -> None:
    """Outside the window a promotion to an opted-in person is refused with the way to send it."""
    policy = fmc.MessagingPolicy({"pages_messaging"})
    person = opted_in(marketing_token("promotional"), last_interaction_at=NOW - timedelta(days=3))
    decision = policy.decide(person, fmc.Purpose.PROMOTIONAL, NOW)
    assert (decision.allowed, decision.rule) == (False, "promotional_use_marketing_api")
    assert "send_marketing_message" in decision.reason
    assert "NMT-" not in decision.reason
