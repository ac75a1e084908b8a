"""Scenarios 1 and 2: how long one HTTP call takes, Steward's against a bare endpoint's.

Calls alternate one by one (Steward, baseline, Steward, …) from one sequential client with a short
gap between calls, so both sides see the same machine at the same moments, including the
background work earlier Steward cases are still doing.
"""

from __future__ import annotations

import asyncio

from bench.harness import Bench, gather_limited
from bench.stats import ratio, summary

WARMUP = 5


def _result(steward: list[float], baseline: list[float], goal: str) -> dict:
    s = summary([x * 1000 for x in steward[WARMUP:]])
    b = summary([x * 1000 for x in baseline[WARMUP:]])
    return {
        "unit": "ms", "steward": s, "baseline": b,
        "ratio_median": ratio(s["median"], b["median"]), "ratio_p99": ratio(s["p99"], b["p99"]),
        "goal": goal, "met": (ratio(s["median"], b["median"]) or 99) <= 1.3,
    }


async def submit_latency(bench: Bench, count: int, gap_s: float) -> dict:
    """`POST /requests` (auth, validation, idempotency, start) vs a bare `start_workflow` endpoint."""
    steward, baseline = [], []
    for _ in range(count + WARMUP):
        steward.append((await bench.submit())[1])
        await asyncio.sleep(gap_s)
        baseline.append((await bench.baseline_post("/start"))[1])
        await asyncio.sleep(gap_s)
    return _result(steward, baseline, "median ratio <= 1.3") | {"count": count, "gap_s": gap_s}


async def action_latency(bench: Bench, count: int, gap_s: float) -> dict:
    """`POST /requests/{id}/acknowledge` (update with validator) vs a bare `execute_update` endpoint."""
    total = count + WARMUP
    cases = [case_id for case_id, _ in await gather_limited([bench.submit() for _ in range(total)], 4)]
    await gather_limited([bench.steward_until(case_id, {"dispatched"}) for case_id in cases], 4)
    targets = [(await bench.baseline_post("/targets"))[0]["id"] for _ in range(total)]
    await asyncio.sleep(2)  # let the submissions' notices and projections finish
    steward, baseline = [], []
    for case_id, target in zip(cases, targets, strict=True):
        steward.append(await bench.steward_act(case_id, "acknowledge"))
        await asyncio.sleep(gap_s)
        baseline.append((await bench.baseline_post(f"/targets/{target}/acknowledge"))[1])
        await asyncio.sleep(gap_s)
    return _result(steward, baseline, "median ratio <= 1.3") | {"count": count, "gap_s": gap_s}
