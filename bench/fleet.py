"""Scenario 5: an idle fleet — many open cases waiting on their timers, held by one worker.

Steward: open repairs submitted through `POST /requests` (a few at a time) to a freshly started
worker with the SDK's default workflow cache (1,000); once the worker is quiet: its resident memory,
bytes per cached case, and the CPU every process uses while nothing is due. Then the worker is
restarted with a bounded cache and every case is read once (a query: the worker replays it into
its cache), to show the memory a bounded cache keeps and what a cold read costs. The baseline does
the same with workflows that are only a timer.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

from bench.harness import Bench, gather_limited
from bench.procs import rss_bytes
from bench.stats import ratio
from bench.storm import wait_idle

IDLE_PROCESSES = ("temporal", "steward_worker", "api", "sandbox", "baseline_worker", "baseline_api")
DEFAULT_CACHE = 1000


async def _idle(bench: Bench, worker: str, idle_s: float) -> dict[str, Any]:
    meter = bench.cpu().start()
    await asyncio.sleep(idle_s)
    used = meter.stop()
    wall = used.pop("wall_s")
    rss = rss_bytes(bench.stack.processes[worker].pid)
    return {
        "idle_cpu_percent": {name: round(100 * used[name] / wall, 2) for name in IDLE_PROCESSES},
        "worker_rss_mb": round(rss / 2**20, 1),
        "_rss": rss,
    }


async def _touch(bench: Bench, ids: list[str], query: str) -> None:
    await gather_limited([bench.client.get_workflow_handle(i).query(query) for i in ids], 8)


async def _fresh_worker(bench: Bench, worker: str, cache: int) -> int:
    bench.stack.start_worker(worker, ["--max-cached", str(cache)])
    await asyncio.sleep(1)
    return rss_bytes(bench.stack.processes[worker].pid)


def _busy(used: dict[str, float]) -> dict[str, float]:
    wall = used.pop("wall_s")
    return {name: round(100 * seconds / wall, 1) for name, seconds in used.items()}


def _per_case(rss: int, rss0: int, held: int) -> int | None:
    return round((rss - rss0) / held) if held else None


async def _bounded(bench: Bench, worker: str, ids: list[str], bounded: int, idle_s: float) -> dict[str, Any]:
    """A fresh worker with a cache of `bounded`; every case read once. Bytes per cached case is the
    slope between the cache half full and full, so the worker's one-off start-up growth is left out."""
    rss0 = await _fresh_worker(bench, worker, bounded)
    half = min(bounded, len(ids)) // 2
    began = time.monotonic()
    await _touch(bench, ids[:half], "state")
    rss_half = rss_bytes(bench.stack.processes[worker].pid)
    await _touch(bench, ids[half:bounded], "state")
    rss_full = rss_bytes(bench.stack.processes[worker].pid)
    await _touch(bench, ids[bounded:], "state")
    touch_rate = round(len(ids) / (time.monotonic() - began), 1)
    await wait_idle(bench, (worker,), 120)
    small = await _idle(bench, worker, idle_s)
    cached = min(bounded, len(ids)) - half
    return small | {
        "cache": bounded,
        "worker_rss_before_mb": round(rss0 / 2**20, 1),
        "cold_reads_per_s": touch_rate,
        "bytes_per_cached_case": _per_case(small.pop("_rss"), rss0, min(len(ids), bounded)),
        "bytes_per_cached_case_slope": _per_case(rss_full, rss_half, cached),
    }


async def _fleet(
    bench: Bench, worker: str, label: str, start: Callable[[], Awaitable[list[str]]], n: int, bounded: int,
    idle_s: float,
) -> dict[str, Any]:
    """Start `n` idle workflows with `start` on a fresh `worker`, then measure it idle with the default
    cache and with a bounded one. Steward and the baseline differ only in how a case is started."""
    rss0 = await _fresh_worker(bench, worker, DEFAULT_CACHE)
    meter = bench.cpu().start()
    began = time.monotonic()
    ids = await start()
    accepted_s = time.monotonic() - began
    settled_s = accepted_s + await wait_idle(bench, (worker, "temporal"), 3600, threshold=0.1)
    start_cpu = _busy(meter.stop())
    default = await _idle(bench, worker, idle_s)
    default |= {
        "cache": DEFAULT_CACHE,
        "worker_rss_before_mb": round(rss0 / 2**20, 1),
        "bytes_per_cached_case": _per_case(default.pop("_rss"), rss0, min(n, DEFAULT_CACHE)),
    }
    print(
        f"  fleet {label}: {n} cases, {n / accepted_s:.1f}/s accepted, settled in {settled_s:.0f} s, "
        f"RSS {default['worker_rss_mb']} MB",
        flush=True,
    )

    small = await _bounded(bench, worker, ids, bounded, idle_s)
    return {
        "n": n,
        "accepted_per_s": round(n / accepted_s, 1),
        "settled_per_s": round(n / settled_s, 1),
        "settled_s": round(settled_s, 1),
        "cpu_percent_while_starting": start_cpu,
        "default_cache": default,
        "bounded_cache": small,
    }


async def steward_fleet(bench: Bench, n: int, bounded: int, idle_s: float) -> dict[str, Any]:
    async def start() -> list[str]:
        return [case_id for case_id, _ in await gather_limited([bench.submit() for _ in range(n)], 8)]

    return await _fleet(bench, "steward_worker", "steward", start, n, bounded, idle_s)


async def baseline_fleet(bench: Bench, n: int, bounded: int, idle_s: float) -> dict[str, Any]:
    async def start() -> list[str]:
        ids = [f"idle-{i:06d}-{time.time_ns()}" for i in range(n)]
        await gather_limited(
            [bench.client.start_workflow("BenchIdle", 24, id=i, task_queue="baseline-bench") for i in ids], 8
        )
        return ids

    return await _fleet(bench, "baseline_worker", "baseline", start, n, bounded, idle_s)


async def idle_fleet(bench: Bench, n: int, bounded: int, idle_s: float) -> dict[str, Any]:
    steward = await steward_fleet(bench, n, bounded, idle_s)
    baseline = await baseline_fleet(bench, n, bounded, idle_s)
    s, b = steward["default_cache"], baseline["default_cache"]
    return {
        "n": n,
        "bounded_cache": bounded,
        "idle_s": idle_s,
        "steward": steward,
        "baseline": baseline,
        "ratio_rss": ratio(s["worker_rss_mb"], b["worker_rss_mb"]),
        "ratio_bytes_per_case": ratio(s["bytes_per_cached_case"], b["bytes_per_cached_case"]),
        "ratio_settled_rate": ratio(steward["settled_per_s"], baseline["settled_per_s"]),
        "goal": "worker RSS <= 1 GB and ~0 % CPU while idle",
        "met": s["worker_rss_mb"] <= 1024 and s["idle_cpu_percent"]["steward_worker"] < 2,
    }
