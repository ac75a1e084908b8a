"""`steward reconcile [--repair]`: does the SQL read model say what the workflows say?

The workflows are the truth; `cases` and `case_events` are projections of their transitions. An
outage of the database only delays those writes (the projection retries until it is back), but a
bug, a restore from an old backup or a hand edit can leave rows that no longer agree. Every case of
this Steward (the case kinds on our task queue in Temporal visibility, and every `cases` row) is
checked by reading its row and then asking its workflow for its state (the `state` query, as
`GET /requests/{id}` does). The drift found per case:

- `missing_row`: the workflow exists, its `cases` row does not;
- `stale_row`: the row's status or `last_seq` is not the workflow's (its count of transitions);
- `missing_events`: `case_events` lacks some of the workflow's transitions;
- `orphan_row`: an open row whose workflow does not exist (a closed row without one is what
  Temporal's retention leaves behind, and is not drift);
- `unreadable`: the workflow did not answer (is a worker running on the task queue?).

`--repair` rewrites the first three from the workflow's state through the projection's own writers
(`activities.projection`), so the read model keeps one writer; orphans and unreadable cases are left
for a person. A case whose projection is in flight at that very moment may show as stale; running
again tells a lag from drift.
"""

from __future__ import annotations

import asyncio
import sys
from datetime import timedelta
from enum import StrEnum

from pydantic import BaseModel, computed_field
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker
from temporalio.client import Client
from temporalio.common import SearchAttributeKey
from temporalio.service import RPCError

from activities.projection import record_event, write_case
from api.cases import case_state, equals, visibility_query
from api.errors import ApiError
from steward.settings import Settings
from steward.store.database import make_engine, session_factory, unreachable
from steward.store.models import Case, CaseEventRow
from steward.temporal import connect
from workflows.contracts import CaseState, Status

TASK_QUEUE = SearchAttributeKey.for_keyword("TaskQueue")
QUERY_TIMEOUT = timedelta(seconds=10)
CONCURRENT_CASES = 16
SHOWN_SEQS = 10


class Drift(StrEnum):
    missing_row = "missing_row"
    stale_row = "stale_row"
    missing_events = "missing_events"
    orphan_row = "orphan_row"
    unreadable = "unreadable"


REPAIRABLE = frozenset({Drift.missing_row, Drift.stale_row, Drift.missing_events})


class CaseDrift(BaseModel):
    case_id: str
    drift: list[Drift]
    detail: str
    repaired: bool = False

    def line(self) -> str:
        outcome = "repaired" if self.repaired else "left as it is"
        return f"{self.case_id} {','.join(self.drift)}: {self.detail} [{outcome}]"


class ReconcileReport(BaseModel):
    checked: int
    cases: list[CaseDrift]

    @computed_field
    @property
    def drifted(self) -> int:
        return len(self.cases)

    @computed_field
    @property
    def repaired(self) -> int:
        return sum(case.repaired for case in self.cases)

    @computed_field
    @property
    def remaining(self) -> int:
        return self.drifted - self.repaired

    def summary(self) -> str:
        return f"checked {self.checked}, drifted {self.drifted}, repaired {self.repaired}"


class _Row(BaseModel):
    status: str
    last_seq: int


def _row_ids(sessions: sessionmaker[Session]) -> list[str]:
    with sessions() as session:
        return list(session.scalars(select(Case.case_id)))


def _read(sessions: sessionmaker[Session], case_id: str) -> tuple[_Row | None, set[int]]:
    with sessions() as session:
        row = session.execute(select(Case.status, Case.last_seq).where(Case.case_id == case_id)).one_or_none()
        seqs = set(session.scalars(select(CaseEventRow.seq).where(CaseEventRow.case_id == case_id)))
    return (_Row(status=row.status, last_seq=row.last_seq) if row else None), seqs


def _repair(sessions: sessionmaker[Session], state: CaseState, row: _Row | None, rewrite_row: bool,
            missing: list[int]) -> bool:
    """The missing transitions from the workflow's timeline, and its row from its state."""
    with sessions.begin() as session:
        for seq in missing:
            entry = state.timeline[seq - 1]
            record_event(session, case_id=state.case_id, seq=seq, event=entry.event, at=entry.at,
                         actor_id=entry.actor.id if entry.actor else None, device_at=entry.device_at,
                         detail=entry.detail)
        if not rewrite_row:
            return True
        return write_case(session, state, len(state.timeline), replacing=row.last_seq if row else None)


