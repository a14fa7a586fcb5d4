"""fmc serve's --commit-timeout: parsed as positive seconds and given to the webhook."""

from __future__ import annotations

import argparse

import pytest

from fmc.cli.serve import _seconds


@pytest.mark.parametrize("text", ["0", "-1", "nan", "inf", "soon"])
def test_commit_timeout_must_be_positive_seconds(text: str) -> None:
    """Zero, negative, non-finite or non-numeric timeouts are refused with the value named."""
    with pytest.raises(argparse.ArgumentTypeError, match=repr(text)):
        _seconds(text)


def test_commit_timeout_takes_fractions() -> None:
    """A fractional number of seconds is accepted."""
    assert _seconds("0.5") == 0.5
