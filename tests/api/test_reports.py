"""Reports over the SQL read model, on SQLite and PostgreSQL.

The read model is written the way the worker writes it, through the projection activity, for cases
in a building of their own (the session's database is shared with other tests) and in March 2025,
so every figure here is known exactly.
"""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from temporalio.testing import WorkflowEnvironment

from activities.projection import Projection
from api.app import create_app
from steward.tokens import create_token
from tests.conftest import Database, make_settings
from workflows.case_contracts import CaseEvent, CaseSummary
from workflows.contracts import Role

SHANGHAI = ZoneInfo("Asia/Shanghai")
MARCH = {"since": "2025-03-01", "until": "2025-03-31"}


def local(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2025, 3, day, hour, minute, tzinfo=SHANGHAI)


class ReadModel:
    """Writes cases of one fresh building through `Projection.project`, one transition at a time."""

    def __init__(self, database: Database) -> None:
        self.projection = Projection(database.sessions)
        self.building = f"BT{uuid.uuid4().hex[:8].upper()}"
        self.seqs: dict[str, int] = {}

    def case(self, name: str, submitted: datetime, event: str = "submitted", at: datetime | None = None,
             detail: dict | None = None, **state: Any) -> str:
        case_id = f"RP-{self.building}-{name}"
        self.seqs[case_id] = self.seqs.get(case_id, 0) + 1
        summary = CaseSummary.model_validate({
            "case_id": case_id, "kind": "repair", "status": "dispatched", "severity": "normal",
            "category": "plumbing", "title": "Tap", "building_id": self.building, "unit": "101",
            "resident_id": "R001", "tier": 0, "handler_id": "S001", "owner_id": None,
            "submitted_at": submitted, "response_due": submitted + timedelta(minutes=30),
            "resolution_due": submitted + timedelta(hours=24), "warned": False, "response_breached": False,
            "resolution_breached": False, "paused": False, "paused_total": timedelta(0), "reopen_count": 0,
            "withdrawn": False, "callback": None, "callback_attempt": 0, "next_deadline": None,
            "next_deadline_kind": None,
        } | state)
        self.projection.project(CaseEvent(case_id=case_id, seq=self.seqs[case_id], event=event,
                                          at=at or submitted, detail=detail or {}, state=summary))
        return case_id


@pytest.fixture
def read_model(database: Database) -> ReadModel:
    return ReadModel(database)


PEOPLE = {Role.supervisor: "S201", Role.staff: "S001", Role.resident: "R001", Role.admin: "admin"}


@pytest.fixture
def tokens(database: Database) -> dict[Role, str]:
    return {role: create_token(database.sessions, role, subject) for role, subject in PEOPLE.items()}


@pytest.fixture
async def http(dev_env: WorkflowEnvironment, database: Database, sandbox, api_port,
               tokens: dict[Role, str]) -> AsyncIterator[httpx.AsyncClient]:
    """The API through ASGI, as the supervisor unless a request says otherwise."""
    settings = make_settings(database, sandbox, api_port)
    app = create_app(settings, client=dev_env.client, engine=database.engine)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://steward.test",
                          headers={"Authorization": f"Bearer {tokens[Role.supervisor]}"}) as client,
    ):
        yield client


async def report(http: httpx.AsyncClient, name: str, building: str, **params: Any) -> dict:
    response = await http.get(f"/reports/{name}", params=MARCH | {"building": building} | params)
    assert response.status_code == 200, response.text
    return response.json()


async def test_sla_report_counts_met_and_missed_deadlines_by_community_week_and_by_category(
    read_model: ReadModel, http: httpx.AsyncClient
) -> None:
    on_time = local(3, 9)
    read_model.case("met", on_time, acknowledged_at=on_time + timedelta(minutes=5),
                    resolved_at=on_time + timedelta(hours=2), owner_id="S001", status="resolved")
    # Sunday 23:30 in Shanghai is still the week of 3 March; Monday 00:30 is the next week, although
    # both are Sunday in UTC.
    read_model.case("late-ack", local(9, 23, 30), acknowledged_at=local(10, 1), response_breached=True,
                    owner_id="S001", status="acknowledged")
    read_model.case("breached", local(10, 0, 30), category="lift", resolution_breached=True,
                    acknowledged_at=local(10, 0, 40), owner_id="S002", status="in_progress")
    read_model.case("waiting", local(12, 8), category="lift")
    read_model.case("april", datetime(2025, 4, 1, 9, tzinfo=SHANGHAI))

    body = await report(http, "sla", read_model.building)

    assert body["overall"] == {"key": "all", "cases": 4, "response_met": 2, "response_missed": 1,
                               "response_rate": 0.6667, "resolution_met": 1, "resolution_missed": 1,
                               "resolution_rate": 0.5}
    weeks = {week["key"]: week for week in body["by_week"]}
    assert list(weeks) == ["2025-02-24", "2025-03-03", "2025-03-10", "2025-03-17", "2025-03-24",
                           "2025-03-31"]
    assert (weeks["2025-03-03"]["cases"], weeks["2025-03-03"]["response_missed"]) == (2, 1)
    assert (weeks["2025-03-10"]["cases"], weeks["2025-03-10"]["resolution_missed"]) == (2, 1)
    assert weeks["2025-02-24"]["cases"] == 0 and weeks["2025-02-24"]["response_rate"] is None
    categories = {row["key"]: row for row in body["by_category"]}
    assert categories["plumbing"] | {"key": "-"} == {
        "key": "-", "cases": 2, "response_met": 1, "response_missed": 1, "response_rate": 0.5,
        "resolution_met": 1, "resolution_missed": 0, "resolution_rate": 1.0}
    assert (categories["lift"]["cases"], categories["lift"]["resolution_missed"]) == (2, 1)


