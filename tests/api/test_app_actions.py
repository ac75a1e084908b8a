"""What the staff app relies on, through HTTP → Temporal → activities → the database, on SQLite and
PostgreSQL: an action sent twice with its action id acts once and is answered as the first was;
photos are checked from their bytes, cleaned and tied to their case and author; my work and my
notices hold only what is mine, and opening a notice keeps the first time it was opened."""

from __future__ import annotations

import io
import pathlib
import re
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from PIL import Image
from sqlalchemy import select

from api.app import create_app
from steward.store.models import Notification
from tests.api.conftest import Api


@pytest.fixture
async def api(running_api, dev_env, database) -> AsyncIterator[Api]:
    async with running_api(dev_env, database) as running:
        yield running


def jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (32, 24), (10, 200, 30)).save(out, format="JPEG")
    return out.getvalue()


async def dispatched(api: Api) -> str:
    case_id = await api.submit("resident")
    await api.until(case_id, lambda s: s["status"] == "dispatched" and s["handler_id"] == "S001")
    return case_id


async def upload(api: Api, case_id: str, data: bytes, who: str = "staff", media_type: str = "image/jpeg"):
    return await api.call(who, "POST", f"/requests/{case_id}/photos", content=data,
                          headers={"Content-Type": media_type})


async def test_an_action_sent_twice_with_its_action_id_acts_once_and_is_answered_as_the_first(
        api: Api) -> None:
    case_id = await dispatched(api)
    ack = {"action_id": uuid.uuid4().hex, "occurred_at": "2026-12-03T08:00:00Z"}
    first = await api.call("staff", "POST", f"/requests/{case_id}/acknowledge", ack)
    again = await api.call("staff", "POST", f"/requests/{case_id}/acknowledge", ack)
    assert first.status_code == again.status_code == 200, again.text
    assert again.json() == first.json()
    other = await api.call("staff", "POST", f"/requests/{case_id}/acknowledge",
                           {"action_id": uuid.uuid4().hex})
    assert other.status_code == 409 and "already acknowledged" in other.json()["error"]["message"]

    note = {"note": "Washer worn.", "action_id": uuid.uuid4().hex}
    for _ in range(2):
        response = await api.call("staff", "POST", f"/requests/{case_id}/progress", note)
        assert response.status_code == 202, response.text
    resolve = {"note": "Washer replaced.", "action_id": uuid.uuid4().hex}
    first = await api.call("staff", "POST", f"/requests/{case_id}/resolve", resolve)
    again = await api.call("staff", "POST", f"/requests/{case_id}/resolve", resolve)
    assert first.status_code == again.status_code == 200, again.text
    assert again.json() == first.json()
    events = [entry["event"] for entry in (await api.state(case_id))["timeline"]]
    assert events.count("acknowledged") == events.count("progress") == events.count("resolved") == 1, events
    assert events.index("progress") < events.index("resolved")


async def test_a_file_that_is_not_an_image_is_refused_and_a_photo_is_tied_to_its_case_and_author(
        api: Api) -> None:
    case_id = await dispatched(api)
    refused = await upload(api, case_id, b"%PDF-1.4 not a photo at all", media_type="image/jpeg")
    assert refused.status_code == 415 and "not an image" in refused.json()["error"]["message"], refused.text
    too_big = await upload(api, case_id, b"\xff" * (10 * 1024 * 1024 + 1))
    assert too_big.status_code == 413, too_big.text
    assert (await upload(api, case_id, jpeg(), who="colleague")).status_code == 404  # not their case
    assert (await upload(api, case_id, jpeg(), who="neighbour")).status_code == 404  # not their case
    assert (await upload(api, case_id, jpeg(), who="resident")).status_code == 201  # their own (issue 20)

    stored = await upload(api, case_id, jpeg())
    assert stored.status_code == 201, stored.text
    photo_id = stored.json()["photo_id"]
    other_case = await dispatched(api)
    misplaced = await api.call("staff", "POST", f"/requests/{other_case}/progress",
                               {"note": "See the photo.", "photos": [photo_id]})
    assert misplaced.status_code == 422 and photo_id in misplaced.json()["error"]["message"]
    borrowed = await api.call("supervisor", "POST", f"/requests/{case_id}/progress",
                              {"note": "See the photo.", "photos": [photo_id]})
    assert borrowed.status_code == 422, borrowed.text

    resolved = await api.call("staff", "POST", f"/requests/{case_id}/resolve",
                              {"note": "Done, see the photo.", "photos": [photo_id]})
    assert resolved.status_code == 200, resolved.text
    entry = next(e for e in resolved.json()["timeline"] if e["event"] == "resolved")
    assert entry["detail"]["photos"] == [photo_id]
    served = await api.call("supervisor", "GET", f"/requests/{case_id}/photos/{photo_id}")
    assert served.status_code == 200 and served.content[:2] == b"\xff\xd8"
    elsewhere = await api.call("supervisor", "GET", f"/requests/{other_case}/photos/{photo_id}")
    assert elsewhere.status_code == 404


