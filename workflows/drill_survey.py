"""The drill's alarm survey, one batch of households per child: "did you hear the alarm?" """

from __future__ import annotations

import asyncio
from datetime import timedelta

from temporalio import workflow

from workflows.names import DrillSignal, DrillUpdate

with workflow.unsafe.imports_passed_through():
    from workflows.actions import CallbackReply, DeliveryFailed
    from workflows.activity_contracts import ResidentContact
    from workflows.background import Background
    from workflows.callback import UNREACHABLE, CallbackDesk, Unanswered
    from workflows.case_contracts import TimelineEntry
    from workflows.contracts import CallbackPurpose, Channel, Role
    from workflows.drill_contracts import AnswerSurvey, SurveyAnswered, SurveyBatch, SurveyTally
    from workflows.messenger import Messenger
    from workflows.notice_batches import residents_in
    from workflows.rules import Detail, require

SURVEY_TEMPLATE = "drill_survey"


@workflow.defn(name="DrillSurveyWorkflow")
class DrillSurveyWorkflow:
    """One batch of the alarm survey: every resident of the range is asked at once with the callback
    step's automatic attempts (preferred channel first, the other after a failure, quiet hours waited
    out). It stays open until the survey window closes, so a late answer to any attempt still counts;
    whoever has not answered by then counts as no answer."""

    @workflow.init
    def __init__(self, batch: SurveyBatch) -> None:
        self.case_id = workflow.info().workflow_id
        self.drill_id = batch.drill_id
        self.policy = batch.policy
        self.messenger = Messenger(self.case_id, batch.policy, Background())
        self.callbacks = CallbackDesk()
        self.timeline: list[TimelineEntry] = []

    @workflow.run
    async def run(self, batch: SurveyBatch) -> SurveyTally:
        residents = await residents_in(batch.residents)
        asking = [
            asyncio.ensure_future(
                self.callbacks.ask(self, contact, CallbackPurpose.drill, batch.params, SURVEY_TEMPLATE)
            )
            for contact in residents
        ]
        left = batch.closes_at - workflow.now()
        if left > timedelta(0):
            workflow.set_current_details(f"Asking {len(residents)} residents until the survey closes.")
            await workflow.sleep(left, summary=f"survey closes {batch.closes_at:%Y-%m-%d %H:%M} UTC")
        for question in asking:
            question.cancel()
        asked = await asyncio.gather(*asking, return_exceptions=True)
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self.tally(residents, asked)

    def tally(self, residents: list[ResidentContact], asked: list[object]) -> SurveyTally:
        """1 (heard) or 2 (not heard), the latest answer of each resident to any of their attempts;
        no working phone is unreachable; anything else, no answer."""
        answers = {
            self.callbacks.asked[n]: reply.satisfied for n, reply in sorted(self.callbacks.replies.items())
        }
        counts = SurveyTally(asked=len(residents))
        for contact, outcome in zip(residents, asked, strict=True):
            heard = answers.get(contact.resident_id)
            if heard is True:
                counts.heard += 1
            elif heard is False:
                counts.not_heard += 1
                counts.not_heard_by.append(contact.resident_id)
            elif isinstance(outcome, Unanswered) and outcome.reason in UNREACHABLE:
                counts.unreachable += 1
            else:
                counts.no_answer += 1
        return counts

    def note(self, event: str, detail: Detail | None = None) -> None:
        self.timeline.append(TimelineEntry.recorded(workflow.now(), event, detail))

    @workflow.query
    def progress(self) -> list[TimelineEntry]:
        return self.timeline

    @workflow.signal(name=DrillSignal.CALLBACK_REPLY)
    def callback_reply(self, reply: CallbackReply) -> None:
        accepted = self.callbacks.reply(reply)
        self.note(
            "callback_reply", {"attempt": reply.attempt, "heard": reply.satisfied, "accepted": accepted}
        )

    def _last_attempt_to(self, resident_id: str) -> int | None:
        return max((n for n, asked in self.callbacks.asked.items() if asked == resident_id), default=None)

    @workflow.query
    def answered(self, resident_id: str) -> bool:
        """Whether this resident has answered the latest attempt made to them, so their page stops asking."""
        attempt = self._last_attempt_to(resident_id)
        return attempt is not None and attempt in self.callbacks.replies

    @workflow.update(name=DrillUpdate.ANSWER_SURVEY)
    def answer_survey(self, answer: AnswerSurvey) -> SurveyAnswered:
        """The page answers the latest attempt made to this resident, under the rule of SMS and keypad."""
        attempt = self._last_attempt_to(answer.actor.id)
        assert attempt is not None
        now = workflow.now()
        self.callback_reply(CallbackReply(attempt=attempt, satisfied=answer.heard, channel=Channel.app,
                                          received_at=now))
        return SurveyAnswered(drill_id=self.drill_id, heard=answer.heard, at=now)

    @answer_survey.validator
    def _validate_answer_survey(self, answer: AnswerSurvey) -> None:
        """Only a resident this batch asked, once: the first answer to an attempt counts."""
        require(answer.actor.role is Role.resident, "only a resident asked in the survey can answer it")
        attempt = self._last_attempt_to(answer.actor.id)
        require(attempt is not None, "the survey has not asked you (yet)")
        require(attempt not in self.callbacks.replies, "you have already answered the survey")

    @workflow.signal(name=DrillSignal.DELIVERY_FAILED)
    def delivery_failed(self, failure: DeliveryFailed) -> None:
        accepted = self.callbacks.delivery_failed(failure)
        self.note(
            "delivery_failed", {"attempt": failure.attempt, "status": failure.status, "accepted": accepted}
        )
