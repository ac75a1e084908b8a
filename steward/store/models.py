"""SQL schema: the directory (who and where), API tokens, the case read model and call recordings.

The directory and tokens are written by admin endpoints and the seed; the read model (cases,
case_events, notifications, inbound_messages) is written only by activities, each write idempotent.
The hearings', drills' and incidents' rows are in `community_models`, imported here so that every
table is in `Base.metadata` wherever the schema is read.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column

from steward.store import community_models  # noqa: F401  (their tables are part of the schema)
from steward.store.base import Base


class Building(Base):
    __tablename__ = "buildings"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    address: Mapped[str] = mapped_column(String(300), default="")


class Household(Base):
    __tablename__ = "households"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    building_id: Mapped[str] = mapped_column(ForeignKey("buildings.id"), index=True)
    unit: Mapped[str] = mapped_column(String(32))


class Resident(Base):
    __tablename__ = "residents"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    household_id: Mapped[str] = mapped_column(ForeignKey("households.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(20), index=True)
    locale: Mapped[str] = mapped_column(String(8), default="zh-CN")
    preferred_channel: Mapped[str] = mapped_column(String(8), default="sms")
    opted_out: Mapped[bool] = mapped_column(default=False)
    bad_channels: Mapped[list[str]] = mapped_column(JSON, default=list)
    # False once the resident moved out: no filing, no callback (the household's others take it).
    active: Mapped[bool] = mapped_column(default=True, server_default=true())


class Staff(Base):
    __tablename__ = "staff"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    tier: Mapped[int] = mapped_column(Integer)
    skills: Mapped[list[str]] = mapped_column(JSON, default=list)
    buildings: Mapped[list[str]] = mapped_column(JSON, default=list)
    on_duty: Mapped[bool] = mapped_column(default=True)
    phone: Mapped[str | None] = mapped_column(String(20), index=True)
    locale: Mapped[str] = mapped_column(String(8), default="zh-CN")
    # False once they left: never dispatched or told, their phone and tokens act no more.
    active: Mapped[bool] = mapped_column(default=True, server_default=true())


class Equipment(Base):
    """A device the company looks after (设备档案): what it is, where, and whether it is in service."""

    __tablename__ = "equipment"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    equipment_type: Mapped[str] = mapped_column(String(16), index=True)
    building_id: Mapped[str] = mapped_column(ForeignKey("buildings.id"), index=True)
    location: Mapped[str] = mapped_column(String(200))
    model: Mapped[str] = mapped_column(String(200), default="")
    installed_on: Mapped[date | None]
    contractor: Mapped[str] = mapped_column(String(200), default="")
    status: Mapped[str] = mapped_column(String(16), index=True, default="in_service")
    alarm_key: Mapped[str] = mapped_column(String(64))
    heartbeat_seconds: Mapped[int | None] = mapped_column(Integer)


class DeviceSignature(Base):
    """Every signature a device message was accepted with, for a while: the same one again is a replay."""

    __tablename__ = "device_signatures"

    signature: Mapped[str] = mapped_column(String(64), primary_key=True)
    device_id: Mapped[str] = mapped_column(String(32))
    received_at: Mapped[datetime] = mapped_column(index=True)


class ApiToken(Base):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    subject: Mapped[str] = mapped_column(String(32), index=True)
    created_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    # App sign-ins expire (`STEWARD_APP_TOKEN_TTL`); tokens made by `steward token create` do not.
    expires_at: Mapped[datetime | None]


class Case(Base):
    """One row per case: the latest projected summary, for reports and lists."""

    __tablename__ = "cases"

    case_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), index=True)
    severity: Mapped[str] = mapped_column(String(16))
    category: Mapped[str] = mapped_column(String(64), index=True)
    building_id: Mapped[str] = mapped_column(String(32), index=True)
    unit: Mapped[str | None] = mapped_column(String(32))
    resident_id: Mapped[str] = mapped_column(String(32), index=True)
    status: Mapped[str] = mapped_column(String(20), index=True)
    tier: Mapped[int] = mapped_column(Integer)
    owner_id: Mapped[str | None] = mapped_column(String(32), index=True)
    handler_id: Mapped[str | None] = mapped_column(String(32), index=True)
    submitted_at: Mapped[datetime]
    dispatched_at: Mapped[datetime | None]
    acknowledged_at: Mapped[datetime | None]
    resolved_at: Mapped[datetime | None]
    callback_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    response_due: Mapped[datetime | None]
    resolution_due: Mapped[datetime]
    warned: Mapped[bool] = mapped_column(default=False)
    response_breached: Mapped[bool] = mapped_column(default=False)
    resolution_breached: Mapped[bool] = mapped_column(default=False)
    paused_seconds: Mapped[int] = mapped_column(Integer, default=0)
    reopen_count: Mapped[int] = mapped_column(Integer, default=0)
    satisfaction: Mapped[str | None] = mapped_column(String(20))
    withdrawn: Mapped[bool] = mapped_column(default=False)
    last_seq: Mapped[int] = mapped_column(Integer, default=0)
    # What the board and /at-risk order and show by, kept by the projection (issue 16).
    title: Mapped[str] = mapped_column(String(200), default="")
    paused: Mapped[bool] = mapped_column(default=False)
    next_deadline: Mapped[datetime | None]
    next_deadline_kind: Mapped[str | None] = mapped_column(String(32))
    # The staff member a complaint is about: kept out of their own lists (issue 14).
    subject_staff_id: Mapped[str | None] = mapped_column(String(32))
    equipment_id: Mapped[str | None] = mapped_column(String(32), index=True)


class CaseEventRow(Base):
    """Every transition once: the unique (case_id, seq) turns retried and replayed writes into no-ops."""

    __tablename__ = "case_events"
    __table_args__ = (UniqueConstraint("case_id", "seq", name="uq_case_events_case_seq"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[str] = mapped_column(String(100), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    event: Mapped[str] = mapped_column(String(40), index=True)
    at: Mapped[datetime]
    actor_id: Mapped[str | None] = mapped_column(String(32))
    device_at: Mapped[datetime | None]
    detail: Mapped[dict] = mapped_column(JSON, default=dict)


class Notification(Base):
    """Every message or call attempt, keyed by the sender's idempotency key."""

    __tablename__ = "notifications"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    case_id: Mapped[str] = mapped_column(String(100), index=True)
    to: Mapped[str] = mapped_column(String(20), index=True)
    channel: Mapped[str] = mapped_column(String(8))
    template: Mapped[str] = mapped_column(String(64))
    locale: Mapped[str | None] = mapped_column(String(8))
    params: Mapped[dict | None] = mapped_column(JSON)
    body: Mapped[str | None] = mapped_column(Text)
    gather: Mapped[str | None] = mapped_column(String(16))
    attempt: Mapped[int | None] = mapped_column(Integer)
    sid: Mapped[str | None] = mapped_column(String(64), unique=True)
    status: Mapped[str] = mapped_column(String(20))
    error_code: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    # The person a notice is for (staff or resident id) and when they opened it in the app.
    recipient_id: Mapped[str | None] = mapped_column(String(32), index=True)
    read_at: Mapped[datetime | None]


