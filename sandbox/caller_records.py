"""What the sandbox remembers of a call placed *to* Steward (the caller's side, issue 22): where it waits
at a `<Record>`, and the messages left there."""

from __future__ import annotations

import io
import math
import struct
import wave
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Recording:
    """A message a caller left at a `<Record>`: the WAV the sandbox serves as Twilio serves recordings."""

    sid: str
    call_sid: str
    duration: int
    at: datetime = field(default_factory=_now)

    def to_json(self) -> dict[str, Any]:
        return {"sid": self.sid, "call_sid": self.call_sid, "duration": self.duration,
                "at": self.at.isoformat()}


@dataclass
class PendingRecord:
    """Where a call waits at a `<Record>`: its attributes, its document and the verbs after it."""

    action: str | None
    method: str
    max_length: int
    document_url: str
    rest: list  # list[twiml.Verb]


def tone_wav(seconds: int, rate: int = 8000) -> bytes:
    """A short 440 Hz tone as an 8 kHz mono 16-bit WAV: what the sandbox's caller "says"."""
    frames = bytearray()
    for index in range(seconds * rate):
        sample = int(8000 * math.sin(2 * math.pi * 440 * index / rate))
        frames += struct.pack("<h", sample)
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(bytes(frames))
    return buffer.getvalue()
