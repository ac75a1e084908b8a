"""A drill's findings become repair cases: children that outlive the drill and are held to the clock."""

from __future__ import annotations

import hashlib

from temporalio import workflow
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.workflow import ParentClosePolicy

with workflow.unsafe.imports_passed_through():
    from workflows.case_contracts import CaseInput
    from workflows.contracts import Actor, Kind
    from workflows.drill_contracts import DrillInput, FindingRecord
    from workflows.repair import RepairWorkflow


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


async def open_finding_case(drill: DrillInput, code: str, finding: FindingRecord, filed_by: Actor) -> bool:
    """Start the finding's repair case (parent close: abandon); False when it already exists."""
    resident_id = fitted_id(code) if workflow.patched(FINDING_RESIDENT_FITS) else code
    try:
        await workflow.start_child_workflow(
            RepairWorkflow.run,
            CaseInput(
                kind=Kind.repair,
                severity=finding.severity,
                category=finding.category,
                title=finding.title,
                description=finding.description,
                building_id=drill.building_id,
                unit=finding.unit,
                resident_id=resident_id,
                submitted_by=filed_by,
                submitted_at=workflow.now(),
                policy=drill.policy,
            ),
            id=finding.case_id,
            parent_close_policy=ParentClosePolicy.ABANDON,
            static_summary=f"repair · {finding.category} · drill {code} finding {finding.number}",
        )
    except WorkflowAlreadyStartedError:
        return False
    return True
