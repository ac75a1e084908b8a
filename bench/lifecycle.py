"""Scenario 3 (lifecycle throughput) and scenario 6 (where its time goes).

A closed loop of simulated people drives whole repair lifecycles through HTTP: a resident submits,
staff wait until it is dispatched (`GET /requests/{id}`), acknowledge, resolve; the resident gets
the callback SMS in the Twilio sandbox and answers "1 CODE" through `POST /sandbox/reply` (a signed
webhook to Steward); the lifecycle ends when the workflow has closed. The baseline does the same
steps against `BenchLifecycle`, which starts the same number of activities and timers in each
phase as the Steward case it was measured from (same run), with the same updates and signal.

Blocks of `block_s` seconds alternate Steward / baseline (ABBA order over rounds). Each block counts
the lifecycles that finished inside it, and the CPU seconds every process used during it.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict
from itertools import cycle
from typing import Any

import httpx

from bench import profile as py_spy
from bench.engine import Shape
from bench.harness import Bench, Resident, history_profile, lifecycle_shape
from bench.stats import percentile, ratio, summary

RESIDENTS_PER_USER = 4
SAMPLE = 20
STEWARD_PROCESSES = ("api", "temporal", "steward_worker", "sandbox", "bench_driver")
BASELINE_PROCESSES = ("baseline_api", "temporal", "baseline_worker", "bench_driver")


async def run_block(
    users: int,
    block_s: float,
    one: Callable[[int], Awaitable[tuple[str, dict[str, float]]]],
    bench: Bench,
    profile: tuple[str, ...] = (),
) -> dict[str, Any]:
    spies = {
        name: (
            out := bench.stack.data_dir / f"py-spy-{name}.txt",
            py_spy.start(bench.stack.processes[name].pid, max(block_s - 2, 1), out),
        )
        for name in profile
    }
    meter = bench.cpu().start()
    began = time.monotonic()
    end = began + block_s
    finished: list[tuple[str, dict[str, float]]] = []
    failures: list[str] = []

    async def user(index: int) -> None:
        while time.monotonic() < end:
            try:
                workflow_id, steps = await one(index)
            except Exception as error:  # noqa: BLE001 - counted and reported, the loop goes on
                failures.append(f"{type(error).__name__}: {error}"[:300])
                continue
            if time.monotonic() <= end:
                finished.append((workflow_id, steps))

    tasks = [asyncio.create_task(user(i)) for i in range(users)]
    await asyncio.sleep(block_s)
    cpu = meter.stop()
    await asyncio.gather(*tasks)  # the lifecycles in flight finish (uncounted) before the next block
    profiles = {}
    for name, (out, spy) in spies.items():
        if spy is not None:
            await asyncio.to_thread(spy.wait)
        profiles[name] = py_spy.summarise(out)
    return {
        "finished": finished,
        "failures": failures,
        "cpu": cpu,
        "throughput": len(finished) / block_s,
        "profiles": profiles,
    }


async def metrics(port: int) -> dict[str, float]:
    """The worker's SDK metrics (Prometheus): `_sum` and `_count` of its latency histograms."""
    async with httpx.AsyncClient() as http:
        text = (await http.get(f"http://127.0.0.1:{port}/metrics")).text
    totals: dict[str, float] = {}
    for line in text.splitlines():
        match = re.match(r"^(temporal_\w+?_latency\w*?_(?:sum|count))(?:\{[^}]*\})? ([0-9.e+-]+)$", line)
        if match:
            totals[match.group(1)] = totals.get(match.group(1), 0.0) + float(match.group(2))
    return totals


def metric_delta(before: dict[str, float], after: dict[str, float]) -> dict[str, dict[str, float]]:
    """Per latency metric: tasks counted and mean milliseconds (Temporal's core exports ms)."""
    out = {}
    for key in after:
        if key.endswith("_count"):
            base = key.removesuffix("_count")
            count = after[key] - before.get(key, 0.0)
            total = after.get(base + "_sum", 0.0) - before.get(base + "_sum", 0.0)
            if count:
                out[base] = {"count": int(count), "mean_ms": round(total / count, 2)}
    return out


