"""Chaos: the database goes away under a running Steward and comes back.

Steward reaches PostgreSQL only through a TCP proxy the test owns (`tcp_proxy.py`); cutting it resets
every open connection and every new one, as when the database host drops off the network. While it is
cut, whatever needs the database answers 503 with `Retry-After` (a token that cannot be checked
included: never 401 or 500), while the cases themselves carry on in Temporal: deadlines pass,
escalations are recorded, and their projections fail and retry. Once it is back the projections land,
the refused request succeeds when sent again, and `steward reconcile` finds the read model and the
workflows in agreement. The tests read PostgreSQL directly, around the proxy, to see what was written.

The fast test runs one case with the API and worker in process; `make chaos` runs 40 cases in separate
processes whose resolution deadlines fall during a 30 s outage (`CHAOS_DB_CASES_SLOW`,
`CHAOS_DB_DOWNTIME_SLOW`, `CHAOS_DB_RESOLUTION_SLOW`).
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from temporalio.api.enums.v1 import EventType
from temporalio.testing import WorkflowEnvironment

from api.cases import case_state
from api.errors import DATABASE_RETRY_AFTER_S
from steward.store.database import CONNECT_TIMEOUT_S, make_engine, session_factory
from steward.store.models import Case, CaseEventRow, Notification
from steward.temporal import connect
from tests.api.conftest import REPAIR, policy_file, running_api  # noqa: F401 - running_api is a fixture
from tests.chaos.harness import System, driving, eventually
from tests.chaos.tcp_proxy import TcpProxy
from tests.conftest import Database, _seeded
from tests.workers.test_reconcile import steward_reconcile
from workers.reconcile import reconcile
from workflows.names import Activity

PATIENCE_S = 60.0  # a projection retried with backoff lands within about twice the outage


@dataclass
class CutOffDatabase:
    """A PostgreSQL database Steward reaches through `proxy`; `direct` reads it around the proxy."""

    proxy: TcpProxy
    steward: Database
    direct: sessionmaker[Session]

    async def row(self, case_id: str) -> tuple[str, int] | None:
        with self.direct() as session:
            row = session.execute(
                select(Case.status, Case.last_seq).where(Case.case_id == case_id)).one_or_none()
            return (row.status, row.last_seq) if row else None

    async def sent(self, case_id: str) -> int:
        with self.direct() as session:
            return len(session.scalars(select(Notification.key).where(Notification.case_id == case_id,
                                                                      Notification.sid.is_not(None))).all())

    async def event(self, case_id: str, event: str) -> datetime | None:
        """When the case's first `event` happened, as projected (None while it is not)."""
        with self.direct() as session:
            return session.scalar(select(func.min(CaseEventRow.at)).where(CaseEventRow.case_id == case_id,
                                                                           CaseEventRow.event == event))


@pytest.fixture
def cut_off_database(empty_database_url) -> Iterator[CutOffDatabase]:
    real = _seeded(empty_database_url("postgresql"), "postgresql")
    proxy = TcpProxy(real.engine.url.host, real.engine.url.port).start()
    url = real.url.replace(f":{real.engine.url.port}/", f":{proxy.port}/")
    engine = make_engine(url)
    try:
        steward = Database("postgresql", url, engine, session_factory(engine))
        yield CutOffDatabase(proxy, steward, real.sessions)
    finally:
        engine.dispose()
        proxy.stop()
        real.engine.dispose()


def assert_unavailable(response: httpx.Response) -> None:
    assert response.status_code == 503, response.text
    assert response.json()["error"]["code"] == "unavailable"
    assert "database is unreachable" in response.json()["error"]["message"]
    assert response.headers["Retry-After"] == str(DATABASE_RETRY_AFTER_S)


def events(state) -> list[str]:
    return [entry.event for entry in state.timeline]


# A case's transitions are written by a projection activity, or by a send of the same task carrying them.
CASE_PROJECTIONS = {Activity.PROJECT_CASE, Activity.PROJECT_CASE_EVENTS, Activity.NOTIFY,
                    Activity.NOTIFY_RESIDENT, Activity.NOTIFY_STAFF}


