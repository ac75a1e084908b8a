"""Building-wide incidents (issue 22) through HTTP, the workflows on the dev server, the database and the
Twilio sandbox: "no water" in building B1 gathers 30 reports (from the API, staff taking calls and SMS)
with one page to staff, one notice and one restoration notice per household, every reporter called back,
and the root cause in the hotspot report. Each refusal is answered through HTTP."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import func, select

from steward.store.community_models import IncidentRow
from steward.store.models import Household, InboundMessage, Notification, Resident
from tests.api.conftest import Api
from tests.api.test_drills import _sms, eventually
from workflows.contracts import Role

B1 = [f"R{n:03d}" for n in range(1, 13)]  # the demo community's twelve households of building B1
TIER_1 = {"S101": "+8613900000101", "S102": "+8613900000102"}  # on duty for B1, where an urgent one pages
NO_WATER = {"building_id": "B1", "category": "plumbing", "title": "No water", "severity": "urgent",
            "message": "A water main burst under the courtyard; the water company is on site."}


def ahead(hours: float = 4) -> str:
    return (datetime.now(UTC) + timedelta(hours=hours)).isoformat()


async def open_incident(api: Api, who: str = "supervisor", **fields) -> str:
    body = NO_WATER | {"expected_restoration": ahead()} | fields
    response = await api.call(who, "POST", "/incidents", body)
    assert response.status_code == 201, response.text
    incident_id = response.json()["incident_id"]
    api.case_ids.append(incident_id)
    await eventually(lambda: row_of(api, incident_id), lambda row: row is not None)  # filings read it
    return incident_id


async def row_of(api: Api, incident_id: str) -> IncidentRow | None:
    with api.database.sessions() as session:
        return session.get(IncidentRow, incident_id)


def reachable_residents_of(api: Api, building_id: str) -> list[str]:
    """Who a notice to the building reaches: its residents with a phone who have not opted out."""
    with api.database.sessions() as session:
        return sorted(session.scalars(
            select(Resident.id).join(Household, Household.id == Resident.household_id)
            .where(Household.building_id == building_id, Resident.active, Resident.phone.is_not(None),
                   Resident.opted_out.is_(False))))


def notices(api: Api, case_ids: list[str], template: str | None = None) -> list[Notification]:
    with api.database.sessions() as session:
        query = select(Notification).where(Notification.case_id.in_(case_ids))
        if template:
            query = query.where(Notification.template == template)
        return list(session.scalars(query))


async def restore(api: Api, incident_id: str, root_cause: str = "a corroded valve on the main") -> dict:
    response = await api.call("supervisor", "POST", f"/incidents/{incident_id}/restore",
                              {"root_cause": root_cause})
    assert response.status_code == 200, response.text
    return response.json()


async def report_by_sms(api: Api, resident_id: str) -> str:
    with api.database.sessions() as session:
        phone = session.get(Resident, resident_id).phone
    text = f"家里停水了 {uuid.uuid4().hex[:4]}"
    assert (await _sms(api, phone, text)).status_code == 200
    with api.database.sessions() as session:
        case_id = session.scalars(select(InboundMessage.case_id).where(InboundMessage.body == text)).one()
    api.case_ids.append(case_id)
    return case_id


async def sandbox_texts(api: Api, phone: str, code: str) -> list[dict]:
    async with httpx.AsyncClient(base_url=api.settings.twilio_api_base_url) as http:
        response = await http.get("/sandbox/messages", params={"to": phone})
        response.raise_for_status()
        return [m for m in response.json() if code in m.get("body", "")]


@pytest.mark.timeout(150)
async def test_no_water_in_b1_gathers_thirty_reports_with_one_page_and_calls_every_reporter_back(
        api: Api) -> None:
    incident_id = await open_incident(api)
    for resident in B1:
        api.person(resident, Role.resident, resident)

    reports = [api.submit(who=resident, title="No water", description="Nothing from the taps.")
               for resident in B1[:10] * 2 + B1[:4]]
    reports += [api.submit(who="staff", resident_id=resident, building_id="B1", unit=f"1{resident[2:]}",
                           title="No water (phoned in)") for resident in B1[4:8]]
    case_ids = list(await asyncio.gather(*reports))
    case_ids += [await report_by_sms(api, resident) for resident in B1[10:]]
    assert len(set(case_ids)) == 30

    for case_id in case_ids:
        state = await api.until(case_id, lambda s: any(e["event"] == "joined_incident"
                                                       for e in s["timeline"]))
        assert state["incident_id"] == incident_id and state["handler_id"] is None
    detail = await eventually(lambda: api.call("staff", "GET", f"/incidents/{incident_id}"),
                              lambda r: len(r.json()["cases"]) == 30 and r.json()["notice"])
    assert {c["case_id"] for c in detail.json()["gathered"]} == set(case_ids)
    known = await eventually(lambda: asyncio.sleep(0, notices(api, case_ids, "incident_known")),
                             lambda rows: len(rows) == 30)
    assert all(n.params["incident"] == incident_id for n in known), "told at once the problem is known"

    staff_told = [n for n in notices(api, [incident_id, *case_ids]) if n.recipient_id.startswith("S")]
    assert {(n.recipient_id, n.template) for n in staff_told} == {(s, "incident_opened") for s in TIER_1}
    assert len({n.key.rsplit(":", 2)[0] for n in staff_told}) == 1, "one page for thirty reports"
    for phone in TIER_1.values():
        assert len(await eventually(lambda p=phone: sandbox_texts(api, p, incident_id), len)) == 1
    households = reachable_residents_of(api, "B1")  # the demo's twelve, and any an earlier test added
    assert set(B1) <= set(households)
    told = notices(api, [incident_id], "incident_notice")
    assert sorted(n.recipient_id for n in told) == households, "every household once"

    restored = await restore(api, incident_id)
    assert restored["root_cause"] == "a corroded valve on the main"
    for case_id in case_ids:
        state = await api.until(case_id, lambda s: s["status"] == "callback" and s["callback_attempt"] > 0)
        resolved = next(e for e in state["timeline"] if e["event"] == "resolved")
        assert resolved["detail"]["incident"] == incident_id
    asked = await eventually(lambda: asyncio.sleep(0, notices(api, case_ids, "callback_request")),
                             lambda rows: {n.case_id for n in rows} == set(case_ids))
    assert {n.recipient_id for n in asked} == set(B1), "every reporter is called back"
    await api.completed(incident_id)
    again = notices(api, [incident_id], "incident_restored")
    assert sorted(n.recipient_id for n in again) == households, "every household hears it is restored, once"
    assert len(notices(api, [incident_id], "incident_notice")) == len(households)

    report = await api.call("supervisor", "GET", "/reports/hotspots", params={"building": "B1"})
    assert report.status_code == 200, report.text
    gathered = next(i for i in report.json()["incidents"] if i["incident_id"] == incident_id)
    assert (gathered["cases"], gathered["root_cause"]) == (30, "a corroded valve on the main")
    listed = await api.call("staff", "GET", "/incidents", params={"building": "B1", "limit": 200})
    assert incident_id in [i["incident_id"] for i in listed.json()["items"]]


async def test_the_refusals_answer_through_http(api: Api) -> None:
    refused = await api.call("resident", "POST", "/incidents", NO_WATER | {"expected_restoration": ahead()})
    assert refused.status_code == 403, refused.text
    past = await api.call("staff", "POST", "/incidents", NO_WATER | {"expected_restoration": ahead(-1)})
    assert past.status_code == 422
    unknown = await api.call("staff", "POST", "/incidents", NO_WATER | {"expected_restoration": ahead(),
                                                                       "units": ["999"]})
    assert unknown.status_code == 422 and "999" in unknown.text

    incident_id = await open_incident(api, who="staff", category="gas", title="No gas", units=["101", "102"])
    elsewhere = await api.submit(who="staff", resident_id="R013", building_id="B2", unit="201",
                                 category="gas")
    other_unit = await api.submit(who="staff", resident_id="R003", building_id="B1", unit="103",
                                  category="gas")
    for case_id in (elsewhere, other_unit):
        attached = await api.call("staff", "POST", f"/incidents/{incident_id}/attach", {"case_id": case_id})
        assert attached.status_code == 409 and "outside this incident" in attached.text, attached.text
    missing = await api.call("staff", "POST", f"/incidents/{incident_id}/attach",
                             {"case_id": "RP-AAAAAAAAAA"})
    assert missing.status_code == 404

    complaint = await api.submit(who="staff", resident_id="R002", building_id="B1", unit="102",
                                 kind="complaint", category="noise")
    refused_by_case = await api.call("staff", "POST", f"/incidents/{incident_id}/attach",
                                     {"case_id": complaint})
    assert refused_by_case.status_code == 409 and "only a repair" in refused_by_case.text
    detail = await eventually(lambda: api.call("staff", "GET", f"/incidents/{incident_id}"),
                              lambda r: r.json()["cases"] == [], within=10)
    assert "case_detached" in [e["event"] for e in detail.json()["timeline"]], "the incident let it go"

    mine = await api.submit(who="staff", resident_id="R001", building_id="B1", unit="101",
                            category="electrical")
    await api.until(mine, lambda s: s["dispatched_at"] is not None)
    attached = await api.call("staff", "POST", f"/incidents/{incident_id}/attach", {"case_id": mine})
    assert attached.status_code == 200, attached.text
    assert [c["case_id"] for c in attached.json()["gathered"]] == [mine]
    twice = await api.call("staff", "POST", f"/incidents/{incident_id}/attach", {"case_id": mine})
    assert twice.status_code == 409 and "already attached" in twice.text

    moved = await api.call("staff", "POST", f"/incidents/{incident_id}/expected-restoration",
                           {"expected_restoration": ahead(6), "reason": "the valve must be ordered"})
    assert moved.status_code == 200, moved.text
    by_resident = await api.call("resident", "POST", f"/incidents/{incident_id}/restore",
                                 {"root_cause": "x y z"})
    assert by_resident.status_code == 403
    no_cause = await api.call("staff", "POST", f"/incidents/{incident_id}/restore", {})
    assert no_cause.status_code == 422 and "root_cause" in no_cause.text
    await restore(api, incident_id)
    await api.until(mine, lambda s: s["status"] == "callback")
    late = await api.call("staff", "POST", f"/incidents/{incident_id}/restore", {"root_cause": "again"})
    assert late.status_code == 409
    with api.database.sessions() as session:
        assert session.scalar(select(func.count()).where(IncidentRow.incident_id == incident_id)) == 1


async def test_the_list_pages_newest_first_by_keyset(api: Api) -> None:
    opened = [await open_incident(api, who="staff", category="gas", title="No gas", units=[unit])
              for unit in ("111", "112")]
    first = await api.call("staff", "GET", "/incidents", params={"status": "open", "limit": 1})
    assert first.status_code == 200, first.text
    token = first.json()["next_page_token"]
    second = await api.call("staff", "GET", "/incidents",
                            params={"status": "open", "limit": 1, "page_token": token})
    ids = [first.json()["items"][0]["incident_id"], second.json()["items"][0]["incident_id"]]
    assert ids == opened[::-1], "newest first, no row twice"
    other_filters = await api.call("staff", "GET", "/incidents", params={"limit": 1, "page_token": token})
    assert other_filters.status_code == 422, "a token belongs to its filters"
    for incident_id in opened:
        await restore(api, incident_id)


def test_the_documented_examples_are_valid_requests() -> None:
    from api.routes.incidents import EXAMPLES, AttachBody, OpenBody, RestorationBody, RestoreBody

    models = {"open": OpenBody, "attach": AttachBody, "restore": RestoreBody, "restoration": RestorationBody}
    for name, model in models.items():
        for example in EXAMPLES[name].values():
            model.model_validate(example["value"])
