"""What every Twilio webhook works with: the settings, the database off the event loop, and the case
workflows, reached through `api/cases.py` in the form a webhook needs.

A case that is gone, has moved on or does not answer in time is an outcome to record and tell the
sender, never a 5xx for Twilio to retry.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import TypeVar

from fastapi import Request, Response
from pydantic import BaseModel
from sqlalchemy.orm import Session, sessionmaker
from temporalio.client import Client
from twilio.twiml.messaging_response import MessagingResponse
from twilio.twiml.voice_response import VoiceResponse

from api.cases import UNAVAILABLE, try_signal_case, try_update_case
from steward.settings import Settings
from steward.store.models import Staff
from steward.texts.carriers import sms_signature
from steward.texts.render import render
from workflows.actions import Acknowledge
from workflows.contracts import Actor, Locale, Role, Tier
from workflows.names import CaseUpdate

log = logging.getLogger("steward.webhooks")

T = TypeVar("T")

# A resident's answer to a callback, by SMS or keypad (satisfied or not); a staff member's "1" acknowledges.
ANSWERS = {"1": True, "2": False, "满意": True, "不满意": False}
ACK = "1"
# How long a webhook waits for Temporal to take a signal, or a workflow to answer an update (with no
# worker polling it never would): well inside Twilio's own 15 s, so the message is recorded as needing
# a person instead of left hanging.
ANSWER_WITHIN = timedelta(seconds=5)


def twiml(response: VoiceResponse | MessagingResponse) -> Response:
    return Response(str(response), media_type="application/xml")


@dataclass
class Inbox:
    settings: Settings
    sessions: sessionmaker[Session]
    client: Client

    @classmethod
    def of(cls, request: Request) -> Inbox:
        state = request.app.state
        return cls(state.settings, state.sessions, state.client)

    def text(self, key: str, locale: Locale, params: dict[str, str] | None = None) -> str:
        """A reply by SMS: under the signature of its language, fitted to two segments."""
        return render(key, locale, params, signature=sms_signature(self.settings, locale))

    async def db(self, work: Callable[[Session], T]) -> T:
        """Run `work` in a transaction off the event loop."""

        def run() -> T:
            with self.sessions.begin() as session:
                return work(session)

        return await asyncio.to_thread(run)

    async def signal(self, case_id: str, name: str, payload: BaseModel) -> str | None:
        """None when delivered, else why not."""
        undelivered = await try_signal_case(self.client, case_id, name, payload, ANSWER_WITHIN)
        if undelivered:
            log.warning("signal %s to %s not delivered: %s", name, case_id, undelivered)
        return undelivered

    async def update(self, case_id: str, name: str, payload: BaseModel) -> str | None:
        """None when the workflow accepted the update, else its reason for refusing."""
        refused = await try_update_case(self.client, case_id, name, payload, ANSWER_WITHIN)
        if refused and refused.startswith(UNAVAILABLE):
            log.warning("%s of %s not answered: %s", name, case_id, refused)
        return refused

    async def acknowledge(self, case_id: str, staff: Staff) -> str | None:
        """None when the workflow accepted the acknowledgement, else its reason for refusing. The
        staff member's tier goes with it, as the API sends it, so a complaint's validator can keep it
        above the tier of the person it is about."""
        action = Acknowledge(actor=Actor(id=staff.id, role=Role.staff), actor_tier=Tier(staff.tier))
        return await self.update(case_id, CaseUpdate.ACKNOWLEDGE, action)
