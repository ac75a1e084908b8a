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
import re
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from temporalio.api.common.v1 import Payload
from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import WorkflowHistory
from temporalio.converter import DataConverter, decode_typed_search_attributes

from api.models import Delivery, HistoryEntry
from steward.store.models import Notification, Resident, Staff
from steward.texts.choices import TIER
from steward.texts.render import TemplateError, render
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
from workflows.activity_contracts import Notice
from workflows.case_contracts import CaseInput, CaseSummary
from workflows.contracts import Locale
from workflows.equipment_contracts import DeviceMessage
from workflows.names import PROJECTION_REJECTED, Activity

log = logging.getLogger("steward.api")
ZH, EN = Locale.zh_cn, Locale.en

# update name → (its input, the event it is in the case's timeline)
UPDATES: dict[str, tuple[type[BaseModel], str]] = {
    "acknowledge": (Acknowledge, "acknowledged"),
    "pause": (Pause, "paused"),
    "resume": (Resume, "resumed"),
    "reassign": (Reassign, "reassigned"),
    "hand_on": (HandOn, "handed_on"),
    "change_severity": (ChangeSeverity, "severity_changed"),
    "extend": (Extend, "extended"),
    "agree_plan": (AgreePlan, "plan_agreed"),
    "resolve": (Resolve, "resolved"),
    "withdraw": (Withdraw, "withdrawn"),
    "record_callback": (RecordCallback, "manual_callback_recorded"),
    "answer_callback": (AnswerCallback, "callback_answered"),
    "add_photos": (AddPhotos, "photos_added"),
}
SIGNALS: dict[str, type[BaseModel]] = {
    "progress": ProgressNote, "callback_reply": CallbackReply, "delivery_failed": DeliveryFailed,
    "device_reading": DeviceMessage, "resident_message": ResidentMessage,
}

PHRASES: dict[str, dict[Locale, str]] = {
    "submitted": {EN: "{actor} submitted a {kind} ({severity}, {category}, building {building})",
                  ZH: "{actor} 提交了{kind}（{severity}，{category}，{building} 栋）"},
    "acknowledged": {EN: "{actor} acknowledged the case", ZH: "{actor} 确认接单"},
    "progress": {EN: "{actor} reported progress: {note}", ZH: "{actor} 记录进展：{note}"},
    "paused": {EN: "{actor} paused the resolution clock: {reason} (resume time: {resume_at})",
              ZH: "{actor} 暂停处理计时：{reason}（恢复时间：{resume_at}）"},
    "resumed": {EN: "{actor} resumed the work", ZH: "{actor} 恢复处理"},
    "reassigned": {EN: "{actor} reassigned the work to {handler_id}: {reason}",
                 ZH: "{actor} 将工单转派给 {handler_id}：{reason}"},
    "severity_changed": {EN: "{actor} changed the severity to {severity} ({reason})",
                        ZH: "{actor} 将紧急程度调整为{severity}（{reason}）"},
    "extended": {EN: "{actor} moved the resolution deadline to {resolution_due}: {reason}",
               ZH: "{actor} 将处理时限调整为 {resolution_due}：{reason}"},
    "plan_agreed": {EN: "{actor} agreed a plan with the resident, due {resolution_due} ({reason}): {plan}",
                    ZH: "{actor} 与住户商定处理方案，时限 {resolution_due}（{reason}）：{plan}"},
    "resolved": {EN: "{actor} resolved the case: {note}", ZH: "{actor} 处理完毕：{note}"},
    "handed_on": {EN: "{actor} handed on the work of {staff_id}, who left",
                  ZH: "{actor} 转交了已离职的 {staff_id} 的工单"},
    "withdrawn": {EN: "{actor} withdrew the case ({reason})", ZH: "{actor} 撤销了事项（{reason}）"},
    "manual_callback_recorded": {EN: "{actor} recorded the callback: {result} — {note}",
                        ZH: "{actor} 记录回访结果：{result}——{note}"},
    "callback_answered": {EN: "{actor} answered the callback in the app (satisfied: {satisfied}): {comment}",
                          ZH: "{actor} 在应用中答复回访（满意：{satisfied}）：{comment}"},
    "photos_added": {EN: "{actor} added photos: {photos}", ZH: "{actor} 添加了照片：{photos}"},
    "refused": {EN: "{actor} tried {name}, which failed: {reason}",
                ZH: "{actor} 尝试 {name} 未成功：{reason}"},
    "signal": {EN: "{actor} sent {name}: {what}", ZH: "{actor} 发来 {name}：{what}"},
    "callback_reply": {EN: "The resident answered callback attempt {attempt} by {channel}: {result}",
                       ZH: "住户通过{channel}答复第 {attempt} 次回访：{result}"},
    "delivery_failed": {EN: "{channel} for callback attempt {attempt} did not get through ({status})",
                        ZH: "第 {attempt} 次回访{channel}未送达（{status}）"},
    "device_reading": {EN: "The device reported: {reading}", ZH: "设备报告：{reading}"},
    "resident_message": {EN: "{actor} added by {channel}: {text}", ZH: "{actor} 通过{channel}补充：{text}"},
    "deadline": {EN: "The {deadline} deadline ({at}) passed", ZH: "{deadline}时限（{at}）已到"},
    "timer": {EN: "Timer fired: {summary}", ZH: "计时到期：{summary}"},
    "message": {EN: "{channel} to {recipient}: {body}", ZH: "{channel}发送给 {recipient}：{body}"},
    "escalated": {EN: "Escalated to tier {tier} ({tier_name})", ZH: "已升级至第 {tier} 级（{tier_name}）"},
    "tier": {EN: "Handled at tier {tier} ({tier_name})", ZH: "处理层级调整为第 {tier} 级（{tier_name}）"},
    "status": {EN: "Status: {status}", ZH: "状态：{status}"},
    "reopened": {EN: "Reopened: the resident was not satisfied", ZH: "住户不满意，已重新打开"},
    "breached": {EN: "Marked breached: a deadline was missed", ZH: "已标记为超时"},
    "closed": {EN: "Case closed; callback result: {result}", ZH: "已办结，回访结果：{result}"},
    "unreadable": {EN: "An event this version cannot read ({type})", ZH: "无法解读的事件（{type}）"},
    "ended": {EN: "The case workflow ended without closing ({outcome})", ZH: "工单流程异常结束（{outcome}）"},
    "projection_failed": {EN: "The read model refused a transition for good (not retried): {reason}",
                          ZH: "一次状态变更未能写入报表数据库（不再重试）：{reason}"},
}

