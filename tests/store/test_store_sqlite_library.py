"""SQLiteStore refuses an SQLite library too old for its statements, and says what to do."""

from __future__ import annotations

import pytest

from fmc.errors import ConfigurationError
from fmc.store.sqlite import MIN_SQLITE, _check_library


@pytest.mark.parametrize("version", [(3, 34, 1), (3, 31, 0), (2, 99, 99)])
def test_a_library_older_than_3_35_is_refused_with_the_fix(version: tuple[int, int, int]) -> None:
    with pytest.raises(ConfigurationError, match=r"SQLite 3\.35\.0 or newer.*PostgresStore"):
        _check_library(version)


@pytest.mark.parametrize("version", [MIN_SQLITE, (3, 40, 1), (3, 46, 0)])
def test_a_library_from_3_35_on_is_accepted(version: tuple[int, int, int]) -> None:
    _check_library(version)
