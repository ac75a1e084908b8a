"""An inspection's contracts: the inspector's report against the plan's checklist, and what it found."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from workflows.actions import Action
from workflows.case_contracts import CaseState
from workflows.contracts import Contract, LongText, Photos, ShortText
from workflows.drill_contracts import Finding, FindingRecord


class CheckedStep(Contract):
    step: ShortText
    ok: bool = Field(description="The step passed; a failed one needs a finding or a note.")
    note: ShortText | None = None


class InspectionReport(Action):
    """The inspector's report: every checklist step, and what needs repairing (each a repair case)."""

    checklist: Annotated[list[CheckedStep], Field(max_length=30)] = []
    findings: Annotated[list[Finding], Field(max_length=20)] = []
    note: LongText | None = None
    photos: Photos


class InspectionState(Contract):
    case: CaseState
    equipment_id: str | None
    checklist: list[str]
    report: InspectionReport | None
    findings: list[FindingRecord]
