"""The Channel under the 2026 policy: utility templates outside the window (issue 15)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from channel_support import NOW

import fmc
from fmc.channel import UtilityTemplateRequired
from fmc.models import UtilityTemplate
from fmc.testing import FakeGraphAPI
from fmc.transport.templates import create_page_template

UTILITY = fmc.MessagingPolicy(
    {"pages_messaging"}, utility_templates={"post_purchase_update": "order_shipped"}
)


def register(channel: fmc.Channel, psid: str, hours_ago: float) -> None:
    channel.store.record_event(
        channel.page.id, psid, at=NOW - timedelta(hours=hours_ago), interaction=True
    )


@pytest.fixture
def utility_channel(channel: fmc.Channel) -> fmc.Channel:
    """The test channel with a utility template configured for post-purchase updates."""
    channel.policy = UTILITY
    create_page_template(channel.client, "order_shipped", "Hi {{1}}, order {{2}} shipped.")
    return channel


def test_an_update_outside_the_window_goes_as_the_template(
    utility_channel: fmc.Channel, fake_graph: FakeGraphAPI
) -> None:
    """A post-purchase update 30 h after the last message is sent as a utility message."""
    register(utility_channel, "p1", hours_ago=30)
    shipped = UtilityTemplate("order_shipped", parameters=["Ann", "A-1042"])
    utility_channel.notify("p1", shipped, fmc.Purpose.POST_PURCHASE_UPDATE)
    (delivery,) = fake_graph.delivered_to("p1")
    assert (delivery.messaging_type, delivery.tag) == ("UTILITY", None)


def test_a_broadcast_of_the_template_reaches_everyone(
    utility_channel: fmc.Channel, fake_graph: FakeGraphAPI
) -> None:
    """Inside and outside the window alike, the template goes as UTILITY."""
    for psid, hours in (("in", 1), ("out", 30), ("long-gone", 24 * 40)):
        register(utility_channel, psid, hours_ago=hours)
    shipped = UtilityTemplate("order_shipped", parameters=["Ann", "A-1042"])
    report = utility_channel.broadcast(shipped, fmc.Purpose.POST_PURCHASE_UPDATE)
    assert report.sent == 3
    assert {d.messaging_type for d in fake_graph.deliveries} == {"UTILITY"}


def test_without_a_template_an_update_is_refused_with_the_2026_reason(
    channel: fmc.Channel, fake_graph: FakeGraphAPI
) -> None:
    """With no utility template an update outside the window is refused before any call."""
    register(channel, "p1", hours_ago=30)
    with pytest.raises(fmc.PolicyRefused, match="error 100 since 27 April 2026"):
        channel.notify("p1", fmc.Text("shipped"), fmc.Purpose.POST_PURCHASE_UPDATE)
    assert fake_graph.http_request_count == 0


@pytest.mark.parametrize(
    ("parameters", "expected"),
    [
        (["Ann", "A-1042"], [{"type": "text", "text": "Ann"}, {"type": "text", "text": "A-1042"}]),
        (
            {"first_name": "Ann"},
            [{"type": "text", "text": "Ann", "parameter_name": "first_name"}],
        ),
    ],
    ids=["positional", "named"],
)
def test_a_text_with_template_parameters_goes_as_the_template_outside_the_window(
    utility_channel: fmc.Channel,
    fake_graph: FakeGraphAPI,
    parameters: list[str] | dict[str, str],
    expected: list[dict[str, str]],
) -> None:
    """Outside the window the policy's template is sent, filled with template_parameters."""
    register(utility_channel, "p1", hours_ago=30)
    utility_channel.notify(
        "p1",
        fmc.Text("Your order A-1042 shipped."),
        fmc.Purpose.POST_PURCHASE_UPDATE,
        template_parameters=parameters,
    )
    (delivery,) = fake_graph.delivered_to("p1")
    template = delivery.message["template"]  # type: ignore[index]
    assert (delivery.messaging_type, template["name"]) == ("UTILITY", "order_shipped")
    assert template["components"][0]["parameters"] == expected


