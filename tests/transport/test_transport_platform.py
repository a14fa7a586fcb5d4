"""Utility templates, personas and thread control against fmc.testing's fake (issue 15)."""

from __future__ import annotations

import pytest

import fmc
from fmc.errors import GraphAPIError
from fmc.models import UtilityTemplate, ValidationError
from fmc.testing import FakeGraphAPI
from fmc.transport.personas import create_persona, delete_persona, list_personas
from fmc.transport.routing import (
    PAGE_INBOX_APP_ID,
    owns_thread,
    pass_thread,
    take_thread,
    thread_owner,
)
from fmc.transport.templates import (
    MessageTemplate,
    TemplateStatusUpdate,
    clone_library_template,
    create_page_template,
    delete_page_template,
    list_library_templates,
    list_page_templates,
    template_status_updates,
    track_template_status,
)
from fmc.webhook import parse_events

PSID = "6514567891234567"


class TestTemplates:
    def test_library_search(self, fmc_client: fmc.Client) -> None:
        """Meta's library is searched by words and language."""
        found = list_library_templates(fmc_client, search="shipped", language="en_US")
        assert [template.name for template in found] == ["order_shipped_1"]
        assert "{{2}}" in str(found[0].body)

    def test_clone_then_list(self, fmc_client: fmc.Client) -> None:
        """A cloned library template is on the Page, approved."""
        clone = clone_library_template(fmc_client, "order_shipped_1", name="order_shipped")
        assert (clone.name, clone.status, clone.approved) == ("order_shipped", "APPROVED", True)
        (listed,) = list_page_templates(fmc_client)
        assert (listed.name, listed.category, listed.id) == ("order_shipped", "UTILITY", clone.id)

    def test_clone_of_an_unknown_library_template_is_refused(self, fmc_client: fmc.Client) -> None:
        """Cloning a template the library lacks is Meta's error 100."""
        with pytest.raises(GraphAPIError) as caught:
            clone_library_template(fmc_client, "no_such_template", name="x")
        assert caught.value.code == 100

    def test_create_sends_meta_template_shape(
        self, fmc_client: fmc.Client, fake_graph: FakeGraphAPI
    ) -> None:
        """A Page template is created with category UTILITY and an upper-case BODY component."""
        created = create_page_template(
            fmc_client, "password_changed", "Hi {{1}}, your password changed.", examples=["Ann"]
        )
        assert created.approved
        stored = fake_graph.platform.templates["password_changed"]
        assert stored["components"] == [
            {
                "type": "BODY",
                "text": "Hi {{1}}, your password changed.",
                "example": {"body_text": [["Ann"]]},
            }
        ]

    def test_a_rejected_template_says_so(
        self, fmc_client: fmc.Client, fake_graph: FakeGraphAPI
    ) -> None:
        """A template Meta rejects comes back with status REJECTED."""
        fake_graph.platform.reject_names.add("buy_now")
        assert create_page_template(fmc_client, "buy_now", "Buy {{1}} now!").status == "REJECTED"

    def test_delete(self, fmc_client: fmc.Client) -> None:
        """A deleted template is gone; deleting it again is refused."""
        create_page_template(fmc_client, "gone_soon", "Bye {{1}}")
        delete_page_template(fmc_client, "gone_soon")
        assert list_page_templates(fmc_client) == ()
        with pytest.raises(GraphAPIError):
            delete_page_template(fmc_client, "gone_soon")

    def test_send_an_approved_template_with_parameters(
        self, fmc_client: fmc.Client, fake_graph: FakeGraphAPI
    ) -> None:
        """A utility message goes as messaging_type UTILITY with message.template."""
        clone_library_template(fmc_client, "order_shipped_1", name="order_shipped")
        fmc_client.send(
            fmc.Recipient(PSID), UtilityTemplate("order_shipped", parameters=["Ann", "A-1"])
        )
        (delivery,) = fake_graph.delivered_to(PSID)
        assert delivery.messaging_type == "UTILITY"

    def test_sending_an_unknown_template_is_refused(self, fmc_client: fmc.Client) -> None:
        """A template the Page does not have approved is refused by Meta."""
        with pytest.raises(GraphAPIError, match="not approved"):
            fmc_client.send(fmc.Recipient(PSID), UtilityTemplate("never_created"))


# WhatsApp's message_template_status_update reference (updated 13 Apr 2026) shows the
# change value; fmc assumes Pages get the same value under entry[].changes.
STATUS_BODY = {
    "object": "page",
    "entry": [
        {
            "id": "106437718793432",
            "time": 1780000000000,
            "changes": [
                {
                    "field": "message_template_status_update",
                    "value": {
                        "event": "REJECTED",
                        "message_template_id": 700000000000001,
                        "message_template_name": "buy_now",
                        "message_template_language": "en_US",
                        "reason": "INCORRECT_CATEGORY",
                    },
                },
                {"field": "feed", "value": {"item": "post"}},
            ],
        }
    ],
}