WORDS: dict[str, dict[str, dict[Locale, str]]] = {
    "kind": {"repair": {EN: "repair", ZH: "报修"}, "complaint": {EN: "complaint", ZH: "投诉"},
             "question": {EN: "question", ZH: "咨询"}},
    "severity": {
        "emergency": {EN: "emergency", ZH: "紧急"}, "urgent": {EN: "urgent", ZH: "加急"},
        "normal": {EN: "normal", ZH: "一般"}, "low": {EN: "low", ZH: "低优先级"},
    },
    "status": {
        "submitted": {EN: "submitted", ZH: "已提交"}, "dispatched": {EN: "dispatched", ZH: "已派单"},
        "acknowledged": {EN: "acknowledged", ZH: "已接单"}, "in_progress": {EN: "in progress", ZH: "处理中"},
        "resolved": {EN: "resolved", ZH: "已处理"}, "callback": {EN: "awaiting callback", ZH: "回访中"},
        "manual_callback": {EN: "awaiting a manual callback", ZH: "待人工回访"},
        "closed": {EN: "closed", ZH: "已办结"},
    },
    "channel": {
        "sms": {EN: "SMS", ZH: "短信"}, "voice": {EN: "Call", ZH: "电话"}, "app": {EN: "App", ZH: "应用"},
    },
    "result": {
        "satisfied": {EN: "satisfied", ZH: "满意"}, "not_satisfied": {EN: "not satisfied", ZH: "不满意"},
        "unreachable": {EN: "unreachable", ZH: "联系不上"},
    },
    "deadline": {
        "response": {EN: "response", ZH: "响应"}, "response_missed": {EN: "response", ZH: "响应"},
        "warning": {EN: "75 % warning", ZH: "预警"}, "resolution": {EN: "resolution", ZH: "处理"},
        "resolution_breached": {EN: "resolution", ZH: "处理"},
        "resume": {EN: "automatic resume", ZH: "自动恢复"},
        "manual_callback": {EN: "manual callback", ZH: "人工回访"},
        "manual_callback_missed": {EN: "manual callback", ZH: "人工回访"},
        "callback_reply": {EN: "callback answer", ZH: "回访答复"},
        "quiet_hours": {EN: "quiet hours", ZH: "免打扰时段"},
    },
    "none": {"": {EN: "none given", ZH: "未填写"}},
}

