"""A hearing's objection desk: every objection answered within its window or paged up its own ladder.

Beside the callback desk (`callback.py`), it serves a host through a small protocol: the host keeps
the records (`HearingProgress`, carried across runs), notes what happens and projects it; the desk
keeps a ladder per unanswered objection and tells residents and staff. An objection's text and answer
are kept in the database (`hearings.keep_objection`) rather than carried, so a hearing with thousands
of objections stays small; their timeline entries are made again from the records.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Protocol

from temporalio import workflow

from workflows.names import Activity

with workflow.unsafe.imports_passed_through():
    from workflows.actions import Action
    from workflows.background import Background
    from workflows.case_contracts import TimelineEntry
    from workflows.clock import Deadline, earliest
    from workflows.contracts import SYSTEM, Actor, Channel, Role, Tier
    from workflows.hearing_contracts import (
        AnswerObjection,
        HearingInput,
        HearingProgress,
        KeptObjection,
        Objection,
        ObjectionReceipt,
        ObjectionRecord,
    )
    from workflows.ladder import EscalationLadder, EscalationReason
    from workflows.messenger import Messenger
    from workflows.rules import Detail

ANSWER_FIRST_TIER = Tier.team_lead
KEEP_TIMEOUT = timedelta(seconds=30)
# Hearings before this change carried every objection's text and answer whole when continuing as new.
OBJECTIONS_KEPT = "objections-kept-in-store"


class ObjectionHost(Protocol):
    hearing_id: str
    hearing: HearingInput
    progress: HearingProgress
    background: Background
    messenger: Messenger

    def note(
        self, event: str, detail: Detail | None = None, actor: Actor = SYSTEM, action: Action | None = None
    ) -> None: ...

    def project_kept(self, event: str, detail: Detail, action: Action) -> None: ...


def kept_count(objections: list[ObjectionRecord]) -> int:
    """How many timeline entries `kept_entries` makes, without making them."""
    return sum(1 + (r.answered_at is not None and r.answered_by is not None) for r in objections if r.kept)


def kept_entries(objections: list[ObjectionRecord]) -> list[TimelineEntry]:
    """The timeline entries of objections kept in the database, made from their records rather than
    carried: a hearing with thousands of objections would otherwise carry thousands of entries."""
    entries = []
    for record in (r for r in objections if r.kept):
        entries.append(TimelineEntry(
            at=record.received_at, actor=Actor(id=record.resident_id, role=Role.resident),
            event="objection_received",
            detail={
                "objection": record.number, "building": record.building_id, "channel": record.channel.value
            },
        ))
        if record.answered_at is not None and record.answered_by is not None:
            entries.append(TimelineEntry(
                at=record.answered_at, actor=Actor(id=record.answered_by, role=Role.staff),
                event="objection_answered", detail={"objection": record.number},
            ))
    return entries


class ObjectionDesk:
    def __init__(self, host: ObjectionHost) -> None:
        self.host = host
        self._ladder_changes = 0
        self._next_page: tuple[int, Deadline | None] = (-1, None)
        self.ladders = {
            record.number: self._ladder(record) for record in host.progress.objections if not record.answered
        }

    def find(self, number: int) -> ObjectionRecord | None:
        return next((o for o in self.host.progress.objections if o.number == number), None)

    def next_page(self) -> Deadline | None:
        """The earliest objection's escalation, recomputed only when a ladder changed: wait conditions
        read it after every event, and a hearing may have thousands of objections open."""
        if self._next_page[0] != self._ladder_changes:
            pages = (ladder.page_deadline() for ladder in self.ladders.values())
            self._next_page = (self._ladder_changes, earliest(*pages))
        return self._next_page[1]

    def receive(self, objection: Objection) -> ObjectionReceipt:
        """Number it, start its ladder, keep its text, and tell the resident and the answering tier."""
        host, now = self.host, workflow.now()
        due = now + host.hearing.answer_within
        kept = workflow.patched(OBJECTIONS_KEPT)
        record = ObjectionRecord(
            number=len(host.progress.objections) + 1, resident_id=objection.actor.id,
            building_id=objection.building_id, unit=objection.unit, text=objection.text,
            channel=objection.channel, received_at=now, answer_due=due, tier=int(ANSWER_FIRST_TIER),
            next_page_at=due, kept=kept,
        )
        host.progress.objections.append(record)
        self.ladders[record.number] = self._ladder(record)
        self._ladder_changes += 1
        detail: Detail = {
            "objection": record.number, "building": record.building_id, "channel": record.channel.value
        }
        if kept:
            self._keep(KeptObjection(hearing_id=host.hearing_id, number=record.number,
                                     resident_id=record.resident_id, text=objection.text, received_at=now))
            host.project_kept("objection_received", detail, objection)
        else:
            host.note("objection_received", detail, action=objection)
        params = {"code": host.hearing_id, "number": str(record.number), "answer_due": due.isoformat()}
        host.messenger.tell_resident(record.resident_id, "objection_received", params)
        host.messenger.tell_staff(
            [host.hearing.created_by.id], Channel.sms, "objection_task",
            params | {"building": record.building_id}, tier=(record.building_id, ANSWER_FIRST_TIER),
        )
        return ObjectionReceipt(hearing_id=host.hearing_id, number=record.number, answer_due=due)

    def answer(self, action: AnswerObjection) -> ObjectionRecord:
        """Record the answer, stop its ladder and send it to the resident who objected."""
        host = self.host
        record = self.find(action.number)
        assert record is not None
        record.answer, record.answered_by, record.answered_at = action.answer, action.actor.id, workflow.now()
        record.next_page_at = None
        self.ladders.pop(action.number).stop_paging()
        self._ladder_changes += 1
        if record.kept:
            self._keep(KeptObjection(hearing_id=host.hearing_id, number=record.number,
                                     resident_id=record.resident_id, answer=action.answer,
                                     answered_by=action.actor.id, answered_at=record.answered_at))
            host.project_kept("objection_answered", {"objection": action.number}, action)
        else:
            host.note("objection_answered", {"objection": action.number}, action=action)
        host.messenger.tell_resident(
            record.resident_id,
            "objection_answer",
            {"code": host.hearing_id, "number": str(action.number), "answer": action.answer},
        )
        return record

    def answer_missed(self, passed: Deadline) -> None:
        number = next(n for n, ladder in self.ladders.items() if ladder.page_deadline() == passed)
        ladder = self.ladders[number]
        ladder.page()
        self._ladder_changes += 1
        record = self.find(number)
        assert record is not None
        record.tier, record.escalations = int(ladder.tier), ladder.escalations
        following = ladder.page_deadline()
        record.next_page_at = following.at if following else None

    def _ladder(self, record: ObjectionRecord) -> EscalationLadder:
        ladder = EscalationLadder(
            Tier(record.tier), lambda reason, due, number=record.number: self._tell_escalation(number, due)
        )
        ladder.escalations = record.escalations
        if record.next_page_at is not None:
            ladder.start_paging(
                record.next_page_at, self.host.hearing.answer_within, EscalationReason.answer_missed
            )
        return ladder

    def _keep(self, objection: KeptObjection) -> None:
        self.host.background.start(
            workflow.start_activity(
                Activity.KEEP_OBJECTION,
                objection,
                start_to_close_timeout=KEEP_TIMEOUT,
                summary=f"keep objection {objection.number}",
            )
        )

    def _tell_escalation(self, number: int, due: datetime | None) -> None:
        host, record = self.host, self.find(number)
        assert record is not None
        tier = self.ladders[number].tier
        host.note(
            "escalated", {"objection": number, "tier": int(tier), "due": due.isoformat() if due else None}
        )
        host.messenger.tell_staff(
            [host.hearing.created_by.id],
            Channel.sms,
            "objection_escalation",
            {
                "code": host.hearing_id,
                "number": str(number),
                "tier": str(int(tier)),
                "answer_due": record.answer_due.isoformat(),
            },
            tier=(record.building_id, tier),
        )
