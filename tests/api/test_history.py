"""`GET /requests/{id}/history`: the case's timeline for people, from the Temporal event history."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from steward.store.on_duty import on_duty_in_tier
from tests.api.conftest import Api, policy_file
from tests.api.test_lifecycle import new_resident_without_phone
from workflows.actions import CallbackReply
from workflows.contracts import Channel, Tier


@pytest.fixture
async def fast_api(running_api, dev_env, sqlite_database, tmp_path):
    """A two-second response window, so a case escalates while the test watches."""
    policy = policy_file(tmp_path, normal={"response": "2s"})
    async with running_api(dev_env, sqlite_database, sla_policy=policy) as api:
        yield api


async def history(api: Api, case_id: str, language: str) -> dict:
    response = await api.call("supervisor", "GET", f"/requests/{case_id}/history",
                              headers={"Accept-Language": language})
    assert response.status_code == 200, response.text
    return response.json() | {"content_language": response.headers["content-language"]}


def entry(timeline: dict, event: str) -> dict:
    found = [e for e in timeline["entries"] if e["event"] == event]
    assert found, f"no {event} in {[e['event'] for e in timeline['entries']]}"
    return found[0]


async def test_history_shows_the_escalation_the_pause_and_the_callback_in_both_languages(
    fast_api: Api,
) -> None:
    api = fast_api
    await new_resident_without_phone(api)
    case_id = await api.submit("tan", unit="104")
    await api.until(case_id, lambda s: s["escalations"] >= 1)

    device_time = datetime.now(UTC) - timedelta(minutes=3)
    steps = [
        ("staff", "acknowledge", {"occurred_at": device_time.isoformat()}),
        ("staff", "pause", {"reason": "awaiting parts: a valve"}),
        ("staff", "resume", {}),
        ("staff", "resolve", {"note": "Valve replaced."}),
    ]
    for who, action, body in steps:
        response = await api.call(who, "POST", f"/requests/{case_id}/{action}", body)
        assert response.status_code == 200, response.text
    await api.until(case_id, lambda s: s["status"] == "manual_callback")
    recorded = await api.call("colleague", "POST", f"/requests/{case_id}/callback",
                              {"result": "satisfied", "note": "Visited him; all good.",
                               "reached_by": "visit"})
    assert recorded.status_code == 200, recorded.text
    await api.completed(case_id)

    english = await history(api, case_id, "en-GB,en;q=0.9")
    chinese = await history(api, case_id, "zh-CN,zh;q=0.9,en;q=0.8")
    assert (english["locale"], english["content_language"]) == ("en", "en")
    assert (chinese["locale"], chinese["content_language"]) == ("zh-CN", "zh-CN")
    assert english["temporal_url"].endswith(f"/namespaces/default/workflows/{case_id}")

    times = [datetime.fromisoformat(e["at"]) for e in english["entries"]]
    assert times == sorted(times)
    events = [e["event"] for e in english["entries"]]
    assert events[0] == "submitted" and events[-1] == "closed"
    assert events.index("escalated") < events.index("acknowledged") < events.index("paused") \
        < events.index("resumed") < events.index("resolved") < events.index("manual_callback") \
        < events.index("manual_callback_recorded") < events.index("closed")

    assert entry(english, "deadline")["text"].startswith("The response deadline")
    assert entry(english, "escalated")["text"] == "Escalated to tier 1 (team lead)"
    assert entry(chinese, "escalated")["text"] == "已升级至第 1 级（班组长）"

    acknowledged = entry(english, "acknowledged")
    assert acknowledged["actor"] == "S001"
    assert datetime.fromisoformat(acknowledged["device_at"]) == device_time
    assert datetime.fromisoformat(acknowledged["at"]) > device_time

    assert entry(english, "paused")["text"] == \
        "S001 paused the resolution clock: awaiting parts: a valve (resume time: none given)"
    assert entry(chinese, "paused")["text"] == \
        "S001 暂停处理计时：awaiting parts: a valve（恢复时间：未填写）"
    assert entry(english, "manual_callback_recorded")["text"] == \
        "S002 recorded the callback: satisfied — Visited him; all good."
    assert entry(chinese, "manual_callback_recorded")["text"] == \
        "S002 记录回访结果：满意——Visited him; all good."
    assert entry(english, "closed")["text"] == "Case closed; callback result: satisfied"
    assert entry(chinese, "closed")["text"] == "已办结，回访结果：满意"

    # The page read who was on duty inside its send: one message per team lead of B1 with a phone.
    pages = [e for e in english["entries"]
             if e["event"] == "message" and e["detail"]["template"] == "escalation"]
    with api.database.sessions() as session:
        on_duty = {staff.id for staff in on_duty_in_tier(session, Tier.team_lead, "B1") if staff.phone}
    assert sorted(page["detail"]["recipient"] for page in pages) == sorted(on_duty) and on_duty
    for page in pages:
        assert page["text"].startswith(f"SMS to {page['detail']['recipient']}: ")
        assert "[Escalation, team lead]" in page["text"]
        assert page["delivery"]["status"] not in ("pending", "failed")


async def test_history_shows_the_residents_answer_and_each_message_with_its_delivery(api: Api) -> None:
    case_id = await api.submit("resident")
    await api.until(case_id, lambda s: s["status"] == "dispatched")
    for action, body in [("acknowledge", {}), ("resolve", {"note": "Tap washer replaced."})]:
        assert (await api.call("staff", "POST", f"/requests/{case_id}/{action}", body)).status_code == 200
    state = await api.until(case_id, lambda s: s["next_deadline_kind"] == "callback_reply")
    # What the SMS webhook does when the resident replies "1".
    await api.env.client.get_workflow_handle(case_id).signal("callback_reply", CallbackReply(
        attempt=state["callback_attempt"], satisfied=True, channel=Channel.sms, received_at=datetime.now(UTC),
    ))
    await api.completed(case_id)

    english = await history(api, case_id, "en")
    assert entry(english, "submitted")["text"] == "R001 submitted a repair (normal, plumbing, building B1)"
    answer = entry(english, "callback_reply")
    assert answer["text"] == "The resident answered callback attempt 1 by SMS: satisfied"
    chinese = await history(api, case_id, "zh")
    assert entry(chinese, "submitted")["text"] == "R001 提交了报修（一般，plumbing，B1 栋）"
    assert entry(chinese, "callback_reply")["text"] == "住户通过短信答复第 1 次回访：满意"

    messages = [e for e in english["entries"] if e["event"] == "message"]
    templates = [m["detail"]["template"] for m in messages]
    assert {"case_received", "dispatch", "callback_request"} <= set(templates)
    callback = messages[templates.index("callback_request")]
    assert callback["detail"]["recipient"] == "R001"
    assert callback["text"].startswith("SMS to R001: Your case")
    assert all(m["delivery"] is not None for m in messages)


async def test_history_is_for_supervisors_and_unknown_cases_are_404(api: Api) -> None:
    case_id = await api.submit("resident")
    assert (await api.call("staff", "GET", f"/requests/{case_id}/history")).status_code == 403
    missing = await api.call("supervisor", "GET", "/requests/RP-NOSUCHCASE/history")
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "not_found"


@pytest.mark.parametrize(("header", "locale"), [
    (None, "zh-CN"), ("en", "en"), ("en-US,en;q=0.9", "en"), ("fr-FR,en;q=0.5,zh;q=0.4", "en"),
    ("zh-TW", "zh-CN"), ("en;q=0.2,zh-CN;q=0.8", "zh-CN"), ("de", "zh-CN"), ("en;q=0", "zh-CN"),
    ("*;q=abc, en", "en"),
])
def test_the_language_follows_accept_language(header: str | None, locale: str) -> None:
    from api.history import preferred_locale

    assert preferred_locale(header).value == locale