def failed_projections(caplog: pytest.LogCaptureFixture, case_id: str) -> int:
    """Attempts of the case's projection the worker reported failed (the SDK logs each one)."""
    return sum(record.getMessage().startswith("Completing activity as failed")
               and getattr(record, "temporal_activity", {}).get("workflow_id") == case_id
               and getattr(record, "temporal_activity", {}).get("activity_type") in CASE_PROJECTIONS
               for record in caplog.records)


async def test_with_the_database_cut_off_the_api_answers_503_cases_carry_on_and_the_read_model_catches_up(
        running_api, dev_env: WorkflowEnvironment, cut_off_database: CutOffDatabase,  # noqa: F811
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    db = cut_off_database
    client = dev_env.client
    target = client.service_client.config.target_host
    policy = policy_file(tmp_path, normal={"response": "4s"})
    async with running_api(dev_env, db.steward, sla_policy=policy) as api:
        case_id = await api.submit()
        await api.until(case_id, lambda s: s["status"] == "dispatched")
        await eventually(lambda: db.row(case_id), lambda row: row == ("dispatched", 2), "projected", 30)
        await eventually(lambda: db.sent(case_id), lambda sent: sent == 2, "resident and handler told", 30)

        db.proxy.cut()
        cut_at = datetime.now(UTC)
        # GET /requests/{id} needs the database only to check the token: 503 when it cannot, not 401.
        assert_unavailable(await api.call("supervisor", "GET", f"/requests/{case_id}"))
        assert_unavailable(await api.call("supervisor", "GET", "/reports/sla"))
        assert_unavailable(await api.call("resident", "POST", "/requests", REPAIR,
                                          headers={"Idempotency-Key": "during-the-outage"}))
        assert_unavailable(await api.call("staff", "POST", f"/requests/{case_id}/acknowledge", {}))
        ready = await api.http.get("/readyz")
        assert ready.status_code == 503
        assert ready.json()["checks"]["temporal"] == "ok"
        assert ready.json()["checks"]["database"].startswith("unreachable")
        assert (await api.http.get("/sla")).status_code == 200, "what needs no database still answers"
        assert (await api.http.get(f"/requests/{case_id}")).status_code == 401, "no token needs no database"
        unreachable = await steward_reconcile(api.settings, target, tmp_path)
        assert unreachable.returncode == 2 and "database is unreachable" in unreachable.stderr

        # The case carries on in Temporal: its response deadline passes and it escalates, and the
        # projection of that escalation fails, to be retried.
        async def failed() -> int:
            return failed_projections(caplog, case_id)

        await eventually(failed, bool, "a projection tried while the database was cut off", PATIENCE_S)
        db.proxy.restore()
        restored_at = datetime.now(UTC)
        # Ready again once a connection through the restored proxy succeeds (the pool may try a dead one
        # first); bounded, not instant.
        await eventually(lambda: api.http.get("/readyz"), lambda ready: ready.status_code == 200,
                         "ready again after the database came back", 30)

        escalated = await eventually(lambda: db.event(case_id, "escalated"), bool,
                                     "the escalation's projection retried until the database was back",
                                     PATIENCE_S)
        assert cut_at < escalated < restored_at, "escalated while the database was cut off, written after"
        state = await case_state(client, case_id)
        assert "acknowledged" not in events(state), "the acknowledge refused with 503 did not reach the case"
        acknowledged = await api.call("staff", "POST", f"/requests/{case_id}/acknowledge", {})
        assert acknowledged.status_code == 200, "the refused request succeeds when sent again"

        async def agreement():
            return await reconcile(client, db.steward.sessions, api.settings.task_queue)

        await eventually(agreement, lambda report: report.drifted == 0, "read model caught up", PATIENCE_S)
        final = await steward_reconcile(api.settings, target, tmp_path)
        assert (final.returncode, final.stdout) == (0, "checked 1, drifted 0, repaired 0\n"), final.stdout


async def test_a_page_giving_up_while_the_database_is_cut_off_hands_its_transitions_to_a_write_of_their_own(
        running_api, dev_env: WorkflowEnvironment, cut_off_database: CutOffDatabase,  # noqa: F811
        tmp_path: Path) -> None:
    """The escalation's page carries its task's transitions (`workflows/case_projection.py`) and writes them
    before it sends: with the database gone longer than a send may retry, the page gives up having written
    nothing, and the transitions go to a projection of their own, which waits for the database."""
    db = cut_off_database
    policy = tmp_path / "policy.toml"
    policy.write_text('[delivery]\nretry_for = "3s"\nmax_backoff = "1s"\n\n'
                      '[severity.normal]\nresponse = "4s"\n', encoding="utf-8")
    async with running_api(dev_env, db.steward, sla_policy=policy) as api:
        case_id = await api.submit()
        await eventually(lambda: db.row(case_id), lambda row: row == ("dispatched", 2), "projected", 30)
        handle = dev_env.client.get_workflow_handle(case_id)
        db.proxy.cut()

        async def gave_up_then_handed_back() -> list[str]:
            """The activities that carried or wrote the escalation, in order, once the write is scheduled."""
            carriers: dict[int, str] = {}
            order = []
            async for event in handle.fetch_history_events():
                if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
                    scheduled = event.activity_task_scheduled_event_attributes
                    if b'"escalated"' in scheduled.input.payloads[0].data:
                        carriers[event.event_id] = scheduled.activity_type.name
                        order.append(scheduled.activity_type.name)
                elif event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_FAILED:
                    given_up = event.activity_task_failed_event_attributes.scheduled_event_id
                    if given_up in carriers:
                        order.append(f"{carriers[given_up]} gave up")
            return order

        page, write = Activity.NOTIFY_STAFF, Activity.PROJECT_CASE_EVENTS
        order = await eventually(gave_up_then_handed_back, lambda found: write in found,
                                 "the page gave up, its transitions went to a write", PATIENCE_S)
        assert order == [page, f"{page} gave up", write]
        assert await db.event(case_id, "escalated") is None, "nothing written while the database is gone"
        db.proxy.restore()
        await eventually(lambda: db.event(case_id, "escalated"), bool, "written once the database is back",
                         PATIENCE_S)


async def test_a_database_that_stops_answering_is_a_503_not_a_hung_request(
        running_api, dev_env: WorkflowEnvironment, cut_off_database: CutOffDatabase,  # noqa: F811
) -> None:
    """Packets dropped, not refused: connecting gives up after `CONNECT_TIMEOUT_S` and the answer is
    the same 503 (the client below would give up long before the operating system does)."""
    db = cut_off_database
    async with running_api(dev_env, db.steward) as api:
        case_id = await api.submit()
        db.proxy.stall()
        try:
            stalled = await asyncio.wait_for(
                api.call("supervisor", "GET", f"/requests/{case_id}"), CONNECT_TIMEOUT_S * 6)
        finally:
            db.proxy.restore()
        assert_unavailable(stalled)
        assert (await api.call("supervisor", "GET", f"/requests/{case_id}")).status_code == 200


def _lines(log: Path, *parts: str) -> int:
    """How many lines of a process's log hold every one of `parts`."""
    return sum(all(part in line for part in parts) for line in log.read_text(errors="replace").splitlines())


SLOW_POLICY = """
[severity.normal]
response = "1h"
resolution = "{resolution}s"
"""


async def _database_cut_off(tmp_path: Path, postgres_url: str, cases: int, downtime_s: float,
                            resolution_s: int, within: float) -> None:
    """Separate processes (`steward api`, `steward worker`, …) on PostgreSQL behind the proxy. Every
    case is acknowledged, then the database is cut off for `downtime_s`, in which the resolution
    deadlines fall (`resolution_s` should outlast acknowledging the cases and end within the downtime):
    the cases breach and escalate with nothing to write to, while the handler keeps trying to resolve
    them (clients retry a 503 as `Retry-After` asks). Once it is back every case is resolved and
    called back to closed, and the read model holds every transition once."""
    real = make_engine(postgres_url).url
    proxy = TcpProxy(real.host, real.port).start()
    system = System(tmp_path, sla_policy=SLOW_POLICY.format(resolution=resolution_s),
                    database_url=postgres_url.replace(f":{real.port}/", f":{proxy.port}/"))
    try:
        async with driving(system, cases) as driver:
            case_ids = await asyncio.gather(*(driver.acknowledged(i, within) for i in range(cases)))

            proxy.cut()
            system.faults += 1
            cut_at, cut_clock = datetime.now(UTC), time.monotonic()
            assert (await driver.http.get("/readyz")).status_code == 503
            back = asyncio.Event()
            closing = [asyncio.create_task(driver.resolved_to_closed(i, case_id, within, back))
                       for i, case_id in enumerate(case_ids)]
            await asyncio.sleep(downtime_s)
            proxy.restore()
            back_at, downtime = datetime.now(UTC), time.monotonic() - cut_clock
            back.set()
            closed = await asyncio.gather(*closing)
            # A closed case still finishes its notices and projections, those that failed while the
            # database was down on Temporal's backoff (at most 100 s apart): wait for every workflow.
            client = await connect(system.settings)
            await asyncio.wait_for(
                asyncio.gather(*(client.get_workflow_handle(c).result() for c in closed)), within)

            with system.sessions() as session:
                made_while_cut = session.scalar(select(func.count()).select_from(CaseEventRow).where(
                    CaseEventRow.case_id.in_(closed), CaseEventRow.at.between(cut_at, back_at)))
                rows = session.execute(select(Case.case_id, Case.resolution_due, Case.resolved_at,
                                              Case.resolution_breached).where(Case.case_id.in_(closed))).all()
            late = {row.case_id for row in rows if row.resolved_at > row.resolution_due}
            breached = {row.case_id for row in rows if row.resolution_breached}
            due_while_cut = sum(cut_at <= row.resolution_due <= back_at for row in rows)
            escalations = [m for m in await driver.messages(driver.lead_phone)
                           if m["direction"] == "outbound-api" and "[Escalation" in m["body"]]
            repeated = system.repeated_events(closed, ("submitted", "dispatched", "acknowledged", "breached",
                                                       "resolved", "closed"))
            duplicates = await driver.duplicate_messages()
            reconciled = await asyncio.to_thread(
                subprocess.run, [sys.executable, "-m", "workers.cli", "reconcile"], env=system.env,
                cwd=tmp_path, capture_output=True, text=True, timeout=300)
            unavailable = _lines(tmp_path / "api.log", '" 503 ')
            errors = _lines(tmp_path / "api.log", '" 500 ')
            found = len(duplicates) + len(repeated)
            print(f"\nchaos database-down: cases in flight {cases}, faults injected {system.faults} "
                  f"(database cut off {downtime:.1f}s), cases closed {len(closed)}, transitions made while "
                  f"it was down and projected after {made_while_cut}, deadlines while down {due_while_cut}, "
                  f"resolved late {len(late)}, marked breached {len(breached)}, escalation SMS "
                  f"{len(escalations)}, API answers 503 {unavailable} / 500 {errors}, "
                  f"reconcile: {reconciled.stdout.strip()}, duplicates found {found}")
            assert len(closed) == cases and due_while_cut > 0 and made_while_cut > 0
            assert unavailable > 0 and errors == 0
            assert repeated == {}, f"transitions recorded twice: {repeated}"
            assert duplicates == [], f"messages sent twice: {duplicates}"
            assert reconciled.returncode == 0, reconciled.stdout + reconciled.stderr
            assert reconciled.stdout.splitlines()[-1] == f"checked {cases}, drifted 0, repaired 0"
            # A deadline that passed while the database was down is still a breach, applied before a
            # resolve let through once the database is back (a failing projection must not hold the
            # case's workflow task: it is a regular activity).
            assert late == breached, f"resolved after the deadline but not breached: {late - breached}"
            assert {c for c in case_ids if any(c in m["body"] for m in escalations)} == breached
    finally:
        proxy.stop()


@pytest.mark.slow
@pytest.mark.timeout(1800)
async def test_chaos_database_cut_off_while_deadlines_fall(tmp_path, empty_database_url):
    await _database_cut_off(tmp_path, empty_database_url("postgresql"),
                            int(os.environ.get("CHAOS_DB_CASES_SLOW", "40")),
                            float(os.environ.get("CHAOS_DB_DOWNTIME_SLOW", "30")),
                            int(os.environ.get("CHAOS_DB_RESOLUTION_SLOW", "25")), 600.0)
