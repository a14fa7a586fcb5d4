"""Tests for the fmc pytest plugin: opt-in, and its fixtures (fmc's suite opts in, in conftest)."""

from __future__ import annotations

import importlib.metadata
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import requests

from fmc.errors import RateLimitError
from fmc.models import Recipient, Text
from fmc.testing import FakeGraphAPI, FakeGraphServer, Fault
from fmc.testing.pytest_plugin import FAKE_ACCESS_TOKEN
from fmc.transport import Client

ME = f"https://graph.facebook.com/v25.0/me?access_token={FAKE_ACCESS_TOKEN}"


def test_fake_graph_answers_graph_urls(fake_graph: FakeGraphAPI) -> None:
    """fake_graph answers calls to https://graph.facebook.com."""
    response = requests.get(ME, timeout=5)
    assert response.json() == {"name": "Fake Page", "id": fake_graph.page_id}


def test_fake_graph_checks_the_token(fake_graph: FakeGraphAPI) -> None:
    """fake_graph accepts only FAKE_ACCESS_TOKEN."""
    response = requests.get(ME.replace(FAKE_ACCESS_TOKEN, "other"), timeout=5)
    assert response.json()["error"]["code"] == 190


@pytest.mark.fake_graph(page_id="555", seed=3)
def test_marker_configures_the_fake(fake_graph: FakeGraphAPI) -> None:
    """The fake_graph marker's keyword arguments configure the fake."""
    assert (fake_graph.page_id, fake_graph.seed) == ("555", 3)


def test_shares_the_requests_mock_fixture(fake_graph: FakeGraphAPI, requests_mock: Any) -> None:
    """Other URLs can be mocked next to the fake through the requests_mock fixture."""
    requests_mock.get("https://example.com/hook", text="ok")
    assert requests.get("https://example.com/hook", timeout=5).text == "ok"
    assert requests.get(ME, timeout=5).ok


def test_fake_graph_server(fake_graph_server: FakeGraphServer) -> None:
    """fake_graph_server is a started loopback server with its fake."""
    response = requests.get(
        f"{fake_graph_server.url}/v25.0/me?access_token={FAKE_ACCESS_TOKEN}", timeout=5
    )
    assert response.json()["id"] == fake_graph_server.fake.page_id


def test_fmc_client_sends_to_the_fake(fmc_client: Client, fake_graph: FakeGraphAPI) -> None:
    """fmc_client sends through the fake, which records the delivery."""
    result = fmc_client.send(Recipient("42"), Text("hello"))
    [delivery] = fake_graph.delivered_to("42")
    assert result.message_id == delivery.message_id
    assert delivery.text == "hello"


@pytest.mark.fake_graph(faults=[Fault.rate_limit(times=2, retry_after=60)])
def test_fmc_client_retries_without_sleeping(fmc_client: Client, fake_graph: FakeGraphAPI) -> None:
    """fmc_client retries a rate limit at once, even when Meta asks to wait a minute."""
    fmc_client.send(Recipient("42"), Text("hello"))
    assert fake_graph.faults.injected == {"rate_limit": 2}
    assert len(fake_graph.deliveries) == 1


@pytest.mark.fake_graph(faults=[Fault.rate_limit()])
def test_fmc_client_gives_up_after_three_attempts(
    fmc_client: Client, fake_graph: FakeGraphAPI
) -> None:
    """fmc_client makes three attempts, then raises Meta's error."""
    with pytest.raises(RateLimitError):
        fmc_client.send(Recipient("42"), Text("hello"))
    assert fake_graph.http_request_count == 3


@pytest.mark.fake_graph(app_secret="shh")
def test_fmc_client_with_app_secret(fmc_client: Client, fake_graph: FakeGraphAPI) -> None:
    """With an app secret on the fake, fmc_client signs its calls with appsecret_proof."""
    fmc_client.send(Recipient("42"), Text("hello"))
    assert len(fake_graph.deliveries) == 1


def test_plugin_import_is_light() -> None:
    """Loading the plugin imports neither requests-mock nor the fake nor the transport."""
    code = (
        "import sys, fmc.testing.pytest_plugin\n"
        "heavy = ['requests_mock', 'fmc.testing.fake_graph', 'fmc.transport',"
        " 'fmc.testing.server']\n"
        "print([m for m in heavy if m in sys.modules])"
    )
    output = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert output.stdout.strip() == "[]"


def test_lazy_exports() -> None:
    """Every name in fmc.testing.__all__ imports, and unknown names raise AttributeError."""
    import fmc.testing

    for name in fmc.testing.__all__:
        assert getattr(fmc.testing, name) is not None
    assert set(fmc.testing.__all__) <= set(dir(fmc.testing))
    with pytest.raises(AttributeError):
        fmc.testing.NotAThing  # noqa: B018


def test_delivery_is_a_deprecated_alias() -> None:
    """fmc.testing.Delivery is AcceptedSend, with a DeprecationWarning that names the new name."""
    import fmc.testing

    with pytest.warns(DeprecationWarning, match=r"use fmc\.testing\.AcceptedSend"):
        alias = fmc.testing.Delivery
    assert alias is fmc.testing.AcceptedSend
    assert "Delivery" not in fmc.testing.__all__


def test_installing_fmc_registers_no_pytest_plugin() -> None:
    """fmc declares no pytest11 entry point: pytest loads the plugin only where asked."""
    plugins = importlib.metadata.entry_points(group="pytest11")
    assert [ep.value for ep in plugins if ep.value.startswith("fmc")] == []


FIXTURE_TEST = """
def test_uses_the_fixture(fake_graph):
    assert fake_graph.page_id
"""


@pytest.mark.parametrize(
    ("conftest", "outcome"),
    [
        ("", "fixture 'fake_graph' not found"),
        ('pytest_plugins = ["fmc.testing.pytest_plugin"]\n', "1 passed"),
    ],
    ids=["without-opt-in", "with-opt-in"],
)
def test_the_fixtures_come_only_with_the_opt_in(
    tmp_path: Path, conftest: str, outcome: str
) -> None:
    """A project gets fmc's fixtures only once its conftest.py asks for the plugin."""
    (tmp_path / "conftest.py").write_text(conftest, encoding="utf-8")
    (tmp_path / "test_project.py").write_text(FIXTURE_TEST, encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_project.py"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert outcome in result.stdout