async def profile_sample(bench: Bench, ids: list[str]) -> dict[str, float]:
    profiles = [await history_profile(bench.client, workflow_id) for workflow_id in ids[:SAMPLE]]
    if not profiles:
        return {}
    keys = profiles[0].keys()
    return {key: round(sum(p[key] for p in profiles) / len(profiles), 4) for key in keys} | {
        "sampled": len(profiles)
    }


def block_summary(blocks: list[dict], processes: tuple[str, ...]) -> dict[str, Any]:
    finished = [steps for block in blocks for _, steps in block["finished"]]
    completed = sum(len(block["finished"]) for block in blocks)
    cpu = {name: sum(block["cpu"].get(name, 0.0) for block in blocks) for name in processes}
    return {
        "throughput_per_s": [round(block["throughput"], 2) for block in blocks],
        "throughput_median": round(percentile([b["throughput"] for b in blocks], 50) or 0, 2),
        "lifecycles": completed,
        "lifecycle_ms": summary([s["total"] * 1000 for s in finished], 0),
        "steps_ms": {
            step: summary([s[step] * 1000 for s in finished], 1)
            for step in ("submit", "acknowledge", "resolve")
        },
        "cpu_s_per_lifecycle": {
            name: round(seconds / completed, 4) if completed else None for name, seconds in cpu.items()
        },
        "cpu_busy_percent": {
            name: round(100 * seconds / sum(b["cpu"]["wall_s"] for b in blocks), 1)
            for name, seconds in cpu.items()
        },
        "failures": [f for block in blocks for f in block["failures"]][:10],
        "failure_count": sum(len(block["failures"]) for block in blocks),
    }


async def lifecycle_throughput(
    bench: Bench, users: int, block_s: float, rounds: int, runners: list[str], profile: bool = False
) -> dict[str, Any]:
    residents = await bench.add_residents(users * RESIDENTS_PER_USER)
    pools: list[cycle[Resident]] = [cycle(residents[i::users]) for i in range(users)]

    # A first Steward case gives the shape of the work the baseline repeats (and warms both sides).
    reference, _ = await bench.steward_lifecycle(residents[0])
    shape = await lifecycle_shape(bench.client, reference)
    await bench.baseline_lifecycle(shape, residents[0])

    async def steward(index: int) -> tuple[str, dict[str, float]]:
        return await bench.steward_lifecycle(next(pools[index]))

    async def baseline(index: int) -> tuple[str, dict[str, float]]:
        return await bench.baseline_lifecycle(shape, next(pools[index]))

    steward_blocks: list[dict] = []
    baseline_blocks: list[dict] = []
    before_metrics = {
        "steward": await metrics(bench.stack.ports["steward_metrics"]),
        "baseline": await metrics(bench.stack.ports["baseline_metrics"]),
    }
    for round_index in range(rounds):
        order = [("steward", steward), ("baseline", baseline)]
        for side, one in order if round_index % 2 == 0 else reversed(order):
            spied: tuple[str, ...] = ()
            if profile and round_index == 0:
                spied = (
                    ("api", "steward_worker", "sandbox")
                    if side == "steward"
                    else ("baseline_api", "baseline_worker")
                )
            block = await run_block(users, block_s, one, bench, spied)
            (steward_blocks if side == "steward" else baseline_blocks).append(block)
            print(
                f"  lifecycle round {round_index + 1} {side}: {block['throughput']:.2f}/s "
                f"({len(block['finished'])} done, {len(block['failures'])} failed)",
                flush=True,
            )
    sdk = {
        "steward": metric_delta(
            before_metrics["steward"], await metrics(bench.stack.ports["steward_metrics"])
        ),
        "baseline": metric_delta(
            before_metrics["baseline"], await metrics(bench.stack.ports["baseline_metrics"])
        ),
    }

    s = block_summary(steward_blocks, STEWARD_PROCESSES)
    b = block_summary(baseline_blocks, BASELINE_PROCESSES)
    s["per_case"] = await profile_sample(bench, [i for blk in steward_blocks for i, _ in blk["finished"]])
    b["per_case"] = await profile_sample(bench, [i for blk in baseline_blocks for i, _ in blk["finished"]])
    throughput_ratio = ratio(s["throughput_median"], b["throughput_median"])
    result = {
        "users": users,
        "block_s": block_s,
        "rounds": rounds,
        "shape": _shape(shape),
        "steward": s,
        "baseline": b,
        "ratio_throughput": throughput_ratio,
        "ratio_lifecycle_median": ratio(s["lifecycle_ms"]["median"], b["lifecycle_ms"]["median"]),
        "ratio_lifecycle_p99": ratio(s["lifecycle_ms"]["p99"], b["lifecycle_ms"]["p99"]),
        "goal": "throughput ratio >= 0.8",
        "met": (throughput_ratio or 0) >= 0.8,
        "sdk_metrics": sdk,
    }
    result["where_the_time_goes"] = await where_the_time_goes(bench, users, block_s, runners, result, steward)
    result["where_the_time_goes"]["py_spy"] = {
        name: summary
        for block in steward_blocks + baseline_blocks
        for name, summary in block["profiles"].items()
    }
    return result


