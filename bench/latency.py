"""Scenarios 1 and 2: how long one HTTP call takes, Steward's against a bare endpoint's.

Calls alternate one by one (Steward, baseline, Steward, …) from one sequential client with a short
gap between calls, so both sides see the same machine at the same moments, including the
background work earlier Steward cases are still doing.
"""

from __future__ import annotations

import asyncio
import uuid

from bench import profile as py_spy
from bench.harness import Bench, gather_limited, timed
from bench.stats import ratio, summary

WARMUP = 5


def _result(steward: list[float], baseline: list[float], goal: str) -> dict:
    s = summary([x * 1000 for x in steward[WARMUP:]])
    b = summary([x * 1000 for x in baseline[WARMUP:]])
    return {
        "unit": "ms",
        "steward": s,
        "baseline": b,
        "ratio_median": ratio(s["median"], b["median"]),
        "ratio_p99": ratio(s["p99"], b["p99"]),
        "goal": goal,
        "met": (ratio(s["median"], b["median"]) or 99) <= 1.3,
    }


class Spies:
    """py-spy on both API processes for the measured part of a scenario (when asked to profile)."""

    def __init__(self, bench: Bench, enabled: bool, label: str) -> None:
        self.paths = {
            name: bench.stack.data_dir / f"py-spy-{label}-{name}.txt" for name in ("api", "baseline_api")
        }
        self.spies = (
            {
                name: py_spy.start(bench.stack.processes[name].pid, None, path)
                for name, path in self.paths.items()
            }
            if enabled
            else {}
        )

    async def results(self) -> dict:
        for spy in self.spies.values():
            await asyncio.to_thread(py_spy.stop, spy)
        return {name: py_spy.summarise(self.paths[name]) for name in self.spies}


async def submit_latency(bench: Bench, count: int, gap_s: float, profile: bool = False) -> dict:
    """`POST /requests` (auth, validation, idempotency, start) vs a bare `start_workflow` endpoint.

    A third of as many again are started straight through the Temporal client (Steward's own
    `start_case` with the same input, and the empty workflow), to split Steward's time into API and
    Temporal.
    """
    steward, baseline = [], []
    spies = Spies(bench, profile, "submit")
    for _ in range(count + WARMUP):
        steward.append((await bench.submit())[1])
        await asyncio.sleep(gap_s)
        baseline.append((await bench.baseline_post("/start"))[1])
        await asyncio.sleep(gap_s)
    profiles = await spies.results()
    split = await _direct_starts(bench, count // 3 + WARMUP, gap_s)
    return _result(steward, baseline, "median ratio <= 1.3") | {
        "count": count,
        "gap_s": gap_s,
        "direct_temporal_calls_ms": split,
        "ratio_direct_start_median": ratio(
            split["steward_start_case"]["median"], split["empty_start"]["median"]
        ),
        "py_spy": profiles,
    }


async def _direct_starts(bench: Bench, count: int, gap_s: float) -> dict:
    from datetime import UTC, datetime

    from api.cases import case_id_for, request_digest, start_case
    from api.models import SubmitRequest
    from bench.harness import REPAIR
    from workflows.case_contracts import CaseInput
    from workflows.contracts import Actor, Role

    settings = bench.stack.settings()
    request = SubmitRequest.model_validate(REPAIR | {"resident_id": "R001"})
    actor = Actor(id="R001", role=Role.resident)
    split: dict[str, list[float]] = {"steward_start_case": [], "empty_start": []}
    for _ in range(count):
        case = CaseInput(
            **request.model_dump(), submitted_by=actor, submitted_at=datetime.now(UTC), policy=settings.policy
        )
        case_id = case_id_for(request.kind, actor, uuid.uuid4().hex)
        split["steward_start_case"].append(
            (
                await timed(
                    lambda c=case, i=case_id: start_case(
                        bench.client, settings.task_queue, i, c, request_digest(request)
                    )
                )
            )[1]
        )
        await asyncio.sleep(gap_s)
        split["empty_start"].append(
            (
                await timed(
                    lambda: bench.client.start_workflow(
                        "BenchEmpty", id=f"empty-{uuid.uuid4().hex}", task_queue="baseline-bench"
                    )
                )
            )[1]
        )
        await asyncio.sleep(gap_s)
    return {name: summary([x * 1000 for x in values[WARMUP:]]) for name, values in split.items()}


async def action_latency(bench: Bench, count: int, gap_s: float, profile: bool = False) -> dict:
    """`POST /requests/{id}/acknowledge` (update with validator) vs a bare `execute_update` endpoint.

    Half as many again of each are acknowledged straight through the Temporal client (no HTTP), and
    the `describe` the API makes first is timed alone, to split Steward's time into API and workflow.
    """
    total, direct = count + WARMUP, count // 2 + WARMUP
    cases = [
        case_id for case_id, _ in await gather_limited([bench.submit() for _ in range(total + direct)], 4)
    ]
    await gather_limited([bench.steward_until(case_id, {"dispatched"}) for case_id in cases], 4)
    targets = [(await bench.baseline_post("/targets"))[0]["id"] for _ in range(total + direct)]
    await asyncio.sleep(2)  # let the submissions' notices and projections finish
    steward, baseline = [], []
    spies = Spies(bench, profile, "acknowledge")
    for case_id, target in zip(cases[:total], targets[:total], strict=True):
        steward.append(await bench.steward_act(case_id, "acknowledge"))
        await asyncio.sleep(gap_s)
        baseline.append((await bench.baseline_post(f"/targets/{target}/acknowledge"))[1])
        await asyncio.sleep(gap_s)
    profiles = await spies.results()
    split: dict[str, list[float]] = {"steward_update": [], "baseline_update": [], "describe": []}
    from workflows.actions import Acknowledge
    from workflows.contracts import Actor, Role

    action = Acknowledge(actor=Actor(id="S001", role=Role.staff))
    for case_id, target in zip(cases[total:], targets[total:], strict=True):
        handle = bench.client.get_workflow_handle(case_id)
        split["describe"].append((await timed(handle.describe))[1])
        await asyncio.sleep(gap_s)
        split["steward_update"].append(
            (await timed(lambda h=handle: h.execute_update("acknowledge", action)))[1]
        )
        await asyncio.sleep(gap_s)
        other = bench.client.get_workflow_handle(target)
        split["baseline_update"].append(
            (await timed(lambda o=other: o.execute_update("acknowledge", "S001")))[1]
        )
        await asyncio.sleep(gap_s)
    decomposition = {name: summary([x * 1000 for x in values[WARMUP:]]) for name, values in split.items()}
    return _result(steward, baseline, "median ratio <= 1.3") | {
        "count": count,
        "gap_s": gap_s,
        "direct_temporal_calls_ms": decomposition,
        "ratio_direct_update_median": ratio(
            decomposition["steward_update"]["median"], decomposition["baseline_update"]["median"]
        ),
        "py_spy": profiles,
    }
