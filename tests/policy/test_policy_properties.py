"""Properties of MessagingPolicy.decide over arbitrary subscribers, purposes and times."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from hypothesis import given
from hypothesis import strategies as st

from fmc.models.send import MessagingType
from fmc.models.subscriber import (
    NotificationToken,
    Subscriber,
    SubscriberStatus,
    TokenKind,
    TokenStatus,
)
from fmc.policy import Decision, MessagingPolicy, Permission, Purpose

_ZONES = st.sampled_from(
    [timezone.utc, timezone(timedelta(hours=14)), timezone(timedelta(hours=-12, minutes=-30))]
)
_TIMES = st.datetimes(
    min_value=datetime(1971, 1, 1), max_value=datetime(2200, 1, 1), timezones=_ZONES
)
_FIXED_NOW = datetime(2026, 5, 1, 12, tzinfo=timezone.utc)
_NOWS = st.one_of(
    st.just(_FIXED_NOW),
    st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=8)).map(
        lambda later: _FIXED_NOW + later
    ),
    _TIMES,
)
_TOPICS = st.one_of(
    st.none(), st.sampled_from([purpose.value for purpose in Purpose]), st.text(max_size=12)
)
_TOKENS = st.builds(
    NotificationToken,
    kind=st.sampled_from(TokenKind),
    token=st.text(min_size=1, max_size=8),
    topic=_TOPICS,
    expires_at=st.one_of(st.none(), _TIMES),
    status=st.sampled_from(TokenStatus),
)
_RECENT = st.timedeltas(min_value=timedelta(hours=-1), max_value=timedelta(days=10))
_SUBSCRIBERS = st.builds(
    Subscriber,
    page_id=st.just("page"),
    psid=st.text(min_size=1, max_size=8),
    status=st.sampled_from(SubscriberStatus),
    # Mostly near the fixed "now" the tests also draw, so every window is reached.
    last_interaction_at=st.one_of(st.none(), _TIMES, _RECENT.map(lambda ago: _FIXED_NOW - ago)),
    tokens=st.lists(_TOKENS, max_size=4),
    status_reason=st.one_of(st.none(), st.text(max_size=20)),
)
_POLICIES = st.builds(
    MessagingPolicy,
    st.sets(st.sampled_from(Permission)),
    window=st.timedeltas(min_value=timedelta(seconds=1), max_value=timedelta(days=30)),
    human_agent_window=st.timedeltas(min_value=timedelta(seconds=1), max_value=timedelta(days=60)),
)


def _decide(
    policy: MessagingPolicy, subscriber: Subscriber, purpose: Purpose, now: datetime
) -> Decision:
    return policy.decide(subscriber, purpose, now)


@given(_POLICIES, _SUBSCRIBERS, st.sampled_from(Purpose), _NOWS)
def test_decide_always_answers_with_a_consistent_decision(
    policy: MessagingPolicy, subscriber: Subscriber, purpose: Purpose, now: datetime
) -> None:
    """decide never raises; an allowed decision has a type and recipient, MESSAGE_TAG a tag."""
    decision = _decide(policy, subscriber, purpose, now)
    assert decision.reason
    assert decision.rule
    if decision.allowed:
        assert decision.messaging_type is not None
        assert decision.recipient is not None
        if decision.messaging_type is MessagingType.MESSAGE_TAG:
            assert decision.tag is not None


@given(_POLICIES, _SUBSCRIBERS, st.sampled_from(Purpose), _NOWS)
def test_allowed_only_for_active_subscribers_of_a_messaging_page(
    policy: MessagingPolicy, subscriber: Subscriber, purpose: Purpose, now: datetime
) -> None:
    """Nothing is allowed to an inactive subscriber or from a Page without pages_messaging."""
    decision = _decide(policy, subscriber, purpose, now)
    if subscriber.status is not SubscriberStatus.ACTIVE:
        assert not decision.allowed
    if Permission.PAGES_MESSAGING not in policy.permissions:
        assert not decision.allowed


@given(_POLICIES, _SUBSCRIBERS, st.sampled_from(Purpose), _NOWS)
def test_a_token_recipient_is_a_usable_token_of_the_subscriber(
    policy: MessagingPolicy, subscriber: Subscriber, purpose: Purpose, now: datetime
) -> None:
    """A token decision uses one of the subscriber's tokens that is usable now; else the PSID."""
    decision = _decide(policy, subscriber, purpose, now)
    if not decision.allowed:
        return
    assert decision.recipient is not None
    if decision.token is None:
        assert decision.recipient.id == subscriber.psid
    else:
        assert decision.token in subscriber.tokens
        assert decision.token.is_usable(now)
        assert decision.token.token in (
            decision.recipient.one_time_notif_token,
            decision.recipient.notification_messages_token,
        )


@given(_POLICIES, _SUBSCRIBERS, _NOWS)
def test_promotional_content_leaves_the_window_only_through_a_recurring_token(
    policy: MessagingPolicy, subscriber: Subscriber, now: datetime
) -> None:
    """An allowed promotional send is inside the window or goes to a recurring token."""
    decision = _decide(policy, subscriber, Purpose.PROMOTIONAL, now)
    if decision.allowed and decision.rule != "inside_window":
        assert decision.token is not None
        assert decision.token.kind is TokenKind.NOTIFICATION_MESSAGES


@given(_POLICIES, _SUBSCRIBERS, st.sampled_from(Purpose), _NOWS)
def test_decide_is_pure(
    policy: MessagingPolicy, subscriber: Subscriber, purpose: Purpose, now: datetime
) -> None:
    """The same inputs give the same decision."""
    assert _decide(policy, subscriber, purpose, now) == _decide(policy, subscriber, purpose, now)
