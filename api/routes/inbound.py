"""SMS that reached Steward, for staff: a message no case could take is kept here, never dropped."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict
from sqlalchemy import select

from api.auth import StaffMember
from api.context import SessionsDep
from api.errors import ERROR_RESPONSES
from api.models import Page
from steward.store.models import InboundMessage

router = APIRouter(tags=["twilio"], responses=ERROR_RESPONSES)

# What the SMS webhook made of a message (`inbound_messages.outcome`) when a person must follow up:
# no case took it, a case could not answer (in time), or its handling never finished ("received" is
# written before anything is tried, so a crash or a cut connection after it leaves the message listed).
NEEDS_A_PERSON = ("unmatched", "ambiguous", "unknown_code", "case_unavailable", "received", "report_refused")


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
    query = select(InboundMessage).order_by(InboundMessage.received_at.desc()).limit(limit)
    if unhandled:
        query = query.where(InboundMessage.outcome.in_(NEEDS_A_PERSON))
    if before is not None:
        query = query.where(InboundMessage.received_at < before)
    with sessions() as session:
        rows = [InboundEntry.model_validate(row) for row in session.scalars(query)]
    token = rows[-1].received_at.isoformat() if len(rows) == limit else None
    return Page[InboundEntry](items=rows, next_page_token=token)
