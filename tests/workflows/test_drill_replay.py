"""Saved histories of the drill and of a survey batch replay against today's code.

A change that would break a running drill fails here, not in production. The lifecycle tests write
the histories when missing, each with its workflow id (a drill names its children after itself);
after an intended change rerun them with `STEWARD_RECORD_HISTORIES=1` and guard the change with
`workflow.patched`.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer

from tests.workflows.replay_codec import REPLAY_CONVERTER
from workflows.drill import DrillWorkflow
from workflows.drill_survey import DrillSurveyWorkflow

HISTORIES = sorted((Path(__file__).parent.parent / "histories").glob("drill_*.json"))


def load(path: Path) -> WorkflowHistory:
    saved = json.loads(path.read_text(encoding="utf-8"))
    return WorkflowHistory.from_json(saved.pop("workflow_id"), saved)


@pytest.mark.parametrize("path", HISTORIES, ids=[p.stem for p in HISTORIES])
async def test_saved_drill_history_replays(path: Path) -> None:
    replayer = Replayer(
        workflows=[DrillWorkflow, DrillSurveyWorkflow], data_converter=REPLAY_CONVERTER
    )
    await replayer.replay_workflow(load(path))


def test_the_drill_and_its_survey_batch_have_saved_histories() -> None:
    assert {p.stem for p in HISTORIES} >= {"drill_closed", "drill_report_missed", "drill_survey_batch"}