class TestTemplateStatus:
    def test_status_changes_are_read_from_the_webhook(self) -> None:
        """A template status change becomes a TemplateStatusUpdate; other changes are ignored."""
        (update,) = template_status_updates(parse_events(STATUS_BODY))
        assert update == TemplateStatusUpdate(
            page_id="106437718793432",
            event="REJECTED",
            name="buy_now",
            language="en_US",
            template_id="700000000000001",
            reason="INCORRECT_CATEGORY",
        )

    def test_tracking_keeps_the_latest_status(self) -> None:
        """Tracked statuses take each template's latest change."""
        updates = template_status_updates(parse_events(STATUS_BODY))
        assert track_template_status({"buy_now": "APPROVED", "other": "APPROVED"}, updates) == {
            "buy_now": "REJECTED",
            "other": "APPROVED",
        }

    def test_a_template_without_name_is_an_error(self) -> None:
        """Graph's answer must name each template."""
        with pytest.raises(GraphAPIError, match="name"):
            MessageTemplate.from_wire({"id": "1"})


class TestPersonas:
    def test_create_list_delete(self, fmc_client: fmc.Client) -> None:
        """A persona is created, listed and deleted on the Page."""
        persona = create_persona(fmc_client, "Ana from Support", "https://example.com/ana.png")
        assert list_personas(fmc_client) == (persona,)
        delete_persona(fmc_client, persona.id)
        assert list_personas(fmc_client) == ()

    def test_send_as_a_persona(self, fmc_client: fmc.Client, fake_graph: FakeGraphAPI) -> None:
        """A message sent with persona_id carries it."""
        persona = create_persona(fmc_client, "Ana", "https://example.com/ana.png")
        fmc_client.send_request(
            fmc.SendRequest(fmc.Recipient(PSID), fmc.Text("Hi, Ana here"), persona_id=persona.id)
        )
        (delivery,) = fake_graph.delivered_to(PSID)
        assert delivery.persona_id == persona.id

    @pytest.mark.parametrize(
        ("name", "url"),
        [
            ("", "https://example.com/a.png"),
            ("x" * 51, "https://example.com/a.png"),
            ("A", "ftp://x"),
        ],
        ids=["empty-name", "long-name", "not-http"],
    )
    def test_refuses_bad_personas(self, fmc_client: fmc.Client, name: str, url: str) -> None:
        """A persona needs a 1-50 character name and an http(s) picture."""
        with pytest.raises(ValidationError):
            create_persona(fmc_client, name, url)


class TestThreadControl:
    def test_idle_thread_has_no_owner(self, fmc_client: fmc.Client) -> None:
        """A thread nobody took is idle: no owner."""
        assert thread_owner(fmc_client, PSID) is None

    def test_take_then_pass_to_the_inbox(
        self, fmc_client: fmc.Client, fake_graph: FakeGraphAPI
    ) -> None:
        """Taking makes this app the owner; passing hands the thread to the Page Inbox."""
        assert take_thread(fmc_client, PSID) == fake_graph.platform.app_id
        assert thread_owner(fmc_client, PSID) == fake_graph.platform.app_id
        pass_thread(fmc_client, PSID, PAGE_INBOX_APP_ID, metadata="human please")
        assert thread_owner(fmc_client, PSID) == PAGE_INBOX_APP_ID

    @pytest.mark.parametrize(
        ("owner", "allowed"), [(None, True), ("42", True), ("263902037430900", False)]
    )
    def test_owns_thread(self, owner: str | None, allowed: bool) -> None:
        """An app may answer an idle thread or one it owns, not another app's."""
        assert owns_thread(owner, "42") is allowed


class TestRemovedTags:
    def test_the_fake_can_refuse_the_reported_removed_tags(
        self, fmc_client: fmc.Client, fake_graph: FakeGraphAPI
    ) -> None:
        """With removed_tags set, a tagged send fails with error 100, as reported in 2026."""
        from fmc.testing.platform_graph import REPORTED_REMOVED_TAGS

        fake_graph.platform.removed_tags = REPORTED_REMOVED_TAGS
        request = fmc.SendRequest(fmc.Recipient(PSID), fmc.Text("x"), tag="ACCOUNT_UPDATE")
        with pytest.raises(GraphAPIError) as caught:
            fmc_client.send_request(request)
        assert caught.value.code == 100
        human = fmc.SendRequest(fmc.Recipient(PSID), fmc.Text("x"), tag="HUMAN_AGENT")
        assert fmc_client.send_request(human).message_id is not None
