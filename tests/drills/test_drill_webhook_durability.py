"""Drill: a webhook delivery answered 200 is never lost; a store that cannot write gets a 503.

Real processes and real servers: the webhook runs in a child process (``fmc
serve`` itself on SQLite, ``webhook_worker.py`` on the real PostgreSQL),
Meta's side is this process posting signed deliveries over HTTP, and the
forwarding receiver is a loopback HTTP server.

* The store cannot write (a private PostgreSQL server really stopped; the
  test server behind a TCP proxy that resets or goes silent, as an unreachable
  host does; SQLite held by another connection's exclusive transaction): every delivery
  is answered 503 within the commit timeout (plus slack), and once the store
  is back the redeliveries register everyone.
* kill -9 at a random moment during a stream of deliveries: every delivery
  answered 200 is registered, and its body was forwarded or waits in the outbox.
* SIGTERM during a stream to a slow receiver: the same, and the exit is clean.
"""

from __future__ import annotations

import os
import random
import sqlite3
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import pytest
import webhook_drill_support as wds

from fmc.testing import DEFAULT_PAGE_ID

PAGE = DEFAULT_PAGE_ID
TRIALS = int(os.environ.get("FMC_DRILL_TRIALS", "4"))
#: A loaded 2-core machine may take this much longer than the bound to answer.
SLACK = 2.5


