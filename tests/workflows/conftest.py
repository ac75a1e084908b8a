"""Fixtures of the workflow tests: a running worker on its own task queue and the case harness."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from temporalio.testing import WorkflowEnvironment

from steward.settings import Settings
from tests.workflows.harness import RepairCases


@pytest.fixture
async def cases(
    ts_env: WorkflowEnvironment, settings: Settings, database, sandbox, worker_for
) -> AsyncIterator[RepairCases]:
    """The real Steward worker (notices through the Twilio sandbox) on a fresh task queue, at 10:00
    community time."""
    harness = RepairCases(ts_env, settings, database, settings.task_queue, sandbox.base_url)
    async with worker_for(ts_env, settings, database):
        await harness.skip_to_local(10)
        yield harness