_DEADLINE_SUMMARY = re.compile(r"^(?P<kind>[a-z_]+) due (?P<at>\d{4}-\d\d-\d\d \d\d:\d\d) UTC$")
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
        self._updates: dict[int, tuple[HistoryEntry, str]] = {}
        self._timers: dict[str, str] = {}
        self._attributes: dict[str, Any] = {}

    # --- words -----------------------------------------------------------------------------

    def word(self, group: str, value: Any) -> str:
        if value is None or value == "":
            return WORDS["none"][""][self.locale]
        return WORDS[group].get(str(value), {}).get(self.locale, str(value))

    def when(self, moment: datetime | None) -> str:
        if moment is None:
            return WORDS["none"][""][self.locale]
        return moment.astimezone(self.zone).strftime("%Y-%m-%d %H:%M")

    def phrase(self, name: str, **words: Any) -> str:
        """The sentence `name` in the reader's language; a word the event did not carry reads as '-'."""
        return PHRASES[name][self.locale].format_map(_Words(words))

    def add(self, event: HistoryEvent, code: str, phrase: str | None = None, /, *, actor: str | None = None,
            device_at: datetime | None = None, detail: dict | None = None, **words: Any) -> HistoryEntry:
        text = self.phrase(phrase or code, actor=actor or "steward", **words)
        entry = HistoryEntry(
            at=event.event_time.ToDatetime(tzinfo=UTC), device_at=device_at, event=code, actor=actor,
            text=text, detail={k: _scalar(v) for k, v in (detail or {}).items()},
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
        elif kind == EventType.EVENT_TYPE_ACTIVITY_TASK_FAILED:
            self._activity_failed(event.activity_task_failed_event_attributes.scheduled_event_id)
            self._projection_failed(event)
        elif kind == EventType.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT:
            self._activity_failed(event.activity_task_timed_out_event_attributes.scheduled_event_id)
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
        if isinstance(payload, ProgressNote):
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
        if attributes.activity_type.name != Activity.NOTIFY:
            return
        notice: Notice = await self.decode(list(attributes.input.payloads), Notice)
        try:
            body = render(notice.template, self.locale, notice.params, channel=notice.channel,
                          timezone=self.zone.key)
        except TemplateError:
            body = notice.template
        detail = {"template": notice.template, "channel": notice.channel.value, "key": notice.key,
                  "attempt": notice.attempt}
        entry = self.add(event, "message", detail=detail, channel=self.word("channel", notice.channel),
                         recipient=_masked(notice.to), body=body)
        self.notices[event.event_id] = (entry, notice, body)

    def _projection_failed(self, event: HistoryEvent) -> None:
        """A projection the database refused for good: supervisors must see that reports lack this case."""
        failure = event.activity_task_failed_event_attributes.failure
        cause = failure.cause if failure.HasField("cause") else failure
        if cause.application_failure_info.type == PROJECTION_REJECTED:
            self.add(event, "projection_failed", detail={"reason": cause.message}, reason=cause.message)

    def _activity_failed(self, scheduled_event_id: int) -> None:
        if scheduled_event_id in self.notices:
            self.notices[scheduled_event_id][0].delivery = Delivery(status="failed")

    def _timer(self, event: HistoryEvent) -> None:
        summary = self._timers.get(event.timer_fired_event_attributes.timer_id, "")
        match = _DEADLINE_SUMMARY.match(summary)
        if match:
            due = datetime.strptime(match["at"], "%Y-%m-%d %H:%M").replace(tzinfo=UTC)
            self.add(event, "deadline", detail={"deadline": match["kind"], "due": due.isoformat()},
                     deadline=self.word("deadline", match["kind"]), at=self.when(due))
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


class _Words(dict):
    def __missing__(self, key: str) -> str:
        return "-"


def _masked(phone: str) -> str:
    return phone[:-8] + "****" + phone[-4:] if len(phone) > 8 else "****"


def _scalar(value: Any) -> str | int | bool | None:
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


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
    await asyncio.to_thread(_join_deliveries, reader, sessions)
    return reader.entries


def _join_deliveries(reader: _Timeline, sessions: sessionmaker[Session]) -> None:
    """Each message's delivery status from the notifications table; recipients as directory ids."""
    if not reader.notices:
        return
    keys = [notice.key for _, notice, _ in reader.notices.values()]
    phones = {notice.to for _, notice, _ in reader.notices.values()}
    with sessions() as session:
        sent = session.scalars(select(Notification).where(Notification.key.in_(keys)))
        rows = {row.key: row for row in sent}
        people = {phone: person for phone, person in session.execute(
            select(Staff.phone, Staff.id).where(Staff.phone.in_(phones))
            .union_all(select(Resident.phone, Resident.id).where(Resident.phone.in_(phones)))
        )}
    for entry, notice, body in reader.notices.values():
        recipient = people.get(notice.to) or _masked(notice.to)
        entry.detail["recipient"] = recipient
        entry.text = reader.phrase("message", channel=reader.word("channel", notice.channel),
                                   recipient=recipient, body=body)
        row = rows.get(notice.key)
        if row is not None:
            updated_at = row.updated_at if row.updated_at.tzinfo else row.updated_at.replace(tzinfo=UTC)
            entry.delivery = Delivery(status=row.status, error_code=row.error_code, updated_at=updated_at)
        elif entry.delivery is None:
            entry.delivery = Delivery(status="pending")
