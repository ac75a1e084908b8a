"""`steward reconcile`: drift made on purpose in the read model is found, repaired from the workflows
through the projection's writers, and gone afterwards — on SQLite and PostgreSQL.

Cases are real workflows (submitted through the API, run by the real worker on the dev server); the
drift is made with plain SQL, as a bad migration, an old backup or a hand edit would.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import delete, select, update
from temporalio.testing import WorkflowEnvironment

from activities.projection import write_case
from api.cases import case_state
from steward.settings import Settings
from steward.store.models import Case, CaseEventRow
from tests.api.conftest import running_api  # noqa: F401 - the API and worker fixture, shared with tests/api
from tests.chaos.harness import eventually
from tests.conftest import Database, _seeded
from workers.reconcile import Drift, ReconcileReport, reconcile

STEWARD = str(Path(sys.executable).parent / "steward")


async def steward_reconcile(settings: Settings, client_target: str, cwd: Path,
                            *args: str) -> subprocess.CompletedProcess:
    """`steward reconcile` as an operator runs it: its own process, configured by STEWARD_* only (waited
    for off the event loop, where the worker under test answers the command's queries)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("STEWARD_")}
    env |= {"STEWARD_DATABASE_URL": settings.database, "STEWARD_DATA_DIR": str(cwd),
            "STEWARD_TEMPORAL_ADDRESS": client_target, "STEWARD_TASK_QUEUE": settings.task_queue}
    return await asyncio.to_thread(subprocess.run, [STEWARD, "reconcile", *args], env=env, cwd=cwd,
                                   capture_output=True, text=True, timeout=120)


async def in_agreement(client, database: Database, task_queue: str, cases: int) -> ReconcileReport:
    """Wait for the projections of freshly started cases to land: no drift over `cases` cases."""
    async def check() -> ReconcileReport:
        return await reconcile(client, database.sessions, task_queue)

    return await eventually(check, lambda r: (r.checked, r.drifted) == (cases, 0), "read model caught up", 30)


@pytest.fixture(params=["sqlite", "postgresql"])
def own_database(request: pytest.FixtureRequest, empty_database_url) -> Iterator[Database]:
    """A database of the test's own: reconcile checks every row in it against one task queue's workflows,
    so no other test's cases may be there."""
    database = _seeded(empty_database_url(request.param), request.param)
    yield database
    database.engine.dispose()


def _row(database: Database, case_id: str) -> tuple[str, int] | None:
    with database.sessions() as session:
        row = session.execute(select(Case.status, Case.last_seq).where(Case.case_id == case_id)).one_or_none()
        return (row.status, row.last_seq) if row else None


def _seqs(database: Database, case_id: str) -> list[int]:
    with database.sessions() as session:
        return sorted(session.scalars(select(CaseEventRow.seq).where(CaseEventRow.case_id == case_id)))


def _orphan(database: Database, case_id: str, status: str) -> None:
    """A row no workflow stands behind (the real row of another case, renamed)."""
    with database.sessions.begin() as session:
        some = session.scalars(select(Case).limit(1)).one()
        values = {c.key: getattr(some, c.key) for c in Case.__table__.columns}
        session.add(Case(**values | {"case_id": case_id, "status": status,
                                      "closed_at": datetime.now(UTC) if status == "closed" else None}))


async def test_reconcile_reports_drift_made_in_sql_repairs_it_from_the_workflows_and_then_finds_none(
        running_api, dev_env: WorkflowEnvironment, own_database: Database, tmp_path: Path) -> None:  # noqa: F811
    target = dev_env.client.service_client.config.target_host
    database = own_database
    async with running_api(dev_env, database) as api:
        missing, stale, gappy = [await api.submit() for _ in range(3)]
        await api.call("staff", "POST", f"/requests/{stale}/acknowledge", {})
        await in_agreement(dev_env.client, database, api.settings.task_queue, cases=3)
        truth = {case_id: await case_state(dev_env.client, case_id) for case_id in (missing, stale, gappy)}
        before = {case_id: (_row(database, case_id), _seqs(database, case_id)) for case_id in truth}

        with database.sessions.begin() as session:
            session.execute(delete(Case).where(Case.case_id == missing))
            session.execute(update(Case).where(Case.case_id == stale).values(status="submitted", last_seq=1))
            session.execute(delete(CaseEventRow).where(CaseEventRow.case_id.in_([stale, gappy]),
                                                       CaseEventRow.seq == 2))
        _orphan(database, "RP-NOWORKFLOW", "in_progress")
        _orphan(database, "RP-PASTRETENTION", "closed")

        reported = await steward_reconcile(api.settings, target, tmp_path)
        assert reported.returncode == 1, reported.stderr
        lines = reported.stdout.splitlines()
        assert lines[-1] == "checked 5, drifted 4, repaired 0"
        found = {line.split(" ", 2)[0]: line.split(" ", 2)[1].rstrip(":").split(",") for line in lines[:-1]}
        assert found == {
            missing: [Drift.missing_row], stale: [Drift.stale_row, Drift.missing_events],
            gappy: [Drift.missing_events], "RP-NOWORKFLOW": [Drift.orphan_row],
        }
        assert _row(database, missing) is None, "reporting alone changed the read model"

        repaired = await steward_reconcile(api.settings, target, tmp_path, "--repair")
        assert repaired.returncode == 1, "the orphan cannot be rebuilt from a workflow and still counts"
        assert repaired.stdout.splitlines()[-1] == "checked 5, drifted 4, repaired 3"
        assert "RP-NOWORKFLOW orphan_row" in repaired.stdout and "[left as it is]" in repaired.stdout
        for case_id, state in truth.items():
            assert _row(database, case_id) == (state.status.value, len(state.timeline)) == before[case_id][0]
            assert _seqs(database, case_id) == list(range(1, len(state.timeline) + 1)) == before[case_id][1]

        with database.sessions.begin() as session:  # a row moved on since it was judged wrong is kept
            assert not write_case(session, truth[stale], 1, replacing=1)
        assert _row(database, stale) == before[stale][0]

        left = await reconcile(dev_env.client, database.sessions, api.settings.task_queue)
        assert [(case.case_id, case.drift) for case in left.cases] == [("RP-NOWORKFLOW", [Drift.orphan_row])]
        with database.sessions.begin() as session:
            session.execute(delete(Case).where(Case.case_id == "RP-NOWORKFLOW"))
        clean = await steward_reconcile(api.settings, target, tmp_path)
        assert (clean.returncode, clean.stdout) == (0, "checked 4, drifted 0, repaired 0\n")

