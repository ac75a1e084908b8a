"""A timeline's messages joined with their `notifications` rows: the delivery Twilio reported, the
recipient as a directory id, and, where the send chose them, who was told and how. A resident's notice
reads its channel and phone from its row (none yet: not shown yet); a page to staff (`notify.send_to_staff`)
becomes one message per row under its key, one per person and channel (none: nobody was told)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy.orm import Session, sessionmaker

from api.history_entries import delivery_of, masked, message_text
from api.models import Delivery, HistoryEntry
from steward.store.case_history import deliveries, directory_ids
from steward.store.models import Notification
from workflows.activity_contracts import Notice
from workflows.contracts import Channel

if TYPE_CHECKING:
    from api.history import _Timeline


def join_deliveries(reader: _Timeline, sessions: sessionmaker[Session]) -> None:
    if not reader.notices:
        return
    pages = {reader.notices[event_id][1].key for event_id in reader.pages if event_id in reader.notices}
    with sessions() as session:
        rows = deliveries(session, [notice.key for _, notice, _ in reader.notices.values()], pages)
        people = directory_ids(session, {notice.to for _, notice, _ in reader.notices.values()}
                               | {row.to for row in rows.values()})
    for event_id, (entry, notice, body) in reader.notices.items():
        if event_id in reader.pages:
            told = [row for key, row in sorted(rows.items()) if key.startswith(f"{notice.key}:")]
            at = next(index for index, shown in enumerate(reader.entries) if shown is entry)
            reader.entries[at:at + 1] = [_chosen(reader, entry.model_copy(deep=True), notice, row, people)
                                         for row in told]
        elif not notice.to:  # a resident's notice
            row = rows.get(notice.key)
            if row is None:
                reader.entries.remove(entry)
            else:
                _chosen(reader, entry, notice, row, people)
        else:
            _show(reader, entry, notice, body, rows.get(notice.key), people)


def _chosen(reader: _Timeline, entry: HistoryEntry, notice: Notice, row: Notification,
            people: dict[str, str]) -> HistoryEntry:
    """A message whose recipient and channel the send chose: as its row says."""
    notice = notice.model_copy(update={"key": row.key, "to": row.to, "channel": Channel(row.channel)})
    entry.detail["channel"], entry.detail["key"] = notice.channel.value, notice.key
    return _show(reader, entry, notice, reader.body(notice), row, people)


def _show(reader: _Timeline, entry: HistoryEntry, notice: Notice, body: str, row: Notification | None,
          people: dict[str, str]) -> HistoryEntry:
    recipient = people.get(notice.to) or masked(notice.to)
    entry.detail["recipient"] = recipient
    entry.text = message_text(reader.locale, notice.channel, recipient, body)
    if row is not None:
        entry.delivery = delivery_of(row)
    elif entry.delivery is None:
        entry.delivery = Delivery(status="pending")
    return entry