async def test_my_work_and_my_notices_hold_only_what_is_mine(api: Api) -> None:
    case_id = await dispatched(api)
    work = await api.call("staff", "GET", "/app/api/work")
    assert work.status_code == 200, work.text
    mine = next(item for item in work.json()["items"] if item["case_id"] == case_id)
    assert mine["why"] == "handler" and mine["next_deadline_kind"] == "response_missed"
    colleague = await api.call("colleague", "GET", "/app/api/work")
    assert case_id not in {item["case_id"] for item in colleague.json()["items"]}
    assert (await api.call("resident", "GET", "/app/api/work")).status_code == 403

    notices = (await api.call("staff", "GET", "/app/api/notices")).json()
    dispatch = next(n for n in notices["items"] if n["case_id"] == case_id and n["template"] == "dispatch")
    assert dispatch["read_at"] is None and case_id in dispatch["text"]
    key = dispatch["key"]
    assert (await api.call("colleague", "POST", f"/app/api/notices/{key}/read")).status_code == 404
    first = await api.call("staff", "POST", f"/app/api/notices/{key}/read")
    again = await api.call("staff", "POST", f"/app/api/notices/{key}/read")
    assert first.status_code == again.status_code == 200
    assert first.json()["read_at"] is not None and again.json()["read_at"] == first.json()["read_at"]
    with api.database.sessions() as session:
        row = session.scalars(select(Notification).where(Notification.key == key)).one()
        assert row.recipient_id == "S001" and row.read_at is not None

    me = await api.call("resident", "GET", "/app/api/me")
    assert me.status_code == 200 and me.json()["role"] == "resident" and me.json()["id"] == "R001"


def _imported_by_the_app() -> set[str]:
    """Every file the app's scripts import, as the shell's paths."""
    scripts = pathlib.Path("api/staff_app").glob("*.js")
    names = (name for script in scripts for name in re.findall(r'from "\./([\w.]+)"', script.read_text()))
    return {f"/app/assets/{name}" for name in names}


async def test_the_app_is_installable_and_served_with_a_strict_policy() -> None:
    transport = httpx.ASGITransport(app=create_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://steward.test") as http:
        page = await http.get("/app/")
        assert page.status_code == 200 and "default-src 'self'" in page.headers["content-security-policy"]
        manifest = await http.get("/app/manifest.webmanifest")
        assert manifest.headers["content-type"].startswith("application/manifest+json")
        icons = manifest.json()["icons"]
        assert {"192x192", "512x512"} <= {icon["sizes"] for icon in icons}
        for icon in icons:
            assert (await http.get(icon["src"])).status_code == 200, icon
        worker = await http.get("/app/sw.js")
        assert worker.status_code == 200 and worker.headers["content-type"].startswith("text/javascript")
        shell = re.findall(r'"(/app/[^"]*)"', worker.text.split("const SHELL = [", 1)[1].split("];", 1)[0])
        imported = _imported_by_the_app()
        assert imported and imported <= set(shell), imported - set(shell)
        for asset in shell:  # the offline shell caches every file the app imports: each one is served
            assert (await http.get(asset)).status_code == 200, asset
        assert (await http.get("/app/assets/__init__.py")).status_code == 404
