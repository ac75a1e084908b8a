"""Twilio's webhooks: a phone's SMS, a call's keypad, delivery status → workflow signals and updates.

Every request must carry a valid `X-Twilio-Signature` (`signature.py`); anything else is refused with
403 before it is read further. Nothing here changes a case: residents' answers become the
`callback_reply` signal, staff keypresses and "1" replies the `acknowledge` update, failed deliveries
the `delivery_failed` signal. What Twilio sent is kept (`inbound_messages`, `notifications`, through
`steward/store/inbound.py`), and a case that is gone or has moved on is an outcome to record, never a
5xx for Twilio to retry.
"""

from __future__ import annotations

from fastapi import APIRouter

from api.twilio import call_intake, call_messages, sms, status, voice

router = APIRouter()
router.include_router(sms.router)
router.include_router(voice.router)
router.include_router(status.router)
router.include_router(call_intake.router)
router.include_router(call_messages.router)
