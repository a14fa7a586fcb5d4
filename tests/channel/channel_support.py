"""Shared values of the Channel tests: the fixed time, the secrets, a hand-moved clock."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=timezone.utc)
APP_SECRET = "test-app-secret"
VERIFY_TOKEN = "test-verify-token"


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: datetime = NOW) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)
