"""Fixtures of the workflow tests: a running worker on its own task queue and the case harness."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from tests.workflows.harness import RepairCases
from temporalio.testing import WorkflowEnvironment

from steward.settings import Settings
from workflows.repair import RepairWorkflow


@asynccontextmanager
async def interim_worker(env, settings, database):
    from concurrent.futures import ThreadPoolExecutor

    from temporalio.worker import Worker

    from activities.directory import Directory
    from activities.projection import Projection
    from tests.workflows.interim_notifier import InterimNotifier

    directory, projection = Directory(database.sessions), Projection(database.sessions)
    async with Worker(
        env.client, task_queue=settings.task_queue, workflows=[RepairWorkflow],
        activities=[directory.dispatch, directory.on_duty_for_tier, directory.resident_contact,
                    directory.staff_contact, projection.project, InterimNotifier(database.sessions).send],
        activity_executor=ThreadPoolExecutor(8),
    ) as worker:
        yield worker


@pytest.fixture
async def cases(ts_env: WorkflowEnvironment, settings: Settings, database) -> AsyncIterator[RepairCases]:
    """A running worker on a fresh task queue at 10:00 community time; cases terminated afterwards."""
    harness = RepairCases(ts_env, settings, database, settings.task_queue)
    async with interim_worker(ts_env, settings, database):
        await harness.skip_to_local(10)
        yield harness
        for handle in harness.handles:
            await harness.stop(handle)



@pytest.fixture(scope="session")
async def ts_env() -> AsyncIterator[WorkflowEnvironment]:
    """Interim override: the test server has no ListSearchAttributes, so add ours directly."""
    import shutil

    from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest
    from temporalio.contrib.pydantic import pydantic_data_converter

    from steward.temporal import _INDEXED
    from workflows import search

    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=shutil.which("temporal-test-server") or ".venv/bin/temporal-test-server",
        data_converter=pydantic_data_converter,
    )
    await env.client.operator_service.add_search_attributes(AddSearchAttributesRequest(
        namespace=env.client.namespace,
        search_attributes={key.name: _INDEXED[key.indexed_value_type] for key in search.ALL},
    ))
    yield env
    await env.shutdown()
