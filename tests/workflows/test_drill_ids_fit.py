"""A drill made by a schedule has a long id (`DR-<building>-fire-<time>`): every id Steward makes from it
fits the columns it lands in, so its findings' repair cases reach the read model and close, on SQLite
and PostgreSQL (issue 14). SQLite ignores column widths; PostgreSQL refused the 36-character
`resident_id` and the projection retried forever."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from steward.store.models import Base
from tests.workflows.drills import Drills, building
from tests.workflows.harness import SUPERVISOR
from tests.workflows.test_drill_workflow import BLOCKED_EXIT
from workflows.actions import RecordCallback, Resolve
from workflows.contracts import CallbackResult, ReachedBy, Status
from workflows.drill import DrillWorkflow
from workflows.drill_contracts import DrillStatus, FileReport
from workflows.findings import fitted_id
from workflows.repair import RepairWorkflow


@pytest.fixture
async def drills(ts_env, settings, database, sandbox, worker_for) -> AsyncIterator[Drills]:
    harness = Drills(ts_env, settings, database, settings.task_queue, sandbox.base_url)
    async with worker_for(ts_env, settings, database):
        await harness.skip_to_local(10)
        yield harness


def widths(table: str) -> dict[str, int]:
    columns = Base.metadata.tables[table].columns
    return {c.name: c.type.length for c in columns if getattr(c.type, "length", None)}


async def test_a_schedule_made_drill_with_findings_closes_and_its_repair_case_closes_in_the_read_model(
    drills: Drills,
) -> None:
    place = building(drills.database, households=2)
    drill_id = f"DR-{place.building_id}-security-2026-12-03T10:00:00Z"  # as a Temporal Schedule names it
    handle = await drills.plan(place, drill_id=drill_id)
    completed = await drills.run_to_completion(handle, place, findings=[BLOCKED_EXIT])
    await handle.execute_update(DrillWorkflow.file_report, FileReport(actor=place.staff[1], summary="Done."))
    await drills.sleep_until(completed.survey_closes_at)
    assert (await drills.closed(handle)).status is DrillStatus.closed

    repair = drills.env.client.get_workflow_handle(completed.findings[0].case_id)
    state = await drills.until(repair, lambda s: s.dispatched_at is not None)
    row = await drills.projection_caught_up(repair)
    for column, width in widths("cases").items():
        value = getattr(row, column)
        assert value is None or len(value) <= width, f"cases.{column} {value!r} is wider than {width}"
    assert row.resident_id == fitted_id(f"DR-{place.building_id}-security-2026-12-03T100000Z")

    await repair.execute_update(RepairWorkflow.resolve, Resolve(actor=place.staff[1], note="Bikes moved."))
    await drills.until(repair, lambda s: s.status is Status.manual_callback)
    await repair.execute_update(RepairWorkflow.record_callback, RecordCallback(
        actor=SUPERVISOR, result=CallbackResult.satisfied, note="Checked the stairwell with the caretaker.",
        reached_by=ReachedBy.visit))
    await drills.until(repair, lambda s: s.status is Status.closed)
    row = await drills.projection_caught_up(repair)
    assert (row.status, row.satisfaction) == ("closed", "satisfied")
    assert state.resident_id == row.resident_id


def test_an_id_that_fits_is_kept_and_a_longer_one_is_cut_to_a_unique_id_that_fits() -> None:
    assert fitted_id("DR-B1-fire") == "DR-B1-fire"
    a, b = fitted_id("DR-" + "X" * 40 + "-1"), fitted_id("DR-" + "X" * 40 + "-2")
    assert len(a) == len(b) == 32 and a != b and a.startswith("DR-XXX")
