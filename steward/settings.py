"""One settings object for every process, read from `STEWARD_*` variables and `.env` (SPEC §6)."""

from __future__ import annotations

import re
import tomllib
from datetime import timedelta
from functools import cached_property
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo

from pydantic import AfterValidator, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from steward.codec import parse_keys
from workflows.contracts import Severity
from workflows.drill_contracts import DrillRules
from workflows.policy import (
    DEFAULT_SEVERITIES,
    AbuseLimits,
    CallbackPolicy,
    DeliveryPolicy,
    QuietHours,
    SeverityPolicy,
    SlaPolicy,
)

_DURATION = re.compile(r"^\s*(\d+)\s*([smhd])\s*$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


def parse_duration(text: str) -> timedelta:
    """`90s`, `30m`, `24h`, `7d` → timedelta; anything else is a configuration error."""
    match = _DURATION.match(text)
    if not match:
        raise ValueError(f"invalid duration {text!r}: use a number and s, m, h or d, e.g. 30m")
    return timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})


def _a_duration(text: str) -> str:
    parse_duration(text)
    return text


def _durations(table: dict, keys: tuple[str, ...]) -> dict:
    return {k: parse_duration(v) if k in keys and isinstance(v, str) else v for k, v in table.items()}


def load_sla_policy(path: Path | None, timezone: str, quiet_hours: QuietHours) -> SlaPolicy:
    """The published policy: SPEC §2 defaults, overridden key by key by the TOML file if given."""
    data = tomllib.loads(path.read_text(encoding="utf-8")) if path else {}
    severities = {}
    for severity, default in DEFAULT_SEVERITIES.items():
        override = _durations(data.get("severity", {}).get(severity.value, {}), ("response", "resolution"))
        severities[severity] = SeverityPolicy.model_validate(default.model_dump() | override)
    callback_data = _durations(data.get("callback", {}), ("wait", "manual_response"))
    delivery_data = _durations(data.get("delivery", {}), ("retry_for", "max_backoff", "app_unread_sms_after"))
    unknown = set(data.get("severity", {})) - {s.value for s in Severity}
    if unknown:
        raise ValueError(f"unknown severity in SLA policy: {', '.join(sorted(unknown))}")
    return SlaPolicy(
        severities=severities,
        callback=CallbackPolicy.model_validate(CallbackPolicy().model_dump() | callback_data),
        delivery=DeliveryPolicy.model_validate(DeliveryPolicy().model_dump() | delivery_data),
        limits=_limits(data.get("limits", {})),
        timezone=timezone,
        quiet_hours=quiet_hours,
    )


def _limits(table: dict) -> AbuseLimits:
    """`[limits]` with one inline table per limit, e.g. `submissions = { count = 10, per = "1h" }`;
    a missing limit or key keeps its default."""
    defaults = AbuseLimits().model_dump()
    unknown = set(table) - set(defaults)
    if unknown:
        raise ValueError(f"unknown limit in SLA policy: {', '.join(sorted(unknown))}")
    return AbuseLimits.model_validate(
        {name: default | _durations(table.get(name, {}), ("per",)) for name, default in defaults.items()}
    )


