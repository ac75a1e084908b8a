"""Abuse limits through HTTP (issue 14): beyond the policy's `[limits]` a resident gets 429 with
`Retry-After` and nothing is started; the limits are published by `GET /sla`; staff filing for a
resident are not limited.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from temporalio.service import RPCError, RPCStatusCode
from temporalio.testing import WorkflowEnvironment

from api.cases import case_id_for
from tests.api.conftest import REPAIR, Api
from tests.api.test_complaints_and_hearings import assert_error, hearing, hearing_until, schedule
from tests.conftest import Database
from workflows.contracts import Actor, Kind, Role

LIMITS = """
[limits]
submissions = { count = 2, per = "1h" }
emergencies = { count = 1, per = "1d" }
objections = { count = 2, per = "7d" }
"""


@pytest.fixture
async def limited(running_api, dev_env: WorkflowEnvironment, sqlite_database: Database,
                  tmp_path: Path) -> AsyncIterator[Api]:
    policy = tmp_path / "policy.toml"
    policy.write_text(LIMITS, encoding="utf-8")
    async with running_api(dev_env, sqlite_database, sla_policy=policy, hearing_notice_period="3s") as api:
        yield api


async def post(api: Api, who: str, body: dict, key: str) -> dict:
    response = await api.call(who, "POST", "/requests", body, headers={"Idempotency-Key": key})
    if response.status_code == 201:
        api.case_ids.append(response.json()["case_id"])
    return response


async def assert_never_started(api: Api, resident_id: str, key: str) -> None:
    case_id = case_id_for(Kind.repair, Actor(id=resident_id, role=Role.resident), key)
    with pytest.raises(RPCError) as missing:
        await api.env.client.get_workflow_handle(case_id).describe()
    assert missing.value.status == RPCStatusCode.NOT_FOUND


def assert_limited(response, words: str) -> None:
    assert_error(response, 429, "rate_limited", words)
    assert int(response.headers["Retry-After"]) > 0


async def test_the_limits_are_published(limited: Api) -> None:
    published = (await limited.call(None, "GET", "/sla")).json()["limits"]
    assert published == {"submissions": {"count": 2, "per": "PT1H"},
                         "emergencies": {"count": 1, "per": "P1D"}, "objections": {"count": 2, "per": "P7D"}}


async def test_a_resident_past_the_submission_limit_gets_429_and_nothing_starts(limited: Api) -> None:
    own = {key: value for key, value in REPAIR.items() if key not in ("building_id", "unit")}
    first = uuid.uuid4().hex
    assert (await post(limited, "resident", own, first)).status_code == 201
    within = await post(limited, "resident", own, first)
    assert within.status_code == 200 and within.json()["created"] is False  # counted, then rolled back
    assert (await post(limited, "resident", own, uuid.uuid4().hex)).status_code == 201
    third = uuid.uuid4().hex
    assert_limited(await post(limited, "resident", own, third),
                   "submissions per resident: at most 2 per hour")
    await assert_never_started(limited, "R001", third)
    again = await post(limited, "resident", own, first)
    assert again.status_code == 200 and again.json()["created"] is False  # a retry is not limited

    for_them = await post(limited, "staff", REPAIR | {"resident_id": "R001"}, uuid.uuid4().hex)
    assert for_them.status_code == 201, for_them.text  # staff taking a call are not limited
    assert (await post(limited, "neighbour", own, uuid.uuid4().hex)).status_code == 201


async def test_a_household_past_the_emergency_limit_gets_429_and_nobody_is_paged(limited: Api) -> None:
    housemate = f"RH{uuid.uuid4().hex[:6].upper()}"
    added = await limited.call("admin", "POST", "/residents", {
        "id": housemate, "household_id": "H-B1-101", "name": "Housemate", "phone": "+8613800009101",
        "locale": "en", "preferred_channel": "sms"})
    assert added.status_code == 201, added.text
    limited.person("housemate", Role.resident, housemate)
    gas = {"severity": "emergency", "category": "gas", "title": "Gas smell", "description": "In the kitchen."}

    assert (await post(limited, "resident", gas, uuid.uuid4().hex)).status_code == 201
    key = uuid.uuid4().hex
    assert_limited(await post(limited, "housemate", gas, key),
                   "pages a property manager by voice): at most 1 per day")
    await assert_never_started(limited, housemate, key)
    urgent = await post(limited, "housemate", gas | {"severity": "urgent"}, uuid.uuid4().hex)
    assert urgent.status_code == 201, urgent.text


async def test_a_resident_past_the_objection_limit_gets_429_and_the_hearing_keeps_two(limited: Api) -> None:
    hearing_id = await schedule(limited, hearing(3600))
    await hearing_until(limited, hearing_id, lambda s: s["status"] == "noticed")
    path = f"/hearings/{hearing_id}/objections"
    for text in ("Why so much?", "Who chose the supplier?"):
        response = await limited.call("resident", "POST", path, {"text": text})
        assert response.status_code == 201, response.text
    assert_limited(await limited.call("resident", "POST", path, {"text": "And again?"}),
                   "objections per resident to one hearing: at most 2")
    assert (await limited.call("neighbour", "POST", path, {"text": "Me too."})).status_code == 201
    state = await hearing_until(limited, hearing_id, lambda s: len(s["objections"]) == 3)
    assert [o["resident_id"] for o in state["objections"]] == ["R001", "R001", "R002"]
