"""Every ``fmc`` transcript in the docs is what the command prints today.

A transcript is a ``text`` or ``console`` block with ``$ fmc …`` lines. A
command followed by output is run (in process, or as a process for ``fmc
serve``) against the demo's store and the fake Graph API, as the command-line
guide sets them up, and its output (stderr, then stdout) is compared after
normalising ids, ports, times and temporary paths; a line ``…`` stands for any
further lines, and ``$ echo $?`` checks the exit status. A command shown
without output is parsed, so its flags and arguments exist.
"""

from __future__ import annotations

import io
import os
import re
import shlex
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import attrs
import pytest
from docs_support import Block, blocks_of

from fmc.cli import main
from fmc.cli.entry import build_parser
from fmc.testing import FakeGraphAPI

DEMO_PAGE_ID = "1000000000000001"

_NORMALISE = (
    (re.compile(r"\bbc-[0-9a-f]{8,}"), "bc-ID"),
    (re.compile(r"\bm_[A-Za-z0-9_-]+"), "m_ID"),
    (re.compile(r"http://127\.0\.0\.1:\d+"), "http://127.0.0.1:PORT"),
    (re.compile(r"\b\d+\.\d+ s\b"), "N s"),
    (re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC"), "DATE UTC"),
    (re.compile(r"/tmp/fmc-demo-\w+"), "TMPDIR"),
)


def normalise(text: str) -> list[str]:
    for pattern, replacement in _NORMALISE:
        text = pattern.sub(replacement, text)
    return [line.rstrip() for line in text.splitlines()]


@attrs.frozen
class Step:
    """One ``$`` line of a transcript and the output shown under it."""

    command: str
    output: tuple[str, ...]


def steps(block: Block) -> list[Step]:
    found: list[Step] = []
    for line in block.code.splitlines():
        if line.startswith("$ "):
            found.append(Step(line[2:].strip(), ()))
        elif found:
            previous = found[-1]
            found[-1] = Step(previous.command, (*previous.output, line))
    return [attrs.evolve(s, output=_trim(s.output)) for s in found]


def _trim(lines: tuple[str, ...]) -> tuple[str, ...]:
    end = len(lines)
    while end and not lines[end - 1].strip():
        end -= 1
    return lines[:end]


def transcripts() -> list[Block]:
    blocks = blocks_of("text") + blocks_of("console")
    return [block for block in blocks if any(s.command.startswith("fmc ") for s in steps(block))]


def argv_of(command: str) -> list[str]:
    # Shell comments and redirections are not the command's.
    words = shlex.split(command, comments=True)
    if ">" in words:
        words = words[: words.index(">")]
    assert words[0] == "fmc"
    return words[1:]


def matches(expected: tuple[str, ...], actual: list[str]) -> bool:
    wanted = normalise("\n".join(expected))
    if "…" in wanted:
        head = wanted[: wanted.index("…")]
        return actual[: len(head)] == head
    return actual == wanted


@pytest.fixture
def demo_world(tmp_path: Path) -> Iterator[dict[str, str]]:
    """The guide's setup: the demo's kept store, the fake Graph API, the environment."""
    kept = tmp_path / "fmc-try"
    assert main(["demo", "--quiet", "--keep", str(kept)], environ={}, stdout=io.StringIO()) == 0
    fake = FakeGraphAPI(page_id=DEMO_PAGE_ID)
    with fake.server() as graph:
        yield {
            "FMC_PAGE_ID": DEMO_PAGE_ID,
            "FMC_PAGE_TOKEN": "fake-page-token-the-fake-accepts-anyway",
            "FMC_APP_SECRET": "docs-transcript-app-secret-0123",
            "FMC_VERIFY_TOKEN": "docs-transcript-verify-token",
            "FMC_DB": str(kept / "fmc.db"),
            "FMC_GRAPH_URL": graph.url,
        }


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def serve_banner(argv: list[str], environ: dict[str, str], cwd: Path) -> tuple[int, str]:
    """Start ``fmc serve`` on a free port, read its first line, stop it with SIGTERM."""
    if "--port" in argv:
        argv[argv.index("--port") + 1] = str(free_port())
    environ = {k: v for k, v in environ.items() if k != "FMC_DB"}
    process = subprocess.Popen(
        [sys.executable, "-m", "fmc.cli", *argv],
        cwd=cwd,
        env={**os.environ, **environ},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        banner = process.stdout.readline()
    finally:
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=30)
    return process.returncode, banner


def test_the_docs_have_transcripts_to_check() -> None:
    """The command-line guide's transcripts are found (the parser has not gone blind)."""
    found = {str(block) for block in transcripts()}
    assert sum(1 for name in found if name.startswith("docs/guides/cli.rst")) >= 6


@pytest.mark.parametrize("block", transcripts(), ids=str)
def test_transcript_is_what_the_command_prints(
    block: Block, demo_world: dict[str, str], tmp_path: Path
) -> None:
    """Each shown command prints what the docs show, and exits as `echo $?` says."""
    environ = dict(demo_world)
    last_code: int | None = None
    for step in steps(block):
        if step.command == "echo $?":
            assert step.output, str(block)
            assert last_code == int(step.output[0]), str(block)
            continue
        if not step.command.startswith("fmc "):
            continue
        argv = argv_of(step.command)
        if not step.output:
            build_parser().parse_args(argv)
            continue
        if argv[0] == "serve":
            last_code, printed = serve_banner(argv, environ, tmp_path)
            actual = normalise(printed)
        else:
            out, err = io.StringIO(), io.StringIO()
            last_code = main(argv, environ=environ, stdout=out, stderr=err)
            actual = normalise(err.getvalue() + out.getvalue())
        assert matches(step.output, actual), (
            f"{block}: $ {step.command}\n--- docs\n"
            + "\n".join(normalise("\n".join(step.output)))
            + "\n--- today\n"
            + "\n".join(actual)
        )


def test_the_documented_config_file_is_read_as_shown(tmp_path: Path) -> None:
    """The TOML example of the command-line guide has only known keys and reads back."""
    from fmc.cli.config import read_toml

    (block,) = blocks_of("toml")
    path = tmp_path / "fmc.toml"
    path.write_text(block.code, encoding="utf-8")
    settings = read_toml(path)
    assert settings["forward_allow"] == ["bot.example.com"]
    assert settings["rate_limit"] == 250
