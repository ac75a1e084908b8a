"""Messages left on the service centre's phone: the row in `call_recordings` and the bytes in a
directory beside the photos (`<data dir>/recordings`), kept like photos, outside the workflows.

A RecordingSid is kept once: Twilio retrying its callback finds the row and changes nothing.
"""

from __future__ import annotations

import os
import re
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from steward.settings import Settings
from steward.store.models import CallRecording

RECORDING_SID = r"^RE[0-9a-fA-F]{32}$"


class RecordingFiles:
    """One file per recording, written to a temporary name and renamed, so a reader never sees half."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, sid: str) -> Path:
        if not re.fullmatch(RECORDING_SID, sid):
            raise ValueError(f"not a recording sid: {sid!r}")
        return self.root / sid[2:4].lower() / sid

    def put(self, sid: str, data: bytes) -> None:
        path = self._path(sid)
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".part")
        partial.write_bytes(data)
        os.replace(partial, path)

    def get(self, sid: str) -> bytes | None:
        path = self._path(sid)
        return path.read_bytes() if path.exists() else None


def recording_files(settings: Settings) -> RecordingFiles:
    return RecordingFiles(settings.recording_dir or settings.data_dir / "recordings")


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
