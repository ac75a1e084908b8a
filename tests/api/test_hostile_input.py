"""Hostile input, one kind at a time, at every endpoint that takes a body, through the real app.

Each refusal is a 4xx in the one error shape that names what was wrong, and nothing starts or changes:
the case, hearing and drill acted on keep their Temporal history to the event (a signal or an update
would add one), the case its read-model rows, the drill schedule its state, the directory its rows, and
no workflow or schedule exists under the id a refused start would have had (the id an `Idempotency-Key`
gives; the module's own case, hearing and drill prove that mapping when they are created).
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import func, select
from temporalio.service import RPCError, RPCStatusCode

from api.app import MAX_BODY_BYTES
from api.cases import case_id_for, code_for
from api.drill_schedules import schedule_id
from steward.store.models import Building, Case, CaseEventRow, DirectoryChange, Household, Resident, Staff
from tests.api.conftest import PEOPLE, REPAIR, Api
from tests.api.test_authorisation import DRILL, HEARING, later
from workflows.contracts import Actor, Kind
from workflows.drill_contracts import DrillType

# Neither schedule ever starts a drill during the tests: their first is in 2099.
SCHEDULE = {"building_id": "B1", "drill_type": "flood", "starts_on": "2099-01-01",
            "calendar": {"days_of_month": [21], "hour": 3}}
NEW_SCHEDULE = SCHEDULE | {"building_id": "B2", "title": "Flood drill"}
INSPECTION = "IN-EQ-B1-PUMP1-2099"  # no such inspection: every body here is refused before it is looked for
NO_INCIDENT = "INC-AAAAAAAAAA"  # none: every body here is refused before it is looked for
INCIDENT = {"building_id": "B1", "category": "gas", "title": "No gas", "expected_restoration": later(4),
            "message": "The gas main is being repaired."}
FINDING = {"title": "Exit blocked", "description": "Bicycles in the stairwell.", "category": "security"}


@dataclass(frozen=True)
class Target:
    """An endpoint with a body: who may call it, a valid body, and where its free text and phone are."""

    name: str
    who: str
    path: str
    body: dict[str, Any]
    text: str | None = None
    phone: str | None = None
    starts: str | None = None
    """The prefix of what a valid body starts under an id its Idempotency-Key names (RP, HR, DR)."""
    typed: str = ""
    """A field to give a value of the wrong type: the text field unless named."""
    required: bool = True
    """False where the body may be left out (`curl -X POST` with nothing to say)."""
    method: str = "POST"

    def __str__(self) -> str:
        return self.name

    @property
    def field(self) -> str:
        return self.typed or self.text or "occurred_at"


TARGETS = [
    Target("submit", "resident", "/requests", REPAIR, text="description", starts="RP"),
    Target("acknowledge", "staff", "/requests/{case}/acknowledge", {"occurred_at": "2026-11-26T10:00:00Z"},
           required=False),
    Target("progress", "staff", "/requests/{case}/progress", {"note": "On the way."}, text="note"),
    Target("pause", "staff", "/requests/{case}/pause", {"reason": "Awaiting parts."}, text="reason"),
    Target("resume", "resident", "/requests/{case}/resume", {}, required=False),
    Target("reassign", "staff", "/requests/{case}/reassign", {"handler_id": "S003", "reason": "Closer by."},
           text="reason"),
    Target("severity", "staff", "/requests/{case}/severity", {"severity": "urgent", "reason": "Spreading."},
           text="reason"),
    Target("extend", "supervisor", "/requests/{case}/extend",
           {"resolution_due": later(72), "reason": "Contractor booked."}, text="reason"),
    Target("plan", "supervisor", "/requests/{case}/plan",
           {"resolution_due": later(72), "reason": "Contractor booked.", "plan": "Survey, then repair."},
           text="plan"),
    Target("resolve", "staff", "/requests/{case}/resolve", {"note": "Washer replaced."}, text="note"),
    Target("withdraw", "resident", "/requests/{case}/withdraw", {"reason": "Fixed it myself."},
           text="reason", required=False),
    Target("callback", "staff", "/requests/{case}/callback",
           {"result": "satisfied", "note": "Called.", "reached_by": "phone"},
           text="note"),
    Target("callback answer", "resident", "/requests/{case}/answer",
           {"satisfied": False, "comment": "Still drips."}, text="comment"),
    Target("photos added", "resident", "/requests/{case}/photos-added", {"photos": ["PH-abcdefgh12"]}),
    Target("hearing", "supervisor", "/hearings", HEARING, text="reason", starts="HR"),
    Target("objection", "resident", "/hearings/{hearing}/objections", {"text": "Why so much?"}, text="text"),
    Target("answer", "staff", "/hearings/{hearing}/objections/1/answer", {"answer": "See the audit."},
           text="answer"),
    Target("held", "supervisor", "/hearings/{hearing}/held", {"minutes": "Held in the club house.",
           "attendance": 3, "votes_for": 2, "votes_against": 1, "abstentions": 0}, text="minutes"),
    Target("decision", "supervisor", "/hearings/{hearing}/decision",
           {"outcome": "approved", "reason": "Most agreed."}, text="reason"),
    Target("hearing callback", "staff", "/hearings/{hearing}/callbacks/R001",
           {"result": "satisfied", "note": "Called.", "reached_by": "phone"}, text="note"),
    Target("drill", "supervisor", "/drills", DRILL, text="title", starts="DR"),
    Target("start", "staff", "/drills/{drill}/start", {}, required=False),
    Target("step", "staff", "/drills/{drill}/step", {"number": 1, "note": "Alarm sounded."}, text="note"),
    Target("complete", "staff", "/drills/{drill}/complete", {"participation": 3, "findings": [FINDING]},
           text="findings.0.description"),
    Target("report", "staff", "/drills/{drill}/report", {"summary": "All out in 5 minutes."}, text="summary"),
    Target("survey", "resident", "/drills/{drill}/survey", {"heard": True}),
    Target("drill schedule", "supervisor", "/drill-schedules", NEW_SCHEDULE, text="title"),
    Target("schedule pause", "supervisor", "/drill-schedules/{schedule}/pause", {"note": "Lift works."},
           text="note", required=False),
    Target("schedule resume", "supervisor", "/drill-schedules/{schedule}/resume", {"note": "Works done."},
           text="note", required=False),
    Target("codec encode", "supervisor", "/codec/encode", {"payloads": [{"data": "e30="}]},
           typed="payloads.0.data"),
    Target("codec decode", "supervisor", "/codec/decode", {"payloads": [{"data": "e30="}]},
           typed="payloads.0.data"),
    Target("building", "admin", "/buildings", {"id": "BHOSTILE", "name": "Building H"}, text="name"),
    Target("household", "admin", "/households", {"id": "H-HOSTILE", "building_id": "B1", "unit": "999"},
           typed="unit"),
    Target("resident", "admin", "/residents", {"id": "RHOSTILE", "household_id": "H-B1-101",
           "name": "A new neighbour", "phone": "+8613800007777"}, text="name", phone="phone"),
    Target("staff member", "admin", "/staff", {"id": "SHOSTILE", "name": "A new plumber", "tier": 0,
           "phone": "+8613900007777"}, text="name", phone="phone"),
    Target("sign-in code", "resident", "/auth/code", {"phone": "+8613900007778"}, phone="phone",
           typed="phone"),
    Target("sign-in token", "resident", "/auth/token", {"phone": "+8613900007778", "code": "123456"},
           phone="phone", typed="code"),
    Target("device", "supervisor", "/equipment", {"id": "EQ-HOSTILE", "equipment_type": "lift",
           "building_id": "B1", "location": "West stair core"}, text="location"),
    Target("device change", "supervisor", "/equipment/EQ-B1-PUMP1", {"contractor": "Pudong Water Works"},
           text="contractor", method="PATCH"),
    Target("maintenance plan", "supervisor", "/equipment/EQ-B1-PUMP1/plan",
           {"calendar": {"days_of_month": [5], "hour": 9}, "checklist": ["Pump pressure in range"]},
           typed="severity", method="PUT"),
    Target("plan pause", "supervisor", "/equipment/EQ-B1-PUMP1/plan/pause", {"note": "Pump works."},
           text="note", required=False),
    Target("plan resume", "supervisor", "/equipment/EQ-B1-PUMP1/plan/resume", {"note": "Works done."},
           text="note", required=False),
    Target("inspection report", "staff", f"/inspections/{INSPECTION}/report",
           {"checklist": [{"step": "Pump pressure in range", "ok": True}], "note": "All in range."},
           text="note"),
    Target("inspection verify", "staff", f"/inspections/{INSPECTION}/verify",
           {"satisfied": True, "note": "Checked on site."}, text="note"),
    Target("incident", "staff", "/incidents", INCIDENT, text="message", starts="INC"),
    Target("incident attach", "staff", f"/incidents/{NO_INCIDENT}/attach", {"case_id": "RP-AAAAAAAAAA"},
           typed="case_id"),
    Target("incident restore", "staff", f"/incidents/{NO_INCIDENT}/restore",
           {"root_cause": "A corroded valve."}, text="root_cause"),
    Target("incident restoration", "staff", f"/incidents/{NO_INCIDENT}/expected-restoration",
           {"expected_restoration": later(6), "reason": "The valve is on order."}, text="reason"),
    Target("staff change", "admin", "/staff/S005", {"name": "Emma Hughes", "phone": "+8613900000005"},
           text="name", phone="phone", method="PATCH"),
    Target("resident change", "admin", "/residents/R002",
           {"name": "Resident R002", "phone": "+8613800000102"}, text="name", phone="phone", method="PATCH"),
]
WITH_TEXT = [target for target in TARGETS if target.text]
WITH_PHONE = [target for target in TARGETS if target.phone]


def with_value(body: dict, dotted: str, value: Any) -> dict:
    """A deep copy of `body` with the field at `dotted` (e.g. `findings.0.description`) set to `value`."""
    copy = json.loads(json.dumps(body))
    *parents, last = dotted.split(".")
    node: Any = copy
    for part in parents:
        node = node[int(part)] if isinstance(node, list) else node[part]
    node[last] = value
    return copy


def leaf(dotted: str) -> str:
    return dotted.rsplit(".", 1)[-1]


@dataclass
class World:
    """The module's app with a settled case, hearing and drill to aim at."""

    api: Api
    case: str
    hearing: str
    drill: str
    schedule: str

    def url(self, target: Target) -> str:
        return target.path.format(case=self.case, hearing=self.hearing, drill=self.drill,
                                  schedule=self.schedule)

    async def snapshot(self) -> dict[str, Any]:
        """Everything a request that got through would change."""
        histories = {}
        for workflow_id in (self.case, self.hearing, self.drill):
            histories[workflow_id] = (await self.api.env.client.get_workflow_handle(workflow_id)
                                      .describe()).history_length

        def rows() -> dict[str, Any]:
            with self.api.database.sessions() as session:
                counts = {table.__tablename__: session.scalar(select(func.count()).select_from(table))
                          for table in (Building, Household, Resident, Staff, Case, DirectoryChange)}
                case = session.get(Case, self.case)
                counts["case"] = (case.status, case.last_seq) if case else None
                counts["case_events"] = session.scalar(
                    select(func.count()).select_from(CaseEventRow).where(CaseEventRow.case_id == self.case))
                return counts

        schedule = await self.api.env.client.get_schedule_handle(self.schedule).describe()
        new_schedule = schedule_id(NEW_SCHEDULE["building_id"], DrillType(NEW_SCHEDULE["drill_type"]))
        return {"histories": histories, "rows": await asyncio.to_thread(rows),
                "schedule": (schedule.schedule.state.paused, schedule.schedule.state.note),
                "new schedule": await exists(self.api, new_schedule, schedule=True)}

    def witness(self, target: Target, key: str) -> str | None:
        """The id a start with `key` would have had."""
        role, subject = PEOPLE[target.who]
        caller = Actor(id=subject, role=role)
        if target.starts == "RP":
            return case_id_for(Kind(target.body["kind"]), caller, key)
        return code_for(target.starts, caller, key) if target.starts else None


