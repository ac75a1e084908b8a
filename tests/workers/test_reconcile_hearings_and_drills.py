"""`steward reconcile` covers the hearings, drills and drill schedules tables as it covers cases: drift
made in SQL is found, repaired from the workflows (and schedules) through the read model's writers,
and gone afterwards — on SQLite and PostgreSQL. The hearing, drill and schedules are real, made
through HTTP."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import delete, select, update
from temporalio.testing import WorkflowEnvironment

from steward.store.community_models import DrillRow, DrillScheduleRow, HearingRow
from steward.store.models import CaseEventRow
from tests.api.conftest import running_api  # noqa: F401 - the API and worker fixture, shared with tests/api
from tests.api.test_drills import building, set_schedule
from tests.chaos.harness import eventually
from tests.conftest import Database
from tests.workers.test_reconcile import own_database, steward_reconcile  # noqa: F401 - shared fixture
from workers.reconcile import Drift

HEARING = {
    "title": "Lift renewal", "reason": "The lift failed its inspection.",
    "costs": [{"item": "New lift", "amount": "680000.00"}], "building_ids": ["B1"], "place": "Club house",
}


def _row(database: Database, model: type, key: str, item_id: str) -> tuple[str, int] | None:
    with database.sessions() as session:
        row = session.execute(select(model.status, model.last_seq)
                              .where(getattr(model, key) == item_id)).one_or_none()
        return (row.status, row.last_seq) if row else None


async def test_reconcile_finds_and_repairs_drift_in_hearings_and_drills(
        running_api, dev_env: WorkflowEnvironment, own_database: Database, tmp_path: Path) -> None:  # noqa: F811
    target = dev_env.client.service_client.config.target_host
    database = own_database
    async with running_api(dev_env, database, hearing_notice_period="3s") as api:
        hearing = await api.call("supervisor", "POST", "/hearings", HEARING | {
            "hearing_at": (datetime.now(UTC) + timedelta(days=2)).isoformat()})
        drill = await api.call("supervisor", "POST", "/drills", {
            "drill_type": "fire", "building_id": "B2",
            "scheduled_at": (datetime.now(UTC) + timedelta(days=4)).isoformat()})
        assert hearing.status_code == drill.status_code == 201, (hearing.text, drill.text)
        hearing_id, drill_id = hearing.json()["hearing_id"], drill.json()["drill_id"]
        api.case_ids += [hearing_id, drill_id]

        async def agreed():
            return await steward_reconcile(api.settings, target, tmp_path)

        clean = await eventually(agreed, lambda r: r.returncode == 0, "read model caught up", 30)
        assert clean.stdout == "checked 2, drifted 0, repaired 0\n"
        before = {"hearing": _row(database, HearingRow, "hearing_id", hearing_id),
                  "drill": _row(database, DrillRow, "drill_id", drill_id)}
        assert before["hearing"] is not None and before["drill"] is not None

        with database.sessions.begin() as session:
            session.execute(delete(HearingRow).where(HearingRow.hearing_id == hearing_id))
            session.execute(update(DrillRow).where(DrillRow.drill_id == drill_id)
                            .values(status="closed", last_seq=1))
            session.execute(delete(CaseEventRow).where(CaseEventRow.case_id == drill_id,
                                                       CaseEventRow.seq == 1))

        reported = await steward_reconcile(api.settings, target, tmp_path)
        assert reported.returncode == 1, reported.stderr
        lines = reported.stdout.splitlines()
        assert lines[-1] == "checked 2, drifted 2, repaired 0"
        found = {line.split(" ", 2)[0]: line.split(" ", 2)[1].rstrip(":").split(",") for line in lines[:-1]}
        assert found == {hearing_id: [Drift.missing_row], drill_id: [Drift.stale_row, Drift.missing_events]}

        repaired = await steward_reconcile(api.settings, target, tmp_path, "--repair")
        assert repaired.stdout.splitlines()[-1] == "checked 2, drifted 2, repaired 2", repaired.stdout
        assert _row(database, HearingRow, "hearing_id", hearing_id) == before["hearing"]
        assert _row(database, DrillRow, "drill_id", drill_id) == before["drill"]
        with database.sessions() as session:
            assert session.scalar(select(CaseEventRow.event).where(
                CaseEventRow.case_id == drill_id, CaseEventRow.seq == 1)) == "planned"
        again = await steward_reconcile(api.settings, target, tmp_path)
        assert (again.returncode, again.stdout) == (0, "checked 2, drifted 0, repaired 0\n")


async def test_reconcile_finds_and_repairs_drift_in_drill_schedules(
        running_api, dev_env: WorkflowEnvironment, own_database: Database, tmp_path: Path) -> None:  # noqa: F811
    """A schedule's row deleted, one made stale, and a row for a schedule that is gone: found, then
    rewritten or removed from the schedules themselves; another Steward's schedule is not ours."""
    target = dev_env.client.service_client.config.target_host
    database = own_database
    async with running_api(dev_env, database) as api:
        made = {}
        for drill_type in ("fire", "flood"):
            made[drill_type] = await set_schedule(api, building_id=building(api), drill_type=drill_type,
                                                  calendar={"days_of_week": ["sun"], "hour": 9})
        fire, flood = made["fire"]["schedule_id"], made["flood"]["schedule_id"]
        clean = await steward_reconcile(api.settings, target, tmp_path)
        assert (clean.returncode, clean.stdout) == (0, "checked 2, drifted 0, repaired 0\n"), clean.stdout

        with database.sessions.begin() as session:
            original = session.get(DrillScheduleRow, flood).view
            session.execute(delete(DrillScheduleRow).where(DrillScheduleRow.schedule_id == fire))
            session.execute(update(DrillScheduleRow).where(DrillScheduleRow.schedule_id == flood)
                            .values(paused=True))
            session.add(DrillScheduleRow(schedule_id="drill-GONE-fire", building_id="GONE", drill_type="fire",
                                         paused=False, view={}, created_at=datetime.now(UTC),
                                         updated_at=datetime.now(UTC)))

        reported = await steward_reconcile(api.settings, target, tmp_path)
        assert reported.returncode == 1, reported.stderr
        lines = reported.stdout.splitlines()
        assert lines[-1] == "checked 3, drifted 3, repaired 0"
        found = {line.split(" ", 2)[0]: line.split(" ", 2)[1].rstrip(":") for line in lines[:-1]}
        assert found == {fire: Drift.missing_row, flood: Drift.stale_row, "drill-GONE-fire": Drift.orphan_row}

        repaired = await steward_reconcile(api.settings, target, tmp_path, "--repair")
        assert repaired.stdout.splitlines()[-1] == "checked 3, drifted 3, repaired 3", repaired.stdout
        with database.sessions() as session:
            rows = {row.schedule_id: row for row in session.scalars(select(DrillScheduleRow))}
        assert set(rows) == {fire, flood}
        assert rows[flood].paused is False and rows[flood].view == original
        assert rows[fire].view["next_drills"] == made["fire"]["next_drills"]
        again = await steward_reconcile(api.settings, target, tmp_path)
        assert (again.returncode, again.stdout) == (0, "checked 2, drifted 0, repaired 0\n")