@pytest.fixture
def postgres(postgres_dsn: str) -> Iterator[dict[str, str]]:
    """A fresh schema on the real PostgreSQL, dropped afterwards."""
    import psycopg

    schema = f"fmc_drill_{uuid.uuid4().hex[:10]}"
    yield {"dsn": postgres_dsn, "schema": schema}
    with psycopg.connect(postgres_dsn, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@pytest.fixture(scope="session")
def postgres_dsn() -> str:
    """The test server's DSN, or a skip (see tests/store/conftest.py)."""
    dsn = os.environ.get("FMC_TEST_POSTGRES_DSN")
    if not dsn:
        if os.environ.get("FMC_REQUIRE_POSTGRES") == "1":
            pytest.fail("FMC_TEST_POSTGRES_DSN is not set")
        pytest.skip("FMC_TEST_POSTGRES_DSN is not set")
    return dsn


def timed_posts(
    url: str, deliveries: list[tuple[bytes, dict[str, str]]]
) -> list[tuple[int | None, float]]:
    """Post deliveries concurrently; each answer's status and seconds."""
    results: list[tuple[int | None, float]] = [(None, 0.0)] * len(deliveries)

    def one(index: int) -> None:
        body, headers = deliveries[index]
        started = time.monotonic()
        results[index] = (wds.post(url, body, headers), time.monotonic() - started)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(len(deliveries))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    return results


def registered(store: object, psids: list[str]) -> list[str]:
    """Which of ``psids`` the store knows."""
    return [p for p in psids if store.get(PAGE, p) is not None]  # type: ignore[attr-defined]


@pytest.mark.slow
@pytest.mark.postgres
def test_postgres_stopped_answers_503_in_time_and_loses_nothing(tmp_path: Path) -> None:
    """A PostgreSQL server really stopped (pg_ctl -m immediate): 503 in time; restarted, all in."""
    try:
        server_pg = wds.PrivatePostgres()
    except (RuntimeError, OSError, subprocess.CalledProcessError) as exc:
        pytest.skip(f"cannot run a private PostgreSQL server: {exc}")
    bound = 2.0
    spec = {"dsn": server_pg.dsn, "schema": "fmc_drill"}
    psids = [f"during{i}" for i in range(6)]
    during = [wds.message(p) for p in psids]
    try:
        with wds.worker(tmp_path, spec, f"--commit-timeout={bound}") as server:
            before = [wds.message(f"before{i}") for i in range(3)]
            assert [status for status, _ in timed_posts(server.url, before)] == [200] * 3
            server_pg.stop()
            answers = timed_posts(server.url, during)
            server_pg.start()
            print(f"\nreally stopped: answers {sorted(answers, key=lambda a: a[1])}")
            assert {status for status, _ in answers} == {503}
            assert max(seconds for _, seconds in answers) < bound + SLACK
            redelivered = timed_posts(server.url, during)
            assert [status for status, _ in redelivered] == [200] * len(during)
        with wds.open_store(spec) as store:
            assert registered(store, psids) == psids
    finally:
        server_pg.close()


@pytest.mark.slow
@pytest.mark.postgres
@pytest.mark.parametrize("outage", ["stopped", "silent"])
def test_postgres_outage_answers_503_in_time_and_loses_nothing(
    tmp_path: Path, postgres: dict[str, str], outage: str
) -> None:
    """PostgreSQL behind a proxy that resets or goes silent: 503 in time; back, all registered."""
    bound = 2.0
    target = urlsplit(postgres["dsn"])
    proxy = wds.Proxy((target.hostname or "127.0.0.1", target.port or 5432))
    spec = {**postgres, "dsn": proxy.dsn(postgres["dsn"])}
    before = [wds.message(f"before{i}") for i in range(3)]
    during_psids = [f"during{i}" for i in range(6)]
    during = [wds.message(p) for p in during_psids]
    with wds.worker(tmp_path, spec, f"--commit-timeout={bound}") as server:
        assert [status for status, _ in timed_posts(server.url, before)] == [200] * 3
        proxy.down() if outage == "stopped" else proxy.silent()
        answers = timed_posts(server.url, during)
        proxy.down()
        proxy.up()
        print(f"\n{outage}: answers {sorted(answers, key=lambda a: a[1])}")
        assert {status for status, _ in answers} == {503}
        assert max(seconds for _, seconds in answers) < bound + SLACK
        redelivered = timed_posts(server.url, during)
        assert [status for status, _ in redelivered] == [200] * len(during)
    with wds.open_store(postgres) as store:
        assert registered(store, during_psids) == during_psids


@pytest.mark.slow
@pytest.mark.parametrize(
    ("options", "bound"), [((), 5.0), (("--commit-timeout", "1"), 1.0)], ids=["default", "1s"]
)
def test_sqlite_locked_answers_503_in_time_and_loses_nothing(
    tmp_path: Path, options: tuple[str, ...], bound: float
) -> None:
    """fmc serve on a SQLite file another connection holds exclusively: 503 in time, then all."""
    db = tmp_path / "fmc.db"
    psids = [f"locked{i}" for i in range(4)]
    deliveries = [wds.message(p) for p in psids]
    with wds.fmc_serve(db, *options) as server:
        assert wds.post(server.url, *wds.message("warmup")) == 200
        holder = sqlite3.connect(db, isolation_level=None)
        holder.execute("BEGIN EXCLUSIVE")
        try:
            answers = timed_posts(server.url, deliveries)
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        print(f"\nlocked, bound {bound:g} s: answers {sorted(answers, key=lambda a: a[1])}")
        assert {status for status, _ in answers} == {503}
        assert max(seconds for _, seconds in answers) < bound + SLACK
        assert [status for status, _ in timed_posts(server.url, deliveries)] == [200] * 4
    with wds.open_store({"db": str(db)}) as store:
        assert registered(store, psids) == psids


class Stream:
    """Deliveries posted from 4 threads: those answered 200, and those never answered."""

    def __init__(self) -> None:
        self.answered: dict[str, bytes] = {}
        self.unanswered: dict[str, tuple[bytes, dict[str, str]]] = {}

    def _post(self, url: str, stop: threading.Event, prefix: str) -> None:
        count = 0
        while not stop.is_set():
            psid = f"{prefix}{count:05d}"
            count += 1
            body, headers = wds.message(psid)
            status = wds.post(url, body, headers, timeout=10)
            if status == 200:
                self.answered[psid] = body
            else:
                self.unanswered[psid] = (body, headers)  # Meta delivers these again
            if status is None:
                return

    def run(self, url: str, seconds: float, end: object, prefix: str = "") -> Stream:
        """Stream for ``seconds``, then call ``end()`` (kill or stop the server)."""
        stop = threading.Event()
        threads = [
            threading.Thread(target=self._post, args=(url, stop, f"{prefix}t{i}x"), daemon=True)
            for i in range(4)
        ]
        for thread in threads:
            thread.start()
        time.sleep(seconds)
        end()  # type: ignore[operator]
        stop.set()
        for thread in threads:
            thread.join(30)
        return self

    def redeliver(self, url: str) -> dict[str, bytes]:
        """Deliver the unanswered ones again, as Meta does; all of them, answered 200."""
        statuses = {psid: wds.post(url, *sent) for psid, sent in self.unanswered.items()}
        assert set(statuses.values()) <= {200}, statuses
        return {psid: body for psid, (body, _) in self.unanswered.items()}


def forwarding(url: str, receiver: wds.Receiver) -> str:
    """The webhook URL with ``redirect_to`` naming the receiver."""
    return url + "?" + urlencode({"redirect_to": receiver.url})


def check_nothing_lost(
    spec: dict[str, str], answered: dict[str, bytes], received: set[bytes]
) -> int:
    """Every answered delivery is registered and forwarded or in the outbox; the outbox size."""
    with wds.open_store(spec) as store:
        psids = sorted(answered)
        assert registered(store, psids) == psids, "registered"
        kept = wds.outbox_bodies(store)
    missing = [p for p, body in answered.items() if body not in received and body not in kept]
    assert missing == [], "forwarded or kept in the outbox"
    return len(kept)


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_kill_9_loses_nothing_answered_200(
    tmp_path: Path, request: pytest.FixtureRequest, backend: str
) -> None:
    """kill -9 at a random moment of a delivery stream: every 200 registered and forwarded/kept."""
    seed = int(os.environ.get("FMC_DRILL_SEED", str(random.randrange(1 << 30))))
    rng = random.Random(seed)
    receiver = wds.Receiver(delay=0.01)
    figures = []
    try:
        for trial in range(TRIALS):
            if backend == "postgres":
                spec = request.getfixturevalue("postgres")
                spec = {**spec, "schema": f"{spec['schema']}_{trial}"}
            else:
                spec = {"db": str(tmp_path / f"trial{trial}.db")}
            with wds.worker(tmp_path, spec, "--forward-allow=127.0.0.1") as server:
                wds.wait_for(lambda: wds.post(server.url, *wds.message("warm")) == 200)
                url = forwarding(server.url, receiver)
                stream = Stream().run(url, rng.uniform(0.3, 1.5), server.kill)
            kept = check_nothing_lost(spec, stream.answered, receiver.received())
            with wds.worker(tmp_path, spec, "--forward-allow=127.0.0.1") as server:
                again = stream.redeliver(forwarding(server.url, receiver))
            check_nothing_lost(spec, {**stream.answered, **again}, receiver.received())
            figures.append((len(stream.answered), len(again), kept))
    finally:
        receiver.close()
        if backend == "postgres":
            import psycopg

            spec = request.getfixturevalue("postgres")
            with psycopg.connect(spec["dsn"], autocommit=True) as conn:
                for trial in range(TRIALS):
                    conn.execute(f'DROP SCHEMA IF EXISTS "{spec["schema"]}_{trial}" CASCADE')
    print(
        f"\n{backend} kill -9, seed {seed}: (answered 200, redelivered, left in the outbox) "
        f"per trial {figures}"
    )
    assert all(answered > 0 for answered, _, _ in figures)


@pytest.mark.slow
def test_fmc_serve_kill_9_and_sigterm_lose_nothing(tmp_path: Path) -> None:
    """The real fmc serve: kill -9 mid-stream, then SIGTERM mid-stream; nothing answered is lost."""
    receiver = wds.Receiver(delay=0.02)
    db = tmp_path / "fmc.db"
    spec = {"db": str(db)}
    try:
        with wds.fmc_serve(db, "--allow-private-forwarding", forward_allow="127.0.0.1") as server:
            wds.wait_for(lambda: wds.post(server.url, *wds.message("warm")) == 200)
            killed = Stream().run(forwarding(server.url, receiver), 1.0, server.kill)
        kept = check_nothing_lost(spec, killed.answered, receiver.received())
        with wds.fmc_serve(db, "--allow-private-forwarding", forward_allow="127.0.0.1") as server:
            outcome: list[tuple[int, str]] = []
            url = forwarding(server.url, receiver)
            again = killed.redeliver(url)
            stop = lambda: outcome.append(server.terminate())  # noqa: E731
            stopped = Stream().run(url, 1.0, stop, "term")
        ((code, out),) = outcome
        assert code == 0, out
        everything = {**killed.answered, **again, **stopped.answered}
        left = check_nothing_lost(spec, everything, receiver.received())
        print(
            f"\nfmc serve: kill -9 after {len(killed.answered)} answered ({kept} in the outbox), "
            f"{len(again)} redelivered; SIGTERM after {len(stopped.answered)} answered "
            f"({left} in the outbox): {out.strip()!r}"
        )
    finally:
        receiver.close()
