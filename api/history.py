"""A case's timeline for people, read from its Temporal event history.

The event history is the record of everything the workflow accepted and did: the submission,
every update with the action it carried (who, and when on their device), signals, each message or
call it scheduled through `notify.send`, each timer that fired (a deadline passing), and each
search attribute it upserted (status, tier, breach). This module turns those events into sentences
in zh-CN or en and joins each message with the delivery status Twilio reported.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel
from sqlalchemy.orm import Session, sessionmaker
from temporalio.api.common.v1 import Payload
from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import WorkflowHistory
from temporalio.converter import DataConverter, decode_typed_search_attributes

from api.history_entries import masked, scalar, unsent, unsent_page
from api.history_messages import join_deliveries
from api.models import Delivery, HistoryEntry
from steward.texts.choices import TIER
from steward.texts.render import TemplateError, render
from steward.texts.timeline import WORDS, phrase, word
from workflows import search
from workflows.actions import (
    Acknowledge,
    AddPhotos,
    AgreePlan,
    AnswerCallback,
    CallbackReply,
    ChangeSeverity,
    DeliveryFailed,
    Extend,
    HandOn,
    Pause,
    ProgressNote,
    Reassign,
    RecordCallback,
    ResidentMessage,
    Resolve,
    Resume,
    Withdraw,
)
from workflows.activity_contracts import Notice, ResidentNotice, StaffNotices
from workflows.case_contracts import CaseInput, CaseSummary
from workflows.clock import read_deadline_summary
from workflows.contracts import Locale
from workflows.equipment_contracts import DeviceMessage, FaultFixed
from workflows.inspection_contracts import InspectionReport
from workflows.names import PROJECTION_REJECTED, Activity, CaseSignal, CaseUpdate, InspectionUpdate

log = logging.getLogger("steward.api")
ZH, EN = Locale.zh_cn, Locale.en

# update name → (its input, the event it is in the case's timeline)
UPDATES: dict[str, tuple[type[BaseModel], str]] = {
    CaseUpdate.ACKNOWLEDGE: (Acknowledge, "acknowledged"),
    CaseUpdate.PAUSE: (Pause, "paused"),
    CaseUpdate.RESUME: (Resume, "resumed"),
    CaseUpdate.REASSIGN: (Reassign, "reassigned"),
    CaseUpdate.HAND_ON: (HandOn, "handed_on"),
    CaseUpdate.CHANGE_SEVERITY: (ChangeSeverity, "severity_changed"),
    CaseUpdate.EXTEND: (Extend, "extended"),
    CaseUpdate.AGREE_PLAN: (AgreePlan, "plan_agreed"),
    CaseUpdate.RESOLVE: (Resolve, "resolved"),
    CaseUpdate.WITHDRAW: (Withdraw, "withdrawn"),
    CaseUpdate.RECORD_CALLBACK: (RecordCallback, "manual_callback_recorded"),
    CaseUpdate.ANSWER_CALLBACK: (AnswerCallback, "callback_answered"),
    CaseUpdate.ADD_PHOTOS: (AddPhotos, "photos_added"),
    InspectionUpdate.FILE_REPORT: (InspectionReport, "inspection_reported"),
}
SIGNALS: dict[str, type[BaseModel]] = {
    CaseSignal.PROGRESS: ProgressNote, CaseSignal.CALLBACK_REPLY: CallbackReply,
    CaseSignal.DELIVERY_FAILED: DeliveryFailed, CaseSignal.DEVICE_READING: DeviceMessage,
    CaseSignal.RESIDENT_MESSAGE: ResidentMessage, CaseSignal.FAULT_FIXED: FaultFixed,
}

_CALLING_BACK = {"callback", "manual_callback"}
_STATUS_SHOWN = {"dispatched", *_CALLING_BACK}
_ENDED = {
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED: "failed",
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED: "terminated",
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TIMED_OUT: "timed out",
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED: "cancelled",
}


def preferred_locale(accept_language: str | None) -> Locale:
    """zh-CN or en from an Accept-Language header, by q-value; Chinese, the community default, if neither."""
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate((accept_language or "").split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        ranked.append((-quality, position, tag.strip().lower()))
    for negative_quality, _, tag in sorted(ranked):
        if negative_quality >= 0:
            break
        if tag.startswith("zh"):
            return ZH
        if tag.startswith("en"):
            return EN
    return ZH


class _Timeline:
    """Walks the events once, keeping what later events need (timer summaries, previous values)."""

    def __init__(self, converter: DataConverter, locale: Locale, timezone: str) -> None:
        self.converter = converter
        self.locale = locale
        self.zone = ZoneInfo(timezone)
        self.entries: list[HistoryEntry] = []
        self.notices: dict[int, tuple[HistoryEntry, Notice, str]] = {}
        self.pages: set[int] = set()  # the notices that are pages to staff: one message per person told
        self._updates: dict[int, tuple[HistoryEntry, str]] = {}
        self._timers: dict[str, str] = {}
        self._attributes: dict[str, Any] = {}

    # --- words -----------------------------------------------------------------------------

    def word(self, group: str, value: Any) -> str:
        return word(group, value, self.locale)

    def when(self, moment: datetime | None) -> str:
        if moment is None:
            return self.word("none", "")
        return moment.astimezone(self.zone).strftime("%Y-%m-%d %H:%M")

    def phrase(self, name: str, /, **words: Any) -> str:
        return phrase(name, self.locale, **words)

    def add(self, event: HistoryEvent, code: str, phrase: str | None = None, /, *, actor: str | None = None,
            device_at: datetime | None = None, detail: dict | None = None, **words: Any) -> HistoryEntry:
        text = self.phrase(phrase or code, actor=actor or "steward", **words)
        entry = HistoryEntry(
            at=event.event_time.ToDatetime(tzinfo=UTC), device_at=device_at, event=code, actor=actor,
            text=text, detail={k: scalar(v) for k, v in (detail or {}).items()},
        )
        self.entries.append(entry)
        return entry

    async def decode(self, payloads: list[Payload], hint: type | None) -> Any:
        if not payloads:
            return None
        return (await self.converter.decode(payloads, [hint] if hint else None))[0]

    # --- events ----------------------------------------------------------------------------

    async def read(self, event: HistoryEvent) -> None:
        kind = event.event_type
        if kind == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED:
            await self._started(event)
        elif kind == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED:
            await self._update(event)
        elif kind == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED:
            self._update_completed(event)
        elif kind == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED:
            await self._signal(event)
        elif kind == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
            await self._activity(event)
        elif kind == EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
            await self._activity_completed(event)
        elif kind == EventType.EVENT_TYPE_ACTIVITY_TASK_FAILED:
            self._activity_failed(event)
        elif kind == EventType.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT:
            self._undelivered(event.activity_task_timed_out_event_attributes.scheduled_event_id)
        elif kind == EventType.EVENT_TYPE_TIMER_STARTED:
            summary = await self.decode([event.user_metadata.summary], str) \
                if event.user_metadata.HasField("summary") else None
            self._timers[event.timer_started_event_attributes.timer_id] = summary or ""
        elif kind == EventType.EVENT_TYPE_TIMER_FIRED:
            self._timer(event)
        elif kind == EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES:
            self._search_attributes(event, event.upsert_workflow_search_attributes_event_attributes
                                    .search_attributes)
        elif kind == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED:
            result = event.workflow_execution_completed_event_attributes.result
            summary: CaseSummary = await self.decode(list(result.payloads), CaseSummary)
            outcome = summary.callback.result if summary.callback else None
            self.add(event, "closed", detail={"result": outcome}, result=self.word("result", outcome))
        elif kind in _ENDED:
            self.add(event, "ended", outcome=_ENDED[kind])

    async def _started(self, event: HistoryEvent) -> None:
        attributes = event.workflow_execution_started_event_attributes
        for key, value in decode_typed_search_attributes(attributes.search_attributes):
            self._attributes[key.name] = value
        case: CaseInput = await self.decode(list(attributes.input.payloads), CaseInput)
        self.add(event, "submitted", actor=case.submitted_by.id,
                 detail={"severity": case.severity.value, "category": case.category,
                         "building_id": case.building_id, "unit": case.unit, "origin": case.origin.value},
                 severity=self.word("severity", case.severity), kind=self.word("kind", case.kind),
                 category=case.category, building=case.building_id)

    async def _update(self, event: HistoryEvent) -> None:
        request = event.workflow_execution_update_accepted_event_attributes.accepted_request
        name = request.input.name
        hint, accepted = UPDATES.get(name, (None, name))
        action = await self.decode(list(request.input.args.payloads), hint)
        if hint is None or not isinstance(action, BaseModel):
            entry = self.add(event, name, "signal", detail=_fields(action), name=name, what=_brief(action))
        else:
            entry = self._action(event, accepted, action)
        self._updates[event.event_id] = (entry, name)

    def _update_completed(self, event: HistoryEvent) -> None:
        """An update accepted but failed in its handler changed nothing: say so instead of what it asked."""
        attributes = event.workflow_execution_update_completed_event_attributes
        if not attributes.outcome.HasField("failure") or attributes.accepted_event_id not in self._updates:
            return
        entry, name = self._updates[attributes.accepted_event_id]
        entry.event = "refused"
        entry.detail["update"] = name
        entry.text = self.phrase("refused", actor=entry.actor or "steward", name=name,
                                 reason=attributes.outcome.failure.message)

    def _action(self, event: HistoryEvent, name: str, action: BaseModel) -> HistoryEntry:
        fields = _fields(action)
        words = {
            key: self.when(value) if isinstance(value, datetime) else
            self.word(key, value) if key in WORDS else (value if value not in (None, "") else self.word(
                "none", ""))
            for key, value in fields.items()
        }
        return self.add(event, name, actor=action.actor.id, device_at=getattr(action, "occurred_at", None),
                        detail=fields, **words)

    async def _signal(self, event: HistoryEvent) -> None:
        attributes = event.workflow_execution_signaled_event_attributes
        name = attributes.signal_name
        payload = await self.decode(list(attributes.input.payloads), SIGNALS.get(name))
        if isinstance(payload, ProgressNote | FaultFixed):
            self._action(event, name, payload)
        elif isinstance(payload, CallbackReply):
            result = "satisfied" if payload.satisfied else "not_satisfied"
            self.add(event, name, detail=_fields(payload), attempt=payload.attempt,
                     channel=self.word("channel", payload.channel), result=self.word("result", result))
        elif isinstance(payload, DeliveryFailed):
            self.add(event, name, detail=_fields(payload), attempt=payload.attempt,
                     channel=self.word("channel", payload.channel), status=payload.status)
        elif isinstance(payload, ResidentMessage):
            self.add(event, name, actor=payload.actor.id, detail={"channel": payload.channel.value},
                     channel=self.word("channel", payload.channel), text=payload.text)
        elif isinstance(payload, DeviceMessage):
            self.add(event, name, detail={"kind": payload.kind}, device_at=payload.at,
                     reading=payload.describe())
        else:
            self.add(event, name, "signal", detail=_fields(payload), name=name, what=_brief(payload))

    async def _activity(self, event: HistoryEvent) -> None:
        attributes = event.activity_task_scheduled_event_attributes
        payloads = list(attributes.input.payloads)
        if attributes.activity_type.name == Activity.NOTIFY:
            notice: Notice = await self.decode(payloads, Notice)
        elif attributes.activity_type.name == Activity.NOTIFY_RESIDENT:
            notice = unsent(await self.decode(payloads, ResidentNotice))
        elif attributes.activity_type.name == Activity.NOTIFY_STAFF:
            notice = unsent_page(await self.decode(payloads, StaffNotices))
            self.pages.add(event.event_id)
        else:
            return
        body = self.body(notice)
        detail = {"template": notice.template, "channel": notice.channel.value, "key": notice.key,
                  "attempt": notice.attempt}
        entry = self.add(event, "message", detail=detail, channel=self.word("channel", notice.channel),
                         recipient=masked(notice.to), body=body)
        self.notices[event.event_id] = (entry, notice, body)

    def body(self, notice: Notice) -> str:
        try:
            return render(notice.template, self.locale, notice.params, channel=notice.channel,
                          timezone=self.zone.key)
        except TemplateError:
            return notice.template

    def _projection_failed(self, event: HistoryEvent) -> bool:
        """A projection the database refused for good: supervisors must see that reports lack this case."""
        failure = event.activity_task_failed_event_attributes.failure
        cause = failure.cause if failure.HasField("cause") else failure
        if cause.application_failure_info.type != PROJECTION_REJECTED:
            return False
        self.add(event, "projection_failed", detail={"reason": cause.message}, reason=cause.message)
        return True

    async def _activity_completed(self, event: HistoryEvent) -> None:
        """A resident's notice the send skipped (nothing can reach them) was never a message."""
        attributes = event.activity_task_completed_event_attributes
        sent = self.notices.get(attributes.scheduled_event_id)
        skipped = sent is not None and not sent[1].to \
            and await self.decode(list(attributes.result.payloads), None) is None
        if skipped:
            self._not_a_message(attributes.scheduled_event_id)

    def _activity_failed(self, event: HistoryEvent) -> None:
        scheduled_event_id = event.activity_task_failed_event_attributes.scheduled_event_id
        if self._projection_failed(event):  # a send carrying the refused write sent nothing: it goes again
            self._not_a_message(scheduled_event_id)
        else:
            self._undelivered(scheduled_event_id)

    def _undelivered(self, scheduled_event_id: int) -> None:
        if scheduled_event_id in self.notices:
            self.notices[scheduled_event_id][0].delivery = Delivery(status="failed")

    def _not_a_message(self, scheduled_event_id: int) -> None:
        if scheduled_event_id in self.notices:
            self.entries.remove(self.notices.pop(scheduled_event_id)[0])
            self.pages.discard(scheduled_event_id)

    def _timer(self, event: HistoryEvent) -> None:
        summary = self._timers.get(event.timer_fired_event_attributes.timer_id, "")
        deadline = read_deadline_summary(summary)
        if deadline is not None:
            self.add(event, "deadline", detail={"deadline": deadline.kind, "due": deadline.at.isoformat()},
                     deadline=self.word("deadline", deadline.kind), at=self.when(deadline.at))
        else:
            self.add(event, "timer", detail={"summary": summary}, summary=summary or "-")

    def _search_attributes(self, event: HistoryEvent, proto) -> None:
        for key, value in decode_typed_search_attributes(proto):
            previous = self._attributes.get(key.name)
            self._attributes[key.name] = value
            if value == previous:
                continue
            if key.name == search.STATUS.name:
                self._status(event, value, previous)
            elif key.name == search.TIER.name:
                escalated = previous is not None and value > previous
                self.add(event, "escalated" if escalated else "tier", detail={"tier": value, "was": previous},
                         tier=value, tier_name=TIER.values.get(str(value), {}).get(self.locale, str(value)))
            elif key.name == search.BREACHED.name and value:
                self.add(event, "breached")

    def _status(self, event: HistoryEvent, status: str, previous: str | None) -> None:
        """Statuses no person's action already explains: dispatch, the callback, and reopening."""
        if previous in _CALLING_BACK and status not in (*_CALLING_BACK, "closed"):
            self.add(event, "reopened", detail={"status": status, "was": previous})
        elif status in _STATUS_SHOWN:
            self.add(event, status, "status", detail={"status": status, "was": previous},
                     status=self.word("status", status))


