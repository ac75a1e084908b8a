"""How a sandbox is set up: whose account it pretends to be and where Steward listens."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class SandboxConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    account_sid: str
    auth_token: str
    webhook_base_url: str = Field(description="Steward's public base URL; inbound SMS go to its webhooks.")
    phone_number: str = Field(
        default="+15005550006", description="Steward's own number: where a phone's replies are sent."
    )
    step_delay: float = Field(
        default=0.2, ge=0,
        description="Seconds between a message's or call's status steps (queued, sent, delivered...).",
    )
    webhook_timeout: float = Field(default=10.0, gt=0, description="Seconds to wait for Steward's answer.")
    devices_database_url: str | None = Field(
        default=None, description="Steward's database, to play its devices (development only).")

    @property
    def devices_webhook_url(self) -> str:
        return f"{self.webhook_base_url.rstrip('/')}/webhooks/devices"

    @property
    def call_webhook_url(self) -> str:
        return f"{self.webhook_base_url.rstrip('/')}/webhooks/twilio/call"

    @property
    def sms_webhook_url(self) -> str:
        return f"{self.webhook_base_url.rstrip('/')}/webhooks/twilio/sms"
