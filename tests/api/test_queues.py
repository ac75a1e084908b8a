"""Queues for people, through HTTP: a manual callback task is in its queue until it is recorded, an
unmatched SMS is attached to a case from its queue, and app notices nobody opened are listed once
they are past the unread window."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

from twilio.request_validator import RequestValidator

from steward.store.models import Notification
from tests.api.conftest import PATIENCE_S, Api
from tests.api.test_lifecycle import new_resident_without_phone
from tests.conftest import TEST_AUTH_TOKEN


async def queued(api: Api, path: str, key: str, item_id: str, present: bool, **params) -> dict | None:
    """Poll a queue until the item is in it (or gone from it)."""
    deadline = asyncio.get_running_loop().time() + PATIENCE_S
    while True:
        response = await api.call("supervisor", "GET", path, params=params | {"limit": 200})
        assert response.status_code == 200, response.text
        item = next((entry for entry in response.json()["items"] if entry[key] == item_id), None)
        if (item is not None) == present:
            return item
        where = "never" if present else "still"
        assert asyncio.get_running_loop().time() < deadline, f"{item_id} {where} in {path}"
        await asyncio.sleep(0.3)


async def test_a_manual_callback_is_queued_until_it_is_recorded(api: Api) -> None:
    await new_resident_without_phone(api)
    case_id = await api.submit("tan", unit="104")
    await api.until(case_id, lambda s: s["status"] == "dispatched")
    assert (await api.call("staff", "POST", f"/requests/{case_id}/acknowledge")).status_code == 200
    resolved = await api.call("staff", "POST", f"/requests/{case_id}/resolve", {"note": "Valve replaced."})
    assert resolved.status_code == 200, resolved.text
    state = await api.until(case_id, lambda s: s["status"] == "manual_callback")

    item = await queued(api, "/queues/manual-callbacks", "case_id", case_id, present=True, building="B1")
    assert item["owner_id"] == "S001" and item["unit"] == "104"
    assert datetime.fromisoformat(item["next_deadline"]) == datetime.fromisoformat(state["next_deadline"])
    assert state["next_deadline_kind"] == "manual_callback_missed"

    recorded = await api.call("colleague", "POST", f"/requests/{case_id}/callback",  # never the resolver
                              {"result": "satisfied", "note": "Visited him; the tap is fine.",
                               "reached_by": "visit"})
    assert recorded.status_code == 200, recorded.text
    await queued(api, "/queues/manual-callbacks", "case_id", case_id, present=False, building="B1")


async def sms_from_a_stranger(api: Api, body: str) -> None:
    """An SMS from a number Steward does not know, as Twilio posts it (signed)."""
    form = {"MessageSid": f"SM{uuid.uuid4().hex}", "From": "+8613900009999",
            "To": api.settings.twilio_from_number, "Body": body}
    url = f"{api.settings.webhook_base_url}/webhooks/twilio/sms"
    signature = RequestValidator(TEST_AUTH_TOKEN).compute_signature(url, form)
    response = await api.http.post("/webhooks/twilio/sms", data=form,
                                   headers={"X-Twilio-Signature": signature})
    assert response.status_code == 200, response.text


async def test_an_unmatched_sms_is_attached_to_a_case_from_its_queue(api: Api) -> None:
    case_id = await api.submit("resident")
    other = await api.submit("resident")
    await api.until(case_id, lambda s: s["status"] == "dispatched")
    text = f"楼道灯不亮 {uuid.uuid4().hex[:6]}"
    await sms_from_a_stranger(api, text)
    listed = (await api.call("staff", "GET", "/inbound-messages")).json()["items"]
    sid = next(entry["sid"] for entry in listed if entry["body"] == text)

    attached = await api.call("staff", "POST", f"/inbound-messages/{sid}/assign/{case_id}")
    assert attached.status_code == 200, attached.text
    assert (attached.json()["case_id"], attached.json()["outcome"]) == (case_id, "assigned")
    state = await api.until(case_id, lambda s: any(text in str(e["detail"].get("note"))
                                                   for e in s["timeline"] if e["event"] == "progress"))
    note = next(e for e in state["timeline"] if e["event"] == "progress")
    assert note["actor"] == {"id": "S001", "role": "staff"}
    remaining = (await api.call("staff", "GET", "/inbound-messages")).json()["items"]
    assert sid not in {entry["sid"] for entry in remaining}

    again = await api.call("supervisor", "POST", f"/inbound-messages/{sid}/assign/{case_id}")
    assert again.status_code == 200
    state = await api.state(case_id)
    assert sum(text in str(e["detail"].get("note")) for e in state["timeline"]) == 1
    elsewhere = await api.call("supervisor", "POST", f"/inbound-messages/{sid}/assign/{other}")
    assert elsewhere.status_code == 409 and elsewhere.json()["error"]["code"] == "conflict"
    missing = await api.call("staff", "POST", f"/inbound-messages/SMnothing/assign/{case_id}")
    assert missing.status_code == 404
    resident = await api.call("resident", "POST", f"/inbound-messages/{sid}/assign/{case_id}")
    assert resident.status_code == 403


async def test_an_unmatched_sms_cannot_go_to_a_closed_or_unknown_case(api: Api) -> None:
    text = f"no light {uuid.uuid4().hex[:6]}"
    await sms_from_a_stranger(api, text)
    listed = (await api.call("staff", "GET", "/inbound-messages")).json()["items"]
    sid = next(entry["sid"] for entry in listed if entry["body"] == text)
    unknown = await api.call("staff", "POST", f"/inbound-messages/{sid}/assign/RP-AAAAAAAAAA")
    assert unknown.status_code == 404, unknown.text
    bad = await api.call("staff", "POST", f"/inbound-messages/{sid}/assign/not-a-case")
    assert bad.status_code == 422
    still = (await api.call("staff", "GET", "/inbound-messages")).json()["items"]
    assert sid in {entry["sid"] for entry in still}


async def test_app_notices_unread_past_the_window_are_queued(api: Api) -> None:
    """Rows written as the notifier writes an app notice (channel app, for a person, unread)."""
    now = datetime.now(UTC)
    tag = uuid.uuid4().hex[:8]

    def notice(name: str, minutes_ago: float, read: bool = False) -> str:
        key = f"RP-TEST{tag}:{name}:S001:app"
        created = now - timedelta(minutes=minutes_ago)
        with api.database.sessions.begin() as session:
            session.add(Notification(key=key, case_id=f"RP-TEST{tag}", to="S001", channel="app",
                                     template="dispatch", locale="en", params={}, body="New case",
                                     status="delivered", created_at=created, updated_at=created,
                                     recipient_id="S001", read_at=created if read else None))
        return key

    late, fresh, read = notice("late", 11), notice("fresh", 5), notice("read", 30, read=True)
    response = await api.call("supervisor", "GET", "/queues/unread-notices", params={"limit": 200})
    assert response.status_code == 200, response.text
    body = response.json()
    keys = [item["key"] for item in body["items"]]
    assert late in keys and fresh not in keys and read not in keys
    assert body["window_minutes"] == 10
    item = next(item for item in body["items"] if item["key"] == late)
    assert item["recipient_id"] == "S001" and item["minutes_unread"] >= 10
    stamps = [datetime.fromisoformat(item["created_at"]) for item in body["items"]]
    assert stamps == sorted(stamps)
