"""Random sequences of staff and resident actions and jumps in time keep a repair case's invariants.

After every step: a closed case has a callback record; no escalation happened before the deadline
that caused it; the tier stays within 0–3 and never goes down; a rejected action changed nothing;
and the SQL read model agrees with the workflow's own state.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from temporalio.client import WorkflowUpdateFailedError
from temporalio.service import RPCError

from steward.store.models import Case as CaseRow
from tests.workflows.harness import HANDLER, RESIDENT, SUPERVISOR, RepairCases
from workflows.actions import (
    Acknowledge,
    CallbackReply,
    ChangeSeverity,
    Extend,
    Pause,
    ProgressNote,
    Reassign,
    RecordCallback,
    Resolve,
    Resume,
    Withdraw,
)
from workflows.case_contracts import CaseState
from workflows.contracts import Actor, CallbackResult, Channel, ReachedBy, Role, Severity, Status
from workflows.repair import RepairWorkflow

COLLEAGUE = Actor(id="S003", role=Role.staff)

STEPS = st.one_of(
    st.tuples(st.just("acknowledge"), st.sampled_from([HANDLER, COLLEAGUE])),
    st.tuples(st.just("progress"), st.just(HANDLER)),
    st.tuples(st.just("pause"), st.sampled_from([None, 60, 300])),
    st.tuples(st.just("resume"), st.sampled_from([HANDLER, RESIDENT])),
    st.tuples(st.just("reassign"), st.sampled_from(["S003", "S001"])),
    st.tuples(st.just("severity"), st.sampled_from(list(Severity)), st.sampled_from([HANDLER, SUPERVISOR])),
    st.tuples(st.just("extend"), st.integers(min_value=-2, max_value=48)),
    st.tuples(st.just("resolve"), st.sampled_from([HANDLER, COLLEAGUE])),
    st.tuples(st.just("withdraw"), st.just(RESIDENT)),
    st.tuples(st.just("reply"), st.booleans()),
    st.tuples(st.just("record"), st.sampled_from(list(CallbackResult))),
    st.tuples(st.just("wait"), st.sampled_from([5, 20, 35, 90, 240, 600, 1500])),
)


async def act(cases: RepairCases, handle, step: tuple) -> None:
    """One step; a refused update must leave the case exactly as it was."""
    kind, arg, *rest = step
    now = await cases.now()
    updates = {
        "acknowledge": lambda: (RepairWorkflow.acknowledge, Acknowledge(actor=arg)),
        "pause": lambda: (
            RepairWorkflow.pause,
            Pause(
                actor=HANDLER,
                reason="Awaiting parts",
                resume_at=now + timedelta(minutes=arg) if arg else None,
            ),
        ),
        "resume": lambda: (RepairWorkflow.resume, Resume(actor=arg)),
        "reassign": lambda: (
            RepairWorkflow.reassign,
            Reassign(actor=SUPERVISOR, handler_id=arg, reason="Rota"),
        ),
        "severity": lambda: (
            RepairWorkflow.change_severity,
            ChangeSeverity(actor=rest[0], severity=arg, reason="Re-assessed on site"),
        ),
        "extend": lambda: (
            RepairWorkflow.extend,
            Extend(actor=SUPERVISOR, resolution_due=now + timedelta(hours=arg), reason="Contractor booked"),
        ),
        "resolve": lambda: (RepairWorkflow.resolve, Resolve(actor=arg, note="Done")),
        "withdraw": lambda: (RepairWorkflow.withdraw, Withdraw(actor=arg)),
        "record": lambda: (
            RepairWorkflow.record_callback,
            RecordCallback(actor=SUPERVISOR, result=arg, note="Phoned", reached_by=ReachedBy.phone,
                           reason="The resident phoned the office"),
        ),
    }
    if kind == "wait":
        await cases.sleep(timedelta(minutes=arg))
    elif kind == "progress":
        await handle.signal(RepairWorkflow.progress, ProgressNote(actor=arg, note="On my way"))
    elif kind == "reply":
        state = await cases.state(handle)
        if state.next_deadline_kind == "callback_reply":
            await handle.signal(
                RepairWorkflow.callback_reply,
                CallbackReply(
                    attempt=state.callback_attempt, satisfied=arg, channel=Channel.sms, received_at=now
                ),
            )
    else:
        update, action = updates[kind]()
        await quiet(handle)
        before = await cases.state(handle)
        try:
            await handle.execute_update(update, action)
        except WorkflowUpdateFailedError:
            if kind != "reassign":
                after = await cases.state(handle)
                assert (after.status, after.timeline, after.tier) == (
                    before.status,
                    before.timeline,
                    before.tier,
                )


async def quiet(handle, within: float = 10) -> None:
    """Until the case has nothing in flight (no activity, no workflow task): a refused update is then
    compared with a case that is not moving on by itself (a callback step's look-up returning)."""
    deadline = asyncio.get_running_loop().time() + within
    while True:
        raw = (await handle.describe()).raw_description
        if not raw.pending_activities and not raw.HasField("pending_workflow_task"):
            return
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"the case never settled: {raw.pending_activities}")
        await asyncio.sleep(0.05)


