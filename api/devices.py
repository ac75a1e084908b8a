"""Devices as the API reaches them: checking what a device signed, and handing it to the device's alarm
workflow (signal-with-start, so the first message starts it and every later one joins it).

A device signs `"{timestamp}.{body}"` with HMAC-SHA256 under its own key, sent once when it was
recorded. A message is refused (403, nothing changed) when the signature does not match, when its
timestamp is more than five minutes from now, or when the same signature was accepted before.
"""

from __future__ import annotations

import hmac
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.orm import Session, sessionmaker
from temporalio.client import Client
from temporalio.common import WorkflowIDConflictPolicy

from api.cases import RPC_TIMEOUT, temporal_answers
from api.errors import ApiError
from steward.device_signing import signature_of
from steward.settings import Settings
from steward.store.database import insert_for
from steward.store.models import DeviceSignature, Equipment
from workflows.device_alarm import DeviceAlarmWorkflow, device_workflow_id
from workflows.equipment_contracts import DeviceMessage, DeviceWatch, EquipmentStatus, EquipmentType
from workflows.names import DeviceSignal

FRESH = timedelta(minutes=5)
KEPT = 2 * FRESH  # a signature older than this could only come with a stale timestamp, refused anyway


def _refused(why: str) -> ApiError:
    return ApiError(403, f"device message refused: {why}", "forbidden")


def accept(sessions: sessionmaker[Session], device_id: str, timestamp: str, signature: str,
           body: bytes) -> Equipment:
    """The device, once its message is proved fresh, genuine and new; its signature is kept so the
    same message sent again is refused."""
    try:
        sent = datetime.fromtimestamp(int(timestamp), UTC)
    except (ValueError, OverflowError, OSError):
        raise _refused("the timestamp is not a Unix time") from None
    now = datetime.now(UTC)
    if abs(now - sent) > FRESH:
        raise _refused("the timestamp is more than 5 minutes from now")
    with sessions.begin() as session:
        device = session.get(Equipment, device_id)
        if device is None or device.status == EquipmentStatus.retired.value:
            raise _refused("unknown or retired device")
        if not hmac.compare_digest(signature_of(device.alarm_key, timestamp, body), signature.lower()):
            raise _refused("the signature does not match")
        session.execute(delete(DeviceSignature).where(DeviceSignature.received_at < now - KEPT))
        kept = session.execute(insert_for(session)(DeviceSignature)
                               .values(signature=signature.lower(), device_id=device_id, received_at=now)
                               .on_conflict_do_nothing(index_elements=["signature"])
                               .returning(DeviceSignature.signature)).first()
        if kept is None:
            raise _refused("this message was received before (a replay)")
        session.expunge(device)
        return device


def watch_of(device: Equipment, settings: Settings) -> DeviceWatch:
    heartbeat = timedelta(seconds=device.heartbeat_seconds) if device.heartbeat_seconds else None
    return DeviceWatch(device_id=device.id, building_id=device.building_id,
                       equipment_type=EquipmentType(device.equipment_type), location=device.location,
                       heartbeat=heartbeat, policy=settings.policy)


async def stop_watching(client: Client, device_id: str) -> None:
    """A retired device is watched no more (its alarm workflow ends; a case it raised goes on)."""
    try:
        with temporal_answers(device_workflow_id(device_id)):
            await client.get_workflow_handle(device_workflow_id(device_id)).signal(
                DeviceAlarmWorkflow.retire, rpc_timeout=RPC_TIMEOUT)
    except ApiError as error:
        if error.status != 404:
            raise


async def watch(client: Client, settings: Settings, device: Equipment,
                message: DeviceMessage | None = None) -> None:
    """Start the device's alarm workflow unless it runs, and hand it `message`."""
    with temporal_answers(device_workflow_id(device.id)):
        await client.start_workflow(
            DeviceAlarmWorkflow.run, watch_of(device, settings), id=device_workflow_id(device.id),
            task_queue=settings.task_queue, id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            start_signal=DeviceSignal.MESSAGE if message else None,
            start_signal_args=[message] if message else [],
            static_summary=f"alarms of device {device.id} · building {device.building_id}",
            rpc_timeout=RPC_TIMEOUT,
        )
