"""Text the service centre (对于不擅长使用智能设备的老年业主): an SMS from a resident's phone that answers
nothing pending opens a case for their home, through the same filing door as the API and the app.

The words decide the kind: a text starting 投诉 / "complaint" is a complaint, one starting 咨询 / 请问 /
"question" or ending in a question mark a question, anything else a repair, its category guessed from
its words (电梯 lift, 水 / 漏 plumbing, 电 / 灯 electrical, otherwise general). The case's own receipt
(`case_received`, on the resident's channel) tells them its code and deadlines. More texts from the
same phone within `JOIN_WITHIN` (`steward/store/inbound.py`) join that case (`resident_message`)
instead of opening another. A stranger's number opens nothing: its text stays listed for staff.
"""

from __future__ import annotations

import re

from sqlalchemy.orm import Session, sessionmaker
from temporalio.client import Client

from api.errors import ApiError
from api.filing import file_case
from api.models import SubmitRequest
from steward.limits import RateLimited
from steward.settings import Settings
from workflows.contracts import Actor, Channel, ComplaintCategory, Kind, Role

TITLE_LENGTH = 40
COMPLAINT = re.compile(r"^\s*(投诉|complaint\b)", re.IGNORECASE)
QUESTION = re.compile(r"^\s*(咨询|请问|question\b)|[?？]\s*$", re.IGNORECASE)
CATEGORIES = [  # the first that matches; 电梯 before 电
    ("lift", re.compile(r"电梯|\blift\b|elevator", re.IGNORECASE)),
    ("plumbing", re.compile(r"水|漏|管|马桶|下水|leak|water|pipe|tap|toilet|drain", re.IGNORECASE)),
    ("electrical", re.compile(r"电|灯|插座|跳闸|light|power|electric|socket", re.IGNORECASE)),
]


def request_from(text: str) -> SubmitRequest:
    """What a resident's text asks for, as a filing of their own home."""
    if COMPLAINT.search(text):
        kind, category = Kind.complaint, ComplaintCategory.other.value
    elif QUESTION.search(text):
        kind, category = Kind.question, "general"
    else:
        kind = Kind.repair
        category = next((name for name, words in CATEGORIES if words.search(text)), "general")
    title = text if len(text) <= TITLE_LENGTH else text[:TITLE_LENGTH - 1] + "…"
    return SubmitRequest(kind=kind, category=category, title=title, description=text, origin=Channel.sms)


async def file_from_sms(client: Client, sessions: sessionmaker[Session], settings: Settings, resident_id: str,
                        sid: str, text: str) -> tuple[str | None, str | None]:
    """(case id, None) once filed — the message's sid is its idempotency key, so Twilio sending it again
    opens nothing new — or (None, why not) when the filing door refused it."""
    caller = Actor(id=resident_id, role=Role.resident)
    try:
        filed = await file_case(client, sessions, settings, request_from(text), caller, sid)
    except RateLimited as limited:
        return None, limited.message
    except ApiError as refused:
        return None, refused.message
    return filed.case_id, None

