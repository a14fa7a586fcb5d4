"""Fixtures for the platform tests; ``store`` runs on each backend (tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from platform_support import KEY_A

from fmc.platform import KeyRing, Platform
from fmc.testing import DEFAULT_BASE_URL


@pytest.fixture
def keys() -> KeyRing:
    """A key ring with one key."""
    return KeyRing([KEY_A])


@pytest.fixture
def platform(store: Any, keys: KeyRing) -> Iterator[Platform]:
    """A platform on the parametrized store, at the fake Graph API's default URL."""
    with Platform(store, keys=keys, base_url=DEFAULT_BASE_URL) as made:
        yield made
