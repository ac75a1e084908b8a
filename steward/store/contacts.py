"""What Twilio told us about a resident's phone: a channel that cannot reach it, an SMS opt-out."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from steward.store.models import Resident
from workflows.contracts import Channel


def mark_bad_channel(session: Session, phone: str, channel: Channel) -> list[str]:
    """Every resident with this phone cannot be reached on `channel`; returns their ids."""
    residents = session.scalars(select(Resident).where(Resident.phone == phone)).all()
    for resident in residents:
        if channel.value not in resident.bad_channels:
            resident.bad_channels = sorted({*resident.bad_channels, channel.value})
    return [resident.id for resident in residents]


def set_opted_out(session: Session, phone: str, opted_out: bool) -> list[str]:
    """Every resident with this phone has (or no longer has) opted out of SMS; returns their ids."""
    residents = session.scalars(select(Resident).where(Resident.phone == phone)).all()
    for resident in residents:
        resident.opted_out = opted_out
    return [resident.id for resident in residents]
