"""A device's maintenance plan: set, read, pause, resume and delete it (admin or supervisor; staff read).

The plan is a Temporal Schedule (`api/maintenance_plans.py`); each of its occurrences is an inspection,
acted on through `/inspections/{id}` and listed on the device's page.
"""

from __future__ import annotations

from fastapi import APIRouter, Response
from fastapi.concurrency import run_in_threadpool
from sqlalchemy.orm import Session, sessionmaker
from temporalio.client import Client

from api import maintenance_plans as plans
from api.auth import AdminOrSupervisor, Staffer
from api.context import ClientDep, SessionsDep, SettingsDep
from api.errors import ERROR_RESPONSES, ApiError
from api.maintenance_plans import PlanRequest, PlanView
from api.routes.drill_schedules import pause_and_resume
from api.routes.equipment import EquipmentId
from steward.store.models import Equipment

router = APIRouter(prefix="/equipment", tags=["equipment"], responses=ERROR_RESPONSES)


def _device(sessions: sessionmaker[Session], equipment_id: str) -> Equipment:
    with sessions() as session:
        device = session.get(Equipment, equipment_id)
        if device is None:
            raise ApiError(404, f"no device {equipment_id}")
        if device.status == "retired":
            raise ApiError(409, f"device {equipment_id} is retired: it takes no plan", "refused")
        session.expunge(device)
        return device


@router.put("/{equipment_id}/plan", response_model=PlanView,
            summary="Set or replace a device's maintenance plan (admin or supervisor)",
            responses={201: {"model": PlanView, "description": "A new plan."}})
async def set_plan(equipment_id: EquipmentId, caller: AdminOrSupervisor, body: PlanRequest,
                   response: Response, client: ClientDep, sessions: SessionsDep,
                   settings: SettingsDep) -> PlanView:
    """Each occurrence starts an inspection at that community time; a device out of service gets its plan
    paused."""
    device = await run_in_threadpool(_device, sessions, equipment_id)
    plan, created = await plans.set_plan(client, device, body, settings, caller)
    response.status_code = 201 if created else 200
    return plan


@router.get("/{equipment_id}/plan", response_model=PlanView, summary="A device's maintenance plan (staff)")
async def get_plan(equipment_id: EquipmentId, _: Staffer, client: ClientDep) -> PlanView:
    return await plans.view(client, equipment_id)


async def _switch(client: Client, _: sessionmaker[Session], equipment_id: str, paused: bool,
                  note: str) -> PlanView:
    await plans.set_paused(client, equipment_id, paused, note)
    return await plans.view(client, equipment_id)


pause_and_resume(
    router, "/{equipment_id}/plan", ("equipment_id", EquipmentId), AdminOrSupervisor, PlanView, _switch,
    ("pause_plan", "resume_plan"),
    ("Pause a maintenance plan, with a note (admin or supervisor)",
     "Resume a paused maintenance plan (admin or supervisor)"),
    ("Occurrences while paused are skipped, not made up; inspections already started go on.", None),
)


@router.delete("/{equipment_id}/plan", status_code=204, response_class=Response,
               summary="Delete a maintenance plan (admin or supervisor)")
async def delete_plan(equipment_id: EquipmentId, _: AdminOrSupervisor, client: ClientDep) -> Response:
    await plans.delete(client, equipment_id)
    return Response(status_code=204)