def test_a_text_with_template_parameters_goes_as_text_inside_the_window(
    utility_channel: fmc.Channel, fake_graph: FakeGraphAPI
) -> None:
    """Inside the window the ordinary message goes; the parameters are not used."""
    register(utility_channel, "p1", hours_ago=1)
    utility_channel.notify(
        "p1",
        fmc.Text("Your order A-1042 shipped."),
        fmc.Purpose.POST_PURCHASE_UPDATE,
        template_parameters=["Ann", "A-1042"],
    )
    (delivery,) = fake_graph.delivered_to("p1")
    assert delivery.messaging_type == "UPDATE"
    assert delivery.message == {"text": "Your order A-1042 shipped."}


@pytest.mark.parametrize(
    ("message", "says"),
    [
        (fmc.Text("shipped"), "a Text cannot be sent outside the window"),
        (UtilityTemplate("order_delayed"), "the message is template 'order_delayed'"),
    ],
    ids=["text-without-parameters", "another-template"],
)
def test_the_template_route_refuses_what_cannot_go_that_way(
    utility_channel: fmc.Channel, fake_graph: FakeGraphAPI, message: fmc.Message, says: str
) -> None:
    """A typed PolicyRefused names the template and the fix, before any call to Meta."""
    register(utility_channel, "p1", hours_ago=30)
    before = fake_graph.http_request_count
    with pytest.raises(UtilityTemplateRequired) as caught:
        utility_channel.notify("p1", message, fmc.Purpose.POST_PURCHASE_UPDATE)
    text = str(caught.value)
    assert says in text
    assert "template_parameters=[...]" in text
    assert "UtilityTemplate('order_shipped'" in text
    assert isinstance(caught.value, fmc.PolicyRefused)
    assert caught.value.decision.template == "order_shipped"
    assert fake_graph.http_request_count == before


def test_a_text_broadcast_skips_people_reachable_only_by_the_template(
    utility_channel: fmc.Channel, fake_graph: FakeGraphAPI
) -> None:
    """Outside the window a Text cannot go: those people are skipped, the rest get the Text."""
    register(utility_channel, "in", hours_ago=1)
    register(utility_channel, "out", hours_ago=30)
    report = utility_channel.broadcast(fmc.Text("Shipped!"), fmc.Purpose.POST_PURCHASE_UPDATE)
    assert (report.sent, report.skipped) == (1, {"utility_template_required": 1})
    assert "template_parameters" in report.skip_reasons["utility_template_required"]
    assert [d.recipient_key for d in fake_graph.deliveries] == ["in"]


def test_template_parameters_fill_the_template_for_people_outside_the_window(
    utility_channel: fmc.Channel, fake_graph: FakeGraphAPI
) -> None:
    """With template_parameters, a Text broadcast sends the template outside the window."""
    register(utility_channel, "in", hours_ago=1)
    register(utility_channel, "out", hours_ago=30)
    report = utility_channel.broadcast(
        fmc.Text("Your order shipped."),
        fmc.Purpose.POST_PURCHASE_UPDATE,
        template_parameters=["Ann", "A-1042"],
    )
    assert report.sent == 2
    (outside,) = fake_graph.delivered_to("out")
    assert outside.messaging_type == "UTILITY"


def test_resuming_with_other_template_values_is_refused(
    utility_channel: fmc.Channel,
) -> None:
    """The template's values are part of the broadcast: a resume with others is an error."""
    register(utility_channel, "out", hours_ago=30)
    text, purpose = fmc.Text("Shipped."), fmc.Purpose.POST_PURCHASE_UPDATE
    utility_channel.broadcast(text, purpose, broadcast_id="b", template_parameters=["Ann", "1"])
    with pytest.raises(fmc.ConfigurationError, match="another message"):
        utility_channel.broadcast(text, purpose, broadcast_id="b", template_parameters=["Bob", "2"])
