"""Who does what: the handler for a new case, the on-duty staff of a tier, and contact details."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from temporalio import activity

from activities.projection import write_case_events
from steward.phones import is_landline
from steward.store.models import Case, Household, Resident, Staff
from steward.store.on_duty import on_duty_in_tier
from workflows.activity_contracts import (
    ContactLookup,
    DispatchRequest,
    DispatchResult,
    ResidentContact,
    ResidentPages,
    ResidentRange,
    StaffContact,
    TierRequest,
)
from workflows.contracts import Channel, Kind, Locale, Tier
from workflows.equipment_contracts import OpenReports
from workflows.names import Activity
from workflows.rules import OPEN

CUSTOMER_SERVICE = "customer_service"
GENERAL = "general"
SKILL_FOR_CATEGORY = {
    "plumbing": "plumbing",
    "water": "plumbing",
    "leak": "plumbing",
    "drainage": "plumbing",
    "electrical": "electrical",
    "power": "electrical",
    "lighting": "electrical",
    "lift": "lift",
    "elevator": "lift",
    "cleaning": "cleaning",
    "sanitation": "cleaning",
    "security": "security",
    "door": "security",
    "access": "security",
    "general": GENERAL,
}


def skill_for(kind: Kind, category: str) -> str:
    """Complaints and questions go to customer service; a repair's category names the trade it needs."""
    if kind in (Kind.complaint, Kind.question):
        return CUSTOMER_SERVICE
    return SKILL_FOR_CATEGORY.get(category.strip().lower(), GENERAL)


def covers(staff: Staff, building_id: str) -> bool:
    """Staff with no building list cover the whole community (managers)."""
    return not staff.buildings or building_id in staff.buildings


def resident_contact_of(resident: Resident) -> ResidentContact:
    """A fixed line cannot take an SMS: its SMS channel is bad from the start, so every notice and the
    callback go by voice (the workflows' one channel rule, `workflows/messenger.py resident_channels`)."""
    bad = [Channel(c) for c in resident.bad_channels or []]
    if resident.phone and is_landline(resident.phone) and Channel.sms not in bad:
        bad.append(Channel.sms)
    return ResidentContact(
        resident_id=resident.id,
        phone=resident.phone,
        locale=Locale(resident.locale),
        preferred_channel=Channel(resident.preferred_channel),
        opted_out=resident.opted_out,
        bad_channels=bad,
    )


def resident_contact_in(session: Session, resident_id: str) -> ResidentContact:
    """An unknown resident gets no phone, so the callback goes to a person instead of failing; one who
    moved out is replaced by another resident of the household with a phone, if there is one."""
    resident = session.get(Resident, resident_id)
    if resident is not None and not resident.active:
        resident = session.scalars(
            select(Resident).where(Resident.household_id == resident.household_id, Resident.active,
                                   Resident.phone.is_not(None)).order_by(Resident.id).limit(1)
        ).first()
    if resident is None:
        return ResidentContact(resident_id=resident_id, phone=None, locale=Locale.zh_cn,
                               preferred_channel=Channel.sms, opted_out=False)
    return resident_contact_of(resident)


def contact_of(staff: Staff) -> StaffContact:
    return StaffContact(
        staff_id=staff.id,
        name=staff.name,
        tier=Tier(staff.tier),
        phone=staff.phone,
        locale=Locale(staff.locale),
    )


def staff_to_tell(session: Session, staff_ids: list[str], tier: TierRequest | None) -> list[StaffContact]:
    """These staff members if still active, then the on-duty staff of the tier (a notice's readers)."""
    named = [session.get(Staff, staff_id) for staff_id in staff_ids]
    on_duty = on_duty_in_tier(session, tier.tier, tier.building_id) if tier else []
    return [contact_of(staff) for staff in [*named, *on_duty] if staff is not None and staff.active]


