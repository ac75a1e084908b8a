"""Saved histories of the repair case's main paths replay against today's code.

A change that would break a running case (a new command, a reordered step) fails here, not in
production. The histories are written by the lifecycle tests when missing; after an intended change,
rerun them with `STEWARD_RECORD_HISTORIES=1` and guard the change with `workflow.patched`.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer

from tests.workflows.replay_codec import REPLAY_CONVERTER
from workflows.repair import RepairWorkflow

HISTORIES = sorted((Path(__file__).parent.parent / "histories").glob("repair_*.json"))


def load(path: Path) -> WorkflowHistory:
    return WorkflowHistory.from_json(path.stem, path.read_text(encoding="utf-8"))


@pytest.mark.parametrize("path", HISTORIES, ids=[p.stem for p in HISTORIES])
async def test_saved_repair_history_replays(path: Path) -> None:
    history = load(path)
    replayer = Replayer(workflows=[RepairWorkflow], data_converter=REPLAY_CONVERTER)
    await replayer.replay_workflow(history)


def test_every_main_path_has_a_saved_history() -> None:
    assert {p.stem for p in HISTORIES} >= {
        "repair_satisfied",
        "repair_reopened",
        "repair_manual_callback",
        "repair_withdrawn",
    }
