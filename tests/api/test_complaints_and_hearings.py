"""Complaints and hearings through HTTP (issue 6): the API on the dev server with the real worker and
the Twilio sandbox, as in the other API tests; a notice period of seconds so a hearing can be held
within the test.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from temporalio.testing import WorkflowEnvironment
from twilio.request_validator import RequestValidator

from steward.store.models import Case, Notification
from tests.api.conftest import PATIENCE_S, Api
from tests.conftest import TEST_AUTH_TOKEN, Database
from workflows.contracts import Role

COMPLAINT = {
    "kind": "complaint",
    "category": "staff_conduct",
    "title": "Rude reply at the desk",
    "description": "The front desk refused to take my parcel.",
    "subject_staff_id": "S005",
}
NOTICE_PERIOD_S = 3


def hearing(seconds_ahead: float, **changes: Any) -> dict:
    return {
        "title": "Lift renewal from the maintenance fund",
        "reason": "The lift is 25 years old and failed its inspection.",
        "costs": [
            {"item": "New lift", "amount": "680000.00"},
            {"item": "Installation", "amount": "45000.50"},
        ],
        "building_ids": ["B1"],
        "hearing_at": (datetime.now(UTC) + timedelta(seconds=seconds_ahead)).isoformat(),
        "place": "Community club house",
    } | changes


def assert_error(response, status: int, code: str | None = None, words: str = "") -> None:
    body = response.json()
    assert response.status_code == status, body
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}, body
    assert code is None or body["error"]["code"] == code, body
    assert words in body["error"]["message"], body


@pytest.fixture
async def short_notice(
    running_api, dev_env: WorkflowEnvironment, sqlite_database: Database
) -> AsyncIterator[Api]:
    async with running_api(dev_env, sqlite_database, hearing_notice_period=f"{NOTICE_PERIOD_S}s") as running:
        running.person("outsider", Role.resident, "R013")
        yield running


async def schedule(api: Api, body: dict, key: str | None = None) -> str:
    headers = {"Idempotency-Key": key} if key else {}
    response = await api.call("supervisor", "POST", "/hearings", body, headers=headers)
    assert response.status_code == 201, response.text
    hearing_id = response.json()["hearing_id"]
    api.case_ids.append(hearing_id)
    return hearing_id


async def hearing_until(api: Api, hearing_id: str, check, who: str = "supervisor") -> dict:
    deadline = asyncio.get_running_loop().time() + PATIENCE_S
    while True:
        response = await api.call(who, "GET", f"/hearings/{hearing_id}")
        assert response.status_code == 200, response.text
        if check(state := response.json()):
            return state
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"condition not reached: {state}")
        await asyncio.sleep(0.2)


async def sms_from(api: Api, phone: str, body: str) -> str:
    """A resident's SMS as Twilio posts it, signed for the address the API is reached at."""
    form = {
        "MessageSid": f"SM{uuid.uuid4().hex}",
        "From": phone,
        "To": api.settings.twilio_from_number,
        "Body": body,
    }
    url = f"{api.settings.webhook_base_url}/webhooks/twilio/sms"
    signature = RequestValidator(TEST_AUTH_TOKEN).compute_signature(url, form)
    response = await api.http.post(
        "/webhooks/twilio/sms", data=form, headers={"X-Twilio-Signature": signature}
    )
    assert response.status_code == 200, response.text
    return response.text


async def callback_sent(api: Api, case_id: str, within: float = PATIENCE_S) -> None:
    """The callback case has asked its resident (so a reply by SMS finds it)."""
    deadline = asyncio.get_running_loop().time() + within
    while True:
        with api.database.sessions() as session:
            asked = session.scalar(
                select(Notification.key).where(
                    Notification.case_id == case_id,
                    Notification.template == "callback_request",
                    Notification.sid.is_not(None),
                )
            )
            row = session.get(Case, case_id)
        if asked and row is not None and row.status == "callback":
            return
        assert asyncio.get_running_loop().time() < deadline, f"{case_id} never asked"
        await asyncio.sleep(0.2)


