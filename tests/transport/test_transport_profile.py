"""User profiles and Messenger profile bodies: shapes in, Graph JSON out."""

from __future__ import annotations

import pytest

from fmc.errors import GraphAPIError
from fmc.models import PostbackButton, UrlButton
from fmc.transport import UserProfile
from fmc.transport.profile import first_profile, messenger_profile_body, messenger_profile_fields


class TestUserProfile:
    def test_reads_known_fields_and_keeps_raw(self) -> None:
        """Known fields become attributes; every field stays in raw."""
        data = {"id": "1", "name": "Ada L", "locale": "en_GB", "gender": "female", "extra": 1}
        profile = UserProfile.from_wire(data)
        assert (profile.name, profile.locale, profile.gender) == ("Ada L", "en_GB", "female")
        assert profile.raw == data

    @pytest.mark.parametrize(
        "data",
        [{"first_name": 5}, {"timezone": "UTC"}, {"timezone": True}, {"profile_pic": ["x"]}],
        ids=["int-name", "str-timezone", "bool-timezone", "list-pic"],
    )
    def test_wrong_types_are_ignored(self, data: dict[str, object]) -> None:
        """A field of the wrong type reads as None, never as an exception."""
        profile = UserProfile.from_wire(data)
        assert (profile.first_name, profile.timezone, profile.profile_pic) == (None, None, None)

    def test_raw_does_not_affect_equality(self) -> None:
        """Two profiles with the same fields are equal whatever else Graph sent."""
        assert UserProfile.from_wire({"id": "1", "x": 1}) == UserProfile.from_wire({"id": "1"})


class TestMessengerProfileBody:
    def test_greeting_per_locale(self) -> None:
        """A {locale: text} mapping becomes Graph's greeting list."""
        body = messenger_profile_body(greeting={"default": "Hi", "fr_FR": "Salut"})
        assert body == {
            "greeting": [
                {"locale": "default", "text": "Hi"},
                {"locale": "fr_FR", "text": "Salut"},
            ]
        }

    def test_graph_shapes_pass_through(self) -> None:
        """Graph's own objects are sent as given."""
        menu = [{"locale": "default", "composer_input_disabled": True, "call_to_actions": []}]
        breakers = [{"locale": "default", "call_to_actions": [{"question": "Q", "payload": "P"}]}]
        greeting = [{"locale": "default", "text": "Hi"}]
        body = messenger_profile_body(
            get_started={"payload": "GO"},
            greeting=greeting,
            persistent_menu=menu,
            ice_breakers=breakers,
        )
        assert body == {
            "get_started": {"payload": "GO"},
            "greeting": greeting,
            "persistent_menu": menu,
            "ice_breakers": breakers,
        }

    def test_menu_of_buttons_uses_their_wire_form(self) -> None:
        """Button models in a menu become Graph JSON."""
        body = messenger_profile_body(
            persistent_menu=[PostbackButton("Help", "HELP"), UrlButton("Shop", "https://shop.test")]
        )
        actions = body["persistent_menu"][0]["call_to_actions"]
        assert [a["type"] for a in actions] == ["postback", "web_url"]

    def test_domains_must_be_a_list(self) -> None:
        """A single string for whitelisted_domains is refused (it would be split into letters)."""
        with pytest.raises(ValueError, match="list"):
            messenger_profile_body(whitelisted_domains="https://shop.test")

    @pytest.mark.parametrize(
        "fields",
        [[], ["greeting", "bad field"], ["x;y"], [""]],
        ids=["none", "space", "punct", "empty"],
    )
    def test_field_names_are_checked(self, fields: list[str]) -> None:
        """Field lists must be non-empty lists of plain names."""
        with pytest.raises(ValueError, match="field"):
            messenger_profile_fields(fields)

    def test_single_field_name(self) -> None:
        """One name is accepted as a string."""
        assert messenger_profile_fields("greeting") == ["greeting"]


class TestFirstProfile:
    def test_empty_data_is_an_empty_profile(self) -> None:
        """No properties set reads as an empty dict."""
        assert first_profile({"data": []}) == {}

    @pytest.mark.parametrize(
        "data", [{}, {"data": {}}, {"data": ["x"]}], ids=["missing", "object", "strings"]
    )
    def test_wrong_shape_is_a_graph_error(self, data: dict[str, object]) -> None:
        """A read answer without a data list of objects raises GraphAPIError."""
        with pytest.raises(GraphAPIError):
            first_profile(data)
