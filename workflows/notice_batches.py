"""Every household of some buildings at once, without one giant history.

A hearing or a drill speaks to hundreds of households. The parent cuts the residents into ranges
(`directory.resident_pages`) and runs one child workflow per range, so its own history holds only the
batches' starts and results:

- `NoticeBatchWorkflow` sends one message to each resident of its range: after quiet hours, on each
  one's own channel and in their language, `NOTICES_PER_ACTIVITY` to an activity, keyed by case,
  template and resident so nobody is told twice.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

from workflows.names import Activity

with workflow.unsafe.imports_passed_through():
    from workflows.activity_contracts import (
        BatchResult,
        Notice,
        NoticeBatch,
        ResidentContact,
        ResidentPages,
        ResidentRange,
        SendManyResult,
    )
    from workflows.background import Background
    from workflows.messenger import Messenger, resident_channel
    from workflows.policy import SlaPolicy

DIRECTORY_TIMEOUT = timedelta(minutes=1)
SEND_MANY_TIMEOUT = timedelta(minutes=5)
SEND_MANY_HEARTBEAT = timedelta(minutes=1)
SEND_MANY_RETRY = RetryPolicy(maximum_interval=timedelta(minutes=5))
NOTICES_PER_ACTIVITY = 50


async def resident_ranges(
    building_ids: list[str], size: int, units: list[str] | None = None
) -> list[ResidentRange]:
    """The residents of these buildings (of these units, when given), cut into ranges of `size` (one
    child workflow each)."""
    return await workflow.execute_activity(
        Activity.RESIDENT_PAGES,
        ResidentPages(building_ids=building_ids, size=size, units=units),
        result_type=list[ResidentRange],
        start_to_close_timeout=DIRECTORY_TIMEOUT,
        summary="cut the affected households into batches",
    )


async def tell_every_household(
    case_id: str, building_ids: list[str], size: int, template: str, params: dict[str, str], policy: SlaPolicy
) -> BatchResult:
    """One message to every resident of these buildings, `size` to a `NoticeBatchWorkflow` child."""
    ranges = await resident_ranges(building_ids, size)
    return await tell_batches(case_id, ranges, template, params, policy)


async def tell_batches(
    case_id: str, ranges: list[ResidentRange], template: str, params: dict[str, str], policy: SlaPolicy,
    label: str | None = None, child_id: str | None = None, urgent: bool = False,
) -> BatchResult:
    """One `NoticeBatchWorkflow` child per range, their results summed. `label` names the message in
    summaries (the template by default); `child_id` is the children's id before their number (hearings
    name them `{id}-{phase}`, which their recorded histories keep); `urgent` sends in quiet hours too."""
    label = label or template
    prefix = child_id or f"{case_id}/{template}"
    workflow.set_current_details(f"Sending the {label} to {len(ranges)} batches of households.")
    results = await asyncio.gather(
        *(
            workflow.execute_child_workflow(
                NoticeBatchWorkflow.run,
                NoticeBatch(
                    case_id=case_id, template=template, residents=residents, params=params, policy=policy,
                    urgent=urgent,
                ),
                id=f"{prefix}-{number}",
                static_summary=f"{label} of {case_id}: batch {number} of {len(ranges)}",
            )
            for number, residents in enumerate(ranges, 1)
        )
    )
    return BatchResult(
        residents=sum(r.residents for r in results),
        sent=sum(r.sent for r in results),
        unreachable=sum(r.unreachable for r in results),
    )


async def residents_in(residents: ResidentRange) -> list[ResidentContact]:
    return await workflow.execute_activity(
        Activity.RESIDENTS_IN,
        residents,
        result_type=list[ResidentContact],
        start_to_close_timeout=DIRECTORY_TIMEOUT,
        summary="the residents of this batch",
    )


@workflow.defn(name="NoticeBatchWorkflow")
class NoticeBatchWorkflow:
    @workflow.run
    async def run(self, batch: NoticeBatch) -> BatchResult:
        messenger = Messenger(batch.case_id, batch.policy, Background())
        if not batch.urgent:
            await messenger.until_quiet_hours_end()
        residents = await residents_in(batch.residents)
        notices = [n for n in (self.notice_for(batch, contact) for contact in residents) if n is not None]
        results = await asyncio.gather(
            *(
                workflow.execute_activity(
                    Activity.NOTIFY_MANY,
                    notices[start : start + NOTICES_PER_ACTIVITY],
                    result_type=SendManyResult,
                    start_to_close_timeout=SEND_MANY_TIMEOUT,
                    heartbeat_timeout=SEND_MANY_HEARTBEAT,
                    retry_policy=SEND_MANY_RETRY,
                    summary=f"{batch.template} to residents {start + 1}-{start + NOTICES_PER_ACTIVITY}",
                )
                for start in range(0, len(notices), NOTICES_PER_ACTIVITY)
            )
        )
        sent = sum(result.sent for result in results)
        return BatchResult(residents=len(residents), sent=sent, unreachable=len(residents) - sent)

    @staticmethod
    def notice_for(batch: NoticeBatch, contact: ResidentContact) -> Notice | None:
        channel = resident_channel(contact)
        if channel is None or contact.phone is None:
            return None
        return Notice(
            case_id=batch.case_id,
            key=f"{batch.case_id}:{batch.template}:{contact.resident_id}",
            to=contact.phone,
            channel=channel,
            locale=contact.locale,
            template=batch.template,
            params=batch.params,
            recipient_id=contact.resident_id,
        )
