"""The published deadline policy (SPEC §2), readable by anyone."""

from __future__ import annotations

from fastapi import APIRouter

from api.context import SettingsDep
from workflows.policy import SlaPolicy

router = APIRouter(tags=["policy"])


@router.get("/sla", response_model=SlaPolicy, summary="The published deadline policy")
async def sla(settings: SettingsDep) -> SlaPolicy:
    """Response and resolution limits per severity, the first tier told and the staff channel; durations
    are ISO 8601 (PT30M). Each case keeps the policy it started with."""
    return settings.policy