async def test_complaint_about_staff_is_routed_above_them_and_its_plan_is_agreed(api: Api) -> None:
    case_id = await api.submit("resident", **COMPLAINT)
    assert case_id.startswith("CP-")
    state = await api.until(case_id, lambda s: s["status"] == "dispatched")
    assert state["kind"] == "complaint" and state["tier"] == 1 and state["handler_id"] in {"S101", "S102"}

    due = datetime.fromisoformat(state["resolution_due"]) + timedelta(days=3)
    plan = {
        "resolution_due": due.isoformat(),
        "reason": "the desk team needs training first",
        "plan": "Apology call today; desk training next week; follow-up visit.",
    }
    assert_error(await api.call("staff", "POST", f"/requests/{case_id}/plan", plan), 403, "forbidden")
    early = plan | {"resolution_due": datetime.now(UTC).isoformat()}
    assert_error(
        await api.call("supervisor", "POST", f"/requests/{case_id}/plan", early),
        409,
        "refused",
        "later than the current deadline",
    )
    response = await api.call("supervisor", "POST", f"/requests/{case_id}/plan", plan)
    assert response.status_code == 200, response.text
    assert datetime.fromisoformat(response.json()["resolution_due"]) == due
    assert any(e["event"] == "plan_agreed" for e in response.json()["timeline"])

    history = await api.call(
        "supervisor", "GET", f"/requests/{case_id}/history", headers={"Accept-Language": "en"}
    )
    agreed = next(e for e in history.json()["entries"] if e["event"] == "plan_agreed")
    assert agreed["actor"] == "S201" and plan["plan"] in agreed["text"], agreed

    repair = await api.submit("resident")
    assert_error(
        await api.call("supervisor", "POST", f"/requests/{repair}/plan", plan),
        409,
        "refused",
        "only a complaint",
    )


async def test_a_hearing_inside_the_notice_period_is_refused(api: Api) -> None:
    six_days = 6 * 24 * 3600
    assert_error(
        await api.call("supervisor", "POST", "/hearings", hearing(six_days)),
        422,
        "validation_error",
        "inside the notice period of 7d",
    )
    assert_error(
        await api.call("supervisor", "POST", "/hearings", hearing(8 * 24 * 3600, building_ids=["B9"])),
        422,
        "validation_error",
        "no building B9",
    )
    assert_error(await api.call("supervisor", "POST", "/hearings", hearing(8 * 24 * 3600, costs=[])), 422)
    assert_error(await api.call("staff", "POST", "/hearings", hearing(8 * 24 * 3600)), 403, "forbidden")
    body, key = hearing(8 * 24 * 3600), uuid.uuid4().hex
    first = await schedule(api, body, key)
    again = await api.call("supervisor", "POST", "/hearings", body, headers={"Idempotency-Key": key})
    assert again.status_code == 200 and again.json()["hearing_id"] == first
    assert_error(
        await api.call(
            "supervisor", "POST", "/hearings", body | {"place": "Elsewhere"}, headers={"Idempotency-Key": key}
        ),
        409,
        "idempotency_conflict",
    )
    assert_error(await api.call("supervisor", "GET", "/hearings/HR-NOSUCHONE1"), 404, "not_found")


