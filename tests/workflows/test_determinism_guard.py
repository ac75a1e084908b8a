"""The determinism guard: every saved history, of every workflow kind the worker runs, replays
against today's code on every run; a workflow kind without a saved history fails; and the guard is
shown to bite — a new command in a workflow's sequence breaks replay unless `workflow.patched`
guards it.

After an intended change, rerun the lifecycle tests with `STEWARD_RECORD_HISTORIES=1` to rewrite the
histories, and guard the change with `workflow.patched` so running cases keep their old sequence.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from temporalio import workflow
from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer, UnsandboxedWorkflowRunner
from temporalio.workflow import NondeterminismError

from tests.workflows.replay_codec import REPLAY_CONVERTER
from workers.worker import WORKFLOWS
from workflows.case_contracts import CaseInput, CaseSummary
from workflows.repair import RepairWorkflow

FOLDER = Path(__file__).parent.parent / "histories"
HISTORIES = sorted(FOLDER.glob("*.json"))


def load(path: Path) -> tuple[str, WorkflowHistory]:
    """The workflow type a saved history ran, and the history (with its workflow id when saved)."""
    saved = json.loads(path.read_text(encoding="utf-8"))
    kind = saved["events"][0]["workflowExecutionStartedEventAttributes"]["workflowType"]["name"]
    return kind, WorkflowHistory.from_json(saved.pop("workflow_id", path.stem), saved)


def kind_name(cls: type) -> str:
    return workflow._Definition.must_from_class(cls).name


@pytest.mark.parametrize("path", HISTORIES, ids=[p.stem for p in HISTORIES])
async def test_every_saved_history_replays_against_the_registered_workflows(path: Path) -> None:
    _, history = load(path)
    replayer = Replayer(workflows=WORKFLOWS, data_converter=REPLAY_CONVERTER)
    await replayer.replay_workflow(history)


def test_every_workflow_kind_the_worker_runs_has_a_saved_history() -> None:
    saved = {load(path)[0] for path in HISTORIES}
    missing = {kind_name(cls) for cls in WORKFLOWS} - saved
    assert not missing, f"workflow kinds with no saved history under tests/histories: {sorted(missing)}"


# --- the guard bites: a changed command sequence fails replay unless it is patched ------------------


@workflow.defn(name="RepairWorkflow", sandboxed=False)
class UnguardedChange(RepairWorkflow):
    """Today's repair with one new timer before anything else, as a careless change would add it."""

    @workflow.run
    async def run(self, case: CaseInput) -> CaseSummary:
        await workflow.sleep(timedelta(seconds=1))
        return await super().run(case)


@workflow.defn(name="RepairWorkflow", sandboxed=False)
class PatchedChange(RepairWorkflow):
    """The same change behind `workflow.patched`: old histories take the old path."""

    @workflow.run
    async def run(self, case: CaseInput) -> CaseSummary:
        if workflow.patched("determinism-guard-probe"):
            await workflow.sleep(timedelta(seconds=1))
        return await super().run(case)


def _replayer(cls: type) -> Replayer:
    return Replayer(workflows=[cls], data_converter=REPLAY_CONVERTER,
                    workflow_runner=UnsandboxedWorkflowRunner())


async def test_a_new_command_without_workflow_patched_fails_replay() -> None:
    _, history = load(FOLDER / "repair_satisfied.json")
    with pytest.raises(NondeterminismError):
        await _replayer(UnguardedChange).replay_workflow(history)


async def test_the_same_command_behind_workflow_patched_replays() -> None:
    _, history = load(FOLDER / "repair_satisfied.json")
    await _replayer(PatchedChange).replay_workflow(history)
