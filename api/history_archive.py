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

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from api.history import PHRASES, WORDS, _masked, _scalar, _Words
from api.models import CaseHistory, Delivery, HistoryEntry
from steward.store.deadlines import aware
from steward.store.models import Case, CaseEventRow, Notification
from workflows.contracts import Locale

ZH, EN = Locale.zh_cn, Locale.en
RECORDED = {EN: "{event}: {what}", ZH: "{event}：{what}"}
RETAINED = {
    EN: "Temporal no longer keeps this case's workflow (past its retention): this timeline is the read "
        "model's record of its transitions and messages.",
    ZH: "Temporal 已按保留期删除该工单的流程记录：以下时间线来自读模型中保存的状态变化和消息。",
}


def _word(group: str, value: object, locale: Locale) -> str:
    return WORDS.get(group, {}).get(str(value), {}).get(locale, str(value))


def _entry(row: CaseEventRow, case: Case, locale: Locale, zone: ZoneInfo) -> HistoryEntry:
    detail = {key: _scalar(value) for key, value in (row.detail or {}).items()}
    words = _Words({key: value for key, value in detail.items() if value is not None})
    words |= {"actor": row.actor_id or "steward", "kind": _word("kind", case.kind, locale),
              "severity": _word("severity", case.severity, locale), "category": case.category,
              "building": case.building_id}
    for key in ("resolution_due", "resume_at"):
        if isinstance(value := detail.get(key), str):
            words[key] = datetime.fromisoformat(value).astimezone(zone).strftime("%Y-%m-%d %H:%M")
    phrase = PHRASES.get(row.event)
    what = ", ".join(f"{key}={value}" for key, value in detail.items()) or "-"
    text = phrase[locale].format_map(words) if phrase else RECORDED[locale].format(event=row.event, what=what)
    return HistoryEntry(at=aware(row.at), device_at=aware(row.device_at), event=row.event,
                        actor=row.actor_id, text=text, detail=detail)


def _message(row: Notification, locale: Locale) -> HistoryEntry:
    recipient = row.recipient_id or _masked(row.to)
    text = PHRASES["message"][locale].format_map(_Words(
        channel=_word("channel", row.channel, locale), recipient=recipient, body=row.body or row.template))
    return HistoryEntry(at=aware(row.created_at), event="message", text=text,
                        detail={"template": row.template, "recipient": recipient, "attempt": row.attempt},
                        delivery=Delivery(status=row.status, error_code=row.error_code,
                                          updated_at=aware(row.updated_at)))


def archived_history(sessions: sessionmaker[Session], case_id: str, locale: Locale, timezone: str,
                     temporal_url: str) -> CaseHistory | None:
    """The case's timeline from the read model, or None when it has no row either."""
    zone = ZoneInfo(timezone)
    with sessions() as session:
        case = session.get(Case, case_id)
        if case is None:
            return None
        events = session.scalars(select(CaseEventRow).where(CaseEventRow.case_id == case_id)
                                 .order_by(CaseEventRow.seq))
        entries = [_entry(row, case, locale, zone) for row in events]
        messages = session.scalars(select(Notification).where(Notification.case_id == case_id))
        entries += [_message(row, locale) for row in messages]
    entries.sort(key=lambda entry: entry.at)
    return CaseHistory(case_id=case_id, locale=locale.value, temporal_url=temporal_url, entries=entries,
                       source="read_model", notice=RETAINED[locale])
