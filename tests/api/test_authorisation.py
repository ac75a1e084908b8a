"""Every endpoint × every kind of caller: who gets in, who is refused, and how.

Anonymous and revoked tokens get 401; a role the endpoint is not for gets 403; a resident asking
about another resident's case gets 404, exactly as for a case that does not exist; everyone else
gets past the door (what the workflow then says is for the other tests).
"""

from __future__ import annotations

import asyncio
import io
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from PIL import Image

from steward.file_store import recording_files
from steward.store.models import InboundMessage
from steward.store.recordings import keep_recording
from steward.tokens import revoke_token
from tests.api.conftest import REPAIR, Api
from workflows.contracts import Role

EVERYONE = {"resident", "neighbour", "staff", "supervisor", "admin"}
STAFF = {"staff", "supervisor"}
CALLERS = ["anonymous", "revoked", "resident", "neighbour", "staff", "supervisor", "admin"]


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str
    allowed: frozenset[str]
    body: dict | None = None
    public: bool = False

    @property
    def about_a_case(self) -> bool:
        return "{id}" in self.path and self.path.startswith("/requests/")

    @property
    def about_a_hearing(self) -> bool:
        """A hearing is every affected household's: the neighbour (same building) sees it too."""
        return self.path.startswith("/hearings/")

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


def later(hours: int) -> str:
    return (datetime.now(UTC) + timedelta(hours=hours)).isoformat()


def fresh_id(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:8].upper()}"


HEARING = {
    "title": "Lift renewal", "reason": "The lift is 25 years old.", "building_ids": ["B1"],
    "costs": [{"item": "New lift", "amount": "680000.00"}], "hearing_at": later(24 * 8),
    "place": "Club house",
}

DRILL = {"drill_type": "fire", "building_id": "B1", "scheduled_at": later(24 * 4)}
# No drill of this schedule starts during the tests: its first is in 2099.
DRILL_SCHEDULE = {"building_id": "B2", "drill_type": "security", "starts_on": "2099-01-01",
                  "calendar": {"days_of_month": [20], "hour": 3}}

# An incident of a category no other test files, so no report joins it.
INCIDENT = {"building_id": "B1", "category": "gas", "title": "No gas", "expected_restoration": later(4),
            "message": "The gas main is being repaired."}

# A plan whose first inspection is in 2099: none starts during the tests unless one is triggered.
PLAN = {"interval": {"every": "30d", "first_at": "2099-01-05T09:00:00+08:00"},
        "checklist": ["Pump pressure in range"]}