async def exists(api: Api, some_id: str, schedule: bool = False) -> bool:
    client = api.env.client
    try:
        if schedule:
            await client.get_schedule_handle(some_id).describe()
        else:
            await client.get_workflow_handle(some_id).describe()
    except RPCError as error:
        if error.status is RPCStatusCode.NOT_FOUND:
            return False
        raise
    return True


async def settled(api: Api, workflow_id: str) -> None:
    """Wait until the workflow has nothing running and its history stops growing."""
    handle = api.env.client.get_workflow_handle(workflow_id)
    deadline = asyncio.get_running_loop().time() + 30
    lengths: list[int] = []
    while len(lengths) < 3 or len(set(lengths[-3:])) > 1:
        description = await handle.describe()
        raw = description.raw_description
        busy = raw.pending_activities or raw.pending_children
        lengths = [] if busy else lengths + [description.history_length]
        assert asyncio.get_running_loop().time() < deadline, f"{workflow_id} never settled"
        await asyncio.sleep(0.2)


@pytest.fixture(scope="module")
async def world(running_api, dev_env, sqlite_database) -> AsyncIterator[World]:
    async with running_api(dev_env, sqlite_database) as api:
        probe = World(api, "", "", "", "")
        key = uuid.uuid4().hex
        case = await api.submit("resident", key=key)
        assert case == probe.witness(TARGETS[0], key)
        started = {}
        for target in (t for t in TARGETS if t.starts in ("HR", "DR")):
            key = uuid.uuid4().hex
            response = await api.call(target.who, "POST", target.path, target.body,
                                      headers={"Idempotency-Key": key})
            assert response.status_code == 201, response.text
            started[target.starts] = response.json()["hearing_id" if target.starts == "HR" else "drill_id"]
            api.case_ids.append(started[target.starts])
            assert started[target.starts] == probe.witness(target, key)
        response = await api.call("supervisor", "POST", "/drill-schedules", SCHEDULE)
        assert response.status_code == 201, response.text
        api.schedule_ids.append(response.json()["schedule_id"])
        for workflow_id in (case, *started.values()):
            await settled(api, workflow_id)
        yield World(api, case, started["HR"], started["DR"], response.json()["schedule_id"])


