"""A case's timeline once Temporal no longer has its workflow: read from the SQL read model.

Temporal keeps a closed workflow's event history for the namespace's retention period, then deletes
it. The read model keeps every transition the workflow projected (`case_events`) and every message or
call (`notifications`), so a supervisor still reads the case's timeline afterwards, in the same
shape and words, and the answer says where it came from. What only the event history held (a refused
update, each timer's own line) is not in it.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session, sessionmaker

from api.history_entries import delivery_of, masked, message_text, scalar
from api.models import CaseHistory, HistoryEntry
from steward.store.case_history import case_record
from steward.store.deadlines import aware
from steward.store.models import Case, CaseEventRow, Notification
from steward.texts.timeline import PHRASES, phrase, word
from workflows.contracts import Locale

ZH, EN = Locale.zh_cn, Locale.en
RECORDED = {EN: "{event}: {what}", ZH: "{event}：{what}"}
RETAINED = {
    EN: "Temporal no longer keeps this case's workflow (past its retention): this timeline is the read "
        "model's record of its transitions and messages.",
    ZH: "Temporal 已按保留期删除该工单的流程记录：以下时间线来自读模型中保存的状态变化和消息。",
}


def _entry(row: CaseEventRow, case: Case, locale: Locale, zone: ZoneInfo) -> HistoryEntry:
    detail = {key: scalar(value) for key, value in (row.detail or {}).items()}
    words = {key: value for key, value in detail.items() if value is not None}
    words |= {"actor": row.actor_id or "steward", "kind": word("kind", case.kind, locale),
              "severity": word("severity", case.severity, locale), "category": case.category,
              "building": case.building_id}
    for key in ("resolution_due", "resume_at"):
        if isinstance(value := detail.get(key), str):
            words[key] = datetime.fromisoformat(value).astimezone(zone).strftime("%Y-%m-%d %H:%M")
    what = ", ".join(f"{key}={value}" for key, value in detail.items()) or "-"
    text = phrase(row.event, locale, **words) if row.event in PHRASES else \
        RECORDED[locale].format(event=row.event, what=what)
    return HistoryEntry(at=aware(row.at), device_at=aware(row.device_at), event=row.event,
                        actor=row.actor_id, text=text, detail=detail)


def _message(row: Notification, locale: Locale) -> HistoryEntry:
    recipient = row.recipient_id or masked(row.to)
    text = message_text(locale, row.channel, recipient, row.body or row.template)
    return HistoryEntry(at=aware(row.created_at), event="message", text=text,
                        detail={"template": row.template, "recipient": recipient, "attempt": row.attempt},
                        delivery=delivery_of(row))


def archived_history(sessions: sessionmaker[Session], case_id: str, locale: Locale, timezone: str,
                     temporal_url: str) -> CaseHistory | None:
    """The case's timeline from the read model, or None when it has no row either."""
    zone = ZoneInfo(timezone)
    with sessions() as session:
        record = case_record(session, case_id)
        if record is None:
            return None
        entries = [_entry(row, record.case, locale, zone) for row in record.events]
        entries += [_message(row, locale) for row in record.messages]
    entries.sort(key=lambda entry: entry.at)
    return CaseHistory(case_id=case_id, locale=locale.value, temporal_url=temporal_url, entries=entries,
                       source="read_model", notice=RETAINED[locale])