class InboundMessage(Base):
    """Every SMS that reached us; unmatched ones stay visible to staff, never dropped."""

    __tablename__ = "inbound_messages"

    sid: Mapped[str] = mapped_column(String(64), primary_key=True)
    from_number: Mapped[str] = mapped_column(String(20), index=True)
    to_number: Mapped[str] = mapped_column(String(20))
    body: Mapped[str] = mapped_column(Text)
    received_at: Mapped[datetime]
    case_id: Mapped[str | None] = mapped_column(String(100), index=True)
    outcome: Mapped[str] = mapped_column(String(32))


class RateHit(Base):
    """One counted action (a submission, a sign-in code, an objection) for the shared rate limits.

    Kept in the database so every API replica counts the same hits; rows older than the longest
    window are pruned as new hits arrive."""

    __tablename__ = "rate_hits"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(200))
    at: Mapped[datetime]


class SignInCode(Base):
    """A 6-digit code sent by SMS for the app's sign-in, kept only as a salted hash; it expires, allows
    a few tries and is used once. A new code for the same phone replaces the ones before it."""

    __tablename__ = "sign_in_codes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    phone: Mapped[str] = mapped_column(String(20), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    salt: Mapped[str] = mapped_column(String(32))
    role: Mapped[str] = mapped_column(String(16))
    subject: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    tries: Mapped[int] = mapped_column(Integer, default=0)
    closed_at: Mapped[datetime | None]


class Photo(Base):
    """A photo attached to a case's note or resolution: the bytes live in the photo store, the
    workflow's history holds only the id."""

    __tablename__ = "photos"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    case_id: Mapped[str] = mapped_column(String(100), index=True)
    uploaded_by: Mapped[str] = mapped_column(String(32))
    media_type: Mapped[str] = mapped_column(String(32))
    size: Mapped[int] = mapped_column(Integer)
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime]


class DirectoryChange(Base):
    """Every change an admin made to a person of the directory: who, when, and each field's old and new
    value, so a wrong phone number or a deactivation can be traced."""

    __tablename__ = "directory_changes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime]
    actor_id: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(16))
    subject_id: Mapped[str] = mapped_column(String(32), index=True)
    action: Mapped[str] = mapped_column(String(16))
    changes: Mapped[dict] = mapped_column(JSON, default=dict)


# Indexes the board walks in keyset order: racing cases by deadline, the others by submission.
Index("ix_cases_next_deadline", Case.next_deadline, Case.case_id)
Index("ix_cases_status_submitted", Case.status, Case.submitted_at, Case.case_id)


class CallRecording(Base):
    """A message left on the service centre's phone (issue 22): the bytes live in the recording store,
    beside the case it opened, or with no case when a stranger's number left it for staff."""

    __tablename__ = "call_recordings"

    sid: Mapped[str] = mapped_column(String(40), primary_key=True)
    call_sid: Mapped[str] = mapped_column(String(40), index=True)
    from_number: Mapped[str] = mapped_column(String(20))
    case_id: Mapped[str | None] = mapped_column(String(100), index=True)
    media_type: Mapped[str] = mapped_column(String(32))
    size: Mapped[int] = mapped_column(Integer)
    duration: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime]
