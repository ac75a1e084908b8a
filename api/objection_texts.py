"""Objection texts and answers from the database, for a hearing whose state no longer carries them
(a hearing continued as new carries only each objection's number, people and deadlines)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from steward.store.community_models import HearingObjectionRow
from workflows.hearing_contracts import ObjectionRecord


def with_texts(sessions: sessionmaker[Session], hearing_id: str,
               objections: list[ObjectionRecord]) -> list[ObjectionRecord]:
    """The records with the text and answer of each kept objection filled in from the database."""
    missing = [o.number for o in objections if o.kept and o.text is None]
    if not missing:
        return objections
    with sessions() as session:
        rows = {row.number: row for row in session.scalars(select(HearingObjectionRow).where(
            HearingObjectionRow.hearing_id == hearing_id, HearingObjectionRow.number.in_(missing)))}
    return [
        o.model_copy(update={"text": rows[o.number].text, "answer": o.answer or rows[o.number].answer})
        if o.number in rows else o
        for o in objections
    ]
