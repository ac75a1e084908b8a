"""Objection texts and answers kept in the database for a hearing (`hearings.keep_objection`), on SQLite
and PostgreSQL: a retried receipt or answer writes nothing twice, and the API reads them back into a
hearing's records that no longer carry them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from temporalio.exceptions import ApplicationError

from activities.objections import NOT_KEPT_YET, ObjectionStore
from api.objection_texts import with_texts
from steward.store.community_models import HearingObjectionRow
from workflows.contracts import Channel
from workflows.hearing_contracts import KeptObjection, ObjectionRecord

T0 = datetime(2026, 12, 3, 8, 0, tzinfo=UTC)


def test_a_kept_objection_is_written_once_answered_and_read_back(database) -> None:
    hearing_id = f"HR-STORE-{database.backend}-{T0.timestamp():.0f}"
    store = ObjectionStore(database.sessions)
    received = KeptObjection(hearing_id=hearing_id, number=1, resident_id="R001", text="Why?", received_at=T0)
    store.keep(received)
    store.keep(received)
    answered = KeptObjection(hearing_id=hearing_id, number=1, resident_id="R001", answer="Because.",
                             answered_by="S001", answered_at=T0 + timedelta(hours=1))
    store.keep(answered)
    store.keep(answered)
    with database.sessions() as session:
        rows = session.scalars(
            select(HearingObjectionRow).where(HearingObjectionRow.hearing_id == hearing_id))
        kept = [(r.number, r.text, r.answer, r.answered_by) for r in rows]
    assert kept == [(1, "Why?", "Because.", "S001")]

    carried = ObjectionRecord(number=1, resident_id="R001", building_id="B1", unit="101", text=None,
                              channel=Channel.app, received_at=T0, answer_due=T0 + timedelta(days=1), tier=1,
                              answered_by="S001", answered_at=T0 + timedelta(hours=1), kept=True)
    (filled,) = with_texts(database.sessions, hearing_id, [carried])
    assert (filled.text, filled.answer) == ("Why?", "Because.")


def test_an_answer_written_before_its_receipt_fails_to_be_retried_not_lost(database) -> None:
    """The receipt's write may still be retrying (a busy database) when the answer's runs: the answer
    fails, so Temporal retries it, rather than updating no row and losing the answer."""
    hearing_id = f"HR-EARLY-{database.backend}-{T0.timestamp():.0f}"
    store = ObjectionStore(database.sessions)
    answered = KeptObjection(hearing_id=hearing_id, number=1, resident_id="R001", answer="Because.",
                             answered_by="S001", answered_at=T0 + timedelta(hours=1))
    with pytest.raises(ApplicationError) as early:
        store.keep(answered)
    assert early.value.type == NOT_KEPT_YET and not early.value.non_retryable
    store.keep(KeptObjection(hearing_id=hearing_id, number=1, resident_id="R001", text="Why?",
                             received_at=T0))
    store.keep(answered)
    with database.sessions() as session:
        row = session.get(HearingObjectionRow, (hearing_id, 1))
        assert (row.text, row.answer) == ("Why?", "Because.")
