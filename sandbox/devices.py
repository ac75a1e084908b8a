"""The sandbox plays devices in development: a lift, pump or gate of Steward's equipment records sends
a signed alarm or a reading back to normal to `POST /webhooks/devices`, as the real device would.

The sandbox reads the devices and their keys from Steward's own database (`devices_database_url`,
given by `steward sandbox`): a development convenience only — a real device keeps its key itself.
Silence needs nothing: a device recorded with a heartbeat that the sandbox leaves alone raises its own
alarm in Steward.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from typing import Any, Literal

import httpx
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from steward.device_signing import signature_of
from steward.store.database import make_engine, session_factory
from steward.store.models import Equipment


class DeviceSends(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: Literal["alarm", "normal"] = "alarm"
    alarm_type: str | None = "fault"
    severity: Literal["emergency", "urgent"] = "urgent"
    readings: dict[str, float] = Field(default_factory=dict)


class DevicePlayer:
    def __init__(self, database_url: str | None, webhook_url: str, timeout: float) -> None:
        self._sessions = session_factory(make_engine(database_url)) if database_url else None
        self._url = webhook_url
        self._timeout = timeout

    def _devices(self) -> list[Equipment]:
        if self._sessions is None:
            return []
        with self._sessions() as session:
            devices = list(session.scalars(select(Equipment).where(Equipment.status != "retired")
                                           .order_by(Equipment.id)))
            session.expunge_all()
            return devices

    def devices(self) -> list[dict[str, str]]:
        return [{"id": d.id, "equipment_type": d.equipment_type, "building_id": d.building_id,
                 "location": d.location} for d in self._devices()]

    async def send(self, device_id: str, sends: DeviceSends) -> dict[str, Any] | None:
        """Steward's answer to the signed message, or None for a device the sandbox does not know."""
        device = next((d for d in self._devices() if d.id == device_id), None)
        if device is None:
            return None
        body = json.dumps({"device_id": device.id, **sends.model_dump(),
                           "at": datetime.now(UTC).isoformat()}).encode()
        stamp = str(int(time.time()))
        headers = {"Content-Type": "application/json", "X-Steward-Device": device.id,
                   "X-Steward-Timestamp": stamp,
                   "X-Steward-Signature": signature_of(device.alarm_key, stamp, body)}
        async with httpx.AsyncClient(timeout=self._timeout) as http:
            try:
                response = await http.post(self._url, content=body, headers=headers)
            except httpx.HTTPError as error:
                return {"webhook_status": None, "error": str(error)}
        return {"webhook_status": response.status_code, "answer": response.text}