async def test_hotspots_are_buildings_units_and_categories_with_repeated_cases(
    read_model: ReadModel, http: httpx.AsyncClient
) -> None:
    for n, (unit, category) in enumerate([("101", "plumbing"), ("101", "plumbing"), ("101", "lift"),
                                          ("102", "plumbing"), ("103", "noise")]):
        read_model.case(f"c{n}", local(10 + n, 9), unit=unit, category=category,
                        resolution_breached=n == 0, reopen_count=1 if n == 1 else 0,
                        closed_at=local(20, 9) if n == 4 else None)

    body = await report(http, "hotspots", read_model.building)

    found = {(item["level"], item["unit"], item["category"]): item for item in body["items"]}
    assert set(found) == {("building", None, None), ("unit", "101", None), ("category", None, "plumbing")}
    assert [item["level"] for item in body["items"]] == ["building", "unit", "category"]
    assert found[("building", None, None)] | {"last_submitted_at": "-"} == {
        "level": "building", "building_id": read_model.building, "building_name": None, "unit": None,
        "category": None, "cases": 5, "open": 4, "breached": 1, "reopened": 1, "last_submitted_at": "-"}
    assert datetime.fromisoformat(found[("building", None, None)]["last_submitted_at"]) == local(14, 9)
    assert found[("unit", "101", None)]["cases"] == 3
    assert found[("category", None, "plumbing")]["cases"] == 3

    stricter = await report(http, "hotspots", read_model.building, min_cases=4)
    assert [item["level"] for item in stricter["items"]] == ["building"]


async def test_satisfaction_counts_every_callback_answer_by_category_and_by_owner(
    read_model: ReadModel, http: httpx.AsyncClient
) -> None:
    def answered(name: str, result: str, day: int, by: Role = Role.staff, **state: Any) -> None:
        read_model.case(name, local(3, 9), "callback_recorded", at=local(day, 10),
                        detail={"result": result, "by_role": by.value}, **{"owner_id": "S001"} | state)

    answered("twice", "not_satisfied", 4, by=Role.system)
    answered("twice", "satisfied", 6, by=Role.system)
    answered("happy", "satisfied", 5, by=Role.supervisor, owner_id="S002", category="lift")
    answered("away", "unreachable", 7, category="lift")
    answered("withdrawn", "satisfied", 7, withdrawn=True)
    answered("another", "satisfied", 7)
    read_model.case("no-answer", local(3, 9), owner_id="S001")

    body = await report(http, "satisfaction", read_model.building, since="2025-03-05")

    assert body["overall"] == {"key": "all", "name": None, "callbacks": 4, "satisfied": 3,
                               "not_satisfied": 0, "unreachable": 1, "rate": 1.0,
                               "answered_by_resident": 1, "recorded_by_staff": 2, "recorded_by_supervisor": 1}
    everything = await report(http, "satisfaction", read_model.building)
    assert everything["overall"]["callbacks"] == 5 and everything["overall"]["rate"] == 0.75
    by_category = {row["key"]: row for row in everything["by_category"]}
    assert (by_category["plumbing"]["satisfied"], by_category["plumbing"]["not_satisfied"]) == (2, 1)
    assert (by_category["lift"]["satisfied"], by_category["lift"]["unreachable"]) == (1, 1)
    by_staff = {row["key"]: row for row in everything["by_staff"]}
    assert by_staff["S001"] | {"rate": None} == {"key": "S001", "name": "Wang Wei", "callbacks": 4,
                                                 "satisfied": 2, "not_satisfied": 1, "unreachable": 1,
                                                 "rate": None, "answered_by_resident": 2,
                                                 "recorded_by_staff": 2, "recorded_by_supervisor": 0}
    assert by_staff["S001"]["rate"] == 0.6667
    assert by_staff["S002"]["name"] == "Li Na" and by_staff["S002"]["rate"] == 1.0