class Directory:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions

    @activity.defn(name=Activity.DISPATCH)
    def dispatch(self, request: DispatchRequest) -> DispatchResult:
        """The on-duty staff member with the skill, covering the building, with the fewest open cases."""
        skill = skill_for(request.kind, request.category)
        with self.sessions() as session:
            candidates = [
                s
                for s in session.scalars(
                    select(Staff).where(Staff.active, Staff.on_duty, Staff.tier == int(request.min_tier))
                )
                if covers(s, request.building_id)
                and s.id not in request.exclude_staff_ids
                and (skill in s.skills or request.min_tier > Tier.handler)
            ]
            if not candidates:
                return DispatchResult(
                    handler=None,
                    reason=f"nobody on duty with skill {skill} covers building {request.building_id}",
                )
            open_cases = dict(
                session.execute(
                    select(Case.handler_id, func.count())
                    .where(Case.handler_id.in_([s.id for s in candidates]), Case.status != "closed")
                    .group_by(Case.handler_id)
                ).all()
            )
            chosen = min(candidates, key=lambda s: (open_cases.get(s.id, 0), s.id))
            return DispatchResult(
                handler=contact_of(chosen),
                reason=f"{skill}, covers {request.building_id}, {open_cases.get(chosen.id, 0)} open cases",
            )

    @activity.defn(name=Activity.ON_DUTY_FOR_TIER)
    def on_duty_for_tier(self, request: TierRequest) -> list[StaffContact]:
        with self.sessions() as session:
            return staff_to_tell(session, [], request)

    @activity.defn(name=Activity.RESIDENT_CONTACT)
    def resident_contact(self, lookup: ContactLookup | str) -> ResidentContact:
        """The contact, after writing the transitions the look-up carries (`workflows/case_projection.py`);
        a bare id was scheduled before `case-projection-carried`."""
        if isinstance(lookup, str):
            lookup = ContactLookup(resident_id=lookup)

        def read(session: Session) -> ResidentContact:
            return resident_contact_in(session, lookup.resident_id)

        if lookup.carried is not None:
            return write_case_events(self.sessions, lookup.carried, then=read)
        with self.sessions() as session:
            return read(session)

    @activity.defn(name=Activity.OPEN_REPORTS)
    def open_reports(self, request: OpenReports) -> list[str]:
        """From the read model: the repairs residents filed about the device that are not resolved yet."""
        with self.sessions() as session:
            return list(session.scalars(
                select(Case.case_id).where(
                    Case.equipment_id == request.equipment_id, Case.building_id == request.building_id,
                    Case.kind == Kind.repair.value, Case.status.in_([status.value for status in OPEN]),
                    Case.resident_id != request.equipment_id, Case.case_id != request.but,
                ).order_by(Case.case_id)
            ))

    @activity.defn(name=Activity.STAFF_CONTACT)
    def staff_contact(self, staff_id: str) -> StaffContact | None:
        with self.sessions() as session:
            return next(iter(staff_to_tell(session, [staff_id], None)), None)

    # --- every household of some buildings, page by page (hearing notices) ----------------

    @activity.defn(name=Activity.RESIDENT_PAGES)
    def resident_pages(self, request: ResidentPages) -> list[ResidentRange]:
        """The residents of these buildings cut into ranges of `size` by id, the last one open-ended."""
        with self.sessions() as session:
            ids = list(session.scalars(
                select(Resident.id).join(Household, Household.id == Resident.household_id)
                .where(Household.building_id.in_(request.building_ids), Resident.active,
                       *_only_units(request.units)).order_by(Resident.id)
            ))
        ends: list[str | None] = [*ids[request.size - 1:-1:request.size], None]
        starts = [None, *ends[:-1]]
        return [ResidentRange(building_ids=request.building_ids, after=after, through=through,
                              units=request.units)
                for after, through in zip(starts, ends, strict=True)]

    @activity.defn(name=Activity.RESIDENTS_IN)
    def residents_in(self, request: ResidentRange) -> list[ResidentContact]:
        with self.sessions() as session:
            query = (select(Resident).join(Household, Household.id == Resident.household_id)
                     .where(Household.building_id.in_(request.building_ids), Resident.active,
                            *_only_units(request.units))
                     .order_by(Resident.id))
            if request.after is not None:
                query = query.where(Resident.id > request.after)
            if request.through is not None:
                query = query.where(Resident.id <= request.through)
            return [resident_contact_of(resident) for resident in session.scalars(query)]


def _only_units(units: list[str] | None) -> list:
    """The condition keeping an incident's units (none: every unit of the buildings)."""
    return [Household.unit.in_(units)] if units else []