Request = tuple[Target, dict[str, Any]]


async def refused(world: World, requests: Iterable[Request], status: int, code: str,
                  says: str | None = None) -> None:
    """Send each request; each must get `status` with `code` and `says` in its message (where `{text}`,
    `{field}` and `{phone}` stand for the target's fields); afterwards nothing may have changed or started."""
    before = await world.snapshot()
    wrong, witnesses = [], []
    for target, request in requests:
        key = uuid.uuid4().hex
        witnesses.append(world.witness(target, key))
        headers = world.api.auth(target.who) | {"Idempotency-Key": key} | request.pop("headers", {})
        response = await world.api.http.request(target.method, world.url(target), headers=headers, **request)
        where = f"{target}: {response.status_code} {response.text[:300]}"
        try:
            body = response.json()
            assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}, where
            assert (response.status_code, body["error"]["code"]) == (status, code), where
            expected = (says or "").format(text=leaf(target.text or ""), phone=target.phone,
                                           field=leaf(target.field))
            assert expected in body["error"]["message"], f"{where}: no {expected!r}"
        except (AssertionError, ValueError) as error:
            wrong.append(str(error))
    assert not wrong, "\n".join(wrong)
    assert await world.snapshot() == before
    for witness in filter(None, witnesses):
        assert not await exists(world.api, witness), f"{witness} was started"


