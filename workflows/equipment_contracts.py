"""The devices Steward looks after, as every floor names them: their types and service states."""

from __future__ import annotations

from enum import StrEnum


class EquipmentType(StrEnum):
    lift = "lift"
    water_pump = "water_pump"
    fire_system = "fire_system"
    camera = "camera"
    gate = "gate"
    other = "other"


class EquipmentStatus(StrEnum):
    """A device out of service still takes repairs; a retired one takes nothing."""

    in_service = "in_service"
    out_of_service = "out_of_service"
    retired = "retired"
