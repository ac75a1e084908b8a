"""`POST /requests`: one Idempotency-Key, one case; who may submit for whom; what the directory allows."""

from __future__ import annotations

import asyncio
import uuid

from tests.api.conftest import REPAIR, Api
from workflows import search


async def post(api: Api, who: str, key: str, body: dict) -> tuple[int, dict]:
    response = await api.call(who, "POST", "/requests", body, headers={"Idempotency-Key": key})
    return response.status_code, response.json()


async def executions(api: Api, case_id: str) -> int:
    return (await api.env.client.count_workflows(f"WorkflowId = '{case_id}'")).count


async def test_twenty_concurrent_identical_submissions_start_exactly_one_workflow(api: Api) -> None:
    key = uuid.uuid4().hex
    answers = await asyncio.gather(*(post(api, "resident", key, REPAIR) for _ in range(20)))

    statuses = sorted(status for status, _ in answers)
    assert statuses == [200] * 19 + [201]
    case_ids = {body["case_id"] for _, body in answers}
    assert len(case_ids) == 1
    case_id = case_ids.pop()
    api.case_ids.append(case_id)
    assert [body["created"] for status, body in answers if status == 201] == [True]
    assert await executions(api, case_id) == 1
    state = await api.until(case_id, lambda s: s["status"] == "dispatched")
    assert [entry["event"] for entry in state["timeline"]].count("submitted") == 1


async def test_the_same_key_again_later_returns_the_same_case(api: Api) -> None:
    key = uuid.uuid4().hex
    first = await api.submit(key=key)
    status, body = await post(api, "resident", key, REPAIR)
    assert (status, body["case_id"], body["created"]) == (200, first, False)
    assert body["url"] == f"/requests/{first}"


async def test_a_closed_case_keeps_its_key(api: Api) -> None:
    key = uuid.uuid4().hex
    case_id = await api.submit(key=key)
    await api.env.client.get_workflow_handle(case_id).terminate("closed for the test")
    status, body = await post(api, "resident", key, REPAIR)
    assert (status, body["case_id"]) == (200, case_id)
    assert await executions(api, case_id) == 1


async def test_the_same_key_with_a_different_body_is_refused(api: Api) -> None:
    key = uuid.uuid4().hex
    await api.submit(key=key)
    status, body = await post(api, "resident", key, REPAIR | {"title": "Something else entirely"})
    assert status == 409
    assert body["error"]["code"] == "idempotency_conflict"


async def test_different_callers_with_the_same_key_get_different_cases(api: Api) -> None:
    key = uuid.uuid4().hex
    mine = await api.submit("resident", key=key)
    theirs = await api.submit("neighbour", key=key)
    assert mine != theirs


async def test_the_case_starts_with_its_search_attributes_and_the_policy_snapshot(api: Api) -> None:
    case_id = await api.submit(severity="urgent")
    description = await api.env.client.get_workflow_handle(case_id).describe()
    attributes = description.typed_search_attributes
    assert attributes.get(search.KIND) == "repair"
    assert attributes.get(search.SEVERITY) == "urgent"
    assert attributes.get(search.BUILDING) == "B1"
    assert attributes.get(search.RESIDENT) == "R001"
    assert attributes.get(search.TIER) == 1
    summary = await description.static_summary()
    assert summary is not None and "urgent" in summary and "R001" not in summary and "Kitchen" not in summary
    state = await api.state(case_id)
    assert state["submitted_at"] is not None
    assert state["severity"] == "urgent"


async def test_a_resident_submits_only_for_themself(api: Api) -> None:
    status, body = await post(api, "resident", uuid.uuid4().hex, REPAIR | {"resident_id": "R002"})
    assert status == 403
    case_id = await api.submit("resident", resident_id="R001")
    assert (await api.state(case_id))["resident_id"] == "R001"


async def test_staff_submit_for_a_named_resident(api: Api) -> None:
    status, body = await post(api, "staff", uuid.uuid4().hex, REPAIR)
    assert status == 422 and "resident_id" in body["error"]["message"]
    case_id = await api.submit("staff", resident_id="R003", origin="voice")
    state = await api.state(case_id)
    assert state["resident_id"] == "R003"
    assert state["timeline"][0]["actor"] == {"id": "S001", "role": "staff"}


async def test_the_building_unit_and_resident_must_exist(api: Api) -> None:
    for change, words in [({"building_id": "B9"}, "building B9"), ({"unit": "999"}, "unit 999"),
                          ({"resident_id": "R999"}, "resident R999")]:
        status, body = await post(api, "staff", uuid.uuid4().hex, REPAIR | {"resident_id": "R001"} | change)
        assert status == 422, body
        assert words in body["error"]["message"]


async def test_complaints_have_a_published_category_and_hearings_are_not_requests(api: Api) -> None:
    status, body = await post(api, "resident", uuid.uuid4().hex, REPAIR | {"kind": "complaint"})
    categories = "noise, sanitation, security, staff_conduct, fees, other"
    assert status == 422 and categories in body["error"]["message"]
    status, body = await post(api, "resident", uuid.uuid4().hex, REPAIR | {"subject_staff_id": "S005"})
    assert status == 422 and "only a complaint" in body["error"]["message"]
    complaint = REPAIR | {"kind": "complaint", "category": "noise"}
    status, body = await post(api, "resident", uuid.uuid4().hex, complaint)
    assert status == 201 and body["case_id"].startswith("CP-"), body
    api.case_ids.append(body["case_id"])
    status, body = await post(api, "resident", uuid.uuid4().hex, REPAIR | {"kind": "hearing"})
    assert status == 422 and "/hearings" in body["error"]["message"]


async def test_the_body_cannot_name_the_actor_or_the_policy(api: Api) -> None:
    for extra in ({"submitted_by": {"id": "S301", "role": "supervisor"}}, {"policy": {}},
                  {"submitted_at": "2020-01-01T00:00:00Z"}):
        status, body = await post(api, "resident", uuid.uuid4().hex, REPAIR | extra)
        assert status == 422, extra
        assert body["error"]["code"] == "validation_error"


async def test_an_idempotency_key_is_required(api: Api) -> None:
    response = await api.call("resident", "POST", "/requests", REPAIR)
    assert response.status_code == 422
    assert "Idempotency-Key" in response.json()["error"]["message"]