def as_json(value: Any) -> dict[str, Any]:
    return {"content": json.dumps(value).encode(), "headers": {"Content-Type": "application/json"}}


# --- size ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("declared", [True, False], ids=["content-length", "streamed"])
async def test_a_body_over_64_kb_is_413_with_or_without_a_content_length(world: World, declared: bool,
                                                                         ) -> None:
    def oversized(target: Target) -> dict[str, Any]:
        content = json.dumps(target.body | {"padding": "x" * MAX_BODY_BYTES}).encode()

        async def chunks() -> AsyncIterator[bytes]:
            for start in range(0, len(content), 8192):
                yield content[start:start + 8192]

        return {"content": content if declared else chunks(), "headers": {"Content-Type": "application/json"}}

    await refused(world, [(t, oversized(t)) for t in TARGETS], 413, "payload_too_large", "64 KB")


async def test_ten_thousand_characters_of_text_are_422(world: World) -> None:
    requests = [(t, as_json(with_value(t.body, t.text, "漏" * 10_000))) for t in WITH_TEXT]
    await refused(world, requests, 422, "validation_error", "{text}: String should have at most")


# --- shape -----------------------------------------------------------------------------------------


async def test_an_unknown_field_is_422_and_named(world: World) -> None:
    requests = [(t, as_json(t.body | {"is_admin": True})) for t in TARGETS]
    requests += [(t, as_json(with_value(t.body, "findings.0.is_admin", True))) for t in TARGETS
                 if t.name == "complete"]
    await refused(world, requests, 422, "validation_error", "is_admin: Extra inputs are not permitted")


