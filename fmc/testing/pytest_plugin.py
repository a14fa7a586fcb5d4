"""pytest fixtures for testing apps built on fmc: a plugin your project turns on.

Installing fmc does not load it. Ask for it in your top-level ``conftest.py``::

    pytest_plugins = ["fmc.testing.pytest_plugin"]

or on the command line (``pytest -p fmc.testing.pytest_plugin``, or in
``addopts``). It gives:

- ``fake_graph``: a :class:`~fmc.testing.FakeGraphAPI` installed on requests-mock
  for ``https://graph.facebook.com`` (it shares the ``requests_mock`` fixture's
  mocker when that fixture is available, so a test can mock other URLs too).
- ``fake_graph_server``: a started :class:`~fmc.testing.FakeGraphServer` on
  loopback (``.url``, ``.fake``), stopped after the test.
- ``fmc_client``: an :class:`fmc.Client` for the fake's Page, pointed at
  ``fake_graph``, retrying quickly with no real sleeping.

Configure the fake of a test with the ``fake_graph`` marker, whose keyword
arguments go to :class:`~fmc.testing.FakeGraphAPI`::

    @pytest.mark.fake_graph(latency=0.01, faults=["rate_limit:times=1"])
    def test_retries_once(fmc_client, fake_graph): ...

The plugin imports nothing heavy until a fixture is used, so loading it costs
next to nothing at pytest start-up.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from fmc.testing.fake_graph import FakeGraphAPI, FakeGraphServer
    from fmc.transport import Client

__all__ = [
    "FAKE_ACCESS_TOKEN",
    "fake_graph",
    "fake_graph_server",
    "fmc_client",
    "pytest_configure",
]

#: The Page access token the fixtures' fake accepts and their client sends.
FAKE_ACCESS_TOKEN = "fake-page-access-token-for-tests"  # noqa: S105 - a fake's test token


def pytest_configure(config: pytest.Config) -> None:
    """Register the ``fake_graph`` marker."""
    config.addinivalue_line(
        "markers",
        "fake_graph(**options): keyword arguments for the FakeGraphAPI of the fmc fixtures",
    )


def _new_fake(request: pytest.FixtureRequest) -> FakeGraphAPI:
    from fmc.testing.fake_graph import FakeGraphAPI

    options: dict[str, Any] = {"access_token": FAKE_ACCESS_TOKEN}
    marker = request.node.get_closest_marker("fake_graph")
    if marker is not None:
        options.update(marker.kwargs)
    return FakeGraphAPI(**options)


def _mocker(request: pytest.FixtureRequest) -> Any:
    try:
        return request.getfixturevalue("requests_mock")
    except pytest.FixtureLookupError:
        pass
    try:
        import requests_mock
    except ImportError:  # pragma: no cover - depends on the installed extras
        pytest.fail("the fake_graph fixture needs requests-mock: pip install 'fmc-messenger[test]'")
    mocker = requests_mock.Mocker()
    mocker.start()
    request.addfinalizer(mocker.stop)
    return mocker


@pytest.fixture
def fake_graph(request: pytest.FixtureRequest) -> FakeGraphAPI:
    """A fake Graph API answering every request to ``https://graph.facebook.com``."""
    fake = _new_fake(request)
    fake.mock(_mocker(request))
    return fake


@pytest.fixture
def fake_graph_server(request: pytest.FixtureRequest) -> Iterator[FakeGraphServer]:
    """A fake Graph API behind a real HTTP server on 127.0.0.1 (``.url``, ``.fake``)."""
    from fmc.testing.fake_graph import FakeGraphServer

    with FakeGraphServer(_new_fake(request)) as server:
        yield server


@pytest.fixture
def fmc_client(fake_graph: FakeGraphAPI) -> Iterator[Client]:
    """An ``fmc.Client`` for the fake's Page, retrying 3 times without real sleeping."""
    from fmc.models.page import Page
    from fmc.testing.fake_graph import DEFAULT_BASE_URL
    from fmc.transport import DEFAULT_API_VERSION, Client, RetryPolicy

    retry = RetryPolicy(attempts=3, timeout=None, wait_initial=0.0, wait_max=0.0, wait_jitter=0.0)
    token = fake_graph.access_token or FAKE_ACCESS_TOKEN
    page = Page(fake_graph.page_id, token, app_secret=fake_graph.app_secret)
    client = Client(
        page,
        base_url=DEFAULT_BASE_URL,
        api_version=fake_graph.api_version or DEFAULT_API_VERSION,
        retry=retry,
        sleep=lambda _: None,
    )
    with client:
        yield client