class Settings(BaseSettings):
    # Errors never echo a value: settings hold secrets (tokens, API and payload keys).
    model_config = SettingsConfigDict(env_prefix="STEWARD_", env_file=".env", extra="ignore",
                                      hide_input_in_errors=True)

    data_dir: Path = Path("var")
    database_url: str | None = None
    temporal_address: str | None = None
    temporal_namespace: str = "default"
    task_queue: str = "steward"
    api_host: str = "127.0.0.1"
    api_port: int = 8000
    temporal_port: int = 7233
    temporal_ui_port: int = 8233
    sandbox_port: int = 8010
    public_base_url: str | None = None
    twilio_account_sid: str = "AC00000000000000000000000000000000"
    twilio_auth_token: str = "sandbox-auth-token"
    twilio_from_number: str = "+15005550006"
    twilio_api_base_url: str | None = None
    timezone: str = "Asia/Shanghai"
    quiet_hours: str = "22:00-08:00"
    sla_policy: Path | None = None
    temporal_ui_url: str | None = None
    hearing_notice_period: str = "7d"
    drill_notice_period: str = "3d"
    # The staff app: how long an app sign-in lasts and where photos are kept (under the data dir).
    app_token_ttl: str = "30d"
    photo_dir: Path | None = None
    # An app notice still unread this long after it was sent is listed for a person to follow up.
    unread_notice_window: str = "10m"
    # The service centre's phone, which the resident pages tell a resident to call in an emergency.
    service_phone: str = "+86 21 5555 0100"
    # A list's first page counts its rows up to this many, then says "at least": the count stays as cheap
    # at 100,000 open cases as at 10,000 (bench/README.md).
    count_up_to: int = Field(default=10_000, ge=1)
    # Open cases the worker keeps in memory (~0.2 MB each, see bench/README.md); the rest replay on demand.
    worker_cache_size: int = Field(default=1000, ge=0)
    # issue 19: metrics, logs and tracing
    # `/metrics` answers only a request bearing this token (404 while unset), on the API and the worker.
    metrics_token: str | None = None
    # The worker's own HTTP port for /metrics, /healthz and /readyz; no server while unset.
    worker_http_port: int | None = Field(default=None, ge=0, le=65535)
    # How long a stopping worker lets running activities finish before cancelling them.
    worker_shutdown_grace: Annotated[str, AfterValidator(_a_duration)] = "30s"
    # Log lines as JSON (one object a line, for a log collector) or text (for a terminal).
    log_format: Literal["json", "text"] = "json"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    # OpenTelemetry spans API → workflow → activity: off, printed (console) or sent to an OTLP collector.
    tracing: Literal["off", "console", "otlp"] = "off"
    otlp_endpoint: str = "http://127.0.0.1:4318/v1/traces"
    # Call the service centre (issue 22): how long a caller's message may run, how long each staff
    # phone rings before the next on the ladder, and where the messages are kept (under the data dir).
    call_max_recording_s: int = Field(default=120, ge=5, le=600)
    call_ring_s: int = Field(default=20, ge=5, le=60)
    recording_dir: Path | None = None
    # issue 19: messages fit the phone. The sender signature carriers register, put before every SMS in
    # that language (Chinese carriers require 【…】 first; a 【】 signature would make an English text UCS-2
    # and cost it half its room, so English has its own, empty by default); the voice of each language's
    # <Say>; the region a phone number written without +country code is read in (ISO 3166 code).
    sms_signature_zh: str = Field(default="", max_length=20)
    sms_signature_en: str = Field(default="", max_length=40)
    call_voice_zh: str = "Polly.Zhiyu"
    call_voice_en: str = "Polly.Joanna"
    phone_region: str = Field(default="CN", pattern=r"^[A-Z]{2}$")
    # issue 19: secured Temporal connection and payload keys (docs/security.md). With none of the
    # STEWARD_TEMPORAL_* connection settings set, Temporal's own TEMPORAL_* environment/profile applies.
    temporal_api_key: SecretStr | None = None
    temporal_tls: bool | None = None  # None: on when an API key or any TLS file is given
    temporal_tls_ca: Path | None = None
    temporal_tls_cert: Path | None = None
    temporal_tls_key: Path | None = None
    temporal_tls_server_name: str | None = None
    # `k2:<base64>,k1:<base64>`: the first encrypts payloads, all decrypt (rotation); unset = clear payloads.
    payload_keys: SecretStr | None = None
    # The Temporal UI's origin, allowed to call the codec endpoint from the browser (default: temporal_ui).
    codec_cors_origin: str | None = None

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (KeyError, ValueError) as error:
            raise ValueError(f"unknown time zone {value!r}") from error
        return value

    @field_validator("quiet_hours")
    @classmethod
    def _window(cls, value: str) -> str:
        if not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d", value):
            raise ValueError("quiet hours look like 22:00-08:00")
        return value

    @field_validator("hearing_notice_period", "drill_notice_period", "app_token_ttl", "unread_notice_window")
    @classmethod
    def _duration(cls, value: str) -> str:
        parse_duration(value)
        return value

    @property
    def notice_period(self) -> timedelta:
        """How far ahead a hearing must be announced: a hearing closer than this is refused."""
        return parse_duration(self.hearing_notice_period)

    @property
    def unread_after(self) -> timedelta:
        return parse_duration(self.unread_notice_window)

    @property
    def drill_rules(self) -> DrillRules:
        """A drill's deadlines; residents are told of a drill at least `drill_notice_period` ahead."""
        return DrillRules(notice_period=parse_duration(self.drill_notice_period))

    @property
    def app_token_lifetime(self) -> timedelta:
        return parse_duration(self.app_token_ttl)

    @property
    def photos(self) -> Path:
        return self.photo_dir or self.data_dir / "photos"

    @property
    def database(self) -> str:
        return self.database_url or f"sqlite:///{(self.data_dir / 'steward.db').resolve()}"

    @property
    def temporal_target(self) -> str:
        return self.temporal_address or f"127.0.0.1:{self.temporal_port}"

    @property
    def api_base_url(self) -> str:
        return f"http://{self.api_host}:{self.api_port}"

    @property
    def webhook_base_url(self) -> str:
        """The address Twilio uses to reach us; signatures are computed over it."""
        return (self.public_base_url or self.api_base_url).rstrip("/")

    @property
    def twilio_base_url(self) -> str:
        return (self.twilio_api_base_url or f"http://127.0.0.1:{self.sandbox_port}").rstrip("/")

    @property
    def temporal_ui(self) -> str:
        return (self.temporal_ui_url or f"http://127.0.0.1:{self.temporal_ui_port}").rstrip("/")

    @field_validator("payload_keys")
    @classmethod
    def _keys(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and value.get_secret_value().strip():
            parse_keys(value.get_secret_value())
        return value

    @property
    def encryption_keys(self) -> dict[str, bytes] | None:
        """Payload keys in order (the first encrypts), or None when payloads go to Temporal in clear."""
        text = self.payload_keys.get_secret_value().strip() if self.payload_keys else ""
        return parse_keys(text) if text else None

    @cached_property
    def policy(self) -> SlaPolicy:
        start, end = self.quiet_hours.split("-")
        return load_sla_policy(self.sla_policy, self.timezone, QuietHours(start=start, end=end))
