"""Fixtures of the workflow tests: a running worker on its own task queue and the case harness."""

from __future__ import annotations

import shutil
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest
from temporalio.common import SearchAttributeIndexedValueType
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from steward.settings import Settings
from tests.workflows.harness import RepairCases
from workflows import search

INDEXED = {
    SearchAttributeIndexedValueType.KEYWORD: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
    SearchAttributeIndexedValueType.INT: IndexedValueType.INDEXED_VALUE_TYPE_INT,
    SearchAttributeIndexedValueType.BOOL: IndexedValueType.INDEXED_VALUE_TYPE_BOOL,
    SearchAttributeIndexedValueType.DATETIME: IndexedValueType.INDEXED_VALUE_TYPE_DATETIME,
}


def binary(name: str) -> str:
    return shutil.which(name) or str(Path(sys.executable).parent / name)


@pytest.fixture
async def case_env() -> AsyncIterator[WorkflowEnvironment]:
    """A time-skipping test server of the test's own. A shared one stalls now and then: once cases
    of earlier tests were terminated, skipping time can hang until an RPC times out (30 s)."""
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=binary("temporal-test-server"),
        data_converter=pydantic_data_converter,
    )
    await env.client.operator_service.add_search_attributes(
        AddSearchAttributesRequest(
            namespace=env.client.namespace,
            search_attributes={key.name: INDEXED[key.indexed_value_type] for key in search.ALL},
        )
    )
    yield env
    await env.shutdown()


@pytest.fixture
async def cases(
    case_env: WorkflowEnvironment, settings: Settings, database, sandbox, worker_for
) -> AsyncIterator[RepairCases]:
    """The real Steward worker (notices through the Twilio sandbox) on a fresh task queue, at 10:00
    community time."""
    harness = RepairCases(case_env, settings, database, settings.task_queue, sandbox.base_url)
    async with worker_for(case_env, settings, database):
        await harness.skip_to_local(10)
        yield harness