async def test_staff_report_attributes_cases_to_their_first_owner(
    read_model: ReadModel, http: httpx.AsyncClient
) -> None:
    start = local(11, 9)
    for minutes in (2, 4, 30):
        read_model.case(f"ack{minutes}", start, owner_id="S001", handler_id="S002",
                        acknowledged_at=start + timedelta(minutes=minutes))
    read_model.case("closed", start, owner_id="S001", acknowledged_at=start + timedelta(minutes=10),
                    resolved_at=start + timedelta(hours=1), closed_at=start + timedelta(hours=2),
                    status="closed")
    read_model.case("reopened", start, owner_id="S001", acknowledged_at=start + timedelta(minutes=6),
                    reopen_count=1, resolution_breached=True, status="in_progress")
    read_model.case("nobody", start)

    body = await report(http, "staff", read_model.building)

    assert body["items"] == [{
        "staff_id": "S001", "name": "Wang Wei", "tier": 0, "owned": 5, "open": 4, "resolved": 2,
        "breaches": 1, "reopened": 1, "reopen_rate": 0.5, "median_response_seconds": 360.0,
    }]


async def test_each_report_downloads_as_csv_with_formulas_defused(
    read_model: ReadModel, http: httpx.AsyncClient
) -> None:
    read_model.case("a", local(10, 9), category="=HYPERLINK(1)", owner_id="S001",
                    acknowledged_at=local(10, 9, 5))
    read_model.case("b", local(11, 9), category="=HYPERLINK(1)", owner_id="S001")
    for name, first_column in (("sla", "group"), ("hotspots", "level"), ("satisfaction", "group"),
                               ("staff", "staff_id")):
        response = await http.get(f"/reports/{name}",
                                  params=MARCH | {"building": read_model.building, "format": "csv"})
        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == "text/csv; charset=utf-8"
        assert response.headers["content-disposition"] == \
            f'attachment; filename="steward-{name}-2025-03-01-2025-03-31.csv"'
        assert response.content.startswith(b"\xef\xbb\xbf"), "no byte-order mark for spreadsheet programs"
        rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
        assert rows[0][0] == first_column
    sla = list(csv.DictReader(io.StringIO((await http.get("/reports/sla", params=MARCH | {
        "building": read_model.building, "format": "csv"})).content.decode("utf-8-sig"))))
    category = next(row for row in sla if row["group"] == "category")
    assert category["key"] == "'=HYPERLINK(1)" and category["cases"] == "2"
    assert category["response_met"] == "1" and category["response_rate"] == "1.0"
    assert next(row for row in sla if row["group"] == "all")["resolution_rate"] == ""


async def test_reports_are_for_supervisors_only(http: httpx.AsyncClient, tokens: dict[Role, str]) -> None:
    for name in ("sla", "hotspots", "satisfaction", "staff"):
        assert (await http.get(f"/reports/{name}")).status_code == 200
        for role in (Role.staff, Role.resident, Role.admin):
            refused = await http.get(f"/reports/{name}", headers={"Authorization": f"Bearer {tokens[role]}"})
            assert refused.status_code == 403 and refused.json()["error"]["code"] == "forbidden"
        anonymous = await http.get(f"/reports/{name}", headers={"Authorization": ""})
        assert anonymous.status_code == 401


@pytest.mark.parametrize("params", [
    {"since": "2025-03-10", "until": "2025-03-01"},
    {"since": "2023-01-01", "until": "2025-01-01"},
    {"since": "0001-01-01"},
    {"until": "9999-12-31"},
    {"since": "yesterday"},
    {"format": "xml"},
])
async def test_a_period_or_format_that_cannot_be_read_is_refused(http: httpx.AsyncClient,
                                                                 params: dict) -> None:
    response = await http.get("/reports/sla", params=params)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "validation_error"


async def test_the_default_period_ends_today_in_community_time(http: httpx.AsyncClient) -> None:
    today = datetime.now(UTC).astimezone(SHANGHAI).date()
    sla = await http.get("/reports/sla")
    hotspots = await http.get("/reports/hotspots")
    assert sla.json()["until"] == hotspots.json()["until"] == today.isoformat()
    assert sla.json()["since"] == (today - timedelta(days=89)).isoformat()
    assert hotspots.json()["since"] == (today - timedelta(days=29)).isoformat()


async def test_complaints_feed_the_hotspots_and_a_hearing_objectors_callback_does_not(
    read_model: ReadModel, http: httpx.AsyncClient
) -> None:
    for n in range(2):
        read_model.case(f"noise{n}", local(10 + n, 22), kind="complaint", category="noise", unit="102")
    read_model.case("objector", local(12, 9), "callback_recorded", at=local(12, 10),
                    detail={"result": "satisfied"}, kind="hearing", category="hearing", unit="102")

    body = await report(http, "hotspots", read_model.building)

    found = {(item["level"], item["unit"], item["category"]): item["cases"] for item in body["items"]}
    assert found == {("building", None, None): 2, ("unit", "102", None): 2, ("category", None, "noise"): 2}
    satisfaction = await report(http, "satisfaction", read_model.building)
    assert satisfaction["overall"]["callbacks"] == 0, satisfaction["overall"]