ENDPOINTS = [
    Endpoint("POST", "/requests", frozenset({"resident", "neighbour"} | STAFF), REPAIR | {"unit": None}),
    Endpoint("GET", "/requests", frozenset({"resident", "neighbour"} | STAFF)),
    Endpoint("GET", "/requests/{id}", frozenset({"resident"} | STAFF)),
    Endpoint("GET", "/requests/{id}/history", frozenset({"supervisor"})),
    Endpoint("POST", "/requests/{id}/acknowledge", frozenset(STAFF), {}),
    Endpoint("POST", "/requests/{id}/progress", frozenset(STAFF), {"note": "on the way"}),
    Endpoint("POST", "/requests/{id}/pause", frozenset(STAFF), {"reason": "awaiting parts"}),
    Endpoint("POST", "/requests/{id}/resume", frozenset({"resident"} | STAFF), {}),
    Endpoint("POST", "/requests/{id}/reassign", frozenset(STAFF),
             {"handler_id": "S003", "reason": "closer by"}),
    Endpoint("POST", "/requests/{id}/severity", frozenset(STAFF),
             {"severity": "urgent", "reason": "spreading"}),
    Endpoint("POST", "/requests/{id}/extend", frozenset({"supervisor"}),
             {"resolution_due": later(72), "reason": "contractor booked"}),
    Endpoint("POST", "/requests/{id}/resolve", frozenset(STAFF), {"note": "fixed"}),
    Endpoint("POST", "/requests/{id}/withdraw", frozenset({"resident"} | STAFF), {}),
    Endpoint("POST", "/requests/{id}/callback", frozenset(STAFF),
             {"result": "satisfied", "note": "called", "reached_by": "phone"}),
    Endpoint("POST", "/requests/{id}/answer", frozenset({"resident"} | STAFF), {"satisfied": True}),
    Endpoint("POST", "/requests/{id}/photos-added", frozenset({"resident"} | STAFF),
             {"photos": ["PH-abcdefgh12"]}),
    Endpoint("POST", "/requests/{id}/plan", frozenset({"supervisor"}),
             {"resolution_due": later(72), "reason": "contractor booked", "plan": "survey, then repair"}),
    Endpoint("POST", "/hearings", frozenset({"supervisor"}), HEARING),
    Endpoint("GET", "/hearings/{id}", frozenset({"resident"} | STAFF)),
    Endpoint("POST", "/hearings/{id}/objections", frozenset({"resident"}), {"text": "Why so much?"}),
    Endpoint("POST", "/hearings/{id}/objections/{number}/answer", frozenset(STAFF),
             {"answer": "See the audit."}),
    Endpoint("POST", "/hearings/{id}/held", frozenset({"supervisor"}),
             {"minutes": "Held.", "attendance": 3, "votes_for": 2, "votes_against": 1, "abstentions": 0}),
    Endpoint("POST", "/hearings/{id}/decision", frozenset({"supervisor"}),
             {"outcome": "approved", "reason": "most agreed"}),
    Endpoint("POST", "/hearings/{id}/callbacks/{resident_id}", frozenset(STAFF),
             {"result": "satisfied", "note": "called", "reached_by": "phone"}),
    Endpoint("POST", "/drills", frozenset({"supervisor"}), DRILL),
    Endpoint("GET", "/drills/{id}", frozenset(STAFF)),
    Endpoint("POST", "/drills/{id}/start", frozenset(STAFF), {}),
    Endpoint("POST", "/drills/{id}/step", frozenset(STAFF), {"number": 1}),
    Endpoint("POST", "/drills/{id}/complete", frozenset(STAFF), {"participation": 3}),
    Endpoint("POST", "/drills/{id}/report", frozenset(STAFF), {"summary": "All out in 5 minutes."}),
    Endpoint("POST", "/drills/{id}/survey", frozenset({"resident"}), {"heard": True}),
    Endpoint("POST", "/drill-schedules", frozenset({"supervisor"}), DRILL_SCHEDULE),
    Endpoint("GET", "/drill-schedules", frozenset({"supervisor"})),
    Endpoint("GET", "/drill-schedules/{id}", frozenset({"supervisor"})),
    Endpoint("POST", "/drill-schedules/{id}/pause", frozenset({"supervisor"}), {}),
    Endpoint("POST", "/drill-schedules/{id}/resume", frozenset({"supervisor"}), {}),
    Endpoint("DELETE", "/drill-schedules/{id}", frozenset({"supervisor"})),
    Endpoint("GET", "/at-risk", frozenset(STAFF)),
    Endpoint("GET", "/hearings", frozenset(STAFF)),
    Endpoint("GET", "/queues/manual-callbacks", frozenset(STAFF)),
    Endpoint("GET", "/queues/unread-notices", frozenset(STAFF)),
    Endpoint("POST", "/inbound-messages/{sid}/assign/{id}", frozenset(STAFF)),
    Endpoint("GET", "/drills", frozenset(STAFF)),
    Endpoint("GET", "/inbound-messages", frozenset(STAFF)),
    Endpoint("GET", "/reports/sla", frozenset({"supervisor"})),
    Endpoint("GET", "/reports/hotspots", frozenset({"supervisor"})),
    Endpoint("GET", "/reports/satisfaction", frozenset({"supervisor"})),
    Endpoint("GET", "/reports/staff", frozenset({"supervisor"})),
    Endpoint("GET", "/reports/hearings", frozenset({"supervisor"})),
    Endpoint("GET", "/reports/drills", frozenset({"supervisor"})),
    Endpoint("GET", "/reports/equipment", frozenset({"supervisor"})),
    Endpoint("GET", "/sla", frozenset(EVERYONE), public=True),
    Endpoint("GET", "/healthz", frozenset(EVERYONE), public=True),
    Endpoint("POST", "/requests/{id}/photos", frozenset({"resident"} | STAFF), {}),
    Endpoint("GET", "/requests/{id}/photos/{photo_id}", frozenset({"resident", "staff", "supervisor"})),
    Endpoint("GET", "/requests/{id}/recordings", frozenset({"resident", "staff", "supervisor"})),
    Endpoint("GET", "/requests/{id}/recordings/{sid}", frozenset({"resident", "staff", "supervisor"})),
    Endpoint("GET", "/call-recordings/{sid}", frozenset(STAFF)),
    Endpoint("POST", "/auth/code", frozenset(EVERYONE), {"phone": "+8613900009991"}, public=True),
    Endpoint("POST", "/auth/token", frozenset(EVERYONE), {"phone": "+8613900009991", "code": "000000"},
             public=True),
    Endpoint("GET", "/readyz", frozenset(EVERYONE), public=True),
    Endpoint("POST", "/codec/encode", frozenset({"supervisor"}), {"payloads": []}),
    Endpoint("POST", "/codec/decode", frozenset({"supervisor"}), {"payloads": []}),
    Endpoint("GET", "/buildings", frozenset({"admin"})),
    Endpoint("POST", "/buildings", frozenset({"admin"}), {"id": "{new:BX}", "name": "Building X"}),
    Endpoint("GET", "/households", frozenset({"admin"})),
    Endpoint("POST", "/households", frozenset({"admin"}),
             {"id": "{new:H-}", "building_id": "B1", "unit": "{new:U}"}),
    Endpoint("GET", "/residents", frozenset({"admin"})),
    Endpoint("POST", "/residents", frozenset({"admin"}),
             {"id": "{new:R}", "household_id": "H-B1-101", "name": "A new neighbour"}),
    Endpoint("GET", "/staff", frozenset({"admin"})),
    Endpoint("POST", "/staff", frozenset({"admin"}), {"id": "{new:S}", "name": "A new plumber", "tier": 0}),
    Endpoint("PATCH", "/staff/{staff_id}", frozenset({"admin"}), {"on_duty": True}),
    Endpoint("PATCH", "/residents/{resident_id}", frozenset({"admin"}), {"preferred_channel": "sms"}),
    Endpoint("GET", "/directory-changes", frozenset({"admin"})),
    Endpoint("GET", "/equipment", frozenset(STAFF | {"admin"})),
    Endpoint("POST", "/equipment", frozenset({"supervisor", "admin"}),
             {"id": "{new:EQ-}", "equipment_type": "gate", "building_id": "B1", "location": "South gate"}),
    Endpoint("GET", "/equipment/{id}", frozenset(STAFF | {"admin"})),
    Endpoint("PATCH", "/equipment/{id}", frozenset({"supervisor", "admin"}), {"contractor": "Gate Co."}),
    Endpoint("PUT", "/equipment/{id}/plan", frozenset({"supervisor", "admin"}), PLAN),
    Endpoint("GET", "/equipment/{id}/plan", frozenset(STAFF | {"admin"})),
    Endpoint("POST", "/equipment/{id}/plan/pause", frozenset({"supervisor", "admin"}), {}),
    Endpoint("POST", "/equipment/{id}/plan/resume", frozenset({"supervisor", "admin"}), {}),
    Endpoint("DELETE", "/equipment/{id}/plan", frozenset({"supervisor", "admin"})),
    Endpoint("POST", "/incidents", frozenset(STAFF), INCIDENT),
    Endpoint("GET", "/incidents", frozenset(STAFF)),
    Endpoint("GET", "/incidents/{id}", frozenset(STAFF)),
    Endpoint("POST", "/incidents/{id}/attach", frozenset(STAFF), {"case_id": "{case}"}),
    Endpoint("POST", "/incidents/{id}/expected-restoration", frozenset(STAFF),
             {"expected_restoration": later(6), "reason": "The valve is on order."}),
    Endpoint("POST", "/incidents/{id}/restore", frozenset(STAFF), {"root_cause": "A corroded valve."}),
    Endpoint("GET", "/inspections/{id}", frozenset(STAFF | {"admin"})),
    Endpoint("POST", "/inspections/{id}/report", frozenset(STAFF),
             {"checklist": [{"step": "Pump pressure in range", "ok": True}]}),
    Endpoint("POST", "/inspections/{id}/verify", frozenset(STAFF),
             {"satisfied": True, "note": "Seen on site."}),
]


