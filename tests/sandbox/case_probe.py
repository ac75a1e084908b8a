"""A stand-in case workflow for the webhook tests: it takes the signals and update the real case
workflows take, with the same names and contracts, and tells what it received."""

from __future__ import annotations

from pydantic import BaseModel
from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from workflows.contracts import Acknowledge, CallbackReply, DeliveryFailed


class Received(BaseModel):
    replies: list[CallbackReply] = []
    failures: list[DeliveryFailed] = []
    acknowledgements: list[Acknowledge] = []


@workflow.defn(name="CaseProbe")
class CaseProbe:
    def __init__(self) -> None:
        self.received = Received()
        self.finished = False

    @workflow.run
    async def run(self) -> None:
        await workflow.wait_condition(lambda: self.finished)

    @workflow.signal
    def callback_reply(self, reply: CallbackReply) -> None:
        self.received.replies.append(reply)

    @workflow.signal
    def delivery_failed(self, failure: DeliveryFailed) -> None:
        self.received.failures.append(failure)

    @workflow.update
    def acknowledge(self, action: Acknowledge) -> None:
        self.received.acknowledgements.append(action)

    @acknowledge.validator
    def _only_once(self, action: Acknowledge) -> None:
        if self.received.acknowledgements:
            raise ApplicationError("the case was already acknowledged")

    @workflow.signal
    def finish(self) -> None:
        self.finished = True

    @workflow.query
    def what(self) -> Received:
        return self.received
