"""What staff do to a drill: start it, tick its checklist, complete it with findings, file the report.

Mixed into `DrillWorkflow` (the SDK collects handlers from base classes); each validator decides who
may act and when, and a closed drill refuses everything.
"""

from __future__ import annotations

from temporalio import workflow

from workflows.names import DrillSignal, DrillUpdate

with workflow.unsafe.imports_passed_through():
    from workflows import search
    from workflows.actions import Action
    from workflows.drill_contracts import (
        CompleteDrill,
        DrillState,
        DrillStatus,
        FileReport,
        FindingRecord,
        StartDrill,
        StepDone,
        community_time,
    )
    from workflows.findings import finding_case_id
    from workflows.rules import STAFF, require, require_not_closed


class DrillActions:
    def _require_staff(self, action: Action, doing: str) -> None:
        require_not_closed(self.status is DrillStatus.closed, "drill")
        require(action.actor.role in STAFF, f"only staff can {doing}")

    @workflow.update(name=DrillUpdate.START)
    def start(self, action: StartDrill) -> DrillState:
        now = workflow.now()
        self.times["started"] = now
        self.owner_id = action.actor.id
        self.ladder.stop_paging()
        self.set_status(DrillStatus.started)
        workflow.upsert_search_attributes([search.OWNER.value_set(action.actor.id)])
        self.note("started", {"late": now > self.start_due}, action=action)
        return self.state()

    @start.validator
    def _validate_start(self, action: StartDrill) -> None:
        self._require_staff(action, "start a drill")
        require(not self.started(), f"the drill was already started by {self.owner_id}")
        opens = self.scheduled_at - self.rules.start_within
        require(workflow.now() >= opens, f"the drill can be started from {community_time(opens, self.tz)}")

    @workflow.signal(name=DrillSignal.STEP_DONE)
    def step_done(self, step: StepDone) -> None:
        """A checklist step done; one that cannot be (not started, unknown, already done) is noted only."""
        record = self.steps[step.number - 1] if step.number <= len(self.steps) else None
        why = (
            "the drill is not running"
            if self.status is not DrillStatus.started
            else f"there is no step {step.number}"
            if record is None
            else "the step was already done"
            if record.done_at
            else None
        )
        if why or record is None:
            self.note("step_ignored", {"number": step.number, "reason": why}, action=step)
            return
        record.done_at, record.done_by, record.note = workflow.now(), step.actor.id, step.note
        self.note("step_done", {"number": step.number}, action=step)

    @workflow.update(name=DrillUpdate.COMPLETE)
    def complete(self, action: CompleteDrill) -> DrillState:
        self.times["completed"] = workflow.now()
        self.completed_by = action.actor
        self.participation = action.participation
        self.findings = [
            FindingRecord(**dict(finding), number=n, case_id=finding_case_id(self.code, n))
            for n, finding in enumerate(action.findings, 1)
        ]
        self.set_status(DrillStatus.completed)
        self.note(
            "completed",
            {"participation": action.participation, "findings": len(self.findings)},
            action=action,
        )
        return self.state()

    @complete.validator
    def _validate_complete(self, action: CompleteDrill) -> None:
        self._require_staff(action, "complete a drill")
        require(self.started(), "start the drill before completing it")
        require(not self.completed(), "the drill was already completed")
        left = [str(step.number) for step in self.steps if step.done_at is None]
        require(not left, f"checklist steps not done yet: {', '.join(left)}")

    @workflow.update(name=DrillUpdate.FILE_REPORT)
    def file_report(self, action: FileReport) -> DrillState:
        self.times["reported"] = workflow.now()
        self.report = action.summary
        self.ladder.stop_paging()
        self.note("reported", {"late": self.report_missed}, action=action)
        return self.state()

    @file_report.validator
    def _validate_file_report(self, action: FileReport) -> None:
        self._require_staff(action, "file a drill report")
        require(self.completed(), "complete the drill before filing its report")
        require(not self.reported(), "the report was already filed")