def expected(endpoint: Endpoint, caller: str) -> int | None:
    """The status the door answers with, or None when the caller gets through."""
    if endpoint.public:
        return None
    if caller in ("anonymous", "revoked"):
        return 401
    if caller not in endpoint.allowed and not (caller == "neighbour" and "resident" in endpoint.allowed):
        return 403
    if caller == "neighbour" and endpoint.about_a_case:
        return 404
    return None


def filled(body: dict | None) -> dict | None:
    """Directory bodies get fresh ids so each admin call creates something new."""
    if body is None:
        return None
    return {key: fresh_id(value[5:-1]) if isinstance(value, str) and value.startswith("{new:") else value
            for key, value in body.items()}


def unmatched_sms(api: Api) -> str:
    """An SMS no case took, as the webhook keeps one, for the queue's action to act on."""
    sid = "SM" + uuid.uuid4().hex
    with api.database.sessions.begin() as session:
        session.add(InboundMessage(sid=sid, from_number="+8613800000199", to_number="+15005550006",
                                   body="The stair light is out", received_at=datetime.now(UTC),
                                   case_id=None, outcome="unmatched"))
    return sid


def a_recording(api: Api, case_id: str | None) -> str:
    """A message left on the service centre's phone, kept as the call webhook keeps one."""
    sid = "RE" + uuid.uuid4().hex
    recording_files(api.settings).put(sid, b"RIFF0000WAVE")
    with api.database.sessions.begin() as session:
        keep_recording(session, sid, "CA" + uuid.uuid4().hex, "+8613800000199", case_id, "audio/wav", 12, 1)
    return sid


