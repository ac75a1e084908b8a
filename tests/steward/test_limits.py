"""The shared sliding-window limit, on SQLite and PostgreSQL: counts hits, refuses past the limit
with the time until the oldest hit leaves the window, and forgets hits older than the window."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from steward.limits import Limit, RateLimited, take

LIMIT = Limit(count=3, per=timedelta(hours=1))
T0 = datetime(2026, 12, 3, 8, 0, tzinfo=UTC)


def test_the_fourth_hit_in_an_hour_is_refused_until_the_first_leaves_the_window(database) -> None:
    key = f"test:{database.backend}:window"
    with database.sessions.begin() as session:
        for minute in (0, 10, 20):
            take(session, key, LIMIT, T0 + timedelta(minutes=minute), "submissions")
    with pytest.raises(RateLimited) as refused, database.sessions.begin() as session:
        take(session, key, LIMIT, T0 + timedelta(minutes=30), "submissions")
    assert refused.value.retry_after_s == 30 * 60
    assert "at most 3 per hour" in refused.value.message
    with database.sessions.begin() as session:
        take(session, key, LIMIT, T0 + timedelta(minutes=61), "submissions")


def test_keys_are_counted_apart(database) -> None:
    with database.sessions.begin() as session:
        for n in range(3):
            take(session, f"test:{database.backend}:a", LIMIT, T0 + timedelta(seconds=n), "x")
        take(session, f"test:{database.backend}:b", LIMIT, T0, "x")