async def settled(cases: RepairCases, handle, within: float = 10) -> tuple[CaseState, CaseRow]:
    """The workflow's state and its read-model row at the same transition. Activities run in real time,
    so the case may move on (a callback closing) between a query and the row catching up with it."""
    deadline = asyncio.get_running_loop().time() + within
    while True:
        state = await cases.state(handle)
        row, events = cases.projected(handle.id)
        if row is not None and row.last_seq == len(state.timeline) == len(events):
            return state, row
        assert asyncio.get_running_loop().time() < deadline, "the projection never caught up"
        await asyncio.sleep(0.05)


async def check_invariants(cases: RepairCases, handle, lowest_tier: int) -> int:
    state, row = await settled(cases, handle)
    assert 0 <= state.tier <= 3
    assert state.tier >= lowest_tier, "the tier went down"
    if state.status is Status.closed:
        assert state.callback is not None, "closed without a callback record"
    for entry in state.timeline:
        if entry.event == "escalated" and entry.detail.get("due"):
            assert entry.at >= datetime.fromisoformat(entry.detail["due"]), f"escalated early: {entry}"
    assert (row.status, row.tier, row.owner_id, row.handler_id) == (
        state.status.value,
        int(state.tier),
        state.owner_id,
        state.handler_id,
    )
    assert (row.resolution_breached, row.response_breached, row.withdrawn, row.reopen_count) == (
        state.resolution_breached,
        state.response_breached,
        state.withdrawn,
        state.reopen_count,
    )
    return int(state.tier)


@dataclass
class Tally:
    """What a fuzz run did, printed at its end so `make fuzz` shows it ran every example."""

    sequences: int = 0
    steps: int = 0
    closed: int = 0


@pytest.fixture
def tally(database) -> Iterator[Tally]:
    counted = Tally()
    yield counted
    print(f"\ninvariants ({database.backend}): sequences {counted.sequences}, steps checked {counted.steps}, "
          f"cases closed {counted.closed}")


async def run_sequence(cases: RepairCases, steps: list[tuple], tally: Tally | None = None) -> None:
    tally = tally or Tally()
    handle = await cases.start()
    tier = await check_invariants(cases, handle, 0)
    tally.sequences += 1
    for step in steps:
        if (await handle.describe()).status.name != "RUNNING":
            break
        try:
            await act(cases, handle, step)
        except RPCError:
            break
        tier = await check_invariants(cases, handle, tier)
        tally.steps += 1
    tally.closed += (await cases.state(handle)).status is Status.closed


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(STEPS, min_size=3, max_size=8))
async def test_random_actions_keep_the_case_invariants(cases: RepairCases, steps: list[tuple]) -> None:
    await run_sequence(cases, steps)


@pytest.mark.slow
@pytest.mark.timeout(900)
@pytest.mark.parametrize("database", ["sqlite", "postgresql"], indirect=True)
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(STEPS, min_size=3, max_size=16))
async def test_fuzz_random_actions_keep_the_case_invariants(
    cases: RepairCases, tally: Tally, steps: list[tuple]
) -> None:
    await run_sequence(cases, steps, tally)
