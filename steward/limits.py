"""Sliding-window limits counted in the database, so every API replica shares one count.

Abuse limits (submissions, emergencies, objections) and sign-in codes use the same primitive: `take`
counts one hit under a key, or refuses with how long until the oldest hit in the window expires.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import delete, func, select, text
from sqlalchemy.orm import Session

from steward.store.models import RateHit


class Limit(BaseModel):
    """At most `count` hits in any window of `per`."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    count: int = Field(ge=1)
    per: timedelta


class RateLimited(Exception):
    """Answered as 429 with `Retry-After`; nothing was counted or started."""

    def __init__(self, message: str, retry_after: timedelta) -> None:
        super().__init__(message)
        self.message = message
        self.retry_after_s = max(1, math.ceil(retry_after.total_seconds()))


def take(session: Session, key: str, limit: Limit, now: datetime, what: str) -> None:
    """Count one hit of `key` in the caller's transaction, or raise `RateLimited` (counting nothing).

    On PostgreSQL a transaction-scoped advisory lock on the key makes check-and-count atomic across
    replicas; SQLite serialises writers itself. The caller commits."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": key})
    since = now - limit.per
    session.execute(delete(RateHit).where(RateHit.key == key, RateHit.at <= since))
    hits, oldest = session.execute(
        select(func.count(), func.min(RateHit.at)).where(RateHit.key == key, RateHit.at > since)
    ).one()
    if hits >= limit.count:
        if oldest.tzinfo is None:  # SQLite hands back naive UTC
            oldest = oldest.replace(tzinfo=now.tzinfo)
        raise RateLimited(f"{what}: at most {limit.count} per {_spoken(limit.per)}",
                          oldest + limit.per - now)
    session.add(RateHit(key=key, at=now))
    session.flush()


def _spoken(period: timedelta) -> str:
    seconds = int(period.total_seconds())
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds % size == 0:
            n = seconds // size
            return f"{n} {unit}s" if n != 1 else unit
    return f"{seconds} seconds"
