"""The one Twilio client every process makes, the webhook paths Twilio calls back on, and how its words
are kept without a phone number in them."""

from __future__ import annotations

import re

from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.rest import Client

from steward.settings import Settings

VOICE_PATH = "/webhooks/twilio/voice"
STATUS_PATH = "/webhooks/twilio/status"
TWILIO_TIMEOUT = 15.0

# An empty mapping would make the client read os.environ; this one gives it nothing (no TWILIO_*
# credentials, region or edge can leak in from the process environment).
_NO_ENVIRONMENT = {"TWILIO_REGION": "", "TWILIO_EDGE": ""}
_PHONE_NUMBER = re.compile(r"\+?\d{7,15}")


def without_phones(text: str) -> str:
    """Twilio's words, fit for a failure message: those are kept in the workflow's history and the
    worker's log, which name a notice by its key (ids only) and never quote a phone number."""
    return _PHONE_NUMBER.sub("<phone>", text)


def twilio_client(settings: Settings) -> Client:
    """The official client on its async HTTP client, sending to `settings.twilio_base_url`."""
    client = Client(
        username=settings.twilio_account_sid,
        password=settings.twilio_auth_token,
        account_sid=settings.twilio_account_sid,
        http_client=AsyncTwilioHttpClient(),
        environment=_NO_ENVIRONMENT,
    )
    client.api.base_url = settings.twilio_base_url
    return client
