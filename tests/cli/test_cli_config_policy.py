"""The policy settings of the command: honour and utility_templates from every source."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

import fmc
from fmc.cli import load_config
from fmc.errors import ConfigurationError
from fmc.policy import Route

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=timezone.utc)
SHIPPED = (("post_purchase_update", "order_shipped"),)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "fmc.toml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("source", "value"),
    [
        ("flag", "post_purchase_update=order_shipped"),
        ("env", " post-purchase-update = order_shipped ,"),
        ("toml-table", '[fmc.utility_templates]\npost_purchase_update = "order_shipped"\n'),
        ("toml-inline", 'utility_templates = { post_purchase_update = "order_shipped" }\n'),
        ("toml-string", 'utility_templates = "post_purchase_update=order_shipped"\n'),
    ],
)
def test_utility_templates_from_every_source(tmp_path: Path, source: str, value: str) -> None:
    """A flag, FMC_UTILITY_TEMPLATES or the TOML file (table or string) set the same pairs."""
    flags = {"utility_templates": value} if source == "flag" else {}
    environ = {"FMC_UTILITY_TEMPLATES": value} if source == "env" else {}
    path = write(tmp_path, value) if source.startswith("toml") else None
    assert load_config(flags, environ, path).utility_templates == SHIPPED


@pytest.mark.parametrize(
    ("source", "value"),
    [
        ("flag", "account-update-tag,recurring_notifications"),
        ("env", "recurring_notifications, account_update_tag"),
        ("toml-list", 'honour = ["account_update_tag", "recurring_notifications"]\n'),
    ],
)
def test_honour_from_every_source(tmp_path: Path, source: str, value: str) -> None:
    """A flag, FMC_HONOUR or a TOML list name the routes, in any spelling Route.parse reads."""
    flags = {"honour": value} if source == "flag" else {}
    environ = {"FMC_HONOUR": value} if source == "env" else {}
    path = write(tmp_path, value) if source.startswith("toml") else None
    assert load_config(flags, environ, path).honour == (
        "account_update_tag",
        "recurring_notifications",
    )


def test_the_flag_wins_over_the_environment_and_the_file(tmp_path: Path) -> None:
    """Precedence is the same as every other setting's."""
    path = write(tmp_path, 'utility_templates = "account_update=from_file"\n')
    config = load_config(
        {"utility_templates": "account_update=from_flag"},
        {"FMC_UTILITY_TEMPLATES": "account_update=from_env"},
        path,
    )
    assert config.utility_templates == (("account_update", "from_flag"),)


@pytest.mark.parametrize(
    ("environ", "needle"),
    [
        ({"FMC_HONOUR": "carrier_pigeon"}, "carrier_pigeon"),
        ({"FMC_UTILITY_TEMPLATES": "order_shipped"}, "purpose=template"),
        ({"FMC_UTILITY_TEMPLATES": "=order_shipped"}, "purpose=template"),
        ({"FMC_UTILITY_TEMPLATES": "post_purchase_update="}, "purpose=template"),
        ({"FMC_UTILITY_TEMPLATES": "shipping=order_shipped"}, "shipping"),
    ],
    ids=["unknown-route", "no-pair", "no-purpose", "no-template", "unknown-purpose"],
)
def test_bad_policy_settings_name_what_is_wrong(environ: dict[str, str], needle: str) -> None:
    """A ConfigurationError names the bad value and the expected shape."""
    with pytest.raises(ConfigurationError, match=needle):
        load_config({}, environ)


def test_the_policy_uses_the_settings() -> None:
    """Config.policy() routes an update outside the window to the configured template."""
    config = load_config(
        {},
        {"FMC_UTILITY_TEMPLATES": "post_purchase_update=order_shipped", "FMC_HONOUR": ""},
    )
    policy = config.policy()
    person = fmc.Subscriber("1234567890", "p1", last_interaction_at=NOW - timedelta(hours=30))
    decision = policy.decide(person, fmc.Purpose.POST_PURCHASE_UPDATE, NOW)
    assert (decision.allowed, decision.template) == (True, "order_shipped")


def test_honoured_routes_reach_the_policy() -> None:
    """Config.policy() passes honour through as routes."""
    config = load_config({"honour": "recurring_notifications"}, {})
    assert config.policy().honour == frozenset({Route.RECURRING_NOTIFICATIONS})
