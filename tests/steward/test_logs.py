"""Logs as a collector reads them: one JSON object a line, with the request's id and the case's id."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import re
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager

import pytest

from steward.logs import configure
from steward.settings import Settings
from tests.api.conftest import REPAIR, Api, running_api  # noqa: F401 - the API fixture
from workflows.contracts import Role

PATIENCE_S = 30.0


@contextmanager
def logs_into(log_format: str) -> Iterator[io.StringIO]:
    """The root logger configured as a process configures it, into a buffer; pytest's handlers restored."""
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    stream = io.StringIO()
    configure(Settings(_env_file=None, log_format=log_format, log_level="INFO"), stream=stream)
    try:
        yield stream
    finally:
        for handler in list(root.handlers):
            root.removeHandler(handler)
        for handler in saved[0]:
            root.addHandler(handler)
        root.setLevel(saved[1])


@pytest.fixture
def json_logs() -> Iterator[io.StringIO]:
    with logs_into("json") as stream:
        yield stream


@pytest.fixture
async def api(running_api, dev_env, sqlite_database, json_logs) -> AsyncIterator[Api]:  # noqa: F811
    async with running_api(dev_env, sqlite_database) as running:
        yield running


def records(stream: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]  # every line is one JSON object


async def resident_without_phone(api: Api) -> str:
    resident_id = f"RL{uuid.uuid4().hex[:6].upper()}"
    response = await api.call("admin", "POST", "/residents", {
        "id": resident_id, "household_id": "H-B1-104", "name": "Ms Lin", "phone": None, "locale": "en",
        "preferred_channel": "voice",
    })
    assert response.status_code == 201, response.text
    api.person("lin", Role.resident, resident_id)
    return resident_id


async def test_request_and_workflow_log_lines_carry_their_ids(api: Api, json_logs: io.StringIO) -> None:
    await resident_without_phone(api)
    response = await api.call("lin", "POST", "/requests", REPAIR | {"unit": "104"}, headers={
        "Idempotency-Key": uuid.uuid4().hex, "X-Request-ID": "req-logs-42"})
    assert response.status_code == 201, response.text
    assert response.headers["x-request-id"] == "req-logs-42"
    case_id = response.json()["case_id"]
    api.case_ids.append(case_id)

    access = [r for r in records(json_logs) if r["logger"] == "steward.http"]
    assert {"level": "INFO", "request_id": "req-logs-42"}.items() <= access[-1].items()
    assert access[-1]["message"].startswith('"POST /requests" 201 ')
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00", access[-1]["time"])

    read = await api.call("lin", "GET", f"/requests/{case_id}", headers={"X-Request-ID": "req-logs-43"})
    assert read.status_code == 200, read.text
    line = next(r for r in records(json_logs)
                if r.get("request_id") == "req-logs-43" and r["logger"] == "steward.http")
    assert line["case_id"] == case_id and line["message"].startswith(f'"GET /requests/{case_id}" 200 ')

    # The workflow cannot text a resident without a phone and says so through workflow.logger.
    deadline = asyncio.get_running_loop().time() + PATIENCE_S
    while not (skipped := [r for r in records(json_logs) if r.get("workflow_id") == case_id
                           and "skipped: the resident cannot be messaged" in r["message"]]):
        assert asyncio.get_running_loop().time() < deadline, json_logs.getvalue()[-3000:]
        await asyncio.sleep(0.1)
    assert skipped[0]["case_id"] == case_id
    assert skipped[0]["workflow_type"] == "RepairWorkflow"
    assert skipped[0]["logger"] == "temporalio.workflow"


async def test_a_request_id_that_is_not_sane_is_replaced(api: Api, json_logs: io.StringIO) -> None:
    for given in ("has spaces in it", "x" * 101, "<script>", ""):
        response = await api.http.get("/sla", headers={"X-Request-ID": given})
        assert response.status_code == 200
        assert re.fullmatch(r"[0-9a-f]{32}", response.headers["x-request-id"]), given
    generated = (await api.http.get("/sla")).headers["x-request-id"]
    assert any(r.get("request_id") == generated for r in records(json_logs))


def test_text_format_names_the_request_and_case() -> None:
    with logs_into("text") as stream:
        logging.getLogger("steward.test").info("hello %s", "there", extra={"case_id": "RP-TEXT1"})
    assert re.fullmatch(r"\S+ \S+ INFO steward.test \[case_id=RP-TEXT1\]: hello there\n", stream.getvalue())
