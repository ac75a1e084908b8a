"""The SQL read model, written only here: one idempotent write per case transition.

`case_events` gets one row per (case_id, seq) — a retried or replayed write hits the unique key and
does nothing. The `cases` row is the latest summary and is only overwritten by a newer seq, so writes
arriving out of order never roll a case back. Works the same on SQLite and PostgreSQL. The projection
activity writes through `record_event` and `write_case`; so does `steward reconcile --repair`, which
rebuilds drifted rows from the workflow's own state.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import TypeVar

from sqlalchemy.exc import DataError
from sqlalchemy.orm import Session, sessionmaker
from temporalio import activity
from temporalio.exceptions import ApplicationError

from steward import metrics
from steward.store.community_models import DrillRow, HearingRow
from steward.store.database import insert_for
from steward.store.hearings_and_drills import kept_hearing
from steward.store.models import Case, CaseEventRow
from workflows.case_contracts import CaseEvent, CaseEvents, CaseSummary, Transition
from workflows.drill_contracts import DrillState
from workflows.hearing_contracts import HearingState, ObjectionFigures
from workflows.names import PROJECTION_REJECTED, Activity
from workflows.projected import DrillEvent, HearingEvent

Done = TypeVar("Done")


def utc(moment: datetime | None) -> datetime | None:
    return moment.astimezone(UTC) if moment else None


def case_row(summary: CaseSummary, seq: int) -> dict:
    return {
        "case_id": summary.case_id,
        "kind": summary.kind.value,
        "severity": summary.severity.value,
        "category": summary.category,
        "building_id": summary.building_id,
        "unit": summary.unit,
        "resident_id": summary.resident_id,
        "status": summary.status.value,
        "tier": int(summary.tier),
        "owner_id": summary.owner_id,
        "handler_id": summary.handler_id,
        "submitted_at": utc(summary.submitted_at),
        "dispatched_at": utc(summary.dispatched_at),
        "acknowledged_at": utc(summary.acknowledged_at),
        "resolved_at": utc(summary.resolved_at),
        "callback_at": utc(summary.callback_at),
        "closed_at": utc(summary.closed_at),
        "response_due": utc(summary.response_due),
        "resolution_due": utc(summary.resolution_due),
        "warned": summary.warned,
        "response_breached": summary.response_breached,
        "resolution_breached": summary.resolution_breached,
        "paused_seconds": int(summary.paused_total.total_seconds()),
        "reopen_count": summary.reopen_count,
        "satisfaction": summary.callback.result.value if summary.callback else None,
        "withdrawn": summary.withdrawn,
        "last_seq": seq,
        "title": summary.title,
        "paused": summary.paused,
        "next_deadline": utc(summary.next_deadline),
        "next_deadline_kind": summary.next_deadline_kind,
        "subject_staff_id": summary.subject_staff_id,
        "equipment_id": summary.equipment_id,
    }


def hearing_row(state: HearingState, seq: int, figures: ObjectionFigures | None = None) -> dict:
    """The row from a projection's state and figures, or from a whole state (reconcile; projections
    before the figures), the figures then counted from its records."""
    if figures is None:
        figures = ObjectionFigures.of(state.objections, state.callbacks)
    return {
        "hearing_id": state.hearing_id,
        "status": state.status.value,
        "title": state.title,
        "building_ids": state.building_ids,
        "hearing_at": utc(state.hearing_at),
        "created_by": state.created_by,
        "created_at": utc(state.created_at),
        "objections": figures.objections,
        "objections_open": figures.open,
        "next_answer_due": utc(figures.next_answer_due),
        "outcome": state.decision.outcome.value if state.decision else None,
        "decided_at": utc(state.decision.at) if state.decision else None,
        "callbacks_pending": figures.callbacks - figures.called_back,
        "next_deadline": utc(state.next_deadline),
        "next_deadline_kind": state.next_deadline_kind,
        "state": kept_hearing(state, figures),
        "last_seq": seq,
    }


def drill_row(state: DrillState, seq: int) -> dict:
    return {
        "drill_id": state.drill_id,
        "code": state.code,
        "drill_type": state.drill_type.value,
        "building_id": state.building_id,
        "title": state.title,
        "status": state.status.value,
        "schedule_id": state.schedule_id,
        "scheduled_at": utc(state.scheduled_at),
        "start_due": utc(state.start_due),
        "started_at": utc(state.started_at),
        "completed_at": utc(state.completed_at),
        "participation": state.participation,
        "steps_done": sum(1 for step in state.steps if step.done_at is not None),
        "steps_total": len(state.steps),
        "findings": len(state.findings),
        "report_due": utc(state.report_due),
        "reported_at": utc(state.reported_at),
        "start_missed": state.start_missed,
        "report_missed": state.report_missed,
        "survey_asked": state.survey.asked,
        "survey_heard": state.survey.heard,
        "survey_not_heard": state.survey.not_heard,
        "closed_at": utc(state.closed_at),
        "next_deadline": utc(state.next_deadline),
        "next_deadline_kind": state.next_deadline_kind,
        "state": state.model_dump(mode="json", exclude={"timeline"}),
        "last_seq": seq,
    }


def write_hearing(session: Session, state: HearingState, seq: int, replacing: int | None = None,
                  figures: ObjectionFigures | None = None) -> bool:
    return write_latest(session, HearingRow, "hearing_id", hearing_row(state, seq, figures), replacing)


def write_drill(session: Session, state: DrillState, seq: int, replacing: int | None = None) -> bool:
    return write_latest(session, DrillRow, "drill_id", drill_row(state, seq), replacing)


def record_event(session: Session, *, case_id: str, seq: int, event: str, at: datetime,
                 actor_id: str | None, device_at: datetime | None, detail: dict) -> None:
    """One transition once: a second write of (case_id, seq) does nothing."""
    session.execute(
        insert_for(session)(CaseEventRow)
        .values(case_id=case_id, seq=seq, event=event, at=utc(at), actor_id=actor_id,
                device_at=utc(device_at), detail=detail)
        .on_conflict_do_nothing(index_elements=["case_id", "seq"])
    )


def write_case(session: Session, summary: CaseSummary, seq: int, replacing: int | None = None) -> bool:
    """The case's row as of transition `seq`; True when it was written.

    A projection overwrites only an older row, so writes arriving out of order never roll a case back.
    Reconcile passes `replacing`, the `last_seq` of the row it found wrong, and overwrites only that row:
    a projection that moved the row on meanwhile wins.
    """
    return write_latest(session, Case, "case_id", case_row(summary, seq), replacing)


def write_latest(session: Session, model: type, key: str, row: dict, replacing: int | None = None) -> bool:
    """Upsert `row` (it carries `last_seq`) unless the stored one is as new; True when written."""
    upsert = insert_for(session)(model).values(**row)
    stored = model.last_seq
    only = stored < upsert.excluded.last_seq if replacing is None else stored == replacing
    written = session.execute(
        upsert.on_conflict_do_update(
            index_elements=[key],
            set_={column: upsert.excluded[column] for column in row if column != key},
            where=only,
        ).returning(getattr(model, key))
    )
    return written.first() is not None




class Projection:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions

    @activity.defn(name=Activity.PROJECT_CASE)
    def project(self, event: CaseEvent) -> None:
        """One transition (cases started before `case-projection-batched`)."""
        self.project_case_events(CaseEvents(case_id=event.case_id, transitions=[event], state=event.state))

    @activity.defn(name=Activity.PROJECT_CASE_EVENTS)
    def project_case_events(self, events: CaseEvents) -> None:
        """A workflow task's transitions, when no send or look-up of that task carried them."""
        write_case_events(self.sessions, events)

    @activity.defn(name=Activity.PROJECT_HEARING)
    def project_hearing(self, event: HearingEvent) -> None:
        with self.sessions.begin() as session:
            _record(session, event)
            write_hearing(session, event.state, event.seq, figures=event.figures)
        metrics.transition("hearing", event.event, event.detail)

    @activity.defn(name=Activity.PROJECT_DRILL)
    def project_drill(self, event: DrillEvent) -> None:
        with self.sessions.begin() as session:
            _record(session, event)
            write_drill(session, event.state, event.seq)
        metrics.transition("drill", event.event, event.detail)