async def test_a_hearing_from_notice_to_close_through_http(short_notice: Api) -> None:
    api = short_notice
    hearing_id = await schedule(api, hearing(NOTICE_PERIOD_S + 4))
    await hearing_until(api, hearing_id, lambda s: s["status"] == "noticed")

    response = await api.call("resident", "POST", f"/hearings/{hearing_id}/objections", {"text": "Why now?"})
    assert response.status_code == 201 and response.json()["number"] == 1, response.text
    assert_error(await api.call("staff", "POST", f"/hearings/{hearing_id}/objections", {"text": "?"}), 403)
    assert_error(await api.call("outsider", "GET", f"/hearings/{hearing_id}"), 404, "not_found")
    assert await sms_from(api, "+8613800000102", f"{hearing_id} Who chose the contractor?")
    state = await hearing_until(api, hearing_id, lambda s: len(s["objections"]) == 2)
    assert [(o["resident_id"], o["channel"]) for o in state["objections"]] == [
        ("R001", "app"),
        ("R002", "sms"),
    ]
    mine = await hearing_until(api, hearing_id, lambda s: True, who="resident")
    assert [o["resident_id"] for o in mine["objections"]] == ["R001"] and mine["timeline"] == []

    assert_error(
        await api.call(
            "supervisor",
            "POST",
            f"/hearings/{hearing_id}/held",
            {
                "minutes": "Early.",
                "attendance": 1,
                "votes_for": 1,
                "votes_against": 0,
                "abstentions": 0,
            },
        ),
        409,
        "refused",
        "record it once it has been held",
    )
    for number in (1, 2):
        response = await api.call(
            "staff",
            "POST",
            f"/hearings/{hearing_id}/objections/{number}/answer",
            {"answer": "The owners' committee chose it by tender; the report is online."},
        )
        assert response.status_code == 200 and response.json()["answered_by"] == "S001", response.text
    assert_error(
        await api.call("staff", "POST", f"/hearings/{hearing_id}/objections/2/answer", {"answer": "x"}),
        409,
        "refused",
        "already answered",
    )

    await asyncio.sleep(NOTICE_PERIOD_S + 4)
    response = await api.call(
        "supervisor",
        "POST",
        f"/hearings/{hearing_id}/held",
        {
            "minutes": "The auditor presented the tender.",
            "attendance": 14,
            "votes_for": 10,
            "votes_against": 3,
            "abstentions": 1,
        },
    )
    assert response.status_code == 200 and response.json()["status"] == "held", response.text
    assert_error(
        await api.call(
            "supervisor",
            "POST",
            f"/hearings/{hearing_id}/decision",
            {"outcome": "revised", "reason": "cheaper lift"},
        ),
        422,
        "validation_error",
    )
    response = await api.call(
        "supervisor",
        "POST",
        f"/hearings/{hearing_id}/decision",
        {
            "outcome": "revised",
            "reason": "a cheaper lift model",
            "revised_costs": [{"item": "New lift", "amount": "600000.00"}],
        },
    )
    assert response.status_code == 200 and response.json()["decision"]["outcome"] == "revised", response.text
    state = await hearing_until(api, hearing_id, lambda s: len(s["callbacks"]) == 2)
    assert state["status"] == "callback"

    await callback_sent(api, f"{hearing_id}-CB-R001")
    assert await sms_from(api, "+8613800000101", f"1 {hearing_id}")
    await hearing_until(api, hearing_id, lambda s: any(c["result"] for c in s["callbacks"]))
    response = await api.call(  # R002's automatic callback is still asking: only a supervisor may
        "supervisor",
        "POST",
        f"/hearings/{hearing_id}/callbacks/R002",
        {"result": "satisfied", "note": "Explained the revised cost by phone.", "reached_by": "phone",
         "reason": "R002 phoned the office about the decision"},
    )
    assert response.status_code == 200, response.text
    state = await hearing_until(api, hearing_id, lambda s: s["status"] == "closed")
    assert {c["resident_id"]: c["result"] for c in state["callbacks"]} == {
        "R001": "satisfied",
        "R002": "satisfied",
    }
    await asyncio.wait_for(api.env.client.get_workflow_handle(hearing_id).result(), PATIENCE_S)
    assert_error(
        await api.call("staff", "POST", f"/hearings/{hearing_id}/objections/1/answer", {"answer": "x"}),
        409,
        "closed",
    )
