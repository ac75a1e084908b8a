"""SMS that reached Steward, for staff: a message no case could take is kept here, never dropped."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict

from api.auth import StaffMember
from api.context import SessionsDep
from api.errors import ERROR_RESPONSES
from api.models import Page
from steward.store.queues import inbound_messages as received

router = APIRouter(tags=["twilio"], responses=ERROR_RESPONSES)


class InboundEntry(BaseModel):
    model_config = ConfigDict(from_attributes=True, json_schema_extra={"examples": [{
        "sid": "SM0123456789abcdef0123456789abcdef", "from_number": "+8613800000102",
        "body": "楼道灯不亮", "received_at": "2026-11-26T09:30:00Z", "case_id": None,
        "outcome": "unmatched"}]})

    sid: str
    from_number: str
    body: str
    received_at: datetime
    case_id: str | None
    outcome: str


@router.get("/inbound-messages", response_model=Page[InboundEntry], summary="SMS received, newest first")
def inbound_messages(
    caller: StaffMember, sessions: SessionsDep,
    unhandled: Annotated[bool, Query(description="Only messages no case took (a person must follow up).")]
    = True,
    before: Annotated[datetime | None, Query(description="`received_at` of the last message seen.")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> Page[InboundEntry]:
    with sessions() as session:
        rows = [InboundEntry.model_validate(row) for row in received(session, unhandled, before, limit)]
    token = rows[-1].received_at.isoformat() if len(rows) == limit else None
    return Page[InboundEntry](items=rows, next_page_token=token)
