"""Abuse limits (the policy's `[limits]`): what one resident may start before the API answers 429.

Counted in the database (`steward.limits.take`), so every API replica shares one count. A submission
is counted in the same transaction that waits for its workflow to start: refused, it starts nothing;
a retry of a case already started (the same Idempotency-Key), even one racing the first, or a start that
fails is not counted.
Staff filing for a resident are not counted: they take the calls of those who cannot file themselves.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

import anyio.from_thread
from fastapi.concurrency import run_in_threadpool
from sqlalchemy.orm import Session, sessionmaker

from steward.limits import Limit, RateLimited, take
from steward.store.homes import home_of
from workflows.contracts import Actor, Role, Severity
from workflows.policy import AbuseLimits, RateLimit

Start = Callable[[], Awaitable[bool]]


def _limit(rule: RateLimit) -> Limit:
    return Limit(count=rule.count, per=rule.per)


class _AlreadyStarted(Exception):
    """The case existed already: roll the count back."""


async def start_counted(sessions: sessionmaker[Session], limits: AbuseLimits, caller: Actor,
                        severity: Severity, start: Start, exists: Start) -> bool:
    """`start()` (True when it started the case now) within the caller's limits, or `RateLimited`;
    a retry of a case that `exists()` already is answered as before, whatever the count. Existence is
    asked only of a refused submission: a retry within the limits rolls its count back anyway, and the
    usual submission saves a round trip to Temporal (issue 18)."""
    if caller.role is not Role.resident:
        return await start()
    try:
        await run_in_threadpool(_count_and_start, sessions, limits, caller, severity, start)
    except _AlreadyStarted:
        return False
    except RateLimited:
        if await exists():
            return await start()
        raise
    return True


def _count_and_start(sessions: sessionmaker[Session], limits: AbuseLimits, caller: Actor,
                     severity: Severity, start: Start) -> None:
    now = datetime.now(UTC)
    with sessions.begin() as session:
        take(session, f"submissions:{caller.id}", _limit(limits.submissions), now, "submissions per resident")
        if severity is Severity.emergency:
            home = home_of(session, caller.id)
            household = home.household_id if home else caller.id
            take(session, f"emergencies:{household}", _limit(limits.emergencies), now,
                 "emergencies per household (each pages a property manager by voice)")
        if not anyio.from_thread.run(start):
            raise _AlreadyStarted


def count_objection(sessions: sessionmaker[Session], limits: AbuseLimits, hearing_id: str,
                    resident_id: str) -> None:
    """One objection of a resident to a hearing, or `RateLimited`."""
    with sessions.begin() as session:
        take(session, f"objections:{hearing_id}:{resident_id}", _limit(limits.objections), datetime.now(UTC),
             "objections per resident to one hearing")