@pytest.mark.parametrize("value", [["a", "list"], {"$ne": None}, True], ids=repr)
async def test_a_field_of_the_wrong_type_is_422_and_named(world: World, value: Any) -> None:
    requests = [(t, as_json(with_value(t.body, t.field, value))) for t in TARGETS]
    await refused(world, requests, 422, "validation_error", "{field}: ")


@pytest.mark.parametrize("body", [[], "a string", 42, [{"note": "in a list"}]], ids=repr)
async def test_a_body_that_is_not_an_object_is_422(world: World, body: Any) -> None:
    await refused(world, [(t, as_json(body)) for t in TARGETS], 422, "validation_error",
                  "valid dictionary or object")


@pytest.mark.parametrize("phone", [
    "1380000123", "+86 138 0000 123", "+0123456789", "+12345", "+1234567890123456",
    "+8613800001234\n", "+861380000１２３４", "tel:+8613800001234", "", "+8613800001234;ext=2",
], ids=repr)
async def test_a_phone_number_not_in_e164_is_422(world: World, phone: str) -> None:
    """Not a valid number (`steward/phones.py`); a valid one written nationally or with spaces is kept in
    E.164 (`tests/e2e/test_landline.py`)."""
    requests = [(t, as_json(with_value(t.body, t.phone, phone))) for t in WITH_PHONE]
    await refused(world, requests, 422, "validation_error", "{phone}: not a valid phone number")


# --- characters ------------------------------------------------------------------------------------


@pytest.mark.parametrize("hidden", [
    "\x00", "\x07", "\x08", "\x1b[2J\x1b[31m", "\x7f", "\x85", "\u202e", "\u202a", "\u2066", "\u2069",
    "\ufffe", "\uffff", "\U0010ffff",
], ids=lambda c: f"U+{ord(c[0]):04X}")
async def test_control_and_bidi_override_characters_in_text_are_422(world: World, hidden: str) -> None:
    requests = [(t, as_json(with_value(t.body, t.text, f"Tap {hidden}leaking"))) for t in WITH_TEXT]
    says = f"{{text}}: character 5 is U+{ord(hidden[0]):04X}"
    await refused(world, requests, 422, "validation_error", says)


@pytest.mark.parametrize("escaped", ["\\ud800", "\\udfff", "ok \\udbff\\u0041"], ids=repr)
async def test_a_lone_surrogate_is_422(world: World, escaped: str) -> None:
    """JSON can spell half a UTF-16 pair, which is no character at all; it never reaches a workflow."""

    def raw(target: Target) -> dict[str, Any]:
        marker = "SURROGATE-HERE"
        content = json.dumps(with_value(target.body, target.text, marker)).replace(marker, escaped)
        return {"content": content.encode(), "headers": {"Content-Type": "application/json"}}

    await refused(world, [(t, raw(t)) for t in WITH_TEXT], 422, "validation_error", "{text}:")