def _shape(shape: Shape) -> list[dict[str, int]]:
    return [asdict(p) for p in shape.phases]


async def where_the_time_goes(
    bench: Bench, users: int, block_s: float, runners: list[str], measured: dict[str, Any], steward
) -> dict[str, Any]:
    """Scenario 6: CPU per process per lifecycle, Temporal's task timings, and the same Steward block
    with the workflow sandbox's modules passed through (and, if asked, without the sandbox)."""
    s, b = measured["steward"], measured["baseline"]
    split = {
        side: {
            "cpu_s_per_lifecycle": data["cpu_s_per_lifecycle"],
            "workflow_task_run_s": data["per_case"].get("wft_run_s"),
            "workflow_task_wait_s": data["per_case"].get("wft_wait_s"),
            "activity_run_s": data["per_case"].get("activity_run_s"),
            "activity_wait_s": data["per_case"].get("activity_wait_s"),
            "http_steps_ms": {k: v["median"] for k, v in data["steps_ms"].items()},
        }
        for side, data in (("steward", s), ("baseline", b))
    }
    variants: dict[str, Any] = {
        "sandbox": {
            "throughput_per_s": s["throughput_median"],
            "worker_cpu_s_per_lifecycle": s["cpu_s_per_lifecycle"]["steward_worker"],
            "workflow_task_run_ms": _per_task(s["per_case"]),
        }
    }
    for runner in runners:
        bench.stack.start_worker("steward_worker", ["--runner", runner])
        await bench.steward_lifecycle(bench.residents[0])  # warm the new worker
        block = await run_block(users, block_s, steward, bench)
        data = block_summary([block], STEWARD_PROCESSES)
        data["per_case"] = await profile_sample(bench, [i for i, _ in block["finished"]])
        variants[runner] = {
            "throughput_per_s": data["throughput_median"],
            "worker_cpu_s_per_lifecycle": data["cpu_s_per_lifecycle"]["steward_worker"],
            "workflow_task_run_ms": _per_task(data["per_case"]),
        }
        print(f"  lifecycle with runner {runner}: {block['throughput']:.2f}/s", flush=True)
    if runners:
        bench.stack.start_worker("steward_worker", [])
    return {"split": split, "workflow_runner": variants}


def _per_task(per_case: dict[str, float]) -> float | None:
    if not per_case or not per_case.get("workflow_tasks"):
        return None
    return round(1000 * per_case["wft_run_s"] / per_case["workflow_tasks"], 2)
