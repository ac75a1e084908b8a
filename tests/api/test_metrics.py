"""`GET /metrics` on the API: who may scrape, request counters by route template, open cases from SQL."""

from __future__ import annotations

import asyncio
import uuid

import httpx
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import func, select

from api.app import create_app
from steward.store.models import Case
from tests.api.conftest import Api, policy_file
from tests.api.test_lifecycle import new_resident_without_phone
from tests.conftest import make_settings
from workflows.contracts import Role

TOKEN = "scrape-me-0123456789"
SCRAPER = {"Authorization": f"Bearer {TOKEN}"}


def samples(text: str, name: str, **labels: str) -> float:
    """The sum of `name`'s samples whose labels include `labels`."""
    total = 0.0
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and labels.items() <= sample.labels.items():
                total += sample.value
    return total


async def scrape(api: Api) -> str:
    response = await api.http.get("/metrics", headers=SCRAPER)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return response.text


async def test_metrics_are_not_served_without_a_configured_token(dev_env, sqlite_database, sandbox,
                                                                 api_port) -> None:
    app = create_app(make_settings(sqlite_database, sandbox, api_port), client=dev_env.client,
                     engine=sqlite_database.engine)
    async with app.router.lifespan_context(app), httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://steward.test") as http:
        for headers in ({}, SCRAPER):
            response = await http.get("/metrics", headers=headers)
            assert response.status_code == 404
            assert response.json()["error"]["code"] == "not_found"


async def test_only_the_metrics_token_may_scrape(running_api, dev_env, sqlite_database) -> None:
    async with running_api(dev_env, sqlite_database, metrics_token=TOKEN) as api:
        for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Basic {TOKEN}"},
                        api.auth("admin")):
            response = await api.http.get("/metrics", headers=headers)
            assert response.status_code == 401, headers
            assert response.json()["error"]["code"] == "unauthorized"
        assert "steward_http_requests_total" in await scrape(api)


async def test_requests_are_counted_by_route_template_and_status(running_api, dev_env,
                                                                 sqlite_database) -> None:
    async with running_api(dev_env, sqlite_database, metrics_token=TOKEN) as api:
        before = await scrape(api)
        for _ in range(3):
            assert (await api.http.get("/sla")).status_code == 200
        for case_id in ("RP-NOPE1", "RP-NOPE2"):
            assert (await api.call("supervisor", "GET", f"/requests/{case_id}")).status_code == 404
        after = await scrape(api)

        def moved(name: str, **labels: str) -> float:
            return samples(after, name, **labels) - samples(before, name, **labels)

        assert moved("steward_http_requests_total", method="GET", route="/sla", status="200") == 3
        assert moved("steward_http_requests_total", method="GET", route="/requests/{case_id}",
                     status="404") == 2
        assert moved("steward_http_request_duration_seconds_count", method="GET", route="/sla") == 3
        assert samples(after, "steward_http_requests_total", route="/requests/RP-NOPE1") == 0


async def test_open_cases_gauge_follows_cases_created_through_the_api(running_api, dev_env,
                                                                      sqlite_database) -> None:
    async with running_api(dev_env, sqlite_database, metrics_token=TOKEN) as api:
        before = samples(await scrape(api), "steward_open_cases", kind="repair", severity="urgent")
        sent_before = samples(await scrape(api), "steward_sends_total")
        for _ in range(2):
            await api.submit(severity="urgent")

        deadline = asyncio.get_running_loop().time() + 30
        while True:
            text = await scrape(api)
            if samples(text, "steward_open_cases", kind="repair", severity="urgent") - before == 2:
                break
            assert asyncio.get_running_loop().time() < deadline, text
            await asyncio.sleep(0.2)
        with sqlite_database.sessions() as session:
            open_in_sql = session.scalar(
                select(func.count()).select_from(Case).where(Case.status != "closed"))
        assert samples(text, "steward_open_cases") == open_in_sql
        # Each case's dispatch notice went out through the notify activity, which counted it.
        while samples(text, "steward_sends_total") - sent_before < 2:
            assert asyncio.get_running_loop().time() < deadline, text
            await asyncio.sleep(0.2)
            text = await scrape(api)


async def test_escalations_breaches_and_callbacks_are_counted_by_the_worker(
    running_api, dev_env, sqlite_database, tmp_path
) -> None:
    """A two-second response window and a four-second resolution window: the case escalates and breaches
    while nobody acts, then a person records the callback."""
    policy = policy_file(tmp_path, normal={"response": "2s", "resolution": "4s"})
    async with running_api(dev_env, sqlite_database, metrics_token=TOKEN, sla_policy=policy) as api:
        before = await scrape(api)

        def moved(text: str, name: str, **labels: str) -> float:
            return samples(text, name, **labels) - samples(before, name, **labels)

        await new_resident_without_phone(api)
        case_id = await api.submit("tan", unit="104")
        await api.until(case_id, lambda s: s["resolution_breached"])
        assert (await api.call("staff", "POST", f"/requests/{case_id}/acknowledge")).status_code == 200
        resolved = await api.call("staff", "POST", f"/requests/{case_id}/resolve", {"note": "Fixed."})
        assert resolved.status_code == 200, resolved.text
        await api.until(case_id, lambda s: s["status"] == "manual_callback")
        recorded = await api.call("colleague", "POST", f"/requests/{case_id}/callback", {
            "result": "satisfied", "note": "Visited; all good.", "reached_by": "visit"})
        assert recorded.status_code == 200, recorded.text
        await api.completed(case_id)

        deadline = asyncio.get_running_loop().time() + 30
        while True:
            text = await scrape(api)
            counts = (moved(text, "steward_escalations_total", kind="repair", reason="response_missed"),
                      moved(text, "steward_breaches_total", kind="repair", severity="normal"),
                      moved(text, "steward_callbacks_total", outcome="satisfied", by="staff"))
            if counts[0] >= 1 and counts[1:] == (1, 1):
                break
            assert asyncio.get_running_loop().time() < deadline, counts
            await asyncio.sleep(0.2)


async def test_a_send_twilio_refuses_is_counted_by_channel_and_reason(running_api, dev_env,
                                                                     sqlite_database) -> None:
    """A resident in a region the account may not text: the case's first SMS to them is refused for good
    (Twilio's 21408; the sandbox's magic number for it), and nothing about the resident changes."""
    async with running_api(dev_env, sqlite_database, metrics_token=TOKEN) as api:
        before = samples(await scrape(api), "steward_send_failures_total", channel="sms",
                         reason="SendRejected")
        resident_id = f"RM{uuid.uuid4().hex[:6].upper()}"
        created = await api.call("admin", "POST", "/residents", {
            "id": resident_id, "household_id": "H-B1-104", "name": "Mr Wu",
            "phone": "+15005550003", "locale": "en", "preferred_channel": "sms"})
        assert created.status_code == 201, created.text
        api.person("wu", Role.resident, resident_id)
        await api.submit("wu", unit="104", severity="urgent")

        deadline = asyncio.get_running_loop().time() + 30
        while samples(text := await scrape(api), "steward_send_failures_total", channel="sms",
                      reason="SendRejected") - before < 1:
            assert asyncio.get_running_loop().time() < deadline, text
            await asyncio.sleep(0.2)
