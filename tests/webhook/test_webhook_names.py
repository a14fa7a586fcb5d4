"""fmc.webhook's public names: loaded lazily, from one table; renamed names warn for a release."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
import warnings
from pathlib import Path
from typing import Any

import pytest
from webhook_support import fixture_bytes

import fmc.webhook
from fmc.webhook import addresses, events, parse, parts

INIT = Path(fmc.webhook.__file__)

#: Modules a webhook-only program must not load.
HEAVY = ("requests", "tenacity", "urllib3", "fmc.webhook.forward")


def modules_loaded_by(code: str) -> list[str]:
    """The names in sys.modules after running ``code`` in a fresh interpreter."""
    script = f"import sys, json\n{code}\nprint(json.dumps(sorted(sys.modules)))"
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60
    )
    loaded: list[str] = json.loads(done.stdout.splitlines()[-1])
    return loaded


def heavy(loaded: list[str]) -> list[str]:
    """The heavy modules among ``loaded``."""
    return [name for name in loaded if any(name == h or name.startswith(h + ".") for h in HEAVY)]


class TestLazyLoading:
    @pytest.mark.parametrize(
        "code",
        [
            "import fmc.webhook; fmc.webhook.WebhookHandler",
            "from fmc.webhook import WebhookHandler, MessageEvent, parse_events",
            "import fmc; fmc.WebhookHandler",
        ],
        ids=["attribute", "from-import", "top-level"],
    )
    def test_handler_loads_no_http_stack(self, code: str) -> None:
        """Touching the handler imports neither requests, tenacity nor the forwarder."""
        assert heavy(modules_loaded_by(code)) == []

    def test_forwarder_loads_the_http_stack(self) -> None:
        """The forwarder still brings what it needs (the check above can fail)."""
        loaded = heavy(modules_loaded_by("import fmc.webhook; fmc.webhook.Forwarder"))
        assert {"requests", "tenacity", "fmc.webhook.forward"} <= set(loaded)


def type_checking_names() -> set[str]:
    """The names fmc/webhook/__init__.py imports under ``if TYPE_CHECKING:``."""
    tree = ast.parse(INIT.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING":
            for statement in node.body:
                assert isinstance(statement, ast.ImportFrom)
                names.update(alias.asname or alias.name for alias in statement.names)
    return names


class TestOneTable:
    def test_type_checking_view_matches_all(self) -> None:
        """The TYPE_CHECKING imports list exactly the names in __all__."""
        assert type_checking_names() == set(fmc.webhook.__all__)

    @pytest.mark.parametrize("name", fmc.webhook.__all__)
    def test_every_name_loads(self, name: str) -> None:
        """Every public name resolves to the object of the module the table names."""
        value = getattr(fmc.webhook, name)
        assert value.__module__ == fmc.webhook._EXPORTS[name]

    def test_dir_lists_the_public_names(self) -> None:
        """dir(fmc.webhook) offers every public name before it is loaded."""
        assert set(fmc.webhook.__all__) <= set(dir(fmc.webhook))

    def test_unknown_name_is_an_attribute_error(self) -> None:
        """A name fmc.webhook does not have raises AttributeError naming it."""
        with pytest.raises(AttributeError, match="NoSuchThing"):
            fmc.webhook.NoSuchThing  # noqa: B018


RENAMED_CLASSES = [
    (fmc.webhook, "Attachment", "ReceivedAttachment"),
    (parts, "Attachment", "ReceivedAttachment"),
    (events, "Attachment", "ReceivedAttachment"),
]


class TestRenamedClasses:
    @pytest.mark.parametrize(
        ("module", "old", "new"),
        RENAMED_CLASSES,
        ids=["fmc.webhook", "fmc.webhook.parts", "fmc.webhook.events"],
    )
    def test_old_name_warns_and_is_the_new_class(self, module: Any, old: str, new: str) -> None:
        """The deprecated class name warns, names its successor, and is that very class."""
        with pytest.warns(DeprecationWarning, match=new):
            value = getattr(module, old)
        assert value is getattr(module, new)

    def test_received_attachment_is_not_the_outgoing_one(self) -> None:
        """fmc.webhook.ReceivedAttachment and the outgoing fmc.Attachment are two classes."""
        assert fmc.webhook.ReceivedAttachment is not fmc.Attachment

    def test_old_name_not_in_all(self) -> None:
        """A star import does not bring (or warn about) the deprecated class name."""
        assert "Attachment" not in fmc.webhook.__all__

    def test_events_hold_received_attachments(self) -> None:
        """A received message's attachments are ReceivedAttachment instances."""
        (event,) = fmc.webhook.parse_events(fixture_bytes("message_attachments"))
        assert isinstance(event.attachments[0], fmc.webhook.ReceivedAttachment)


class TestRenamedFunctions:
    def test_parse_delivery_warns_and_parses_like_parse_events(self) -> None:
        """parse_delivery warns, names parse_events, and returns the same events."""
        body = fixture_bytes("message_text")
        with pytest.warns(DeprecationWarning, match="parse_events"):
            old = parse.parse_delivery(body)
        assert old == parse.parse_events(body)

    @pytest.mark.parametrize("url", ["https://u:p@example.com/x?token=SECRET#f", 42])
    def test_redact_url_warns_and_strips_like_strip_url_to_path(self, url: object) -> None:
        """webhook's redact_url warns, names strip_url_to_path, and returns the same text."""
        with pytest.warns(DeprecationWarning, match="strip_url_to_path"):
            old = addresses.redact_url(url)
        assert old == addresses.strip_url_to_path(url)

    def test_new_names_do_not_warn(self) -> None:
        """parse_events and strip_url_to_path run without any warning."""
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            fmc.webhook.parse_events(fixture_bytes("message_text"))
            fmc.webhook.strip_url_to_path("https://example.com/x")

    def test_top_level_parse_delivery_still_works(self) -> None:
        """fmc.parse_delivery (the top-level export) keeps working, with the warning."""
        with pytest.warns(DeprecationWarning, match="parse_events"):
            events = fmc.parse_delivery(fixture_bytes("message_text"))
        assert [type(event).__name__ for event in events] == ["MessageEvent"]
