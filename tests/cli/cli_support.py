"""Helpers for the ``fmc`` command's tests: the test Page's secrets, a runner, a seeder."""

from __future__ import annotations

import io
from collections.abc import Collection
from datetime import datetime, timedelta, timezone
from pathlib import Path

import attrs

from fmc.cli import main
from fmc.models import NotificationToken, TokenKind
from fmc.store import SQLiteStore

PAGE_ID = "1234567890"
PAGE_TOKEN = "EAAcliPageTokenValue0123456789"
APP_SECRET = "cli-app-secret-value-5f3a"
VERIFY_TOKEN = "cli-verify-token-value-77"
SECRETS = (PAGE_TOKEN, APP_SECRET, VERIFY_TOKEN)
NOW = datetime.now(timezone.utc).replace(microsecond=0)


@attrs.frozen
class Result:
    """What one run of the command did."""

    code: int
    out: str
    err: str


class Runner:
    """Runs ``fmc`` in-process with a given environment, capturing both streams."""

    def __init__(self, environ: dict[str, str]) -> None:
        self.environ = environ

    def __call__(self, *argv: str, environ: dict[str, str] | None = None) -> Result:
        out, err = io.StringIO(), io.StringIO()
        code = main(
            list(argv),
            environ=self.environ if environ is None else environ,
            stdout=out,
            stderr=err,
        )
        return Result(code, out.getvalue(), err.getvalue())


def seed(db: Path, people: dict[str, float], *, news_token: Collection[str] = ()) -> None:
    """Register people who last wrote the given number of hours ago (some with a news token)."""
    with SQLiteStore(db) as store:
        for psid, hours in people.items():
            store.record_event(PAGE_ID, psid, at=NOW - timedelta(hours=hours), interaction=True)
            if psid in news_token:
                store.add_token(
                    PAGE_ID,
                    psid,
                    NotificationToken(
                        kind=TokenKind.NOTIFICATION_MESSAGES,
                        token=f"nm-token-{psid}",
                        topic="news",
                        created_at=NOW - timedelta(hours=hours),
                        expires_at=NOW + timedelta(days=30),
                    ),
                )