async def a_plan(api: Api, equipment_id: str) -> str:
    response = await api.call("supervisor", "PUT", f"/equipment/{equipment_id}/plan", PLAN)
    assert response.status_code in (200, 201), response.text
    api.schedule_ids.append(response.json()["schedule_id"])
    return response.json()["schedule_id"]


async def an_inspection(api: Api) -> str:
    """An inspection of a new pump, started by triggering its plan."""
    device = {"id": fresh_id("EQ-M-"), "equipment_type": "water_pump", "building_id": "B1",
              "location": "Roof"}
    assert (await api.call("supervisor", "POST", "/equipment", device)).status_code == 201
    await api.env.client.get_schedule_handle(await a_plan(api, device["id"])).trigger()
    deadline = asyncio.get_running_loop().time() + 30
    while not (started := (await api.call("staff", "GET", f"/equipment/{device['id']}/plan")).json()
               ["recent_inspections"]):
        assert asyncio.get_running_loop().time() < deadline, "the plan started no inspection"
        await asyncio.sleep(0.2)
    api.case_ids.append(started[0])
    return started[0]


async def an_incident(api: Api) -> tuple[str, str]:
    """An open incident and an open case of its building that staff may attach to it."""
    response = await api.call("supervisor", "POST", "/incidents", INCIDENT)
    assert response.status_code == 201, response.text
    incident_id = response.json()["incident_id"]
    api.case_ids.append(incident_id)
    case_id = await api.submit("staff", resident_id="R001", category="electrical")
    await api.until(case_id, lambda s: s["status"] == "dispatched")
    return incident_id, case_id


def test_the_matrix_covers_every_route_of_the_app() -> None:
    from api.app import create_app

    paths = create_app().openapi()["paths"]
    routes = {re.sub(r"\{(case|hearing|drill|schedule|equipment|inspection|incident)_id\}", "{id}",
                     f"{method.upper()} {path}")
              for path, operations in paths.items() if not path.startswith("/webhooks/")
              for method in operations}
    assert routes == {str(endpoint) for endpoint in ENDPOINTS}


