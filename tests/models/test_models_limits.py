"""Every limit of fmc.models.limits.LIMITS, at the limit and one past it."""

from __future__ import annotations

import pickle
from collections.abc import Callable
from typing import Any

import pytest

from fmc.errors import FMCError
from fmc.models import (
    LIMITS,
    Attachment,
    ButtonTemplate,
    CallButton,
    Element,
    GenericTemplate,
    LimitError,
    MediaElement,
    MenuPostback,
    MenuUrl,
    OneTimeNotificationRequest,
    PostbackButton,
    QuickReply,
    ReceiptElement,
    ReceiptSummary,
    ReceiptTemplate,
    Text,
    UrlButton,
)
from fmc.models.limits import Limit, Unit, check_limit, limited

URL = "https://example.com/a"
REPLY = QuickReply.text("Yes", "YES")
BUTTON = PostbackButton("Go", "GO")
ELEMENT = Element("Card", subtitle="more")
ITEM = ReceiptElement("Shirt", 10)


def receipt(elements: int) -> ReceiptTemplate:
    """A receipt with ``elements`` items."""
    return ReceiptTemplate(
        "Ann", "A-1", "USD", "Visa 1234", ReceiptSummary(10), elements=[ITEM] * elements
    )


#: (limit key, field named in the error, build a model whose field has size n)
CASES: list[tuple[str, str, Callable[[int], Any]]] = [
    ("Text.text", "Text.text", lambda n: Text("x" * n)),
    ("Message.metadata", "Text.metadata", lambda n: Text("x", metadata="m" * n)),
    (
        "Message.metadata",
        "Attachment.metadata",
        lambda n: Attachment("image", url=URL, metadata="m" * n),
    ),
    ("Message.quick_replies", "Text.quick_replies", lambda n: Text("x", quick_replies=[REPLY] * n)),
    (
        "Message.quick_replies",
        "GenericTemplate.quick_replies",
        lambda n: GenericTemplate([ELEMENT], quick_replies=[REPLY] * n),
    ),
    ("QuickReply.title", "QuickReply.title", lambda n: QuickReply.text("t" * n, "p")),
    ("QuickReply.payload", "QuickReply.payload", lambda n: QuickReply.text("t", "p" * n)),
    ("Button.title", "UrlButton.title", lambda n: UrlButton("t" * n, URL)),
    ("Button.title", "PostbackButton.title", lambda n: PostbackButton("t" * n, "p")),
    ("Button.title", "CallButton.title", lambda n: CallButton("t" * n, "+15105551234")),
    ("PostbackButton.payload", "PostbackButton.payload", lambda n: PostbackButton("t", "p" * n)),
    ("Element.title", "Element.title", lambda n: Element("t" * n, subtitle="s")),
    (
        "Element.subtitle",
        "Element.subtitle",
        lambda n: Element("t", subtitle="s" * n, image_url=URL),
    ),
    (
        "Element.buttons",
        "Element.buttons",
        lambda n: Element("t", subtitle="s", buttons=[BUTTON] * n),
    ),
    (
        "GenericTemplate.elements",
        "GenericTemplate.elements",
        lambda n: GenericTemplate([ELEMENT] * n),
    ),
    ("ButtonTemplate.text", "ButtonTemplate.text", lambda n: ButtonTemplate("x" * n, [BUTTON])),
    (
        "ButtonTemplate.buttons",
        "ButtonTemplate.buttons",
        lambda n: ButtonTemplate("x", [BUTTON] * n),
    ),
    (
        "MediaElement.buttons",
        "MediaElement.buttons",
        lambda n: MediaElement("image", url=URL, buttons=[BUTTON] * n),
    ),
    ("ReceiptTemplate.elements", "ReceiptTemplate.elements", receipt),
    ("MenuItem.title", "MenuPostback.title", lambda n: MenuPostback("t" * n, "p")),
    ("MenuItem.title", "MenuUrl.title", lambda n: MenuUrl("t" * n, URL)),
    ("MenuItem.payload", "MenuPostback.payload", lambda n: MenuPostback("t", "p" * n)),
    (
        "OneTimeNotificationRequest.title",
        "OneTimeNotificationRequest.title",
        lambda n: OneTimeNotificationRequest("t" * n, "p"),
    ),
    (
        "OneTimeNotificationRequest.payload",
        "OneTimeNotificationRequest.payload",
        lambda n: OneTimeNotificationRequest("t", "p" * n),
    ),
]
IDS = [field for _key, field, _build in CASES]


def test_every_limit_has_a_case() -> None:
    """The table of cases covers every limit in LIMITS."""
    assert {key for key, _field, _build in CASES} == set(LIMITS)