def _seqs(seqs: list[int]) -> str:
    shown = ", ".join(map(str, seqs[:SHOWN_SEQS]))
    return shown + (f" … ({len(seqs)} in all)" if len(seqs) > SHOWN_SEQS else "")


async def _check(client: Client, sessions: sessionmaker[Session], case_id: str,
                 repair: bool) -> CaseDrift | None:
    """The row first, then the workflow: a row can lag behind its workflow but never lead it."""
    row, seqs = await asyncio.to_thread(_read, sessions, case_id)
    try:
        state = await case_state(client, case_id, QUERY_TIMEOUT)
    except ApiError as error:
        if error.status != 404:
            return CaseDrift(case_id=case_id, drift=[Drift.unreadable], detail=error.message)
        if row is None or row.status == Status.closed:
            return None
        return CaseDrift(case_id=case_id, drift=[Drift.orphan_row],
                         detail=f"row {row.status} @ {row.last_seq}; no such workflow")
    seq = len(state.timeline)
    drift: list[Drift] = []
    details: list[str] = []
    if row is None:
        drift.append(Drift.missing_row)
        details.append(f"no row; workflow {state.status.value} @ {seq}")
    elif (row.status, row.last_seq) != (state.status.value, seq):
        drift.append(Drift.stale_row)
        details.append(f"row {row.status} @ {row.last_seq}; workflow {state.status.value} @ {seq}")
    missing = sorted(set(range(1, seq + 1)) - seqs)
    if missing:
        drift.append(Drift.missing_events)
        details.append(f"events missing: {_seqs(missing)}")
    if not drift:
        return None
    found = CaseDrift(case_id=case_id, drift=drift, detail="; ".join(details))
    if repair:
        rewrite_row = Drift.missing_row in drift or Drift.stale_row in drift
        found.repaired = await asyncio.to_thread(_repair, sessions, state, row, rewrite_row, missing)
    return found


async def case_ids(client: Client, sessions: sessionmaker[Session], task_queue: str) -> list[str]:
    """Every case this Steward knows of: in Temporal (running or closed) or in the read model."""
    query = visibility_query(equals(TASK_QUEUE, task_queue))
    listed = {execution.id async for execution in client.list_workflows(query, page_size=1000)}
    return sorted(listed | set(await asyncio.to_thread(_row_ids, sessions)))


async def reconcile(client: Client, sessions: sessionmaker[Session], task_queue: str,
                    repair: bool = False) -> ReconcileReport:
    ids = await case_ids(client, sessions, task_queue)
    gate = asyncio.Semaphore(CONCURRENT_CASES)

    async def one(case_id: str) -> CaseDrift | None:
        async with gate:
            return await _check(client, sessions, case_id, repair)

    found = [drift for drift in await asyncio.gather(*map(one, ids)) if drift is not None]
    return ReconcileReport(checked=len(ids), cases=found)


def _cannot(what: str, error: object) -> int:
    print(f"error: {what}: {str(error).strip().splitlines()[0]}", file=sys.stderr)
    return 2


async def run(settings: Settings, repair: bool) -> int:
    """The command: a line per drifted case and the summary line. Exits 0 when no drift remains, 1 when
    some does, 2 when the database or Temporal cannot be reached (so cron and monitoring can tell)."""
    engine = make_engine(settings.database)
    try:
        client = await connect(settings.temporal_target, settings.temporal_namespace)
        report = await reconcile(client, session_factory(engine), settings.task_queue, repair)
    except SQLAlchemyError as error:
        if not unreachable(error):
            raise
        return _cannot("the database is unreachable", getattr(error, "orig", None) or error)
    except (RPCError, RuntimeError) as error:  # Client.connect fails with RuntimeError
        return _cannot(f"Temporal is unreachable at {settings.temporal_target}", error)
    finally:
        engine.dispose()
    for case in report.cases:
        print(case.line())
    print(report.summary())
    return 1 if report.remaining else 0
