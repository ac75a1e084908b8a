"""`steward reconcile [--repair]`: does the SQL read model say what the workflows say?

The workflows are the truth; `cases`, `hearings`, `drills` and `case_events` are projections of
their transitions, and `drill_schedules` a picture of the drill schedules (checked row against
schedule: a missing, stale or orphan row is rewritten or removed through `steward.store.drill_schedules`).
An outage of the database only delays those writes (the projection retries until it is back), but a
bug, a restore from an old backup or a hand edit can leave rows that no longer agree. Every case,
hearing and drill of this Steward (its kinds on our task queue in Temporal visibility, and every row
of its table) is checked by reading its row and then asking its workflow
for its state (the `state` query, as `GET /requests/{id}` does). The drift found per workflow:

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
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, computed_field
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker
from temporalio.client import Client
from temporalio.common import SearchAttributeKey
from temporalio.service import RPCError

from activities.projection import record_event, write_case, write_drill, write_hearing
from api.cases import CASE_KINDS, RPC_TIMEOUT, equals, temporal_answers
from api.drill_schedules import listed_ids, view_on
from api.errors import ApiError
from steward.settings import Settings
from steward.store.community_models import DrillRow, HearingRow
from steward.store.database import make_engine, session_factory, unreachable
from steward.store.drill_schedules import differences, rows, store
from steward.store.models import Case, CaseEventRow
from steward.temporal import connect, resolve
from workflows import search
from workflows.case_contracts import CaseState
from workflows.contracts import Kind
from workflows.drill_contracts import DrillState
from workflows.hearing_contracts import HearingState

TASK_QUEUE = SearchAttributeKey.for_keyword("TaskQueue")
QUERY_TIMEOUT = timedelta(seconds=10)
CONCURRENT_CASES = 16
SHOWN_SEQS = 10


@dataclass(frozen=True)
class Kept:
    """A kind of workflow the read model keeps one row for, and how that row is written."""

    kinds: tuple[Kind, ...]
    model: type
    key: str
    state: type[BaseModel]
    write: Callable[..., bool]


KEPT = (
    Kept(CASE_KINDS, Case, "case_id", CaseState, write_case),
    Kept((Kind.hearing,), HearingRow, "hearing_id", HearingState, write_hearing),
    Kept((Kind.drill,), DrillRow, "drill_id", DrillState, write_drill),
)
CLOSED = "closed"


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


def _row_ids(sessions: sessionmaker[Session], kept: Kept) -> list[str]:
    with sessions() as session:
        return list(session.scalars(select(getattr(kept.model, kept.key))))


def _read(sessions: sessionmaker[Session], kept: Kept, item_id: str) -> tuple[_Row | None, set[int]]:
    key = getattr(kept.model, kept.key)
    with sessions() as session:
        row = session.execute(
            select(kept.model.status, kept.model.last_seq).where(key == item_id)).one_or_none()
        seqs = set(session.scalars(select(CaseEventRow.seq).where(CaseEventRow.case_id == item_id)))
    return (_Row(status=row.status, last_seq=row.last_seq) if row else None), seqs


def _repair(sessions: sessionmaker[Session], kept: Kept, item_id: str, state: Any, row: _Row | None,
            rewrite_row: bool, missing: list[int]) -> bool:
    """The missing transitions from the workflow's timeline, and its row from its state."""
    with sessions.begin() as session:
        for seq in missing:
            entry = state.timeline[seq - 1]
            record_event(session, case_id=item_id, seq=seq, event=entry.event, at=entry.at,
                         actor_id=entry.actor.id if entry.actor else None, device_at=entry.device_at,
                         detail=entry.detail)
        if not rewrite_row:
            return True
        return kept.write(session, state, len(state.timeline), replacing=row.last_seq if row else None)


async def _state(client: Client, kept: Kept, item_id: str) -> Any:
    with temporal_answers(item_id):
        return await client.get_workflow_handle(item_id).query(
            "state", result_type=kept.state, rpc_timeout=QUERY_TIMEOUT)


def _seqs(seqs: list[int]) -> str:
    shown = ", ".join(map(str, seqs[:SHOWN_SEQS]))
    return shown + (f" … ({len(seqs)} in all)" if len(seqs) > SHOWN_SEQS else "")


