"""The baseline's activities: one that does nothing, and one SMS through the Twilio sandbox."""

from __future__ import annotations

import httpx
from temporalio import activity

from bench.engine import NOOP, SEND_SMS

FROM = "+15005550006"


class EngineActivities:
    def __init__(self, sandbox_url: str, account_sid: str, auth_token: str) -> None:
        self._url = f"{sandbox_url}/2010-04-01/Accounts/{account_sid}/Messages.json"
        self._auth = (account_sid, auth_token)
        self._http: httpx.AsyncClient | None = None

    @activity.defn(name=NOOP)
    async def noop(self, index: int) -> int:
        return index

    @activity.defn(name=SEND_SMS)
    async def send_sms(self, to: str, body: str) -> str:
        if self._http is None:
            self._http = httpx.AsyncClient(timeout=30)
        response = await self._http.post(
            self._url, data={"To": to, "From": FROM, "Body": body}, auth=self._auth
        )
        response.raise_for_status()
        return response.json()["sid"]
