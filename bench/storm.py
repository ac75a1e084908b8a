"""Scenario 4: a deadline storm — many response deadlines in the same second.

Steward: `n` open repairs are started the way `POST /requests` starts them (`api.cases.start_case`,
same input, search attributes and policy) but with a submission time chosen so that every response
deadline falls on the same instant T. When T passes, each case climbs to tier 1 and pages the
team leads by SMS. The lateness of a case is T → the moment the sandbox recorded its first
escalation SMS (and its last, when every team lead has been told).

Baseline: `n` workflows that sleep until T and then send one SMS through the sandbox.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from bench.engine import SEND_SMS
from bench.harness import Bench, gather_limited
from bench.stats import ratio, summary

TEAM_LEADS = ("+8613900000101", "+8613900000102")  # S101 and S102, tier 1 for building B1


async def wait_idle(bench: Bench, names: tuple[str, ...], within: float, threshold: float = 0.05) -> float:
    """Seconds until the named processes use less than `threshold` of a core for two seconds running."""
    began = time.monotonic()
    quiet = 0
    while time.monotonic() - began < within:
        meter = bench.cpu().start()
        await asyncio.sleep(1.0)
        used = meter.stop()
        quiet = quiet + 1 if all(used[name] < threshold for name in names) else 0
        if quiet >= 2:
            break
    return round(time.monotonic() - began, 1)


async def messages_to(bench: Bench, phone: str) -> list[dict]:
    return (await bench.sandbox.get("/sandbox/messages", params={"to": phone})).json()


async def collect(
    bench: Bench, phones: tuple[str, ...], expected: int, within: float
) -> dict[str, list[dict]]:
    """Poll the sandbox (rarely: lateness is read from its own timestamps) until every message arrived."""
    deadline = time.monotonic() + within
    while True:
        found = {phone: await messages_to(bench, phone) for phone in phones}
        if all(len(found[p]) >= expected for p in phones) or time.monotonic() > deadline:
            return found
        await asyncio.sleep(3)


def lateness(found: dict[str, list[dict]], at: datetime, codes: list[str]) -> dict[str, Any]:
    """Per case: seconds from the deadline to its first and its last escalation message."""
    first: dict[str, float] = {}
    last: dict[str, float] = {}
    for messages in found.values():
        for message in messages:
            recorded = datetime.fromisoformat(message["date_created"])
            late = (recorded - at).total_seconds()
            code = next((c for c in codes if c in message["body"]), None)
            if code is None:
                continue
            first[code] = min(first.get(code, late), late)
            last[code] = max(last.get(code, late), late)
    return {
        "first_s": summary(list(first.values()), 3),
        "all_told_s": summary(list(last.values()), 3),
        "cases_escalated": len(first),
        "missing": len(codes) - len(first),
        "early": sum(1 for v in first.values() if v < 0),
    }


SPLIT_SAMPLE = 100  # histories read per side for the split (reading all 1,000 would load the server)


async def split(bench: Bench, codes: list[str], at: datetime, send: str) -> dict[str, Any]:
    """Where a case's first page was late, from its history (a sample of the cases): the deadline timer
    firing (Temporal), from the fire to the page's send being scheduled (the worker's workflow tasks and
    any look-up before it), waiting for an activity slot (the worker), and the send itself (Twilio)."""
    from temporalio.api.enums.v1 import EventType

    parts: dict[str, list[float]] = {"timer_fired": [], "to_send_scheduled": [], "send_queued": [],
                                     "send_ran": []}
    for code in codes[:: max(1, len(codes) // SPLIT_SAMPLE)]:
        events = (await bench.client.get_workflow_handle(code).fetch_history()).events
        fired = next((e for e in events if e.event_type == EventType.EVENT_TYPE_TIMER_FIRED
                      and e.event_time.ToDatetime(UTC) >= at - timedelta(seconds=1)), None)
        scheduled = next((e for e in events if fired and e.event_id > fired.event_id
                          and e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED
                          and e.activity_task_scheduled_event_attributes.activity_type.name == send), None)
        if fired is None or scheduled is None:
            continue
        started = next(e for e in events if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED
                       and e.activity_task_started_event_attributes.scheduled_event_id == scheduled.event_id)
        ended = next(e for e in events if e.event_id > started.event_id and e.event_type in (
            EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED, EventType.EVENT_TYPE_ACTIVITY_TASK_FAILED))
        moments = [at] + [e.event_time.ToDatetime(UTC) for e in (fired, scheduled, started, ended)]
        for index, name in enumerate(parts):
            parts[name].append((moments[index + 1] - moments[index]).total_seconds())
    return {name: summary(values, 3) for name, values in parts.items()}


async def steward_storm(
    bench: Bench, n: int, per_case_s: float, workers: tuple[str, ...] = ("steward_worker",)
) -> dict[str, Any]:
    from api.cases import request_digest, start_case
    from api.models import SubmitRequest
    from workflows.case_contracts import CaseInput
    from workflows.contracts import Actor, Role, Severity
    from workflows.names import Activity

    settings = bench.stack.settings()
    policy = settings.policy
    response = policy.for_severity(Severity.normal).response
    lead = 10 + n * per_case_s
    at = (datetime.now(UTC) + timedelta(seconds=lead)).replace(microsecond=0)
    submitted_at = at - response
    codes = [f"RP-STORM{uuid.uuid4().hex[:8].upper()}{i:05d}" for i in range(n)]
    request = SubmitRequest.model_validate(
        {
            "kind": "repair",
            "severity": "normal",
            "category": "plumbing",
            "title": "Kitchen tap leaking",
            "description": "It drips all night.",
            "building_id": "B1",
            "unit": "101",
            "resident_id": "R001",
        }
    )
    case = CaseInput(
        **request.model_dump(),
        submitted_by=Actor(id="R001", role=Role.resident),
        submitted_at=submitted_at,
        policy=policy,
    )
    began = time.monotonic()
    await gather_limited(
        [
            start_case(bench.client, settings.task_queue, code, case, request_digest(request))
            for code in codes
        ],
        16,
    )
    result = await measured(bench, codes, at, lead, time.monotonic() - began, workers, TEAM_LEADS)
    return result | {"split_s": await split(bench, codes, at, Activity.NOTIFY_STAFF)}


async def measured(bench: Bench, codes: list[str], at: datetime, lead: float, started_s: float,
                   workers: tuple[str, ...], phones: list[str]) -> dict[str, Any]:
    """One side's storm once its cases are started: wait for its worker to settle, then collect the
    escalation SMS to `phones` and the CPU the storm cost."""
    n = len(codes)
    settled_s = started_s + await wait_idle(bench, workers, lead)
    await bench.reset_sandbox()
    left = (at - datetime.now(UTC)).total_seconds()
    meter = bench.cpu().start()
    found = await collect(bench, phones, n, max(left, 0) + 60 + n * 0.5)
    cpu = meter.stop()
    return {
        "n": n,
        "deadline": at.isoformat(),
        "start_rate_per_s": round(n / started_s, 1),
        "settled_before_deadline": settled_s < lead,
        "settled_s": round(settled_s, 1),
        "lead_s": lead,
        "cpu_s": cpu,
    } | lateness(found, at, codes)


async def baseline_storm(bench: Bench, n: int, per_case_s: float) -> dict[str, Any]:
    lead = 8 + n * per_case_s
    at = (datetime.now(UTC) + timedelta(seconds=lead)).replace(microsecond=0)
    codes = [f"BS-{uuid.uuid4().hex[:8].upper()}{i:05d}" for i in range(n)]
    began = time.monotonic()
    await gather_limited(
        [
            bench.client.start_workflow(
                "BenchTimerThenSms",
                args=[at, TEAM_LEADS[0], f"[Escalation] {code}"],
                id=code,
                task_queue="baseline-bench",
            )
            for code in codes
        ],
        16,
    )
    started_s = time.monotonic() - began
    result = await measured(bench, codes, at, lead, started_s, ("baseline_worker",), TEAM_LEADS[:1])
    return result | {"split_s": await split(bench, codes, at, SEND_SMS)}


async def deadline_storm(bench: Bench, n: int) -> dict[str, Any]:
    steward = await steward_storm(bench, n, per_case_s=0.25)
    print(
        f"  storm steward: p50 {steward['first_s']['median']} s, p99 {steward['first_s']['p99']} s",
        flush=True,
    )
    await bench.terminate_running()
    baseline = await baseline_storm(bench, n, per_case_s=0.03)
    print(
        f"  storm baseline: p50 {baseline['first_s']['median']} s, p99 {baseline['first_s']['p99']} s",
        flush=True,
    )
    return {
        "n": n,
        "steward": steward,
        "baseline": baseline,
        "ratio_median": ratio(steward["first_s"]["median"], baseline["first_s"]["median"]),
        "ratio_p99": ratio(steward["first_s"]["p99"], baseline["first_s"]["p99"]),
        "ratio_max": ratio(steward["first_s"]["max"], baseline["first_s"]["max"]),
        "goal": "report (polling systems are late by up to their interval, often 300 s)",
    }
