"""The one retry loop both SQL pools use: growing pauses, the last error re-raised unchanged."""

from __future__ import annotations

import time

import pytest

from fmc.store._retry import backoff, retrying


class BusyError(Exception):
    """A retryable failure."""


class BrokenError(Exception):
    """A failure that must not be retried."""


def failing(errors: list[Exception]) -> tuple[list[int], object]:
    """An operation raising ``errors`` in turn, then returning "done"; and its call log."""
    calls: list[int] = []

    def operation() -> str:
        calls.append(len(calls))
        if len(calls) <= len(errors):
            raise errors[len(calls) - 1]
        return "done"

    return calls, operation


@pytest.mark.parametrize(
    ("attempt", "pause"),
    [(0, 0.05), (1, 0.1), (2, 0.2), (3, 0.4), (4, 0.8), (5, 1.0), (12, 1.0)],
    ids=["first", "second", "third", "fourth", "fifth", "capped", "long-capped"],
)
def test_backoff_grows_and_is_capped(attempt: int, pause: float) -> None:
    """The pause doubles from 50 ms per failed attempt, never beyond one second."""
    assert backoff(attempt) == pause


def test_retryable_errors_are_retried_until_success() -> None:
    """Retryable failures are retried after growing pauses; the success is returned."""
    calls, operation = failing([BusyError(), BusyError()])
    sleeps: list[float] = []
    result = retrying(
        operation,  # type: ignore[arg-type]
        retries=3,
        retryable=lambda exc: isinstance(exc, BusyError),
        sleep=sleeps.append,
    )
    assert (result, len(calls), sleeps) == ("done", 3, [0.05, 0.1])


def test_last_error_is_re_raised_when_retries_run_out() -> None:
    """After the last retry the attempt's own error escapes, unchanged."""
    last = BusyError("third")
    _, operation = failing([BusyError(), BusyError(), last])
    with pytest.raises(BusyError) as raised:
        retrying(
            operation,  # type: ignore[arg-type]
            retries=2,
            retryable=lambda exc: isinstance(exc, BusyError),
            sleep=lambda _: None,
        )
    assert raised.value is last


def test_other_errors_are_not_retried() -> None:
    """An error that is not retryable escapes at once, without a pause."""
    calls, operation = failing([BrokenError()])
    sleeps: list[float] = []
    with pytest.raises(BrokenError):
        retrying(
            operation,  # type: ignore[arg-type]
            retries=5,
            retryable=lambda exc: isinstance(exc, BusyError),
            sleep=sleeps.append,
        )
    assert (len(calls), sleeps) == (1, [])


def test_deadline_cuts_the_pause_to_half_the_time_left() -> None:
    """With a deadline, a pause never takes more than half of the time that is left."""
    _, operation = failing([BusyError()])
    sleeps: list[float] = []
    retrying(
        operation,  # type: ignore[arg-type]
        retries=3,
        retryable=lambda exc: isinstance(exc, BusyError),
        sleep=sleeps.append,
        deadline=time.monotonic() + 0.04,
    )
    assert len(sleeps) == 1
    assert 0 < sleeps[0] <= 0.02


def test_past_deadline_the_error_escapes_without_a_pause() -> None:
    """When the deadline has passed, the retryable error escapes instead of another try."""
    calls, operation = failing([BusyError(), BusyError()])
    sleeps: list[float] = []
    with pytest.raises(BusyError):
        retrying(
            operation,  # type: ignore[arg-type]
            retries=3,
            retryable=lambda exc: isinstance(exc, BusyError),
            sleep=sleeps.append,
            deadline=time.monotonic() - 1,
        )
    assert (len(calls), sleeps) == (1, [])
