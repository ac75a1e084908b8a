"""App notices on the time-skipping server with the real worker and the Twilio sandbox: every notice
names its recipient; an app notice nobody opened within its time also goes by SMS, one opened in time
does not, so a low-severity case (app channel) is never silent."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from steward.store.models import Notification
from tests.api.conftest import policy_file
from tests.conftest import make_settings
from tests.workflows.harness import RepairCases
from workflows.contracts import Severity

HANDLER_PHONE = "+8613900000001"
WAIT = timedelta(minutes=10)


def notices(cases: RepairCases, case_id: str) -> list[Notification]:
    """What the case told its handler."""
    with cases.database.sessions() as session:
        return list(session.scalars(select(Notification).where(
            Notification.case_id == case_id, Notification.recipient_id == "S001")
            .order_by(Notification.created_at)))


async def dispatch_notice(cases: RepairCases, case_id: str) -> Notification:
    deadline = asyncio.get_running_loop().time() + 10
    while True:
        found = [n for n in notices(cases, case_id) if n.template == "dispatch" and n.status == "app"]
        if found:
            return found[0]
        assert asyncio.get_running_loop().time() < deadline, notices(cases, case_id)
        await asyncio.sleep(0.05)


async def test_an_unread_app_notice_also_goes_by_sms_after_its_time(cases: RepairCases) -> None:
    handle = await cases.start(severity=Severity.low)
    notice = await dispatch_notice(cases, handle.id)
    assert (notice.channel, notice.recipient_id, notice.to) == ("app", "S001", HANDLER_PHONE)
    assert await cases.sandbox_messages(HANDLER_PHONE, handle.id) == []

    await cases.sleep(WAIT - timedelta(minutes=1))
    assert [n.key for n in notices(cases, handle.id) if n.channel == "sms"] == []
    await cases.sleep(timedelta(minutes=1, seconds=5))
    sent = await cases.sent_eventually(
        handle.id, lambda s: any(n.channel == "sms" and n.to == HANDLER_PHONE for n in s))
    by_sms = [n for n in sent if n.channel == "sms" and n.to == HANDLER_PHONE]
    assert [n.template for n in by_sms] == ["dispatch"]
    fallback = next(n for n in notices(cases, handle.id) if n.channel == "sms")
    assert (fallback.key, fallback.recipient_id) == (f"{notice.key}:sms", "S001")
    await cases.sandbox_messages_eventually(HANDLER_PHONE, handle.id, lambda ms: len(ms) == 1)
    await cases.save_history(handle, "repair_app_notice_sms_fallback")


async def test_an_app_notice_opened_in_time_is_not_sent_again_by_sms(cases: RepairCases) -> None:
    handle = await cases.start(severity=Severity.low)
    notice = await dispatch_notice(cases, handle.id)
    with cases.database.sessions.begin() as session:
        session.get(Notification, notice.key).read_at = datetime.now(UTC)
    await cases.sleep(WAIT + timedelta(minutes=2))
    await asyncio.sleep(1)  # the check for an opened notice runs as an activity after the timer
    assert [n for n in notices(cases, handle.id) if n.channel == "sms"] == []
    assert await cases.sandbox_messages(HANDLER_PHONE, handle.id) == []


@pytest.fixture
async def fast_cases(ts_env, database, sandbox, api_port, worker_for, tmp_path) -> AsyncIterator[RepairCases]:
    """Low-severity cases whose response window (5 minutes) is shorter than an app notice's time."""
    policy = policy_file(tmp_path, low={"response": "5m"})
    settings = make_settings(database, sandbox, api_port, sla_policy=policy)
    harness = RepairCases(ts_env, settings, database, settings.task_queue, sandbox.base_url)
    async with worker_for(ts_env, settings, database):
        await harness.skip_to_local(10)
        yield harness


async def test_an_app_notice_waits_no_longer_than_the_cases_response_window(fast_cases: RepairCases) -> None:
    handle = await fast_cases.start(severity=Severity.low)
    await dispatch_notice(fast_cases, handle.id)
    await fast_cases.sleep(timedelta(minutes=5, seconds=5))
    sent = await fast_cases.sent_eventually(
        handle.id, lambda s: any(n.channel == "sms" and n.to == HANDLER_PHONE for n in s))
    assert [n.template for n in sent if n.channel == "sms" and n.to == HANDLER_PHONE][0] == "dispatch"
