"""Saved histories of complaints and hearings (the hearing, a notice batch, an objector's callback)
replay against today's code, like the repair's (`test_repair_replay`): a change that would break a
running case fails here. Written by the lifecycle tests when missing; rewrite them after an intended
change with `STEWARD_RECORD_HISTORIES=1` and guard the change with `workflow.patched`.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer

from tests.workflows.replay_codec import REPLAY_CONVERTER
from workers.worker import WORKFLOWS

FOLDER = Path(__file__).parent.parent / "histories"
HISTORIES = sorted([*FOLDER.glob("complaint_*.json"), *FOLDER.glob("hearing_*.json")])


def load(path: Path) -> WorkflowHistory:
    """A hearing's history carries its workflow id (its children are named after it)."""
    history = json.loads(path.read_text(encoding="utf-8"))
    return WorkflowHistory.from_json(history.pop("workflow_id", path.stem), history)


@pytest.mark.parametrize("path", HISTORIES, ids=[p.stem for p in HISTORIES])
async def test_saved_complaint_and_hearing_histories_replay(path: Path) -> None:
    replayer = Replayer(workflows=WORKFLOWS, data_converter=REPLAY_CONVERTER)
    await replayer.replay_workflow(load(path))


def test_every_kind_and_child_has_a_saved_history() -> None:
    assert {p.stem for p in HISTORIES} >= {
        "complaint_reopened",
        "complaint_plan",
        "hearing_closed",
        "hearing_notice_batch",
        "hearing_callback",
    }
