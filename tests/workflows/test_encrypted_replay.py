"""The history recorded with payload encryption replays with the codec, and only with it: the replay
guard reads encrypted histories as the worker does."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from steward.codec import data_converter, new_key_line, parse_keys
from tests.workflows.replay_codec import REPLAY_CONVERTER
from workflows.repair import RepairWorkflow

RECORDED = Path(__file__).parent.parent / "histories" / "repair_encrypted.json"


def load() -> WorkflowHistory:
    saved = json.loads(RECORDED.read_text(encoding="utf-8"))
    return WorkflowHistory.from_json(saved.pop("workflow_id"), saved)


async def test_the_encrypted_history_replays_with_the_codec() -> None:
    assert b"+8613800000101" not in RECORDED.read_bytes()
    result = await Replayer(workflows=[RepairWorkflow], data_converter=REPLAY_CONVERTER).replay_workflow(
        load(), raise_on_replay_failure=False)
    assert result.replay_failure is None


@pytest.mark.parametrize("converter", [pydantic_data_converter, data_converter(parse_keys(new_key_line()))],
                         ids=["no codec", "another key"])
async def test_without_its_key_the_encrypted_history_cannot_replay(converter) -> None:
    result = await Replayer(workflows=[RepairWorkflow], data_converter=converter).replay_workflow(
        load(), raise_on_replay_failure=False)
    assert result.replay_failure is not None
