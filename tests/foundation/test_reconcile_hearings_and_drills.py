"""`steward reconcile` covers the hearings and drills tables as it covers cases: drift made in SQL is
found, repaired from the workflows through the projection's writers, and gone afterwards — on SQLite
and PostgreSQL. The hearing and drill are real workflows started through HTTP."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import delete, select, update
from temporalio.testing import WorkflowEnvironment

from steward.reconcile import Drift
from steward.store.models import CaseEventRow, DrillRow, HearingRow
from tests.api.conftest import running_api  # noqa: F401 - the API and worker fixture, shared with tests/api
from tests.chaos.harness import eventually
from tests.conftest import Database
from tests.foundation.test_reconcile import own_database, steward_reconcile  # noqa: F401 - shared fixture

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
