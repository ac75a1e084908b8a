"""A deadline timer's summary is written once and read back by the case timeline: the summaries the
recorded histories carry must read as the deadline they name, and write back to the same text."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowHistory

from tests.workflows.replay_codec import REPLAY_CONVERTER
from workflows.clock import Deadline, deadline_summary, read_deadline_summary

HISTORIES = Path(__file__).parent.parent / "histories"


async def _timer_summaries() -> list[str]:
    """Every timer's summary, opened by the replay codec (the encrypted history seals them too)."""
    summaries = []
    for path in sorted(HISTORIES.glob("*.json")):
        history = WorkflowHistory.from_json(path.stem, path.read_text(encoding="utf-8"))
        sealed = [event.user_metadata.summary for event in history.events
                  if event.event_type == EventType.EVENT_TYPE_TIMER_STARTED
                  and event.user_metadata.HasField("summary")]
        summaries += await REPLAY_CONVERTER.decode(sealed, [str] * len(sealed)) if sealed else []
    return summaries


async def test_every_recorded_deadline_summary_reads_as_its_deadline_and_writes_back_the_same() -> None:
    deadlines = [(summary, read_deadline_summary(summary)) for summary in await _timer_summaries()]
    read = [(summary, deadline) for summary, deadline in deadlines if deadline is not None]
    assert read, "the recorded histories hold deadline timers"
    for summary, deadline in read:
        assert deadline.at.tzinfo == UTC
        assert deadline_summary(deadline.kind, deadline.at) == summary


def test_a_deadline_reads_back_to_the_minute_and_other_timers_do_not_read_as_deadlines() -> None:
    deadline = Deadline(datetime(2026, 11, 26, 9, 30, 59, tzinfo=UTC), "resolution_breached")
    assert deadline.summary == "resolution_breached due 2026-11-26 09:30 UTC"
    assert read_deadline_summary(deadline.summary) == Deadline(datetime(2026, 11, 26, 9, 30, tzinfo=UTC),
                                                               "resolution_breached")
    assert read_deadline_summary("quiet hours until 2026-11-26 22:00 UTC") is None
    assert read_deadline_summary("app notice case_received unread") is None
