"""Messages left on the service centre's phone: the row in `call_recordings` (the bytes are kept like
photos, outside the workflows: `steward/file_store.py`).

A RecordingSid is kept once: Twilio retrying its callback finds the row and changes nothing.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from steward.store.models import CallRecording

RECORDING_SID = r"^RE[0-9a-fA-F]{32}$"


def keep_recording(session: Session, sid: str, call_sid: str, phone: str, case_id: str | None,
                   media_type: str, size: int, duration: int) -> CallRecording:
    """The row for this RecordingSid, made now unless it was kept before."""
    row = session.get(CallRecording, sid)
    if row is None:
        row = CallRecording(sid=sid, call_sid=call_sid, from_number=phone, case_id=case_id,
                            media_type=media_type, size=size, duration=duration, created_at=datetime.now(UTC))
        session.add(row)
    return row


def recordings_of(session: Session, case_id: str) -> list[CallRecording]:
    return list(session.scalars(
        select(CallRecording).where(CallRecording.case_id == case_id).order_by(CallRecording.created_at)))
