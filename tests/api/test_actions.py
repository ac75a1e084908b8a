"""Actions on a case: the workflow's refusal is a 409 with its reason and changes nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.api.conftest import Api


def later(hours: float) -> str:
    return (datetime.now(UTC) + timedelta(hours=hours)).isoformat()


REFUSED_ON_A_DISPATCHED_CASE = [
    ("staff", "pause", {"reason": "awaiting parts"}, "acknowledge the case before pausing it"),
    ("staff", "resume", {}, "the case is not paused"),
    ("resident", "resume", {}, "the case is not paused"),
    ("staff", "severity", {"severity": "normal"}, "the severity is already normal"),
    ("staff", "severity", {"severity": "low", "reason": "only cosmetic"}, "only a supervisor can lower"),
    ("supervisor", "severity", {"severity": "low"}, "lowering the severity needs a reason"),
    ("supervisor", "extend", {"resolution_due": later(1), "reason": "contractor booked"},
     "must be later than the current deadline"),
    ("supervisor", "extend", {"resolution_due": later(72)}, "an extension needs a reason"),
    ("staff", "reassign", {"handler_id": "S001", "reason": "closer by"}, "S001 already handles the case"),
    ("staff", "callback", {"result": "satisfied", "note": "called", "reached_by": "phone"},
     "not in its callback"),
]


@pytest.mark.parametrize(("who", "action", "body", "reason"), REFUSED_ON_A_DISPATCHED_CASE,
                         ids=[f"{w}-{a}-{r[:20]}" for w, a, _, r in REFUSED_ON_A_DISPATCHED_CASE])
async def test_a_refused_update_answers_409_with_the_reason_and_leaves_the_case_as_it_was(
    api: Api, who: str, action: str, body: dict, reason: str,
) -> None:
    case_id = await api.submit()
    before = await api.until(case_id, lambda s: s["status"] == "dispatched" and s["handler_id"] is not None)

    response = await api.call(who, "POST", f"/requests/{case_id}/{action}", body)

    assert response.status_code == 409, response.text
    error = response.json()["error"]
    assert error["code"] == "refused"
    assert reason in error["message"]
    assert await api.state(case_id) == before
    history = await api.env.client.get_workflow_handle(case_id).fetch_history()
    assert not [event for event in history.events
                if event.HasField("workflow_execution_update_accepted_event_attributes")]


async def test_reassigning_to_someone_not_in_the_directory_is_422(api: Api) -> None:
    case_id = await api.submit()
    before = await api.until(case_id, lambda s: s["status"] == "dispatched")
    response = await api.call("staff", "POST", f"/requests/{case_id}/reassign",
                              {"handler_id": "S999", "reason": "closer by"})
    assert response.status_code == 422
    assert "no staff member S999" in response.json()["error"]["message"]
    assert await api.state(case_id) == before


async def test_acknowledging_twice_is_refused_and_the_owner_stays(api: Api) -> None:
    case_id = await api.submit()
    await api.until(case_id, lambda s: s["status"] == "dispatched")
    assert (await api.call("staff", "POST", f"/requests/{case_id}/acknowledge")).status_code == 200
    owned = await api.state(case_id)
    second = await api.call("colleague", "POST", f"/requests/{case_id}/acknowledge")
    assert second.status_code == 409
    assert "already acknowledged by S001" in second.json()["error"]["message"]
    assert await api.state(case_id) == owned


async def test_the_actor_comes_from_the_token_never_from_the_body(api: Api) -> None:
    case_id = await api.submit()
    await api.until(case_id, lambda s: s["status"] == "dispatched")
    forged = await api.call("staff", "POST", f"/requests/{case_id}/acknowledge",
                            {"actor": {"id": "S301", "role": "supervisor"}})
    assert forged.status_code == 422
    assert (await api.state(case_id))["owner_id"] is None


@pytest.mark.parametrize("case_id", ["RP-DOESNOTEXIST", "RP-AAAAAAAAAA", "CP-2222222222"])
async def test_actions_on_an_unknown_case_are_404(api: Api, case_id: str) -> None:
    """Whether or not the id is one the API could have made (staff updates on those skip the look-up)."""
    for action, body in [("acknowledge", {}), ("progress", {"note": "hello"}), ("resolve", {"note": "done"})]:
        response = await api.call("staff", "POST", f"/requests/{case_id}/{action}", body)
        assert response.status_code == 404, (action, response.text)
        assert response.json()["error"]["code"] == "not_found"


async def test_staff_raise_the_severity_and_the_deadlines_tighten(api: Api) -> None:
    case_id = await api.submit()
    before = await api.until(case_id, lambda s: s["status"] == "dispatched")
    raised = await api.call("staff", "POST", f"/requests/{case_id}/severity", {"severity": "urgent"})
    assert raised.status_code == 200, raised.text
    after = raised.json()
    assert after["severity"] == "urgent"
    assert datetime.fromisoformat(after["resolution_due"]) < datetime.fromisoformat(before["resolution_due"])


async def test_a_supervisor_extends_the_deadline_with_a_reason(api: Api) -> None:
    case_id = await api.submit()
    await api.until(case_id, lambda s: s["status"] == "dispatched")
    target = later(72)
    extended = await api.call("supervisor", "POST", f"/requests/{case_id}/extend",
                              {"resolution_due": target, "reason": "the pipe is inside the wall"})
    assert extended.status_code == 200, extended.text
    assert datetime.fromisoformat(extended.json()["resolution_due"]) == datetime.fromisoformat(target)


async def test_the_resident_withdraws_their_own_case(api: Api) -> None:
    case_id = await api.submit()
    await api.until(case_id, lambda s: s["status"] == "dispatched")
    withdrawn = await api.call("resident", "POST", f"/requests/{case_id}/withdraw",
                               {"reason": "fixed it myself"})
    assert withdrawn.status_code == 200, withdrawn.text
    assert withdrawn.json()["withdrawn"] is True
    again = await api.call("resident", "POST", f"/requests/{case_id}/withdraw")
    assert again.status_code == 409


async def test_a_progress_note_is_accepted_at_once(api: Api) -> None:
    case_id = await api.submit()
    await api.until(case_id, lambda s: s["status"] == "dispatched")
    response = await api.call("staff", "POST", f"/requests/{case_id}/progress", {"note": "On my way."})
    assert response.status_code == 202
    assert response.json() == {"case_id": case_id, "accepted": True}
    state = await api.until(case_id, lambda s: any(e["event"] == "progress" for e in s["timeline"]))
    note = next(e for e in state["timeline"] if e["event"] == "progress")
    assert note["actor"] == {"id": "S001", "role": "staff"}
    assert note["detail"]["note"] == "On my way."
