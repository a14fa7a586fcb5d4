"""The utility-template route of :meth:`fmc.Channel.notify`: what is sent when the policy says so.

When the policy routes a purpose to a utility template (outside the window,
with ``MessagingPolicy(utility_templates=...)`` naming the Page's template),
Meta takes only that template, sent as ``messaging_type`` ``UTILITY``. The
caller gives either the template itself (:class:`~fmc.models.UtilityTemplate`)
or its values (``template_parameters``) beside the ordinary message; the
ordinary message goes whenever the policy chooses another route.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any, TypeAlias

from fmc.convert import to_wire
from fmc.errors import FMCError, PolicyRefused
from fmc.models import Message, TemplateParameter, UtilityTemplate
from fmc.policy import Decision

__all__ = [
    "TemplateParameters",
    "UtilityTemplateRequired",
    "message_for",
    "message_or_refusal",
    "sent_json",
]

#: Values for a template: positional (a list) or named (placeholder name to value).
TemplateParameters: TypeAlias = Sequence[TemplateParameter | str] | Mapping[str, str]


class UtilityTemplateRequired(PolicyRefused):
    """The policy routes this send to a utility template, and the message cannot go that way.

    Raised before any call to Meta. ``decision.template`` names the template;
    the message says how to send it.
    """

    def __init__(self, decision: Decision, problem: str) -> None:
        FMCError.__init__(
            self,
            f"{problem}; the policy sends this as the Page's utility template "
            f"{decision.template!r} ({decision.reason}). Pass template_parameters=[...] "
            f"(its values) with the message, or send UtilityTemplate({decision.template!r}, "
            "parameters=[...])",
        )
        self.decision = decision


def _template(name: str, parameters: TemplateParameters) -> UtilityTemplate:
    if isinstance(parameters, Mapping):
        return UtilityTemplate.named(name, **parameters)
    return UtilityTemplate(name, parameters=parameters)


def message_for(
    decision: Decision, message: Message, parameters: TemplateParameters | None
) -> Message:
    """The message to send for an allowed ``decision``.

    Args:
        decision: The policy's allowed decision.
        message: The caller's message.
        parameters: The template's values, used only on the utility route.

    Returns:
        ``message``, or on the utility route the decision's template filled
        with ``parameters``.

    Raises:
        UtilityTemplateRequired: the utility route with neither a
            :class:`~fmc.models.UtilityTemplate` nor ``parameters``, or with a
            template other than the one the policy names.
    """
    name = decision.template
    if name is None:
        return message
    if isinstance(message, UtilityTemplate):
        if message.name != name:
            raise UtilityTemplateRequired(decision, f"the message is template {message.name!r}")
        return message
    if parameters is None:
        raise UtilityTemplateRequired(
            decision, f"a {type(message).__name__} cannot be sent outside the window"
        )
    return _template(name, parameters)


def message_or_refusal(
    decision: Decision, message: Message, parameters: TemplateParameters | None
) -> tuple[Message | None, str, str]:
    """What to send for ``decision``, or ``None`` with the rule and reason that refuse it.

    A broadcast skips a refused subscriber instead of raising: the policy's
    refusal, or the utility route without a usable template
    (``utility_template_required``), each with its reason.
    """
    if not decision.allowed:
        return None, decision.rule, decision.reason
    try:
        return message_for(decision, message, parameters), "", ""
    except UtilityTemplateRequired as refused:
        return None, "utility_template_required", str(refused)


def sent_json(message: Message, parameters: TemplateParameters | None) -> str:
    """What a broadcast sends, as canonical JSON: the message, and the template's values if any.

    A resumed broadcast must send the same, so the journal keeps this text.
    """
    wire: Any = to_wire(message)
    if parameters is not None:
        values = (
            dict(parameters) if isinstance(parameters, Mapping) else [str(v) for v in parameters]
        )
        wire = {"message": wire, "template_parameters": values}
    return json.dumps(wire, sort_keys=True, ensure_ascii=False)