def write_case_events(sessions: sessionmaker[Session], events: CaseEvents,
                      then: Callable[[Session], Done] | None = None) -> Done | None:
    """A workflow task's transitions and the case's state after them, in one transaction: the projection
    activity's work, and what a send carrying them does before it sends (`workflows/case_projection.py`).
    `then` is the rest of the activity's database work (a send's claim of its notice row, a look-up),
    done in the same transaction: one commit instead of two (issue 18).

    A row the database refuses for its content (a value wider than its column) would be refused on
    every retry: the others are written each on its own, then this fails at once, non-retryable, naming
    what was refused, and the case's history says so to supervisors. When the transitions were not what
    it refused, `then` runs again alone (and raises again if the refusal was its own)."""
    done = None
    try:
        with sessions.begin() as session:
            for transition in events.transitions:
                _record(session, transition)
            write_case(session, events.state, events.transitions[-1].seq)
            if then is not None:
                done = then(session)
    except DataError:
        _one_by_one(sessions, events)
        if then is not None:
            with sessions.begin() as session:
                done = then(session)
    for transition in events.transitions:
        metrics.transition(events.state.kind.value, transition.event, transition.detail,
                           events.state.severity.value)
    return done


def _one_by_one(sessions: sessionmaker[Session], events: CaseEvents) -> None:
    refused = []
    for transition in events.transitions:
        try:
            with sessions.begin() as session:
                _record(session, transition)
        except DataError as error:
            refused.append(f"transition {transition.seq} ({transition.event}) of {events.case_id} cannot "
                           f"be written to the read model: {_reason(error)}")
    try:
        with sessions.begin() as session:
            write_case(session, events.state, events.transitions[-1].seq)
    except DataError as error:
        refused.append(f"the state of {events.case_id} cannot be written to the read model: "
                       f"{_reason(error)}")
    if refused:
        raise ApplicationError("; ".join(refused), type=PROJECTION_REJECTED, non_retryable=True) from None


def _reason(error: DataError) -> str:
    return str(error.orig).splitlines()[0] if error.orig else type(error).__name__


def _record(session: Session, event: Transition) -> None:
    record_event(session, case_id=event.case_id, seq=event.seq, event=event.event, at=event.at,
                 actor_id=event.actor_id, device_at=event.device_at, detail=event.detail)