async def test_a_category_or_unit_wider_than_the_read_model_is_422(world: World) -> None:
    """A case's category and unit are columns of the read model (64 and 32 characters): a wider one
    would start a case whose projection could never be written."""
    submit, complete = (next(t for t in TARGETS if t.name == name) for name in ("submit", "complete"))
    requests = [
        (submit, as_json(submit.body | {"category": "c" * 65})),
        (complete, as_json(with_value(complete.body, "findings.0.category", "c" * 65))),
        (complete, as_json(with_value(complete.body, "findings.0.unit", "u" * 33))),
        (complete, as_json(with_value(complete.body, "findings.0.unit", "3/F; DROP TABLE"))),
    ]
    await refused(world, requests, 422, "validation_error")


async def test_text_in_any_script_with_emoji_and_line_breaks_is_accepted(world: World) -> None:
    """The refusals above are not a refusal of unicode: what residents and staff really write passes."""
    note = "厨房水管漏水，已更换阀门。\n\tМастер придёт завтра. عامل الصيانة 👩🏽‍🔧 🇨🇳 e\u0301"
    response = await world.api.call("staff", "POST", f"/requests/{world.case}/progress", {"note": note})
    assert response.status_code == 202, response.text

    async def noted() -> bool:
        state = await world.api.state(world.case)
        return any(entry["detail"].get("note") == note for entry in state["timeline"])

    await eventually(noted)
    await settled(world.api, world.case)


async def eventually(check, within: float = 30.0) -> None:
    deadline = asyncio.get_running_loop().time() + within
    while not await check():
        assert asyncio.get_running_loop().time() < deadline, "never happened"
        await asyncio.sleep(0.1)


# --- encoding --------------------------------------------------------------------------------------


@pytest.mark.parametrize("content", [
    b'{"note": ', b'{"note": "x",}', b"{'note': 'x'}", b'{"note": "x"} trailing', b"",
], ids=repr)
async def test_invalid_json_is_422(world: World, content: bytes) -> None:
    requests = [(t, {"content": content, "headers": {"Content-Type": "application/json"}}) for t in TARGETS
                if t.required or content]
    says = "JSON decode error" if content else "Field required"
    await refused(world, requests, 422, "validation_error", says)


@pytest.mark.parametrize("content", [
    b'{"note": "\xff\xfe"}', b"[" * 5000 + b"]" * 5000, b'{"n": ' + b"9" * 5000 + b"}",
], ids=["not utf-8", "deep", "huge number"])
async def test_a_body_json_cannot_read_is_400(world: World, content: bytes) -> None:
    requests = [(t, {"content": content, "headers": {"Content-Type": "application/json"}}) for t in TARGETS]
    await refused(world, requests, 400, "bad_request", "error parsing the body")


@pytest.mark.parametrize("content_type", [
    "text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/xml",
    None,
], ids=repr)
async def test_a_body_that_is_not_json_is_415(world: World, content_type: str | None) -> None:
    def sent(target: Target) -> dict[str, Any]:
        headers = {"Content-Type": content_type} if content_type else {}
        return {"content": json.dumps(target.body).encode(), "headers": headers}

    await refused(world, [(t, sent(t)) for t in TARGETS], 415, "unsupported_media_type",
                  "Content-Type: application/json")


def test_every_endpoint_with_a_json_body_is_a_target() -> None:
    """A new endpoint with a body must join the targets above."""
    from api.app import create_app

    paths = create_app().openapi()["paths"]
    with_body = {path for path, operations in paths.items() for operation in operations.values()
                 if "application/json" in operation.get("requestBody", {}).get("content", {})}
    ids = {"case": "{case_id}", "hearing": "{hearing_id}", "drill": "{drill_id}", "schedule": "{schedule_id}"}
    covered = {t.path.format(**ids).replace("/1/", "/{number}/").replace("/R001", "/{resident_id}")
               .replace("/R002", "/{resident_id}").replace("/S005", "/{staff_id}")
               .replace("/EQ-B1-PUMP1", "/{equipment_id}").replace(f"/{INSPECTION}", "/{inspection_id}")
               .replace(f"/{NO_INCIDENT}", "/{incident_id}")
               for t in TARGETS}
    assert covered == with_body
