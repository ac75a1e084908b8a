"""The demo community `steward dev` and the tests start from: two buildings, 24 households, staff on
every tier. Seeding is idempotent: a community that exists is left as it is.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date

from sqlalchemy.orm import Session, sessionmaker

from steward.store.models import Building, Equipment, Household, Resident, Staff

BUILDINGS = {"B1": "Camellia Court, Building 1", "B2": "Camellia Court, Building 2"}
UNITS_PER_BUILDING = 12
EQUIPMENT = [  # id, type, building, location, model, installed, contractor
    ("EQ-B1-LIFT1", "lift", "B1", "East stair core", "Schindler 3300", date(2012, 5, 1),
     "Shanghai Lift Service"),
    ("EQ-B1-PUMP1", "water_pump", "B1", "Basement plant room", "Grundfos CR 15", date(2015, 3, 9),
     "Pudong Water Works"),
    ("EQ-B2-FIRE1", "fire_system", "B2", "Ground floor control room", "Honeywell XLS", date(2018, 9, 20),
     "Camellia Fire Safety"),
    ("EQ-B2-GATE1", "gate", "B2", "North car park entrance", "FAAC 640", date(2019, 6, 1), ""),
]

# (id, name, tier, skills, buildings, phone, locale)
STAFF = [
    ("S001", "Wang Wei", 0, ["plumbing", "general"], ["B1", "B2"], "+8613900000001", "zh-CN"),
    ("S002", "Li Na", 0, ["electrical", "lift"], ["B1", "B2"], "+8613900000002", "zh-CN"),
    ("S003", "Zhang Min", 0, ["cleaning", "general"], ["B1"], "+8613900000003", "zh-CN"),
    ("S004", "Chen Jie", 0, ["security"], ["B1", "B2"], "+8613900000004", "zh-CN"),
    ("S005", "Emma Hughes", 0, ["customer_service"], ["B1", "B2"], "+8613900000005", "en"),
    ("S101", "Liu Yang", 1, ["plumbing", "electrical", "lift", "general"], ["B1", "B2"], "+8613900000101",
     "zh-CN"),
    ("S102", "Sun Li", 1, ["cleaning", "security", "customer_service"], ["B1", "B2"], "+8613900000102",
     "zh-CN"),
    ("S201", "Zhou Qiang", 2, [], ["B1", "B2"], "+8613900000201", "zh-CN"),
    ("S301", "Huang Mei", 3, [], ["B1", "B2"], "+8613900000301", "zh-CN"),
]


@dataclass(frozen=True)
class DemoPerson:
    role: str
    subject: str
    label: str


def _resident(building: str, index: int) -> Resident:
    """Households 1, 5, 9 speak English; every third is elderly and prefers a phone call."""
    number = (1 if building == "B1" else 2) * 100 + index
    resident_id = f"R{index + (0 if building == 'B1' else UNITS_PER_BUILDING):03d}"
    return Resident(
        id=resident_id,
        household_id=f"H-{building}-{number}",
        name=f"Resident {resident_id}",
        phone=f"+86138{number:08d}",
        locale="en" if index % 4 == 1 else "zh-CN",
        preferred_channel="voice" if index % 3 == 0 else "sms",
        opted_out=False,
        bad_channels=[],
    )


def seed_demo(sessions: sessionmaker[Session]) -> bool:
    """Create the demo community unless it exists; True when it was created."""
    with sessions.begin() as session:
        if session.get(Building, "B1") is not None:
            return False
        for building_id, name in BUILDINGS.items():
            session.add(Building(id=building_id, name=name, address=f"{name}, Shanghai"))
        session.flush()
        for building_id in BUILDINGS:
            for index in range(1, UNITS_PER_BUILDING + 1):
                resident = _resident(building_id, index)
                unit = resident.household_id.rsplit("-", 1)[1]
                session.add(Household(id=resident.household_id, building_id=building_id, unit=unit))
                session.flush()
                session.add(resident)
        for staff_id, name, tier, skills, buildings, phone, locale in STAFF:
            session.add(Staff(id=staff_id, name=name, tier=tier, skills=skills, buildings=buildings,
                              on_duty=True, phone=phone, locale=locale))
        for device_id, kind, building_id, location, model, installed, contractor in EQUIPMENT:
            session.add(Equipment(id=device_id, equipment_type=kind, building_id=building_id,
                                  location=location, model=model, installed_on=installed,
                                  contractor=contractor, alarm_key=secrets.token_hex(32)))
    return True


DEMO_PEOPLE = [
    DemoPerson("admin", "admin", "administrator"),
    DemoPerson("supervisor", "S201", "property manager (tier 2)"),
    DemoPerson("staff", "S001", "plumber (tier 0)"),
    DemoPerson("staff", "S101", "team lead (tier 1)"),
    DemoPerson("staff", "S201", "property manager (tier 2)"),
    DemoPerson("staff", "S301", "general manager (tier 3)"),
    DemoPerson("resident", "R001", "resident, B1-101, en, prefers SMS"),
    DemoPerson("resident", "R003", "resident, B1-103, zh-CN, elderly, prefers a phone call"),
]
