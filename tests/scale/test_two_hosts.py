"""The "Two hosts" example of the scaling guide, run as written by two processes on loopback.

Each host's configuration file and commands come from ``docs/guides/scaling.rst``;
the test changes only what points at real infrastructure: ``graph_url`` becomes
a loopback fake Graph API that accepts only the file's token and app secret,
``FMC_POSTGRES`` and ``FMC_CELERY_BROKER`` become the test database and Redis,
and every ``fmc`` command gets ``--schema`` (a fresh schema per test). It runs
once on Celery, as written, and once on Procrastinate, without ``--engine celery``.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

import fmc
from fmc.scale import broadcast_status
from fmc.store.base import EventRecord
from fmc.testing import FakeGraphAPI, FakeGraphServer

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10 only
    import tomli as tomllib

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

GUIDE = Path(__file__).parents[2] / "docs" / "guides" / "scaling.rst"
SUBSCRIBERS = 40


def guide_blocks() -> tuple[dict[str, str], list[str]]:
    """The guide's host configuration files (by caption) and the two-host transcript lines.

    The files are shown with the ``ini`` highlighter: the command-line guide's
    is the one ``toml`` block of the docs, which its own test reads.
    """
    text = GUIDE.read_text(encoding="utf-8")
    section = text[text.index("\nTwo hosts\n") :]
    files = {
        caption: re.sub(r"(?m)^   ", "", body)
        for caption, body in re.findall(
            r"\.\. code-block:: ini\n   :caption: (\S+\.toml)\n\n((?:   .*\n|\n)+?)(?=\S)", section
        )
    }
    console = re.search(r"\.\. code-block:: console\n\n((?:   .*\n|\n)+?)(?=\S)", section)
    assert console is not None, "the guide's two-host transcript"
    lines = [line[3:] for line in console.group(1).splitlines()]
    joined: list[str] = []
    for line in lines:
        if joined and joined[-1].endswith("\\"):
            joined[-1] = joined[-1][:-1] + " " + line.strip()
        else:
            joined.append(line)
    return files, joined


@pytest.fixture
def hosts(tmp_path: Path) -> Iterator[tuple[dict[str, Path], FakeGraphServer]]:
    """A directory per host with its configuration file, pointed at one loopback fake."""
    files, _ = guide_blocks()
    assert sorted(files) == ["host-a.toml", "host-b.toml"]
    settings = tomllib.loads(files["host-a.toml"])
    fake = FakeGraphAPI(
        page_id=settings["page_id"],
        access_token=settings["page_token"],
        app_secret=settings["app_secret"],
    )
    with FakeGraphServer(fake) as server:
        directories = {}
        for caption, body in files.items():
            host = caption.removesuffix(".toml")
            directory = tmp_path / host
            directory.mkdir()
            replaced = re.sub(r'(?m)^graph_url = ".*"$', f'graph_url = "{server.url}"', body)
            assert replaced != body, "the file names a graph_url"
            (directory / caption).write_text(replaced, encoding="utf-8")
            directories[host] = directory
        yield directories, server


@pytest.mark.parametrize("engine", ["celery", "procrastinate"])
def test_the_two_host_example_reaches_every_subscriber_once(
    engine: str,
    hosts: tuple[dict[str, Path], FakeGraphServer],
    pg_store: fmc.PostgresStore,
    postgres_dsn: str,
    postgres_schema: str,
    request: pytest.FixtureRequest,
) -> None:
    """Two workers with their own files; the broadcast and its status print what the guide shows."""
    directories, server = hosts
    environ = {**os.environ, "FMC_POSTGRES": postgres_dsn}
    if engine == "celery":
        environ["FMC_CELERY_BROKER"] = request.getfixturevalue("redis_url")
    page_id = server.fake.page_id
    wrote = datetime.now(timezone.utc) - timedelta(hours=1)  # the workers judge by the real clock
    pg_store.record_events(
        [EventRecord(page_id, f"h{i:04d}", wrote, interaction=True) for i in range(SUBSCRIBERS)]
    )
    _, lines = guide_blocks()
    workers: list[subprocess.Popen[str]] = []
    try:
        for host, command, expected in transcript(lines):
            argv = shlex.split(command)
            if argv[0] == "export":
                names = {word.partition("=")[0] for word in argv[1:]}
                assert names <= {"FMC_POSTGRES", "FMC_CELERY_BROKER"}, names
                continue
            background = argv[-1] == "&"
            argv = [w for w in argv[1:] if w != "&"] + ["--schema", postgres_schema]
            if engine != "celery":
                at = argv.index("--engine") if "--engine" in argv else None
                argv = argv if at is None else argv[:at] + argv[at + 2 :]
            run = [sys.executable, "-m", "fmc.cli", *argv]
            if background:
                log = (directories[host] / "worker.log").open("w")
                workers.append(
                    subprocess.Popen(
                        run, cwd=directories[host], env=environ, stdout=log, stderr=log, text=True
                    )
                )
                continue
            if argv[:2] == ["broadcast-status", "sale-1"] or argv[:2] == ["broadcast", "status"]:
                wait_until_settled(pg_store)
            done = subprocess.run(
                run, cwd=directories[host], env=environ, capture_output=True, text=True, timeout=60
            )
            assert done.returncode == 0, done.stderr
            assert done.stdout.splitlines() == expected
    finally:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            worker.wait(timeout=30)
    assert len(workers) == 2, "a worker on each host"
    counts = server.fake.delivery_counts()
    assert len(counts) == SUBSCRIBERS
    assert set(counts.values()) == {1}


def transcript(lines: list[str]) -> Iterator[tuple[str, str, list[str]]]:
    """``(host, command, output lines)`` of each ``host-x$`` line of the transcript."""
    steps: list[tuple[str, str, list[str]]] = []
    for line in lines:
        prompt = re.match(r"^(host-[ab])\$ (.*)$", line)
        if prompt:
            steps.append((prompt.group(1), prompt.group(2), []))
        elif line.strip() and steps:
            steps[-1][2].append(line)
    yield from steps


def wait_until_settled(store: fmc.PostgresStore) -> None:
    deadline = time.monotonic() + 90
    while True:
        status = broadcast_status(store, "sale-1")
        if sum(page.settled for page in status.pages) >= SUBSCRIBERS and status.live_runs == 0:
            return
        assert time.monotonic() < deadline, status.summary()
        time.sleep(0.2)
