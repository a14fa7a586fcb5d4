"""The fake's 2026 endpoints refuse what Meta refuses (issue 15)."""

from __future__ import annotations

from typing import Any

import pytest

import fmc
from fmc.errors import GraphAPIError
from fmc.testing import FakeGraphAPI
from fmc.transport.templates import create_page_template


@pytest.mark.parametrize(
    ("method", "path", "body", "says"),
    [
        ("POST", "message_templates", {"name": "x", "language": "en_US"}, "category"),
        ("POST", "message_templates", {"language": "en_US", "category": "UTILITY"}, "name"),
        (
            "POST",
            "message_templates",
            {"name": "x", "language": "en_US", "category": "UTILITY"},
            "components",
        ),
        ("DELETE", "message_templates", None, "name"),
        ("POST", "personas", {"name": "Ana"}, "profile_picture_url"),
        ("POST", "personas", {"name": "Ana", "profile_picture_url": "ftp://x"}, "valid URL"),
        ("POST", "pass_thread_control", {"recipient": {"id": "1"}}, "target_app_id"),
        ("POST", "take_thread_control", {}, "recipient"),
    ],
    ids=[
        "template-no-category",
        "template-no-name",
        "template-no-components",
        "delete-no-name",
        "persona-no-picture",
        "persona-bad-picture",
        "pass-no-target",
        "take-no-recipient",
    ],
)
def test_missing_or_wrong_parameters_are_error_100(
    fmc_client: fmc.Client, method: str, path: str, body: dict[str, Any] | None, says: str
) -> None:
    """A call without what Meta requires is refused with code 100, naming the parameter."""
    with pytest.raises(GraphAPIError, match=says) as caught:
        fmc_client.call_graph(method, f"{fmc_client.page.id}/{path}", what="test", body=body)
    assert caught.value.code == 100


def test_a_duplicate_template_name_is_refused(fmc_client: fmc.Client) -> None:
    """A second template with the same name is refused."""
    create_page_template(fmc_client, "order_shipped", "Order {{1}} shipped.")
    with pytest.raises(GraphAPIError, match="already exists"):
        create_page_template(fmc_client, "order_shipped", "Again {{1}}.")


def test_a_rejected_template_cannot_be_sent(
    fmc_client: fmc.Client, fake_graph: FakeGraphAPI
) -> None:
    """A template Meta rejected is refused at send time."""
    fake_graph.platform.reject_names.add("promo")
    create_page_template(fmc_client, "promo", "Buy {{1}}!")
    with pytest.raises(GraphAPIError, match="not approved"):
        fmc_client.send(fmc.Recipient("1"), fmc.models.UtilityTemplate("promo"))
    assert fake_graph.deliveries == []
