"""Broadcast progress on stderr: a bar on a terminal, a plain periodic line otherwise."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TextIO

from fmc.channel import BroadcastProgress
from fmc.transport.clocks import monotonic_argument

__all__ = ["ProgressPrinter"]


class ProgressPrinter:
    """A ``progress`` callback for :meth:`fmc.Channel.broadcast` that draws on a stream.

    On a terminal it redraws one bar line in place (``\\r``); otherwise (a
    file, a pipe, a CI log) it writes a plain line at most every ``interval``
    seconds, so logs stay short.

    Args:
        stream: Where to draw (stderr).
        total: How many subscribers the broadcast will look at, if known.
        tty: Draw a bar; by default, whether ``stream`` is a terminal.
        interval: Seconds between plain lines.
        width: Characters of the bar.
        monotonic: Monotonic seconds (injectable for tests).
        clock: The old name of ``monotonic`` (deprecated; in fmc, ``clock``
            means an aware UTC datetime callable).
    """

    def __init__(
        self,
        stream: TextIO,
        *,
        total: int | None = None,
        tty: bool | None = None,
        interval: float = 5.0,
        width: int = 30,
        monotonic: Callable[[], float] = time.monotonic,
        clock: Callable[[], float] | None = None,
    ) -> None:
        self._stream = stream
        self._total = total if total and total > 0 else None
        isatty = getattr(stream, "isatty", None)
        self._tty = bool(isatty()) if tty is None and isatty is not None else bool(tty)
        self._interval = interval
        self._width = width
        self._monotonic = monotonic_argument("ProgressPrinter", monotonic, clock)
        self._last_line = -float("inf")
        self._drawn = False
        self._latest: BroadcastProgress | None = None
        self._written = ""

    def __call__(self, progress: BroadcastProgress) -> None:
        """Show one snapshot (called by the broadcast)."""
        self._latest = progress
        if self._tty:
            self._stream.write("\r" + self.render(progress))
            self._stream.flush()
            self._drawn = True
            return
        now = self._monotonic()
        if now - self._last_line >= self._interval:
            self._last_line = now
            self._write_line(progress)

    def render(self, progress: BroadcastProgress, *, bar: bool = True) -> str:
        """The text of one snapshot.

        Args:
            progress: The snapshot.
            bar: Include the bar (only drawn when the total is known).

        Returns:
            One line, without a newline.
        """
        counts = f"sent {progress.sent}, skipped {progress.skipped}, failed {progress.failed}" + (
            f", ambiguous {progress.ambiguous}" if progress.ambiguous else ""
        )
        if self._total is None:
            return f"broadcast {progress.broadcast_id}: {progress.done} done; {counts}"
        done = min(progress.done, self._total)
        percent = 100 * done // self._total
        if not bar:
            return f"broadcast {progress.broadcast_id}: {done}/{self._total} ({percent}%); {counts}"
        filled = self._width * done // self._total
        drawn = "#" * filled + "-" * (self._width - filled)
        return f"[{drawn}] {done}/{self._total} {percent:3d}%  {counts}"

    def finish(self) -> None:
        """End the bar's line (a terminal) or write the last line (otherwise)."""
        if self._tty:
            if self._drawn:
                self._stream.write("\n")
                self._stream.flush()
        elif self._latest is not None:
            self._write_line(self._latest)

    def _write_line(self, progress: BroadcastProgress) -> None:
        text = self.render(progress, bar=False)
        if text != self._written:
            self._written = text
            self._stream.write(text + "\n")
            self._stream.flush()
