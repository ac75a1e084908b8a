"""Hearings and drills into the SQL read model, as cases are: one background projection per transition.

The projection activity was added to shipped workflows, so it runs behind `workflow.patched`: a hearing
or drill whose history predates it replays without it (`steward reconcile --repair` fills its row).
"""

from __future__ import annotations

from datetime import timedelta

from pydantic import Field
from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from workflows.background import Background
    from workflows.case_contracts import Transition
    from workflows.drill_contracts import DrillState
    from workflows.hearing_contracts import HearingState, ObjectionFigures

PROJECTED = "read_model_projection"
PROJECT_TIMEOUT = timedelta(seconds=30)


class HearingEvent(Transition):
    state: HearingState
    figures: ObjectionFigures | None = Field(
        default=None, description="The objections and callbacks in figures, when `state` lists none of "
        "them (hearings before `objection-figures-projected` listed every objection)."
    )


class DrillEvent(Transition):
    state: DrillState


def project(background: Background, activity: str, event: Transition) -> None:
    """Start the projection in the background (the workflow drains it before it ends)."""
    if workflow.patched(PROJECTED):
        background.start(workflow.start_activity(
            activity, event, start_to_close_timeout=PROJECT_TIMEOUT, summary=f"project {event.event}"))
