"""Chaos: the database goes away under a running Steward and comes back.

Steward reaches PostgreSQL only through a TCP proxy the test owns (`tcp_proxy.py`); cutting it resets
every connection and refuses new ones, as when the database host drops off the network. While it is
cut, whatever needs the database answers 503 with `Retry-After` (a token that cannot be checked
included: never 401 or 500), while the cases themselves carry on in Temporal: deadlines pass,
escalations are recorded, and their projections fail and retry. Once it is back the projections land,
the refused request succeeds when sent again, and `steward reconcile` finds the read model and the
workflows in agreement. The test reads PostgreSQL directly, around the proxy, to see what was written.
"""

from __future__ import annotations

import asyncio
import os
import random
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from temporalio.testing import WorkflowEnvironment

from api.cases import case_state
from api.errors import DATABASE_RETRY_AFTER_S
from steward.reconcile import reconcile
from steward.store.database import make_engine, session_factory
from steward.store.models import Case, CaseEventRow, Notification
from tests.api.conftest import REPAIR, policy_file, running_api  # noqa: F401 - running_api is a fixture
from tests.chaos.harness import Driver, System, eventually
from tests.chaos.tcp_proxy import TcpProxy
from tests.conftest import Database, _seeded
from tests.foundation.test_reconcile import steward_reconcile

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

    async def seqs(self, case_id: str) -> set[int]:
        with self.direct() as session:
            return set(session.scalars(select(CaseEventRow.seq).where(CaseEventRow.case_id == case_id)))


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


async def test_with_the_database_cut_off_the_api_answers_503_cases_carry_on_and_the_read_model_catches_up(
        running_api, dev_env: WorkflowEnvironment, cut_off_database: CutOffDatabase,  # noqa: F811
        tmp_path: Path) -> None:
    db = cut_off_database
    client = dev_env.client
    target = client.service_client.config.target_host
    policy = policy_file(tmp_path, normal={"response": "3s"})
    async with running_api(dev_env, db.steward, sla_policy=policy) as api:
        case_id = await api.submit()
        await api.until(case_id, lambda s: s["status"] == "dispatched")
        await eventually(lambda: db.row(case_id), lambda row: row == ("dispatched", 2), "projected", 30)
        await eventually(lambda: db.sent(case_id), lambda sent: sent == 2, "resident and handler told", 30)

        db.proxy.cut()
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

        # The case carries on in Temporal: its response deadline passes and it escalates, unacknowledged,
        # but the escalation cannot be projected.
        state = await eventually(lambda: case_state(client, case_id), lambda s: "escalated" in events(s),
                                 "escalated during the outage", PATIENCE_S)
        assert state.owner_id is None, "the acknowledge refused with 503 did not reach the case"
        escalated = events(state).index("escalated") + 1
        assert escalated not in await db.seqs(case_id), "written while the database was cut off?"
        assert (await db.row(case_id))[1] < escalated

        db.proxy.restore()
        assert (await api.http.get("/readyz")).status_code == 200
        await eventually(lambda: db.seqs(case_id), lambda seqs: escalated in seqs,
                         "the escalation's projection retried until the database was back", PATIENCE_S)
        acknowledged = await api.call("staff", "POST", f"/requests/{case_id}/acknowledge", {})
        assert acknowledged.status_code == 200, "the refused request succeeds when sent again"

        async def agreement():
            return await reconcile(client, db.steward.sessions, api.settings.task_queue)

        await eventually(agreement, lambda report: report.drifted == 0, "read model caught up", PATIENCE_S)
        final = await steward_reconcile(api.settings, target, tmp_path)
        assert (final.returncode, final.stdout) == (0, "checked 1, drifted 0, repaired 0\n"), final.stdout


def _answers(log: Path, status: int) -> int:
    """How many requests the API answered with `status`, from its access log."""
    return sum(f'" {status} ' in line for line in log.read_text(errors="replace").splitlines())


async def _database_cut_off(tmp_path: Path, postgres_url: str, cases: int, downtime_s: float,
                            within: float) -> None:
    """Separate processes (`steward api`, `steward worker`, …) on PostgreSQL behind the proxy; cases go
    from submission to closed over HTTP and the sandbox while the database is cut off for `downtime_s`
    (clients retry a 503 as `Retry-After` asks; residents answer the callback once it is back)."""
    rng = random.Random(os.environ.get("CHAOS_SEED", "steward"))
    real = make_engine(postgres_url).url
    proxy = TcpProxy(real.host, real.port).start()
    system = System(tmp_path, database_url=postgres_url.replace(f":{real.port}/", f":{proxy.port}/"))
    await asyncio.to_thread(system.start)
    try:
        async with (
            httpx.AsyncClient(base_url=system.api_url, timeout=30) as http,
            httpx.AsyncClient(base_url=system.sandbox_url, timeout=30) as phones,
        ):
            driver = Driver(system, http, phones)
            await driver.setup(cases)
            back = asyncio.Event()

            async def outage() -> float:
                await asyncio.sleep(rng.uniform(1.0, 3.0))
                proxy.cut()
                system.faults += 1
                cut_at = time.monotonic()
                assert (await http.get("/readyz")).status_code == 503
                await asyncio.sleep(downtime_s)
                proxy.restore()
                back.set()
                return time.monotonic() - cut_at

            outage_task = asyncio.create_task(outage())
            limit = asyncio.Semaphore(50)

            async def one(index: int) -> str:
                async with limit:
                    return await driver.through_to_closed(index, within, back)

            closed = await asyncio.gather(*(one(i) for i in range(cases)))
            downtime = await outage_task
            repeated = system.repeated_events(closed)
            duplicates = await driver.duplicate_messages()
            reconciled = await asyncio.to_thread(
                subprocess.run, [sys.executable, "-m", "steward.cli", "reconcile"], env=system.env,
                cwd=tmp_path, capture_output=True, text=True, timeout=300)
            unavailable = _answers(tmp_path / "api.log", 503)
            errors = _answers(tmp_path / "api.log", 500)
            print(f"\nchaos database-down: cases in flight {cases}, faults injected {system.faults} "
                  f"(database cut off {downtime:.1f}s), cases closed {len(closed)}, "
                  f"answered 503 {unavailable}, 500 {errors}, reconcile: {reconciled.stdout.strip()}, "
                  f"duplicates found {len(duplicates) + len(repeated)}")
            assert len(closed) == cases and unavailable > 0 and errors == 0
            assert repeated == {}, f"transitions recorded twice: {repeated}"
            assert duplicates == [], f"messages sent twice: {duplicates}"
            assert reconciled.returncode == 0, reconciled.stdout + reconciled.stderr
            assert reconciled.stdout.splitlines()[-1] == f"checked {cases}, drifted 0, repaired 0"
    finally:
        await asyncio.to_thread(system.stop)
        proxy.stop()


@pytest.mark.slow
async def test_chaos_database_cut_off_while_cases_run_to_closed(tmp_path, empty_database_url):
    await _database_cut_off(tmp_path, empty_database_url("postgresql"),
                            int(os.environ.get("CHAOS_DB_CASES_SLOW", "40")),
                            float(os.environ.get("CHAOS_DB_DOWNTIME_SLOW", "30")), 600.0)
