"""What a drill or an inspection finds becomes repair cases: children that outlive their parent and are held
to the clock like any repair."""

from __future__ import annotations

import hashlib
import re

from temporalio import workflow
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.workflow import ParentClosePolicy

with workflow.unsafe.imports_passed_through():
    from workflows.case_contracts import CaseInput
    from workflows.contracts import Actor, Kind
    from workflows.drill_contracts import FindingRecord
    from workflows.policy import SlaPolicy
    from workflows.repair import RepairWorkflow


def plain_code(workflow_id: str) -> str:
    """The id without what a phone keypad or an SMS reply cannot carry (a schedule's `:` in its time)."""
    return re.sub(r"[^A-Za-z0-9_-]", "", workflow_id)


def finding_case_id(code: str, number: int) -> str:
    return f"RP-{code}-F{number}"


# A finding's repair case names the drill as its resident (nobody to call: staff record its callback).
# A schedule-made drill's code is longer than a directory id column, so it is cut to fit, made unique
# again by a hash of the whole code.
FINDING_RESIDENT_FITS = "finding-resident-fits"
DIRECTORY_ID_WIDTH = 32


def fitted_id(text: str, width: int = DIRECTORY_ID_WIDTH) -> str:
    """`text` if it fits `width` characters, else its start and a hash of all of it, `width` long."""
    if len(text) <= width:
        return text
    digest = hashlib.sha256(text.encode()).hexdigest()[:10]
    return f"{text[:width - len(digest) - 1]}-{digest}"


async def open_finding_case(
    building_id: str, policy: SlaPolicy, code: str, finding: FindingRecord, filed_by: Actor, resident_id: str,
    equipment_id: str | None = None,
) -> bool:
    """Start the finding's repair case (parent close: abandon); False when it already exists. Its
    `resident_id` is the parent (a drill's code, an inspection's device): nobody to call, staff record
    its callback."""
    try:
        await workflow.start_child_workflow(
            RepairWorkflow.run,
            CaseInput(
                kind=Kind.repair,
                severity=finding.severity,
                category=finding.category,
                title=finding.title,
                description=finding.description,
                building_id=building_id,
                unit=finding.unit,
                resident_id=resident_id,
                submitted_by=filed_by,
                submitted_at=workflow.now(),
                policy=policy,
                equipment_id=equipment_id,
            ),
            id=finding.case_id,
            parent_close_policy=ParentClosePolicy.ABANDON,
            static_summary=f"repair · {finding.category} · {code} finding {finding.number}",
        )
    except WorkflowAlreadyStartedError:
        return False
    return True
