"""The customer feedback template: the survey Meta allows with the ``CUSTOMER_FEEDBACK`` tag.

fmc offers :attr:`~fmc.models.MessageTag.CUSTOMER_FEEDBACK`, which Meta
accepts only on this template. Its structure follows Meta's "Customer Feedback
Template" page (developers.facebook.com/docs/messenger-platform/send-messages/
templates/customer-feedback-template; Meta marks the feature as "in
development"): a title, a subtitle, a button title, feedback screens holding
questions (CSAT, NPS, CES, each with an optional free-form follow-up), the
business's privacy URL and how many days the survey stays open. The answers
arrive as a ``messaging_feedback`` event
(:class:`~fmc.webhook.MessagingFeedbackEvent`).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from typing import Any

import attrs

from fmc.models.limits import ValidationError, non_empty, web_url

__all__ = [
    "BusinessPrivacy",
    "CustomerFeedbackTemplate",
    "FeedbackFollowUp",
    "FeedbackQuestion",
    "FeedbackScoreType",
    "FeedbackScreen",
]


class FeedbackScoreType(str, enum.Enum):
    """The scoring standard of a question, as Meta names it."""

    #: Customer satisfaction, 1 to 5 (``one_to_five``, ``five_stars``, ``five_emojis``).
    CSAT = "csat"
    #: Net promoter score, 0 to 10.
    NPS = "nps"
    #: Customer effort score, 1 to 7.
    CES = "ces"


@attrs.frozen
class FeedbackFollowUp:
    """A free-form text box shown after the score.

    Attributes:
        placeholder: The hint in the empty box.
        type: Always ``free_form``.
    """

    placeholder: str | None = None
    type: str = attrs.field(default="free_form", validator=attrs.validators.in_(("free_form",)))


@attrs.frozen
class FeedbackQuestion:
    """One scored question.

    Attributes:
        id: Your id for the question; the answer comes back under it.
        type: CSAT, NPS or CES.
        title: The question; Meta's default for the type when omitted.
        score_label: ``neg_pos`` or ``pos_neg`` (the order of the scale).
        score_option: ``one_to_five``, ``five_stars``, ``five_emojis``
            (CSAT), ``zero_to_ten`` (NPS), ``one_to_seven`` (CES).
        follow_up: An optional free-form follow-up.

    Raises:
        ValidationError: The id is empty.
    """

    id: str = attrs.field(validator=non_empty)
    type: FeedbackScoreType = attrs.field(converter=FeedbackScoreType)
    title: str | None = attrs.field(default=None, kw_only=True)
    score_label: str | None = attrs.field(default=None, kw_only=True)
    score_option: str | None = attrs.field(default=None, kw_only=True)
    follow_up: FeedbackFollowUp | None = attrs.field(default=None, kw_only=True)


def _questions(value: Iterable[FeedbackQuestion]) -> tuple[FeedbackQuestion, ...]:
    return tuple(value)


def _some(instance: Any, attribute: attrs.Attribute[Any], value: tuple[Any, ...]) -> None:
    if not value:
        raise ValidationError(f"{type(instance).__name__}.{attribute.name} needs at least one")


@attrs.frozen
class FeedbackScreen:
    """One screen of the survey.

    Attributes:
        questions: Its questions.

    Raises:
        ValidationError: No question.
    """

    questions: tuple[FeedbackQuestion, ...] = attrs.field(converter=_questions, validator=_some)


@attrs.frozen
class BusinessPrivacy:
    """Where the business's privacy policy is.

    Attributes:
        url: The policy's http(s) URL.
    """

    url: str = attrs.field(validator=web_url)


def _screens(value: Iterable[FeedbackScreen]) -> tuple[FeedbackScreen, ...]:
    return tuple(value)


def _days(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 7:
        raise ValidationError(
            "CustomerFeedbackTemplate.expires_in_days must be a whole number of days "
            f"from 1 to 7, got {value!r}"
        )


@attrs.frozen
class CustomerFeedbackTemplate:
    """A customer feedback survey (``template_type`` ``customer_feedback``).

    Send it with ``tag=MessageTag.CUSTOMER_FEEDBACK`` outside the window, the
    only message Meta allows with that tag.

    Attributes:
        title: The survey's title.
        subtitle: The line under the title.
        button_title: The label of the button that opens the survey.
        feedback_screens: The screens, in order.
        business_privacy: The business's privacy policy.
        expires_in_days: How long the survey can be answered (1 to 7 days;
            Meta's default when omitted).

    Raises:
        ValidationError: An empty title or button title, no screen, or
            ``expires_in_days`` outside 1 to 7.
    """

    title: str = attrs.field(validator=non_empty)
    subtitle: str | None = attrs.field(default=None, kw_only=True)
    button_title: str = attrs.field(validator=non_empty, kw_only=True)
    feedback_screens: tuple[FeedbackScreen, ...] = attrs.field(
        converter=_screens, validator=_some, kw_only=True
    )
    business_privacy: BusinessPrivacy = attrs.field(
        validator=attrs.validators.instance_of(BusinessPrivacy), kw_only=True
    )
    expires_in_days: int | None = attrs.field(default=None, validator=_days, kw_only=True)
