"""``fmc broadcast status ID``: a distributed broadcast's progress, summed over its Pages."""

from __future__ import annotations

from pathlib import Path

import pytest
from cli_support import NOW, PAGE_ID, Runner, seed

import fmc as fmc_pkg
from fmc.cli.distributed import route
from fmc.scale import begin_distributed


def test_broadcast_status_prints_each_page_and_the_totals(fmc: Runner, db: Path) -> None:
    seed(db, {"p1": 1.0, "p2": 2.0})
    with fmc_pkg.SQLiteStore(db) as store:
        begin_distributed(
            store, "bc-9", [PAGE_ID], fmc_pkg.Text("hello"), fmc_pkg.Purpose.NEWS, at=NOW
        )
        sent = fmc_pkg.JournalEntry(
            f"bc-9.{PAGE_ID}", "p1", fmc_pkg.JournalState.SENT, "m1", None, NOW
        )
        store.journal_record([sent])
    result = fmc("broadcast", "status", "bc-9")
    assert result.code == 0, result.err
    assert "broadcast bc-9 (news): 1 Pages, 2 subscribers, 0 runs sending now" in result.out
    assert f"Page {PAGE_ID}: 1/2 settled (1 sent)" in result.out


def test_status_of_an_unknown_broadcast_is_a_usage_error(fmc: Runner, db: Path) -> None:
    seed(db, {"p1": 1.0})
    result = fmc("broadcast", "status", "bc-missing")
    assert result.code == 2
    assert "no distributed broadcast 'bc-missing'" in result.err


def test_only_broadcast_status_is_rerouted() -> None:
    assert route(["broadcast", "status", "X"]) == ["broadcast-status", "X"]
    assert route(["broadcast", "--text", "status"]) == ["broadcast", "--text", "status"]


def test_broadcast_distributed_is_rerouted_without_the_flag() -> None:
    assert route(["broadcast", "--text", "hi", "--distributed"]) == [
        "broadcast-distributed",
        "--text",
        "hi",
    ]


def test_enqueue_without_postgres_names_the_setting(fmc: Runner) -> None:
    result = fmc("broadcast", "--distributed", "--text", "hi", "--purpose", "news")
    assert result.code == 2
    assert "FMC_POSTGRES" in result.err


def test_a_worker_without_a_pages_token_names_the_variable() -> None:
    from fmc.cli.config import Config
    from fmc.cli.worker import env_page_opener

    opener = env_page_opener(Config(), fmc_pkg.MemoryStore(), {})
    with pytest.raises(fmc_pkg.ConfigurationError, match="FMC_PAGE_TOKEN_4242"), opener("4242"):
        pass
