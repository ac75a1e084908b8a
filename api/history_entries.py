"""What a timeline entry shows, whichever record it was read from (the event history or, past Temporal's
retention, the read model): a recipient with their phone masked, details as JSON scalars, and a
message's line and delivery as Twilio reported it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from api.models import Delivery
from steward.store.deadlines import aware
from steward.store.models import Notification
from steward.texts.timeline import phrase, word
from workflows.activity_contracts import Notice, ResidentNotice, StaffNotices
from workflows.contracts import Channel, Locale


def masked(phone: str) -> str:
    """A phone the directory does not know: enough to tell numbers apart, not to call one."""
    return phone[:-8] + "****" + phone[-4:] if len(phone) > 8 else "****"


def scalar(value: Any) -> str | int | bool | None:
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def message_text(locale: Locale, channel: Any, recipient: str, body: str) -> str:
    return phrase("message", locale, channel=word("channel", channel, locale), recipient=recipient, body=body)


def delivery_of(row: Notification) -> Delivery:
    return Delivery(status=row.status, error_code=row.error_code, updated_at=aware(row.updated_at))


def unsent(notice: ResidentNotice) -> Notice:
    """A resident's notice as the history reads it first: the channel and phone are chosen by the send and
    read from its notifications row; until that row is written the notice is not shown."""
    return Notice(case_id=notice.case_id, key=notice.key, to="", channel=Channel.sms, locale=Locale.zh_cn,
                  template=notice.template, params=notice.params, recipient_id=notice.resident_id)


def unsent_page(page: StaffNotices) -> Notice:
    """A page to staff as the history reads it first: who was told, and how, is read from its rows."""
    return Notice(case_id=page.case_id, key=page.key, to="", channel=page.channel, locale=Locale.zh_cn,
                  template=page.template, params=page.params, gather=page.gather)
