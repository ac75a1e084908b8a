"""What residents, devices and Twilio tell a case, and the callback's record.

Mixed into `CaseLifecycle`: the resident's photos and in-app callback answer, staff's recorded
callback (never by the person measured by it), progress notes, messages and device readings, and
Twilio's answers and failed deliveries for the callback desk.
"""

from __future__ import annotations

from temporalio import workflow

from workflows.names import CaseSignal, CaseUpdate

with workflow.unsafe.imports_passed_through():
    from workflows.actions import (
        RESIDENT_PHOTOS,
        Action,
        AddPhotos,
        AnswerCallback,
        CallbackReply,
        DeliveryFailed,
        ProgressNote,
        RecordCallback,
        ResidentMessage,
    )
    from workflows.case_contracts import CaseState
    from workflows.contracts import Channel, Role, Status
    from workflows.equipment_contracts import DeviceMessage, FaultFixed
    from workflows.rules import (
        CALLING_BACK,
        OPEN,
        STAFF,
        SUPERVISORS,
        Detail,
        require,
        require_not_closed,
        with_photos,
    )

# Notes from someone a complaint bars were kept before this change.
BARRED_NOTES_DROPPED = "barred-notes-dropped"


class CaseInbox:
    # --- updates: the resident in the app ----------------------------------------------------

    def _require_resident_of_open_case(self, action: Action, doing: str) -> None:
        require(
            action.actor.role is Role.resident and action.actor.id == self.case.resident_id,
            f"only the resident of this case can {doing}",
        )
        require_not_closed(self.status is Status.closed)

    def _resident_photos(self) -> int:
        return sum(len(e.detail.get("photos") or []) for e in self.timeline if e.event == "photos_added")

    @workflow.update(name=CaseUpdate.ADD_PHOTOS)
    def add_photos(self, action: AddPhotos) -> CaseState:
        self.note("photos_added", {"photos": list(action.photos)}, action=action)
        return self.state()

    @add_photos.validator
    def _validate_add_photos(self, action: AddPhotos) -> None:
        self._require_resident_of_open_case(action, "add photos to it")
        require(
            self._resident_photos() + len(action.photos) <= RESIDENT_PHOTOS,
            f"a case takes at most {RESIDENT_PHOTOS} photos from the resident",
        )

    @workflow.update(name=CaseUpdate.ANSWER_CALLBACK)
    def answer_callback(self, action: AnswerCallback) -> CaseState:
        """The same rule as an SMS or keypad answer: the first answer to the attempt counts."""
        reply = CallbackReply(
            attempt=self.callbacks.attempt,
            satisfied=action.satisfied,
            channel=Channel.app,
            received_at=workflow.now(),
        )
        self._take_reply(reply, {"comment": action.comment}, action)
        return self.state()

    @answer_callback.validator
    def _validate_answer_callback(self, action: AnswerCallback) -> None:
        self._require_resident_of_open_case(action, "answer its callback")
        require(
            self.status is Status.callback and self.callbacks.attempt > 0,
            "the case is not waiting for your answer",
        )
        require(
            self.callbacks.attempt not in self.callbacks.replies, "this callback was already answered"
        )

    @workflow.update(name=CaseUpdate.RECORD_CALLBACK)
    def record_callback(self, action: RecordCallback) -> CaseState:
        self.callbacks.record(action)
        detail: Detail = {"result": action.result.value}
        if action.reached_by is not None:
            detail |= {"reached_by": action.reached_by.value, "reason": action.reason}
        self.note("manual_callback_recorded", detail, action=action)
        return self.state()

    @record_callback.validator
    def _validate_record_callback(self, action: RecordCallback) -> None:
        """回访 is not self-assessment: the resident's own answer decides. Staff record an outcome only
        when the case asks for a manual callback; while the automatic callback asks, only a supervisor
        may, with a reason; never the person who resolved the work or whom a complaint is about."""
        self._require_staff(action, "record a callback")
        require(
            self.status in CALLING_BACK, "there is no callback to record: the case is not in its callback"
        )
        require(self.callbacks.manual is None, "a callback outcome was already recorded")
        if self.status is Status.callback:
            require(
                action.actor.role in SUPERVISORS,
                "the automatic callback is still asking the resident; their answer decides (only a "
                "supervisor may record an outcome now, with a reason)",
            )
            require(action.reason is not None, "a supervisor recording an outcome now must give a reason")
        require(
            action.actor.id != self.resolved_by,
            f"{action.actor.id} resolved the work and may not record its callback; a colleague calls back",
        )
        require(action.reached_by is not None, "reached_by: say how the resident was reached (phone, visit)")
        self._require_may_act(action)
        self._require_may_record(action)

    def _require_may_record(self, action: RecordCallback) -> None:
        """Who else a kind keeps from recording its callback (an inspection: all but a team lead or above)."""

    # --- signals: notes and callback answers ----------------------------------------------

    @workflow.signal(name=CaseSignal.PROGRESS)
    def progress(self, note: ProgressNote) -> None:
        """A note sent again with the same action id (an offline device retrying) is kept once."""
        if self.status is Status.closed or note.action_id in self._notes_taken:
            return
        barred = note.actor.role in STAFF and self.barred(note.actor.id, note.actor_tier)
        if barred and workflow.patched(BARRED_NOTES_DROPPED):
            return
        if note.action_id:
            self._notes_taken.add(note.action_id)
        if self.status is Status.acknowledged:
            self.status = Status.in_progress
        self.note("progress", with_photos({"note": note.note}, note.photos), action=note)

    @workflow.signal(name=CaseSignal.RESIDENT_MESSAGE)
    def resident_message(self, message: ResidentMessage) -> None:
        """Kept in the timeline for staff; from anyone but this case's resident it is dropped."""
        if self.status is not Status.closed and message.actor.id == self.case.resident_id:
            self.note("resident_message", {"text": message.text, "channel": message.channel.value},
                      actor=message.actor)

    @workflow.signal(name=CaseSignal.DEVICE_READING)
    def device_reading(self, message: DeviceMessage) -> None:
        """What the device a case was raised by says while the case is open: noted, never acted on — a
        reading back to normal does not close the case, a person does."""
        if self.status is not Status.closed:
            self.note("device_reading", {"kind": message.kind, "reading": message.describe(),
                                         "at": message.at.isoformat()})

    @workflow.signal(name=CaseSignal.FAULT_FIXED)
    def fault_fixed(self, fixed: FaultFixed) -> None:
        """Fixed with the device's own case: resolved as if its resolver had resolved this one, so the
        resident is called back as after any resolution."""
        if self.status in OPEN and not self.withdrawn and self.case.equipment_id is not None:
            self._resolve(fixed, {"note": fixed.note, "fixed_with": fixed.fixed_with})

    @workflow.signal(name=CaseSignal.CALLBACK_REPLY)
    def callback_reply(self, reply: CallbackReply) -> None:
        self._take_reply(reply)

    def _take_reply(
        self, reply: CallbackReply, extra: Detail | None = None, action: Action | None = None
    ) -> None:
        """The callback desk decides whether an answer counts (the first to its attempt); it is noted
        either way, so supervisors see a late or second answer too."""
        accepted = self.callbacks.reply(reply)
        detail: Detail = {
            "attempt": reply.attempt, "satisfied": reply.satisfied, "channel": reply.channel.value,
            "accepted": accepted,
        }
        self.note("callback_reply", detail | (extra or {}), action=action)

    @workflow.signal(name=CaseSignal.DELIVERY_FAILED)
    def delivery_failed(self, failure: DeliveryFailed) -> None:
        accepted = self.callbacks.delivery_failed(failure)
        self.note(
            "delivery_failed",
            {
                "attempt": failure.attempt,
                "channel": failure.channel.value,
                "status": failure.status,
                "accepted": accepted,
            },
        )
