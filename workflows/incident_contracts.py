"""A building-wide incident (issue 22): what opens it, what staff do to it, what it tells the cases it
holds, and the state it shows the world.

An incident gathers the reports of one outage (a burst main: "no water" in every flat of a building) so
they are handled as one: one page to staff, one notice to the households, one root cause; each report it
holds is released into its own callback when the incident is restored.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import Field, StringConstraints

from workflows.actions import Action
from workflows.activity_contracts import BatchResult
from workflows.case_contracts import IncidentHold, TimelineEntry, Transition
from workflows.contracts import Actor, AwareDatetime, Contract, LongText, Severity, ShortText, Tier
from workflows.policy import SlaPolicy

INCIDENT_PREFIX = "INC"
Unit = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,32}$")]
Units = Annotated[list[Unit], Field(default_factory=list, max_length=500,
                                    description="The units it affects; none: the whole building.")]
Category = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]


class IncidentStatus(StrEnum):
    open = "open"
    restored = "restored"
    closed = "closed"


class IncidentScope(Contract):
    """Where an incident is: a building, or some of its units."""

    building_id: ShortText
    units: Units
    category: Category

    def covers(self, building_id: str, unit: str | None) -> bool:
        """A unit of the building it names (any unit, or a common area, when it names none)."""
        return building_id == self.building_id and (not self.units or unit in self.units)

    def where(self) -> str:
        return self.building_id + (f" ({', '.join(self.units)})" if self.units else "")


class IncidentInput(IncidentScope):
    title: ShortText = Field(description="The kind of outage, e.g. 'No water'.")
    message: LongText = Field(description="What the affected households are told.")
    expected_restoration: AwareDatetime
    severity: Severity = Severity.urgent
    opened_by: Actor
    opened_at: AwareDatetime
    policy: SlaPolicy


# --- staff's updates on the incident, and what it says to its cases ---------------------------------


class AttachCase(Action):
    """Staff attach an open case: the API reads the case and says where it is."""

    case_id: ShortText
    building_id: ShortText
    unit: ShortText | None = None
    open: bool = Field(default=True, description="Whether the case is still open (read by the API).")


class JoinIncident(Action):
    """The case's side of an attachment: held by this incident from now on."""

    hold: IncidentHold
    scope: IncidentScope


class RestoreIncident(Action):
    root_cause: Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=4000)]
    note: LongText | None = None


class ChangeRestoration(Action):
    expected_restoration: AwareDatetime
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=500)]


class CaseJoined(Contract):
    """A case filed while the incident was open tells it that it joined."""

    case_id: ShortText
    unit: ShortText | None = None
    resident_id: ShortText


class IncidentRestored(Action):
    """To each held case: restored, with the root cause; the case is resolved and called back."""

    incident_id: ShortText
    root_cause: LongText


# --- what the incident shows ---------------------------------------------------------------------


class HeldCase(Contract):
    case_id: str
    joined_at: datetime
    how: str = Field(description="filed (a report that joined) or attached (by staff).")


class IncidentState(Contract):
    incident_id: str
    status: IncidentStatus
    title: str
    category: str
    building_id: str
    units: list[str]
    severity: Severity
    message: str
    expected_restoration: datetime
    opened_by: str
    opened_at: datetime
    tier: Tier
    escalations: int
    response_due: datetime
    resolution_due: datetime
    warned: bool
    breached: bool
    cases: list[HeldCase]
    notice: BatchResult | None = None
    restoration_notice: BatchResult | None = None
    restored_at: datetime | None = None
    restored_by: str | None = None
    root_cause: str | None = None
    closed_at: datetime | None = None
    next_deadline: datetime | None = None
    next_deadline_kind: str | None = None
    timeline: list[TimelineEntry] = []


class IncidentEvent(Transition):
    state: IncidentState
