"""Each subcommand's --help shows only what applies to it; the demo explains itself."""

from __future__ import annotations

import io

import pytest

from fmc.cli import main
from fmc.cli.demo import IN_WORDS, TRY_NEXT, run_demo

ALL_FLAGS = (
    "--config",
    "--page-id",
    "--db",
    "--graph-url",
    "--permissions",
    "--rate-limit",
    "--forward-allow",
    "--honour",
    "--utility-templates",
)
#: What the policy reads: only the commands that decide sends show these.
POLICY_FLAGS = ("--honour", "--utility-templates")
SENDING_FLAGS = (*ALL_FLAGS[:6], *POLICY_FLAGS)


def help_of(command: str, capsys: pytest.CaptureFixture[str]) -> str:
    # argparse prints help to sys.stdout itself.
    assert main([command, "--help"], environ={}, stdout=io.StringIO()) == 0
    return capsys.readouterr().out


@pytest.mark.parametrize(
    ("command", "shown"),
    [
        ("serve", ALL_FLAGS[:7]),
        ("send", SENDING_FLAGS),
        ("broadcast", SENDING_FLAGS),
        ("subscribers", ("--config", "--page-id", "--db")),
        ("demo", ()),
    ],
)
def test_help_lists_only_the_flags_the_command_uses(
    command: str, shown: tuple[str, ...], capsys: pytest.CaptureFixture[str]
) -> None:
    """--help shows a configuration flag exactly when the command reads that setting."""
    text = help_of(command, capsys)
    for flag in ALL_FLAGS:
        assert (flag in text) == (flag in shown), flag


def test_demo_help_says_how_long_it_takes(capsys: pytest.CaptureFixture[str]) -> None:
    """fmc demo --help says it takes well under a second (it takes about 0.1 s)."""
    text = " ".join(help_of("demo", capsys).split())
    assert "well under a second" in text
    assert "few seconds" not in text


def test_demo_explains_each_outcome_in_words_and_ends_with_what_to_try() -> None:
    """The full demo prints a 'why' line per rule and error it shows, then what to try next."""
    out = io.StringIO()
    assert run_demo(out) == 0
    lines = out.getvalue().splitlines()
    why = [line for line in lines if line.startswith("   why ")]
    assert why == [
        f"   why Chloé, Dev, Eli: {IN_WORDS['outside_window_no_subscription']}",
        f"   why Ben: {IN_WORDS['RecipientUnavailableError']}",
    ]
    assert lines[-len(TRY_NEXT) :] == list(TRY_NEXT)
