"""Feedback events: answers to a customer feedback survey, and ratings of the Page's messages.

``messaging_feedback`` carries the answers to a
:class:`~fmc.models.CustomerFeedbackTemplate` (its shape follows Meta's
customer feedback template page), ``response_feedback`` a thumbs up or down on
one message (response_feedback reference, updated 8 Oct 2024).
"""

from __future__ import annotations

from typing import Any, ClassVar

import attrs

from fmc.webhook.events import MessagingEvent
from fmc.webhook.shape import Fields, ShapeError, obj, opt_list, opt_str, req_str

__all__ = [
    "FeedbackAnswer",
    "MessagingFeedbackEvent",
    "ResponseFeedbackEvent",
    "messaging_feedback",
    "response_feedback",
]


@attrs.frozen(kw_only=True)
class FeedbackAnswer:
    """One answer of a customer feedback survey.

    Attributes:
        screen_id: The survey screen the question was on.
        question_id: The question's id, as set in the template.
        type: ``csat``, ``nps``, ``ces`` or ``free_form``.
        payload: The score (``"1"`` to ``"5"``, ``"0"`` to ``"10"`` ...) or text.
        follow_up: The free-form follow-up text, if the person wrote one.
    """

    screen_id: int
    question_id: str
    type: str
    payload: str | None = None
    follow_up: str | None = None


@attrs.frozen(kw_only=True)
class MessagingFeedbackEvent(MessagingEvent):
    """The person answered a customer feedback template (``messaging_feedback``).

    Attributes:
        answers: Every answer, screen by screen, in the order received.
    """

    kind: ClassVar[str] = "messaging_feedback"

    answers: tuple[FeedbackAnswer, ...] = ()


@attrs.frozen(kw_only=True)
class ResponseFeedbackEvent(MessagingEvent):
    """The person rated one of the Page's messages (``response_feedback``).

    Attributes:
        feedback: ``Good response`` or ``Bad response``.
        mid: The message rated.
    """

    kind: ClassVar[str] = "response_feedback"

    feedback: str
    mid: str | None = None

    @property
    def positive(self) -> bool:
        """True for a thumbs up (``Good response``)."""
        return self.feedback.strip().lower().startswith("good")


def _feedback_answers(data: dict[str, Any]) -> tuple[FeedbackAnswer, ...]:
    answers = []
    for raw_screen in opt_list(data, "feedback_screens"):
        screen = obj(raw_screen, "feedback screen")
        screen_id = screen.get("screen_id", 0)
        if type(screen_id) is not int:
            raise ShapeError("screen_id must be an integer")
        questions = obj(screen.get("questions", {}), "questions")
        for question_id, raw_answer in questions.items():
            answer = obj(raw_answer, "question")
            follow_up = answer.get("follow_up")
            answers.append(
                FeedbackAnswer(
                    screen_id=screen_id,
                    question_id=question_id,
                    type=req_str(answer, "type"),
                    payload=opt_str(answer, "payload"),
                    follow_up=None
                    if follow_up is None
                    else opt_str(obj(follow_up, "follow_up"), "payload"),
                )
            )
    return tuple(answers)


def messaging_feedback(item: dict[str, Any], value: Any) -> Fields:
    """A :class:`MessagingFeedbackEvent`'s own fields (a builder in :mod:`fmc.webhook.kinds`)."""
    return MessagingFeedbackEvent, {
        "answers": _feedback_answers(obj(value, "messaging_feedback")),
    }


def response_feedback(item: dict[str, Any], value: Any) -> Fields:
    """A :class:`ResponseFeedbackEvent`'s own fields (a builder in :mod:`fmc.webhook.kinds`)."""
    data = obj(value, "response_feedback")
    return ResponseFeedbackEvent, {
        "feedback": req_str(data, "feedback"),
        "mid": opt_str(data, "mid"),
    }