async def _check(client: Client, sessions: sessionmaker[Session], kept: Kept, item_id: str,
                 repair: bool) -> CaseDrift | None:
    """The row first, then the workflow: a row can lag behind its workflow but never lead it."""
    row, seqs = await asyncio.to_thread(_read, sessions, kept, item_id)
    try:
        state = await _state(client, kept, item_id)
    except ApiError as error:
        if error.status != 404:
            return CaseDrift(case_id=item_id, drift=[Drift.unreadable], detail=error.message)
        if row is None or row.status == CLOSED:
            return None
        return CaseDrift(case_id=item_id, drift=[Drift.orphan_row],
                         detail=f"row {row.status} @ {row.last_seq}; no such workflow")
    seq, status = len(state.timeline), state.status.value
    drift: list[Drift] = []
    details: list[str] = []
    if row is None:
        drift.append(Drift.missing_row)
        details.append(f"no row; workflow {status} @ {seq}")
    elif (row.status, row.last_seq) != (status, seq):
        drift.append(Drift.stale_row)
        details.append(f"row {row.status} @ {row.last_seq}; workflow {status} @ {seq}")
    missing = sorted(set(range(1, seq + 1)) - seqs)
    if missing:
        drift.append(Drift.missing_events)
        details.append(f"events missing: {_seqs(missing)}")
    if not drift:
        return None
    found = CaseDrift(case_id=item_id, drift=drift, detail="; ".join(details))
    if repair:
        rewrite_row = Drift.missing_row in drift or Drift.stale_row in drift
        found.repaired = await asyncio.to_thread(_repair, sessions, kept, item_id, state, row, rewrite_row,
                                                 missing)
    return found


async def kept_ids(client: Client, sessions: sessionmaker[Session], task_queue: str,
                   kept: Kept) -> list[str]:
    """Every workflow of these kinds this Steward knows of: in Temporal (running or closed) or in SQL."""
    kinds = ", ".join(f"'{kind.value}'" for kind in kept.kinds)
    query = f"`{search.KIND.name}` IN ({kinds}) AND {equals(TASK_QUEUE, task_queue)}"
    listed = {execution.id async for execution in client.list_workflows(query, page_size=1000,
                                                                         rpc_timeout=RPC_TIMEOUT)}
    return sorted(listed | set(await asyncio.to_thread(_row_ids, sessions, kept)))


async def _check_schedule(client: Client, sessions: sessionmaker[Session], schedule_id: str,
                          row: Any, task_queue: str, repair: bool) -> tuple[bool, CaseDrift | None]:
    """A drill schedule's row against the schedule, and whether it is ours to check (another Steward's
    schedule in the same namespace is not). The row is only a picture of the schedule, so an orphan
    row (the schedule is gone) is repaired too, by removing it."""
    try:
        live = await view_on(client, schedule_id, task_queue)
    except ApiError as error:
        return True, CaseDrift(case_id=schedule_id, drift=[Drift.unreadable], detail=error.message)
    if live is None and row is None:
        return False, None
    if live is None:
        found = CaseDrift(case_id=schedule_id, drift=[Drift.orphan_row], detail="row; no such schedule")
    elif row is None:
        found = CaseDrift(case_id=schedule_id, drift=[Drift.missing_row], detail="no row; schedule exists")
    elif changed := differences(row, live):
        found = CaseDrift(case_id=schedule_id, drift=[Drift.stale_row],
                          detail=f"row differs from the schedule in {', '.join(changed)}")
    else:
        return True, None
    if repair:
        await asyncio.to_thread(store, sessions, schedule_id, live)
        found.repaired = True
    return True, found


async def reconcile(client: Client, sessions: sessionmaker[Session], task_queue: str,
                    repair: bool = False) -> ReconcileReport:
    gate = asyncio.Semaphore(CONCURRENT_CASES)

    async def one(kept: Kept, item_id: str) -> CaseDrift | None:
        async with gate:
            return await _check(client, sessions, kept, item_id, repair)

    async def schedule(schedule_id: str) -> tuple[bool, CaseDrift | None]:
        async with gate:
            return await _check_schedule(client, sessions, schedule_id, schedule_rows.get(schedule_id),
                                         task_queue, repair)

    work = [(kept, item_id) for kept in KEPT
            for item_id in await kept_ids(client, sessions, task_queue, kept)]
    schedule_rows = await asyncio.to_thread(rows, sessions)
    schedule_ids = sorted(set(await listed_ids(client)) | set(schedule_rows))
    kept = await asyncio.gather(*(one(*item) for item in work))
    schedules = [found for ours, found in await asyncio.gather(*(schedule(s) for s in schedule_ids)) if ours]
    return ReconcileReport(checked=len(work) + len(schedules),
                           cases=[drift for drift in [*kept, *schedules] if drift is not None])


def _cannot(what: str, error: object) -> int:
    print(f"error: {what}: {str(error).strip().splitlines()[0]}", file=sys.stderr)
    return 2


async def run(settings: Settings, repair: bool) -> int:
    """The command: a line per drifted case and the summary line. Exits 0 when no drift remains, 1 when
    some does, 2 when the database or Temporal cannot be reached (so cron and monitoring can tell)."""
    engine = make_engine(settings.database)
    try:
        client = await connect(settings)
        report = await reconcile(client, session_factory(engine), settings.task_queue, repair)
    except SQLAlchemyError as error:
        if not unreachable(error):
            raise
        return _cannot("the database is unreachable", getattr(error, "orig", None) or error)
    except (RPCError, RuntimeError) as error:  # Client.connect fails with RuntimeError
        return _cannot(f"Temporal is unreachable at {resolve(settings).target}", error)
    finally:
        engine.dispose()
    for case in report.cases:
        print(case.line())
    print(report.summary())
    return 1 if report.remaining else 0
