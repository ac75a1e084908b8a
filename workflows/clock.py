"""The deadline clock: a case's response and resolution deadlines, and the wait that keeps them.

Deadlines come from the policy snapshot taken when the case started. They move: a severity raise
tightens them from that moment, a supervisor lowering or extension moves them with a reason, and a
pause shifts the resolution deadline by the time spent paused. The resolution deadline is kept as a
*base* plus the time paused in the current window, so a later severity change or extension never
loses the paused time.

`wait_for` is the one loop every case kind uses to wait for something *or* the next deadline: it
recomputes the time left from `workflow.now()` whenever a handler moved a deadline.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from workflows.contracts import Severity
    from workflows.policy import SlaPolicy


@dataclass(frozen=True)
class Deadline:
    """A point in time the workflow must act at, and what it is (response, warning, resolution…)."""

    at: datetime
    kind: str

    @property
    def summary(self) -> str:
        return deadline_summary(self.kind, self.at)


_MINUTE = "%Y-%m-%d %H:%M"
_SUMMARY = re.compile(r"^(?P<kind>[a-z_]+) due (?P<at>\d{4}-\d\d-\d\d \d\d:\d\d) UTC$")


def deadline_summary(kind: str, at: datetime) -> str:
    """A timer summary for the Temporal UI: what is due and when (UTC), no personal data.

    Recorded histories carry this text and the case timeline reads it back (`read_deadline_summary`),
    so it must not change."""
    return f"{kind} due {at:{_MINUTE}} UTC"


def read_deadline_summary(summary: str) -> Deadline | None:
    """The deadline a timer's summary names, or None for a timer that is not a deadline."""
    match = _SUMMARY.match(summary)
    if match is None:
        return None
    return Deadline(datetime.strptime(match["at"], _MINUTE).replace(tzinfo=UTC), match["kind"])


def earliest(*deadlines: Deadline | None) -> Deadline | None:
    running = [d for d in deadlines if d is not None]
    return min(running, key=lambda d: d.at) if running else None


async def wait_for(
    done: Callable[[], bool], next_deadline: Callable[[], Deadline | None], waiting_for: str
) -> Deadline | None:
    """Wait until `done()` holds (→ None) or the next deadline passes first (→ that deadline).

    `next_deadline` is read from workflow state only (never from the clock), so when a handler moves
    a deadline the wait wakes, and a new timer is started for the time left from `workflow.now()`.
    """
    while not done():
        deadline = next_deadline()
        if deadline is None:
            workflow.set_current_details(f"Waiting for {waiting_for}; no deadline running.")
            await workflow.wait_condition(lambda: done() or next_deadline() is not None)
            continue
        left = deadline.at - workflow.now()
        if left <= timedelta(0):
            return deadline
        workflow.set_current_details(
            f"Waiting for {waiting_for} until the {deadline.kind} deadline, {deadline.at:%Y-%m-%d %H:%M} UTC."
        )
        try:
            await workflow.wait_condition(
                lambda deadline=deadline: done() or next_deadline() != deadline,
                timeout=left,
                timeout_summary=deadline.summary,
            )
        except TimeoutError:
            if not done() and next_deadline() == deadline:
                return deadline
    return None


class DeadlineClock:
    """Response and resolution deadlines of one case, in UTC, movable and pause-aware."""

    def __init__(self, policy: SlaPolicy, severity: Severity, start: datetime) -> None:
        self.policy = policy
        self.severity = severity
        windows = policy.for_severity(severity)
        self.response_due: datetime = start + windows.response
        self.window_start = start
        self._base = start + windows.resolution
        self._paused_in_window = timedelta(0)
        self.paused_since: datetime | None = None
        self.resume_at: datetime | None = None
        self.paused_total = timedelta(0)
        self.running = True
        self.warning_sent = False
        self.breach_sent = False
        self.warned = False
        self.resolution_breached = False

    @property
    def response_window(self) -> timedelta:
        return self.policy.for_severity(self.severity).response

    @property
    def resolution_window(self) -> timedelta:
        return self.policy.for_severity(self.severity).resolution

    @property
    def paused(self) -> bool:
        return self.paused_since is not None

    @property
    def resolution_due(self) -> datetime:
        """The deadline as it stands, not counting a pause still running (added when it ends)."""
        return self._base + self._paused_in_window

    def resolution_due_at(self, now: datetime) -> datetime:
        """The deadline as a person reads it at `now`: a running pause pushes it on."""
        running = now - self.paused_since if self.paused_since else timedelta(0)
        return self.resolution_due + running

    @property
    def warning_at(self) -> datetime:
        window = self._base - self.window_start
        return self.window_start + window * self.policy.warning_ratio + self._paused_in_window

    def time_left(self, now: datetime) -> timedelta:
        return self.resolution_due_at(now) - now

    # --- the deadlines the workflow waits for -----------------------------------------------

    def warning_deadline(self) -> Deadline | None:
        if not self.running or self.paused or self.warning_sent:
            return None
        return Deadline(self.warning_at, "warning")

    def breach_deadline(self) -> Deadline | None:
        if not self.running or self.paused or self.breach_sent:
            return None
        return Deadline(self.resolution_due, "resolution")

    def resume_deadline(self) -> Deadline | None:
        return Deadline(self.resume_at, "resume") if self.paused and self.resume_at else None

    # --- what moves the clock ---------------------------------------------------------------

    def raise_severity(self, severity: Severity, now: datetime, acknowledged: bool) -> None:
        """Deadlines tighten from now: new due = min(current due, now + the new window)."""
        self.severity = severity
        if not acknowledged:
            self.response_due = min(self.response_due, now + self.response_window)
        self._move_to(min(self.resolution_due, now + self.resolution_window), now)

    def lower_severity(self, severity: Severity, now: datetime, acknowledged: bool) -> None:
        """A supervisor's lowering: the windows of the new severity, from the start of this window."""
        self.severity = severity
        if not acknowledged:
            self.response_due = self.window_start + self.response_window
        self._move_to(self.window_start + self.resolution_window + self._paused_in_window, now)

    def extend(self, resolution_due: datetime, now: datetime) -> None:
        self._move_to(resolution_due, now)

    def pause(self, now: datetime, resume_at: datetime | None) -> None:
        self.paused_since = now
        self.resume_at = resume_at

    def resume(self, now: datetime) -> timedelta:
        """End the pause; the resolution deadline (and the warning) shift by the time paused."""
        assert self.paused_since is not None
        paused_for = now - self.paused_since
        self._paused_in_window += paused_for
        self.paused_total += paused_for
        self.paused_since = None
        self.resume_at = None
        return paused_for

    def stop(self, now: datetime) -> None:
        """The work is done (resolved or withdrawn): no more warnings or breaches."""
        if self.paused:
            self.resume(now)
        self.running = False

    def restart(self, now: datetime) -> None:
        """A reopened case gets a fresh resolution window of its current severity from now."""
        self.window_start = now
        self._base = now + self.resolution_window
        self._paused_in_window = timedelta(0)
        self.running = True
        self.warning_sent = False
        self.breach_sent = False

    def _move_to(self, resolution_due: datetime, now: datetime) -> None:
        self._base = resolution_due - self._paused_in_window
        if self.warning_at > now:
            self.warning_sent = False
        if self.resolution_due > now:
            self.breach_sent = False
