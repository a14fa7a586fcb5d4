"""Broadcast progress on stderr: a bar on a terminal, throttled plain lines elsewhere."""

from __future__ import annotations

import io

import pytest

from fmc.channel import BroadcastProgress
from fmc.cli.progress import ProgressPrinter


def snapshot(sent: int, skipped: int = 0, failed: int = 0) -> BroadcastProgress:
    return BroadcastProgress("bc-1", sent + skipped + failed, sent, skipped, failed, 0, 0)


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class TestTerminal:
    """On a terminal: one line redrawn in place."""

    def test_bar_redraws_in_place(self) -> None:
        """Each snapshot starts with a carriage return; finish() ends the line."""
        stream = io.StringIO()
        printer = ProgressPrinter(stream, total=4, tty=True, width=4)
        printer(snapshot(1))
        printer(snapshot(2, skipped=2))
        printer.finish()
        assert stream.getvalue().split("\r")[1:] == [
            "[#---] 1/4  25%  sent 1, skipped 0, failed 0",
            "[####] 4/4 100%  sent 2, skipped 2, failed 0\n",
        ]

    def test_unknown_total(self) -> None:
        """Without a total, it counts without a bar."""
        printer = ProgressPrinter(io.StringIO(), tty=True)
        assert printer.render(snapshot(3)) == "broadcast bc-1: 3 done; sent 3, skipped 0, failed 0"


class TestNotATerminal:
    """In a log: plain lines, at most one per interval, and the last one."""

    def test_throttled_plain_lines(self) -> None:
        """Snapshots within the interval are not written; finish() writes the final state."""
        stream, clock = io.StringIO(), FakeClock()
        printer = ProgressPrinter(stream, total=10, tty=False, interval=5.0, monotonic=clock)
        printer(snapshot(1))
        clock.now = 1.0
        printer(snapshot(2))
        clock.now = 6.0
        printer(snapshot(5))
        clock.now = 7.0
        printer(snapshot(10))
        printer.finish()
        assert stream.getvalue().splitlines() == [
            "broadcast bc-1: 1/10 (10%); sent 1, skipped 0, failed 0",
            "broadcast bc-1: 5/10 (50%); sent 5, skipped 0, failed 0",
            "broadcast bc-1: 10/10 (100%); sent 10, skipped 0, failed 0",
        ]

    def test_final_line_not_repeated(self) -> None:
        """A final state already written is not written twice."""
        stream = io.StringIO()
        printer = ProgressPrinter(stream, total=1, tty=False)
        printer(snapshot(1))
        printer.finish()
        assert len(stream.getvalue().splitlines()) == 1

    @pytest.mark.parametrize("tty", [True, False], ids=["tty", "plain"])
    def test_nothing_written_without_progress(self, tty: bool) -> None:
        """An empty broadcast draws nothing."""
        stream = io.StringIO()
        ProgressPrinter(stream, total=0, tty=tty).finish()
        assert stream.getvalue() == ""

    def test_detects_a_terminal_from_the_stream(self) -> None:
        """By default it asks the stream whether it is a terminal."""

        class Terminal(io.StringIO):
            def isatty(self) -> bool:
                return True

        stream = Terminal()
        ProgressPrinter(stream, total=2)(snapshot(1))
        assert stream.getvalue().startswith("\r[")