def _fields(payload: Any) -> dict[str, Any]:
    if isinstance(payload, BaseModel):
        data = {name: getattr(payload, name) for name in type(payload).model_fields}
    elif isinstance(payload, dict):
        data = dict(payload)
    else:
        data = {} if payload is None else {"value": payload}
    data.pop("actor", None)
    data.pop("occurred_at", None)
    data.pop("action_id", None)  # how the device sent it, like its time: not what was done
    if not data.get("photos"):
        data.pop("photos", None)
    return {key: getattr(value, "value", value) for key, value in data.items()}


def _brief(payload: Any) -> str:
    fields = _fields(payload)
    return ", ".join(f"{key}={value}" for key, value in fields.items()) or "-"


async def timeline(history: WorkflowHistory, converter: DataConverter, sessions: sessionmaker[Session],
                   locale: Locale, timezone: str) -> list[HistoryEntry]:
    reader = _Timeline(converter, locale, timezone)
    for event in history.events:
        try:
            await reader.read(event)
        except Exception:  # noqa: BLE001 - a newer workflow's event must not break the whole history
            log.warning("history of %s: cannot read event %s", history.workflow_id, event.event_id,
                        exc_info=True)
            reader.add(event, "unreadable", type=EventType.Name(event.event_type))
    await asyncio.to_thread(join_deliveries, reader, sessions)
    return reader.entries

