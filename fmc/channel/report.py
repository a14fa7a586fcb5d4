"""What a broadcast did: counts that add up to its audience, and how long it took."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import attrs

if TYPE_CHECKING:
    from fmc.channel.control import StopReason

__all__ = ["BroadcastProgress", "BroadcastReport"]


@attrs.frozen
class BroadcastProgress:
    """A snapshot handed to the ``progress`` callback as a broadcast goes.

    Attributes:
        broadcast_id: The broadcast.
        considered: Subscribers looked at so far.
        sent: Sends Meta accepted so far (in this run).
        skipped: Subscribers the policy or the journal left out so far.
        failed: Sends that failed so far.
        ambiguous: Sends whose fate is unknown so far.
        in_flight: Sends handed to the client whose outcome has not come back.
    """

    broadcast_id: str
    considered: int
    sent: int
    skipped: int
    failed: int
    ambiguous: int
    in_flight: int

    @property
    def done(self) -> int:
        """Subscribers whose outcome is known."""
        return self.sent + self.skipped + self.failed + self.ambiguous


@attrs.frozen
class BroadcastReport:
    """The result of :meth:`fmc.Channel.broadcast`.

    Every subscriber of the audience is counted exactly once, in one of
    ``sent``, ``already_sent``, ``skipped``, ``failed``, ``ambiguous``,
    ``elsewhere`` or ``left``, so :attr:`total` equals :attr:`audience`.

    Attributes:
        broadcast_id: The id to resume this broadcast with.
        purpose: The purpose the policy judged every send by.
        audience: Subscribers looked at in this run.
        sent: Sends Meta accepted in this run.
        already_sent: Subscribers a previous run of this broadcast already
            reached (or that Meta refused for good); not sent again.
        skipped: Subscribers not sent to, by the policy rule that refused them
            (e.g. ``outside_window``, ``blocked``).
        skip_reasons: For each rule in ``skipped``, the reason given to the
            first subscriber it refused (an example: the hours differ per person).
        failed: Sends that failed, by error kind (e.g. ``RecipientUnavailableError``).
        ambiguous: Sends that may or may not have reached Meta (a dropped
            connection, or an earlier run that died mid-send). They are not
            resent unless the broadcast runs with ``at_least_once=True``.
        resent_ambiguous: Sends of this run that went to subscribers whose
            earlier send was ambiguous (only with ``at_least_once=True``).
        marked_unavailable: Subscribers marked unavailable because Meta said
            they cannot be reached.
        started_at: When the run started.
        finished_at: When the run finished.
        elsewhere: Subscribers another live run of the same broadcast holds
            (several workers, or a resume started while the first run goes
            on); that run sends them.
        left: Subscribers this run did not send to because it stopped (see
            :attr:`paused`): never handed to HTTP, or turned back by an error
            about the whole Page. A resume sends them.
        recovered: Journal entries of earlier runs that had died, recovered
            at the start: claims never handed to HTTP were released (and sent
            now); sends that may have reached Meta became ambiguous.
        paused: Why the run stopped before the end (a stop request, a dead
            token, a restricted Page, a long throttle), or ``None``.
        resume_at: When a resume can succeed, if Meta said (a throttle).
        stop_requested: Whether the caller asked the run to stop.
        run_id: This run's id in the journal.
    """

    broadcast_id: str
    purpose: str
    audience: int
    sent: int
    already_sent: int
    skipped: Mapping[str, int]
    skip_reasons: Mapping[str, str]
    failed: Mapping[str, int]
    ambiguous: int
    resent_ambiguous: int
    marked_unavailable: int
    started_at: datetime
    finished_at: datetime
    elsewhere: int = 0
    left: int = 0
    recovered: int = 0
    paused: str | None = None
    resume_at: datetime | None = None
    stop_requested: bool = False
    run_id: str | None = None

    @property
    def total(self) -> int:
        """Every subscriber counted once; equals ``audience``."""
        return (
            self.sent
            + self.already_sent
            + sum(self.skipped.values())
            + sum(self.failed.values())
            + self.ambiguous
            + self.elsewhere
            + self.left
        )

    @property
    def finished(self) -> bool:
        """Whether the run went through its whole audience without stopping."""
        return self.paused is None

    @property
    def duration(self) -> timedelta:
        """How long the run took."""
        return self.finished_at - self.started_at

    @property
    def rate(self) -> float:
        """Sends per second in this run."""
        seconds = self.duration.total_seconds()
        return self.sent / seconds if seconds > 0 else 0.0

    def summary(self) -> str:
        """A few lines a person can read, as the CLI prints them."""
        lines = [
            f"broadcast {self.broadcast_id} ({self.purpose}): {self.audience} subscribers, "
            f"{self.sent} sent in {self.duration.total_seconds():.2f} s",
        ]
        if self.already_sent:
            lines.append(f"  already done by an earlier run: {self.already_sent}")
        for rule, count in sorted(self.skipped.items()):
            example = self.skip_reasons.get(rule)
            lines.append(f"  skipped {count} ({rule})" + (f", e.g. {example}" if example else ""))
        for kind, count in sorted(self.failed.items()):
            lines.append(f"  failed {count}: {kind}")
        if self.ambiguous:
            lines.append(
                f"  ambiguous {self.ambiguous}: may or may not have reached Meta; not resent"
            )
        if self.resent_ambiguous:
            lines.append(f"  resent after an ambiguous earlier send: {self.resent_ambiguous}")
        if self.marked_unavailable:
            lines.append(f"  marked unavailable: {self.marked_unavailable}")
        if self.elsewhere:
            lines.append(f"  held by another run of this broadcast: {self.elsewhere}")
        if self.recovered:
            lines.append(f"  recovered from runs that had died: {self.recovered}")
        if self.paused is not None:
            lines.append(f"  paused: {self.paused}")
            lines.append(f"  left for a resume: {self.left}")
        return "\n".join(lines)


@attrs.define
class _Tally:
    """The mutable counts a running broadcast keeps; frozen into a report at the end."""

    audience: int = 0
    sent: int = 0
    already_sent: int = 0
    skipped: Counter[str] = attrs.Factory(Counter)
    skip_reasons: dict[str, str] = attrs.Factory(dict)
    failed: Counter[str] = attrs.Factory(Counter)
    ambiguous: int = 0
    resent_ambiguous: int = 0
    marked_unavailable: int = 0
    in_flight: int = 0
    elsewhere: int = 0
    left: int = 0
    recovered: int = 0

    def skip(self, rule: str, reason: str) -> None:
        self.skipped[rule] += 1
        self.skip_reasons.setdefault(rule, reason)

    def progress(self, broadcast_id: str) -> BroadcastProgress:
        return BroadcastProgress(
            broadcast_id=broadcast_id,
            considered=self.audience,
            sent=self.sent,
            skipped=sum(self.skipped.values()) + self.already_sent + self.elsewhere + self.left,
            failed=sum(self.failed.values()),
            ambiguous=self.ambiguous,
            in_flight=self.in_flight,
        )

    def report(
        self,
        broadcast_id: str,
        purpose: str,
        started_at: datetime,
        finished_at: datetime,
        *,
        run_id: str | None = None,
        stopped: StopReason | None = None,
    ) -> BroadcastReport:
        return BroadcastReport(
            broadcast_id=broadcast_id,
            purpose=purpose,
            audience=self.audience,
            sent=self.sent,
            already_sent=self.already_sent,
            skipped=dict(self.skipped),
            skip_reasons=dict(self.skip_reasons),
            failed=dict(self.failed),
            ambiguous=self.ambiguous,
            resent_ambiguous=self.resent_ambiguous,
            marked_unavailable=self.marked_unavailable,
            started_at=started_at,
            finished_at=finished_at,
            elsewhere=self.elsewhere,
            left=self.left,
            recovered=self.recovered,
            paused=None if stopped is None else stopped.reason,
            resume_at=None if stopped is None else stopped.resume_at,
            stop_requested=stopped is not None and stopped.requested,
            run_id=run_id,
        )
