"""The HTTP surface itself: one error shape for every 4xx, body limits, health, the policy, OpenAPI."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter

from api.app import MAX_BODY_BYTES, create_app
from api.examples import _BODIES, CASE_STATE_EXAMPLE
from api.models import (
    AcknowledgeBody,
    AddPhotosBody,
    AnswerBody,
    CallbackBody,
    ExtendBody,
    PauseBody,
    PlanBody,
    ProgressBody,
    ReassignBody,
    ResolveBody,
    ResumeBody,
    SeverityBody,
    SubmitRequest,
    WithdrawBody,
)
from api.routes.hearings import AnswerText, DecisionBody, HeldBody, ObjectionBody
from steward.store.database import make_engine
from tests.api.conftest import REPAIR, Api
from tests.chaos.harness import eventually
from workflows.case_contracts import CaseState
from workflows.hearing_contracts import HearingPlan
from workflows.policy import SlaPolicy


def assert_error(response: httpx.Response, status: int, code: str) -> dict:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}
    assert body["error"]["code"] == code
    assert body["error"]["message"]
    return body["error"]


async def test_unknown_routes_and_methods_answer_in_the_error_shape(api: Api) -> None:
    assert_error(await api.call("staff", "GET", "/nowhere"), 404, "not_found")
    assert_error(await api.call("staff", "GET", "/requests/RP-X/acknowledge"), 405, "method_not_allowed")
    assert_error(await api.call("staff", "DELETE", "/sla"), 405, "method_not_allowed")


async def test_bad_input_is_422_in_the_error_shape(api: Api) -> None:
    error = assert_error(await api.http.post("/requests", content=b"{not json", headers={
        **api.auth("resident"), "Content-Type": "application/json", "Idempotency-Key": "k1"}),
        422, "validation_error")
    assert "json" in error["message"].lower()
    error = assert_error(await api.call("resident", "POST", "/requests", REPAIR | {"severity": "apocalyptic"},
                                        headers={"Idempotency-Key": "k2"}), 422, "validation_error")
    assert "severity" in error["message"]
    assert_error(await api.call("staff", "GET", "/requests?tier=7"), 422, "validation_error")
    assert_error(await api.call("staff", "GET", "/requests?building=B1'%20OR%201=1"), 422, "validation_error")
    assert_error(await api.call("staff", "GET", "/requests?page_token=%%%"), 422, "validation_error")
    assert_error(await api.call("staff", "GET", "/requests?page_token=bm90IGEgdG9rZW4="), 422,
                 "validation_error")
    assert_error(await api.call("staff", "GET", "/requests/RP%20X"), 422, "validation_error")


async def test_a_device_time_without_an_offset_is_refused(api: Api) -> None:
    error = assert_error(await api.call("staff", "POST", "/requests/RP-X/acknowledge",
                                        {"occurred_at": "2026-11-26T10:00:00"}), 422, "validation_error")
    assert "UTC offset" in error["message"]


async def test_missing_and_unknown_tokens_are_401(api: Api) -> None:
    response = await api.call(None, "GET", "/requests")
    assert_error(response, 401, "unauthorized")
    assert response.headers["www-authenticate"] == "Bearer"
    assert_error(await api.http.get("/requests", headers={"Authorization": "Bearer stw_nope"}), 401,
                 "unauthorized")
    assert_error(await api.http.get("/requests", headers={"Authorization": "Basic YWRtaW46YWRtaW4="}), 401,
                 "unauthorized")


async def test_bodies_over_64_kb_are_413_whether_declared_or_streamed(api: Api) -> None:
    big = b'{"note": "' + b"x" * MAX_BODY_BYTES + b'"}'
    headers = api.auth("staff") | {"Content-Type": "application/json"}
    declared = await api.http.post("/requests/RP-X/progress", content=big, headers=headers)
    assert_error(declared, 413, "payload_too_large")

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(big), 8192):
            yield big[start:start + 8192]

    streamed = await api.http.post("/requests/RP-X/progress", content=chunks(), headers=headers)
    assert_error(streamed, 413, "payload_too_large")


async def test_health_readiness_and_the_published_policy(api: Api) -> None:
    assert (await api.http.get("/healthz")).json() == {"status": "alive"}
    ready = await eventually(lambda: api.http.get("/readyz"),
                             lambda r: "no_worker" not in r.json()["picture"]["problems"],
                             "the new worker's first poll seen", 30)
    assert ready.status_code == 200
    assert ready.json()["ready"] is True
    assert ready.json()["checks"] == {"temporal": "ok", "database": "ok"}
    sla = await api.http.get("/sla")
    assert sla.status_code == 200
    assert SlaPolicy.model_validate(sla.json()) == api.settings.policy


async def test_not_ready_without_a_migrated_database_or_a_reachable_temporal(api: Api, tmp_path) -> None:
    unreachable = await Client.connect("127.0.0.1:1", lazy=True, data_converter=pydantic_data_converter)
    engine = make_engine(f"sqlite:///{tmp_path / 'empty.db'}")
    app = create_app(api.settings, client=unreachable, engine=engine)
    async with app.router.lifespan_context(app), httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://steward.test"
    ) as http:
        response = await http.get("/readyz")
    engine.dispose()
    assert response.status_code == 503
    checks = response.json()["checks"]
    assert checks["database"].startswith("not migrated")
    assert checks["temporal"].startswith("unreachable")


def test_every_operation_is_documented_with_responses_and_examples() -> None:
    spec = create_app().openapi()
    assert spec["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    for path, operations in spec["paths"].items():
        if path.startswith("/webhooks/"):
            continue
        for method, operation in operations.items():
            where = f"{method.upper()} {path}"
            assert operation.get("summary"), where
            assert any(status.startswith("2") for status in operation["responses"]), where
            body = operation.get("requestBody", {}).get("content", {}).get("application/json")
            if body is not None:
                schema = body["schema"]
                documented = body.get("examples") or spec["components"]["schemas"].get(
                    schema.get("$ref", "/").rsplit("/", 1)[-1], {}).get("examples")
                assert documented, f"{where} has no request example"


@pytest.mark.parametrize(("name", "model"), [
    ("submit", SubmitRequest), ("acknowledge", AcknowledgeBody), ("progress", ProgressBody),
    ("pause", PauseBody), ("resume", ResumeBody), ("reassign", ReassignBody), ("severity", SeverityBody),
    ("extend", ExtendBody), ("resolve", ResolveBody), ("withdraw", WithdrawBody), ("callback", CallbackBody),
    ("plan", PlanBody), ("hearing", HearingPlan), ("objection", ObjectionBody), ("answer", AnswerText),
    ("held", HeldBody), ("decision", DecisionBody), ("callback_answer", AnswerBody),
    ("photos_added", AddPhotosBody),
])
def test_the_documented_examples_are_valid_requests(name: str, model: type) -> None:
    for _summary, value in _BODIES[name].values():
        model.model_validate(value)


def test_the_documented_case_is_a_valid_case_state() -> None:
    CaseState.model_validate(CASE_STATE_EXAMPLE)
