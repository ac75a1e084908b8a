"""Text the service centre (issue 22): a resident's SMS that answers nothing opens a case for their
home, whose own receipt texts back its code and deadlines; more texts within minutes join it; a
stranger's text opens nothing and waits for a person; STOP keeps its meaning. Through the signed Twilio
webhook, the case workflow on the dev server, the Twilio sandbox and the database."""

from __future__ import annotations

import uuid

from sqlalchemy import select

from steward.store.models import InboundMessage, Notification, Resident
from tests.api.conftest import Api
from tests.api.test_drills import _sms, eventually


def phone_of(api: Api, resident_id: str) -> str:
    with api.database.sessions() as session:
        return session.get(Resident, resident_id).phone


def kept(api: Api, text: str) -> InboundMessage:
    with api.database.sessions() as session:
        row = session.scalars(select(InboundMessage).where(InboundMessage.body == text)
                              .order_by(InboundMessage.received_at.desc())).first()
        session.expunge(row)
        return row


async def texted(api: Api, who: str, text: str) -> tuple[str, InboundMessage]:
    response = await _sms(api, phone_of(api, who) if who.startswith("R") else who, text)
    assert response.status_code == 200, response.text
    return response.text, kept(api, text)


async def test_a_residents_text_opens_a_repair_whose_receipt_texts_back_its_deadlines(api: Api) -> None:
    text = f"厨房水管漏了 {uuid.uuid4().hex[:4]}"
    reply, message = await texted(api, "R001", text)
    assert (message.outcome, message.case_id is not None) == ("reported", True)
    case_id = message.case_id
    api.case_ids.append(case_id)
    assert case_id.startswith("RP-") and "<Message>" not in reply, "the case's own receipt answers"

    state = await api.state(case_id)
    assert (state["kind"], state["category"], state["description"]) == ("repair", "plumbing", text)
    assert (state["building_id"], state["unit"], state["resident_id"]) == ("B1", "101", "R001")
    assert state["timeline"][0]["detail"]["origin"] == "sms"

    async def receipt() -> Notification | None:
        with api.database.sessions() as session:
            return session.scalars(select(Notification).where(
                Notification.case_id == case_id, Notification.template == "case_received",
                Notification.recipient_id == "R001")).first()

    notice = await eventually(receipt, lambda n: n is not None and n.body)
    assert case_id in notice.body and "respond by" in notice.body and "resolve it by" in notice.body
    assert notice.channel == "sms"


async def test_three_texts_within_two_minutes_make_one_case(api: Api) -> None:
    tag = uuid.uuid4().hex[:4]
    _, first = await texted(api, "R001", f"Bathroom light is out {tag}")
    api.case_ids.append(first.case_id)
    second_reply, second = await texted(api, "R001", f"It flickered all evening {tag}")
    _, third = await texted(api, "R001", f"Flat 101, any time after 6 {tag}")
    assert first.outcome == "reported" and (second.outcome, third.outcome) == ("joined", "joined")
    assert first.case_id == second.case_id == third.case_id
    assert f"added to case {first.case_id}" in second_reply

    state = await api.until(first.case_id, lambda s: sum(e["event"] == "resident_message"
                                                         for e in s["timeline"]) == 2)
    assert state["category"] == "electrical"
    notes = [e["detail"]["text"] for e in state["timeline"] if e["event"] == "resident_message"]
    assert notes == [f"It flickered all evening {tag}", f"Flat 101, any time after 6 {tag}"]
    mine = await api.call("resident", "GET", f"/app/api/my-cases/{first.case_id}")
    texts = [(e["by"], e["detail"]["text"]) for e in mine.json()["timeline"]
             if e["event"] == "resident_message"]
    assert texts == [("you", note) for note in notes], "the resident reads their own texts in their case"


async def test_the_words_decide_a_complaint_or_a_question(api: Api) -> None:
    _, complaint = await texted(api, "R001", f"投诉 楼上装修太吵 {uuid.uuid4().hex[:4]}")
    api.case_ids.append(complaint.case_id)
    complained = await api.state(complaint.case_id)
    assert (complained["kind"], complained["category"]) == ("complaint", "other")
    _, question = await texted(api, "R003", f"请问物业费怎么交 {uuid.uuid4().hex[:4]}？")
    api.case_ids.append(question.case_id)
    assert (await api.state(question.case_id))["kind"] == "question"


async def test_a_strangers_text_opens_nothing_and_waits_for_a_person(api: Api) -> None:
    stranger = f"+86137{uuid.uuid4().int % 10**8:08d}"
    text = f"楼道灯不亮了 {uuid.uuid4().hex[:4]}"
    reply, message = await texted(api, stranger, text)
    assert (message.outcome, message.case_id) == ("unmatched", None)
    assert "Thank you for your message" in reply or "已收到您的短信" in reply
    listed = await api.call("staff", "GET", "/inbound-messages")
    assert message.sid in {item["sid"] for item in listed.json()["items"]}


async def test_stop_still_opts_out_and_opens_nothing(api: Api) -> None:
    _, message = await texted(api, "R002", "STOP")
    try:
        assert (message.outcome, message.case_id) == ("opted_out", None)
        with api.database.sessions() as session:
            assert session.get(Resident, "R002").opted_out is True
    finally:
        await texted(api, "R002", "START")
