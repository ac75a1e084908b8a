"""The escalation ladder: which tier of staff a case speaks to, and when it climbs.

Severity chooses the starting tier. A missed deadline that needs a person (the response deadline,
a manual callback) *pages*: it climbs one tier and pages again every window while nobody answers,
never beyond tier 3. A resolution breach climbs one tier. Answering stops the paging.

The ladder holds the state; the case decides how an escalation is told (`Escalate`, which posts
the notices in the background), so the same
ladder serves repairs, complaints, hearings and drills.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from enum import StrEnum

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from workflows.clock import Deadline
    from workflows.contracts import Tier


class EscalationReason(StrEnum):
    """The `reason` parameter of the `escalation` staff template."""

    response_missed = "response_missed"
    resolution_breached = "resolution_breached"
    reopened = "reopened"
    manual_callback_missed = "manual_callback_missed"
    answer_missed = "answer_missed"
    start_missed = "start_missed"
    report_missed = "report_missed"
    other = "other"


TOP = Tier.general_manager

Escalate = Callable[[EscalationReason, datetime | None], None]
"""Tell an escalation: why, and the deadline that passed (None when no deadline caused it)."""


class EscalationLadder:
    def __init__(self, tier: Tier, escalate: Escalate) -> None:
        self.tier = tier
        self.escalations = 0
        self._escalate = escalate
        self._page_at: datetime | None = None
        self._page_every: timedelta | None = None
        self._page_reason: EscalationReason | None = None

    def climb(self) -> bool:
        """One tier up; False at the top (the tier stays, the escalation is still told)."""
        self.escalations += 1
        if self.tier >= TOP:
            return False
        self.tier = Tier(self.tier + 1)
        return True

    def climb_to(self, tier: Tier) -> bool:
        if tier <= self.tier:
            return False
        self.tier = tier
        self.escalations += 1
        return True

    def escalate(self, reason: EscalationReason, due: datetime | None = None) -> None:
        self.climb()
        self._escalate(reason, due)

    # --- paging: climb every window while unanswered ---------------------------------------

    def start_paging(self, first: datetime, every: timedelta, reason: EscalationReason) -> None:
        self._page_at, self._page_every, self._page_reason = first, every, reason

    def tighten_paging(self, first: datetime, every: timedelta) -> None:
        """A severity raise: the next page comes no later than `first`, then every new window."""
        if self._page_at is not None:
            self._page_at = min(self._page_at, first)
            self._page_every = every

    def stop_paging(self) -> None:
        self._page_at = self._page_every = self._page_reason = None

    @property
    def paging(self) -> bool:
        return self._page_at is not None

    def page_deadline(self) -> Deadline | None:
        if self._page_at is None or self._page_reason is None:
            return None
        return Deadline(self._page_at, self._page_reason.value)

    def page(self) -> None:
        """The page deadline passed: climb and tell; the next page one window later, none above the top."""
        assert self._page_at is not None and self._page_every is not None and self._page_reason
        reason, due = self._page_reason, self._page_at
        self.climb()
        if self.tier >= TOP:
            self.stop_paging()
        else:
            self._page_at += self._page_every
        self._escalate(reason, due)