@pytest.mark.parametrize(("key", "field", "build"), CASES, ids=IDS)
def test_at_the_limit_is_accepted(key: str, field: str, build: Callable[[int], Any]) -> None:
    """A value exactly as large as the limit is accepted."""
    build(LIMITS[key].max)


@pytest.mark.parametrize(("key", "field", "build"), CASES, ids=IDS)
def test_at_the_minimum_is_accepted(key: str, field: str, build: Callable[[int], Any]) -> None:
    """A value exactly as small as the minimum is accepted."""
    build(LIMITS[key].min)


@pytest.mark.parametrize(("key", "field", "build"), CASES, ids=IDS)
def test_one_over_the_limit_fails(key: str, field: str, build: Callable[[int], Any]) -> None:
    """One past the limit raises a LimitError naming the field, the limit and the size."""
    limit = LIMITS[key]
    with pytest.raises(LimitError) as caught:
        build(limit.max + 1)
    message = str(caught.value)
    assert message.startswith(f"{field} ")
    assert f"{limit.max + 1:,} {limit.unit.value}" in message
    assert f"the limit is {limit.max:,}" in message
    assert (caught.value.field, caught.value.size, caught.value.limit) == (
        field,
        limit.max + 1,
        limit,
    )


CASES_WITH_MINIMUM = [case for case in CASES if LIMITS[case[0]].min > 0]


@pytest.mark.parametrize(
    ("key", "field", "build"), CASES_WITH_MINIMUM, ids=[case[1] for case in CASES_WITH_MINIMUM]
)
def test_below_the_minimum_fails(key: str, field: str, build: Callable[[int], Any]) -> None:
    """One below the minimum (an empty value) raises a LimitError saying what is required."""
    limit = LIMITS[key]
    with pytest.raises(LimitError, match=rf"^{field} .* 0 .*; at least {limit.min} is required$"):
        build(limit.min - 1)


def test_text_message_reads_as_documented() -> None:
    """The error for a long text reads as the contract's example."""
    with pytest.raises(LimitError) as caught:
        Text("x" * 2013)
    assert str(caught.value) == "Text.text is 2,013 characters; the limit is 2,000"


def test_count_message_reads_naturally() -> None:
    """The error for too many buttons counts buttons."""
    with pytest.raises(LimitError) as caught:
        ButtonTemplate("Pick", [BUTTON] * 4)
    assert str(caught.value) == "ButtonTemplate.buttons has 4 buttons; the limit is 3"


def test_limit_error_is_a_value_error_and_an_fmc_error() -> None:
    """A LimitError can be caught as ValueError and as FMCError."""
    with pytest.raises(LimitError) as caught:
        Text("")
    assert isinstance(caught.value, ValueError)
    assert isinstance(caught.value, FMCError)


def test_characters_are_code_points() -> None:
    """Characters are counted as code points: 2,000 emoji are accepted."""
    assert len(Text("\N{GRINNING FACE}" * 2000).text) == 2000


def test_text_limit_refuses_non_strings() -> None:
    """A character limit given a non-string raises TypeError naming the field."""
    with pytest.raises(TypeError, match=r"^Text\.text must be a str, got int$"):
        Text(5)  # type: ignore[arg-type]


def test_check_limit_checks_one_value() -> None:
    """check_limit applies a named limit to a value outside any model."""
    check_limit("Text.text", "draft", "x" * 2000)
    with pytest.raises(LimitError, match=r"^draft is 2,001 characters; the limit is 2,000$"):
        check_limit("Text.text", "draft", "x" * 2001)


def test_check_limit_refuses_non_strings_for_characters() -> None:
    """check_limit given a non-string for a character limit raises TypeError."""
    with pytest.raises(TypeError, match="draft must be a str"):
        check_limit("Text.text", "draft", ["x"])


def test_limited_needs_a_known_limit() -> None:
    """Building a validator for an unknown limit fails at once."""
    with pytest.raises(KeyError):
        limited("Text.nope")


def test_limits_table_is_read_only() -> None:
    """The table cannot be changed at run time."""
    with pytest.raises(TypeError):
        LIMITS["Text.text"] = Limit("Text.text", 1, Unit.CHARACTERS)  # type: ignore[index]


def test_plural_minimum_reads_are() -> None:
    """A minimum above one reads 'are required'."""
    error = LimitError("X.y", 1, Limit("X.y", 5, Unit.BUTTONS, min=2))
    assert str(error) == "X.y has 1 buttons; at least 2 are required"


def test_limit_error_survives_pickling() -> None:
    """A LimitError crosses process boundaries intact."""
    error = LimitError("Text.text", 2013, LIMITS["Text.text"])
    copy = pickle.loads(pickle.dumps(error))  # noqa: S301 - our own bytes
    assert (str(copy), copy.field, copy.size, copy.limit) == (
        str(error),
        error.field,
        error.size,
        error.limit,
    )
