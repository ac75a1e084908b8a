"""`POST /webhooks/devices`: a device's alarm or reading, signed with the device's own key.

Headers `X-Steward-Device` (its id), `X-Steward-Timestamp` (Unix seconds) and `X-Steward-Signature`
(hex HMAC-SHA256 of `"{timestamp}.{body}"`); the JSON body names the same device. A forged, stale or
replayed message is 403 and changes nothing (`api/devices.py`); an accepted one goes to the device's
alarm workflow, which opens at most one repair case at a time.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Header, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import Field, ValidationError

from api.context import ClientDep, SessionsDep, SettingsDep
from api.devices import accept, watch
from api.errors import ERROR_RESPONSES, ApiError
from api.models import DIRECTORY_ID, DirectoryId, RequestBody
from workflows.contracts import AwareDatetime, Severity, ShortText
from workflows.device_alarm import device_workflow_id
from workflows.equipment_contracts import DeviceMessage, ReadingName

router = APIRouter(prefix="/webhooks/devices", tags=["device webhooks"], responses=ERROR_RESPONSES)


class DeviceReport(RequestBody):
    device_id: DirectoryId
    kind: Literal["alarm", "normal"]
    alarm_type: ShortText | None = None
    severity: Literal[Severity.emergency, Severity.urgent] = Severity.urgent
    readings: Annotated[dict[ReadingName, float], Field(max_length=20)] = {}
    at: AwareDatetime


class Accepted(RequestBody):
    device_id: str
    workflow_id: str


@router.post("", status_code=202, response_model=Accepted, summary="A device's alarm or reading (signed)")
async def device_message(
    request: Request, sessions: SessionsDep, client: ClientDep, settings: SettingsDep,
    x_steward_device: Annotated[str, Header(pattern=DIRECTORY_ID)],
    x_steward_timestamp: Annotated[str, Header(max_length=20)],
    x_steward_signature: Annotated[str, Header(pattern=r"^[0-9a-fA-F]{64}$")],
) -> Accepted:
    body = await request.body()
    device = await run_in_threadpool(accept, sessions, x_steward_device, x_steward_timestamp,
                                     x_steward_signature, body)
    try:
        report = DeviceReport.model_validate_json(body)
    except ValidationError as error:
        raise ApiError(422, f"device message: {error.errors()[0]['msg']}") from None
    if report.device_id != device.id:
        raise ApiError(422, "device_id: the body names another device than X-Steward-Device")
    message = DeviceMessage(**report.model_dump(exclude={"device_id"}), received_at=datetime.now(UTC))
    await watch(client, settings, device, message)
    return Accepted(device_id=device.id, workflow_id=device_workflow_id(device.id))
