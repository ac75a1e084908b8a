"""Twilio's delivery status of a message or call: kept on its notification (only ever forward), and a
failed delivery of a callback attempt or notice told to its case (the `delivery_failed` signal)."""

from __future__ import annotations

from typing import Any

from fastapi import Request, Response

from api.twilio.inbox import Inbox
from api.twilio.signature import signed_router
from steward.store.inbound import apply_status
from workflows.actions import DeliveryFailed
from workflows.contracts import Channel
from workflows.names import CaseSignal

FAILED_DELIVERY = frozenset({"failed", "undelivered", "no-answer", "busy", "canceled"})

router = signed_router()


@router.post("/status", summary="Delivery status of a message or call")
async def delivery_status(request: Request) -> Response:
    form = await request.form()
    sid = form.get("MessageSid") or form.get("CallSid")
    status = form.get("MessageStatus") or form.get("CallStatus")
    if sid and status:
        await record_status(Inbox.of(request), str(sid), str(status), _error_code(form.get("ErrorCode")))
    return Response(status_code=204)


async def record_status(inbox: Inbox, sid: str, status: str, error_code: int | None) -> None:
    changed = await inbox.db(lambda s: apply_status(s, sid, status, error_code))
    if changed is None:
        return
    case_id, attempt, channel = changed
    if status in FAILED_DELIVERY and attempt is not None:
        failure = DeliveryFailed(attempt=attempt, channel=Channel(channel), status=status,
                                 error_code=error_code)
        await inbox.signal(case_id, CaseSignal.DELIVERY_FAILED, failure)


def _error_code(value: Any) -> int | None:
    return int(value) if isinstance(value, str) and value.isdigit() else None
