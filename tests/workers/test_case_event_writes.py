"""A case's transitions and the rest of an activity's database work share one transaction (issue 18): a
send's claim of its notice row, a look-up. A refused transition fails the activity before that work is
done; work the database refuses on its own account still leaves the transitions written.

Only PostgreSQL refuses a value wider than its column, so these run there."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.exc import DataError
from sqlalchemy.orm import Session
from temporalio.exceptions import ApplicationError

from activities.projection import write_case_events
from steward.store.models import Case, CaseEventRow, Notification
from tests.conftest import Database
from workflows.case_contracts import CaseEvents, CaseSummary, Transition
from workflows.names import PROJECTION_REJECTED

SUBMITTED = datetime(2026, 12, 5, 9, 0, tzinfo=UTC)


def events(case_id: str, resident_id: str = "R001") -> CaseEvents:
    state = CaseSummary.model_validate({
        "case_id": case_id, "kind": "repair", "status": "dispatched", "severity": "normal",
        "category": "plumbing", "title": "Tap", "building_id": "B1", "unit": "101",
        "resident_id": resident_id, "tier": 0, "handler_id": "S001", "owner_id": None,
        "submitted_at": SUBMITTED, "response_due": SUBMITTED + timedelta(minutes=30),
        "resolution_due": SUBMITTED + timedelta(hours=24), "warned": False, "response_breached": False,
        "resolution_breached": False, "paused": False, "paused_total": timedelta(0), "reopen_count": 0,
        "withdrawn": False, "callback": None, "callback_attempt": 0, "next_deadline": None,
        "next_deadline_kind": None,
    })
    transitions = [Transition(case_id=case_id, seq=seq, event=event, at=SUBMITTED, detail={})
                   for seq, event in ((1, "submitted"), (2, "dispatched"))]
    return CaseEvents(case_id=case_id, transitions=transitions, state=state)


def claim(key: str, to: str = "+8613800000001"):
    def write(session: Session) -> str:
        session.add(Notification(key=key, case_id="-", to=to, channel="sms", template="dispatch",
                                 params={}, status="pending", created_at=SUBMITTED, updated_at=SUBMITTED))
        session.flush()
        return key

    return write


def written(database: Database, case_id: str, key: str) -> tuple[list[int], bool, bool]:
    with database.sessions() as session:
        seqs = list(session.scalars(select(CaseEventRow.seq).where(CaseEventRow.case_id == case_id)
                                    .order_by(CaseEventRow.seq)))
        return seqs, session.get(Case, case_id) is not None, session.get(Notification, key) is not None


@pytest.mark.parametrize("database", ["sqlite", "postgresql"], indirect=True)
def test_the_transitions_and_the_claim_are_written_together(database: Database) -> None:
    case_id, key = f"RP-W{uuid.uuid4().hex[:8].upper()}", uuid.uuid4().hex
    assert write_case_events(database.sessions, events(case_id), then=claim(key)) == key
    assert written(database, case_id, key) == ([1, 2], True, True)


@pytest.mark.parametrize("database", ["postgresql"], indirect=True)
def test_a_refused_transition_fails_before_the_claim(database: Database) -> None:
    case_id, key = f"RP-W{uuid.uuid4().hex[:8].upper()}", uuid.uuid4().hex
    with pytest.raises(ApplicationError) as refused:
        write_case_events(database.sessions, events(case_id, resident_id="R" * 40), then=claim(key))
    assert refused.value.type == PROJECTION_REJECTED and refused.value.non_retryable
    # The transitions themselves fit: written one by one; the row that did not fit, and the claim, not.
    assert written(database, case_id, key) == ([1, 2], False, False)


@pytest.mark.parametrize("database", ["postgresql"], indirect=True)
def test_a_claim_refused_on_its_own_account_still_leaves_the_transitions_written(database: Database) -> None:
    case_id, key = f"RP-W{uuid.uuid4().hex[:8].upper()}", uuid.uuid4().hex
    with pytest.raises(DataError):
        write_case_events(database.sessions, events(case_id), then=claim(key, to="+86" + "1" * 30))
    assert written(database, case_id, key) == ([1, 2], True, False)
