"""Building-wide incidents into the SQL read model: one idempotent write per incident transition, as
for cases (the transition once in `case_events`, the `incidents` row only overwritten by a newer seq)."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker
from temporalio import activity

from activities.projection import record_event, utc, write_latest
from steward.store.community_models import IncidentRow
from workflows.incident_contracts import IncidentEvent, IncidentState
from workflows.names import Activity


def incident_row(state: IncidentState, seq: int) -> dict:
    return {
        "incident_id": state.incident_id,
        "building_id": state.building_id,
        "units": list(state.units),
        "category": state.category,
        "status": state.status.value,
        "title": state.title,
        "opened_at": utc(state.opened_at),
        "expected_restoration": utc(state.expected_restoration),
        "restored_at": utc(state.restored_at),
        "root_cause": state.root_cause,
        "cases": len(state.cases),
        "breached": state.breached,
        "state": state.model_dump(mode="json", exclude={"timeline"}),
        "last_seq": seq,
    }


class IncidentProjection:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions

    @activity.defn(name=Activity.PROJECT_INCIDENT)
    def project_incident(self, event: IncidentEvent) -> None:
        with self.sessions.begin() as session:
            record_event(session, case_id=event.case_id, seq=event.seq, event=event.event, at=event.at,
                         actor_id=event.actor_id, device_at=event.device_at, detail=event.detail)
            write_latest(session, IncidentRow, "incident_id", incident_row(event.state, event.seq))