async def a_photo(api: Api, case_id: str) -> str:
    """A photo of the case, attached by a supervisor (who holds every case)."""
    return await a_photo_by(api, "supervisor", case_id)


async def a_photo_by(api: Api, who: str, case_id: str) -> str:
    image = io.BytesIO()
    Image.new("RGB", (8, 8)).save(image, format="PNG")
    response = await api.call(who, "POST", f"/requests/{case_id}/photos", content=image.getvalue(),
                              headers={"Content-Type": "image/png"})
    assert response.status_code == 201, response.text
    return response.json()["photo_id"]


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=str)
async def test_who_gets_through(api: Api, endpoint: Endpoint) -> None:
    revoked = api.person("revoked", Role.staff, "S003")
    assert revoke_token(api.database.sessions, revoked)
    attached = ""  # the case an attachment names
    if endpoint.about_a_hearing:
        response = await api.call("supervisor", "POST", "/hearings", HEARING)
        assert response.status_code == 201, response.text
        case_id = response.json()["hearing_id"]
        api.case_ids.append(case_id)
    elif endpoint.path.startswith("/drills/"):
        response = await api.call("supervisor", "POST", "/drills", DRILL)
        assert response.status_code == 201, response.text
        case_id = response.json()["drill_id"]
        api.case_ids.append(case_id)
    elif endpoint.path.startswith("/equipment/"):
        case_id = "EQ-B1-PUMP1"  # seeded with the demo community
        if "/plan" in endpoint.path:
            await a_plan(api, case_id)
    elif endpoint.path.startswith("/inspections/"):
        case_id = await an_inspection(api)
    elif endpoint.path.startswith("/incidents/"):
        case_id, attached = await an_incident(api)
    elif endpoint.path.startswith("/drill-schedules"):
        response = await api.call("supervisor", "POST", "/drill-schedules", DRILL_SCHEDULE)
        assert response.status_code in (200, 201), response.text
        case_id = response.json()["schedule_id"]
        api.schedule_ids.append(case_id)
    else:
        case_id = await api.submit("resident")
        await api.until(case_id, lambda s: s["status"] == "dispatched")
    photo_id = await a_photo(api, case_id) if "{photo_id}" in endpoint.path else None
    recording_sid = a_recording(api, None if endpoint.path.startswith("/call-") else case_id) \
        if "recordings/{sid}" in endpoint.path else None

    wrong = []
    for caller in CALLERS:
        headers = {"Idempotency-Key": uuid.uuid4().hex}
        path = endpoint.path.replace("{id}", case_id).replace("{number}", "1")
        path = (path.replace("{resident_id}", "R001").replace("{photo_id}", photo_id or "")
                .replace("{staff_id}", "S001").replace("{sid}", recording_sid or unmatched_sms(api)))
        if endpoint.method == "DELETE" and path.endswith("/plan"):
            await a_plan(api, case_id)  # each caller deletes a plan that is there
        body = filled(endpoint.body)
        if body and body.get("case_id") == "{case}":
            body["case_id"] = attached
        response = await api.call(None if caller == "anonymous" else caller, endpoint.method, path, body,
                                  headers=headers)
        body = response.json() if response.headers.get("content-type") == "application/json" else {}
        if response.status_code >= 400:
            assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}, body
        starts = ("/requests", "/hearings", "/drills", "/incidents")
        if endpoint.method == "POST" and endpoint.path in starts and response.is_success:
            api.case_ids.append(body.get("case_id") or body.get("hearing_id") or body.get("incident_id")
                                or body["drill_id"])
        want = expected(endpoint, caller)
        got = response.status_code
        if got >= 500 or (want is None and got in (401, 403, 404)) or (want is not None and got != want):
            wrong.append(f"{caller}: expected {want or 'through'}, got {got} {body}")
    assert not wrong, "\n".join(wrong)
