"""``fmc worker --engine`` and ``fmc broadcast --distributed --engine celery``."""

from __future__ import annotations

import io
import os
import uuid

import pytest
from shard_support import register

import fmc
from fmc.cli import main
from fmc.scale.ledger import sweep_shards


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), environ={}, stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def no_broker(monkeypatch: pytest.MonkeyPatch) -> None:
    """Neither ``FMC_CELERY_BROKER`` nor ``FMC_POSTGRES`` in the environment."""
    monkeypatch.delenv("FMC_CELERY_BROKER", raising=False)
    monkeypatch.delenv("FMC_POSTGRES", raising=False)


@pytest.mark.usefixtures("no_broker")
@pytest.mark.parametrize(
    "argv",
    [
        ("worker", "--engine", "celery", "--postgres", "postgresql://db.invalid/fmc"),
        ("broadcast", "--distributed", "--engine", "celery", "--text", "hi", "--purpose",
         "news", "--pages", "1234", "--postgres", "postgresql://db.invalid/fmc"),
    ],
    ids=["worker", "enqueue"],
)  # fmt: skip
def test_celery_without_a_broker_names_the_setting(argv: tuple[str, ...]) -> None:
    """No broker configured: a usage error naming FMC_CELERY_BROKER and --broker."""
    code, _, err = run(*argv)
    assert code == 2
    assert "FMC_CELERY_BROKER" in err
    assert "--broker" in err


@pytest.mark.usefixtures("no_broker")
def test_an_unknown_engine_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    """Only procrastinate and celery are engines (argparse reports on the process's stderr)."""
    code, _, _ = run("worker", "--engine", "rq")
    assert code == 2
    assert "invalid choice: 'rq'" in capsys.readouterr().err


@pytest.mark.postgres
def test_enqueue_on_celery_records_publishes_and_reports_status(
    redis_url: str, pg_store: fmc.PostgresStore, postgres_dsn: str, postgres_schema: str
) -> None:
    """The shards are in the ledger, published to the queue, and ``broadcast status`` reads them."""
    import redis

    register(pg_store, "1234", ["p1", "p2", "p3"])
    queue = f"fmc-test-{uuid.uuid4().hex[:12]}"
    where = ("--postgres", postgres_dsn, "--schema", postgres_schema)
    code, out, err = run(
        "broadcast", "--distributed", "--engine", "celery", "--broker", redis_url,
        "--queue", queue, "--text", "hi", "--purpose", "news", "--pages", "1234",
        "--shards-per-page", "2", "--resume", "bc-cli", *where,
    )  # fmt: skip
    assert code == 0, err
    assert "broadcast bc-cli: 2 shard jobs over 1 Pages enqueued" in out
    client = redis.Redis.from_url(redis_url)
    try:
        assert client.llen(queue) == 2
    finally:
        client.delete(queue)
        client.close()
    assert sweep_shards(postgres_dsn, lambda _job: None, schema=postgres_schema) == []
    code, out, err = run("broadcast", "status", "bc-cli", *where)
    assert code == 0, err
    assert "Page 1234: 0/3 settled" in out
    assert os.environ.get("FMC_CELERY_BROKER") is None
