"""Hearings under test: a community of their own (a fresh building of N households, staff covering it),
the hearing started on the time-skipping server with the real worker, and what it sent read back.

A building of its own keeps a hearing's household counts exact whatever other tests add to the
shared database; `community` writes the households directly, so 2,000 of them take a moment.
"""

from __future__ import annotations

import asyncio
import json
import os
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from sqlalchemy import func, insert, select
from temporalio.client import WorkflowHandle
from temporalio.service import RPCError, RPCStatusCode

from steward.store.models import Building, Household, Notification, Resident, Staff
from tests.workflows.harness import HISTORIES, SUPERVISOR, RepairCases
from workflows.contracts import Actor, Role
from workflows.hearing import HearingWorkflow
from workflows.hearing_contracts import CostItem, HearingInput, HearingState, Objection

COSTS = [
    CostItem(item="Roof waterproofing", amount=Decimal("320000.00")),
    CostItem(item="Lift replacement", amount=Decimal("680000.50")),
]


@dataclass(frozen=True)
class Community:
    building_id: str
    resident_ids: list[str]
    phones: dict[str, str]
    team_lead_phone: str
    general_manager_phone: str

    def resident(self, index: int) -> Actor:
        return Actor(id=self.resident_ids[index], role=Role.resident)


def community(cases: RepairCases, households: int) -> Community:
    """A building of `households` one-resident households; every 4th speaks English, every 3rd prefers
    a call; a team lead and a general manager of its own cover it."""
    tag = uuid.uuid4().hex[:6].upper()
    building = f"HB{tag}"
    digits = f"{int(tag, 16) % 10_000:04d}"
    residents = [f"{building}-{n:04d}" for n in range(1, households + 1)]
    phones = {rid: f"+86137{digits}{n:04d}" for n, rid in enumerate(residents, 1)}
    with cases.database.sessions.begin() as session:
        session.add(Building(id=building, name=f"Hearing test building {tag}"))
        session.flush()
        session.execute(
            insert(Household),
            [
                {"id": f"H-{rid}", "building_id": building, "unit": f"{n:04d}"}
                for n, rid in enumerate(residents, 1)
            ],
        )
        session.execute(
            insert(Resident),
            [
                {
                    "id": rid,
                    "household_id": f"H-{rid}",
                    "name": f"Resident {rid}",
                    "phone": phones[rid],
                    "locale": "en" if n % 4 == 1 else "zh-CN",
                    "preferred_channel": "voice" if n % 3 == 0 else "sms",
                    "opted_out": False,
                    "bad_channels": [],
                }
                for n, rid in enumerate(residents, 1)
            ],
        )
        lead, top = f"+86136{digits}0001", f"+86136{digits}0003"
        session.add_all(
            [
                Staff(
                    id=f"L{tag}",
                    name="Hearing team lead",
                    tier=1,
                    skills=["customer_service"],
                    buildings=[building],
                    on_duty=True,
                    phone=lead,
                    locale="zh-CN",
                ),
                Staff(
                    id=f"G{tag}",
                    name="Hearing general manager",
                    tier=3,
                    skills=[],
                    buildings=[building],
                    on_duty=True,
                    phone=top,
                    locale="en",
                ),
            ]
        )
    return Community(building, residents, phones, lead, top)


async def start_hearing(
    cases: RepairCases, place: Community, ahead: timedelta, **options: object
) -> WorkflowHandle:
    now = await cases.now()
    hearing = HearingInput(
        title="Roof and lift renewal from the maintenance fund",
        reason="The roof leaks and the lift is 25 years old.",
        costs=COSTS,
        building_ids=[place.building_id],
        hearing_at=now + ahead,
        place="Community club house",
        created_by=SUPERVISOR,
        created_at=now,
        policy=cases.settings.policy,
        **options,
    )
    return await cases.env.client.start_workflow(
        HearingWorkflow.run, hearing, id=f"HR-{uuid.uuid4().hex[:10].upper()}", task_queue=cases.task_queue
    )


QUERY_TIMEOUT = timedelta(seconds=2)


async def hearing_state(handle: WorkflowHandle) -> HearingState:
    return await handle.query(HearingWorkflow.state, rpc_timeout=QUERY_TIMEOUT)


async def until(
    handle: WorkflowHandle, check: Callable[[HearingState], bool], within: float = 30
) -> HearingState:
    """Poll the query until `check` holds. A query that lands just as the hearing continues as new can
    go unanswered on the time-skipping server; it is asked again rather than waited out."""
    deadline = asyncio.get_running_loop().time() + within
    while True:
        try:
            state = await hearing_state(handle)
        except RPCError as error:
            if (
                error.status != RPCStatusCode.DEADLINE_EXCEEDED
                or asyncio.get_running_loop().time() > deadline
            ):
                raise
            continue
        if check(state):
            return state
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"condition not reached; state: {state.model_dump_json(indent=1)[:4000]}")
        await asyncio.sleep(0.05)


def objection(place: Community, index: int, text: str = "Why does the fund pay for the lift?") -> Objection:
    return Objection(
        actor=place.resident(index), building_id=place.building_id, unit=f"{index + 1:04d}", text=text
    )


def notices(cases: RepairCases, case_id: str, template: str) -> list[Notification]:
    with cases.database.sessions() as session:
        return list(
            session.scalars(
                select(Notification).where(Notification.case_id == case_id, Notification.template == template)
            )
        )


def keys_sent(cases: RepairCases, case_id: str) -> list[str]:
    with cases.database.sessions() as session:
        return list(session.scalars(select(Notification.key).where(Notification.case_id == case_id)))


def count_notices(cases: RepairCases, case_id: str, template: str) -> int:
    with cases.database.sessions() as session:
        return session.scalar(
            select(func.count())
            .select_from(Notification)
            .where(Notification.case_id == case_id, Notification.template == template)
        )


async def save_history(cases: RepairCases, handle: WorkflowHandle, name: str) -> None:
    """Like `RepairCases.save_history`, with the workflow id kept in the file: a hearing's commands name
    its children by it, so its replay must run under the same id."""
    path = HISTORIES / f"{name}.json"
    if cases.database.backend != "sqlite" or (
        path.exists() and not os.environ.get("STEWARD_RECORD_HISTORIES")
    ):
        return
    history = json.loads((await handle.fetch_history()).to_json())
    path.write_text(json.dumps({"workflow_id": handle.id, **history}, indent=2), encoding="utf-8")
