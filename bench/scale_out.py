"""Scenario 7 (scale out): Steward's lifecycle throughput and its deadline storm with one worker process
and with two on the same task queue, and where the limit is.

Blocks alternate one worker / two workers (ABBA over rounds), as scenario 3 alternates Steward and the
baseline; the storm runs once with each. Every block reports the CPU each process used as a share of
the block's wall time: a process near 100 % (one core, the Temporal server's or a worker's) or the
machine's cores all busy names the limit, and says whether a second worker can move it here.
"""

from __future__ import annotations

import os
from itertools import cycle
from typing import Any

from bench import storm
from bench.harness import Bench
from bench.lifecycle import RESIDENTS_PER_USER, block_summary, run_block
from bench.stats import fmt, ratio

SECOND = "steward_worker_2"
PROCESSES = ("api", "temporal", "steward_worker", SECOND, "sandbox", "bench_driver")


async def scale_out(bench: Bench, users: int, block_s: float, rounds: int, storm_n: int) -> dict[str, Any]:
    residents = await bench.add_residents(users * RESIDENTS_PER_USER)
    pools = [cycle(residents[i::users]) for i in range(users)]

    async def steward(index: int) -> tuple[str, dict[str, float]]:
        return await bench.steward_lifecycle(next(pools[index]))

    await bench.steward_lifecycle(residents[0])  # warm the worker
    blocks: dict[int, list[dict]] = {1: [], 2: []}
    for round_index in range(rounds):
        for workers in (1, 2) if round_index % 2 == 0 else (2, 1):
            await _workers(bench, workers)
            block = await run_block(users, block_s, steward, bench)
            blocks[workers].append(block)
            print(f"  scale-out round {round_index + 1}, {workers} worker(s): {block['throughput']:.2f}/s "
                  f"({len(block['finished'])} done, {len(block['failures'])} failed)", flush=True)
    storms = {}
    for workers in (1, 2):
        await _workers(bench, workers)
        names = ("steward_worker", SECOND)[:workers]
        storms[workers] = await storm.steward_storm(bench, storm_n, per_case_s=0.25, workers=names)
        await bench.terminate_running()
        print(f"  storm with {workers} worker(s): p50 {storms[workers]['first_s']['median']} s, "
              f"p99 {storms[workers]['first_s']['p99']} s", flush=True)
    await _workers(bench, 1)
    one, two = _summary(blocks[1]), _summary(blocks[2])
    return {
        "users": users,
        "block_s": block_s,
        "rounds": rounds,
        "cores": os.cpu_count(),
        "storm_n": storm_n,
        "one_worker": one,
        "two_workers": two,
        "ratio_throughput": ratio(two["throughput_median"], one["throughput_median"]),
        "storm": {f"{workers}_worker{'s' if workers > 1 else ''}": {
            "first_s": result["first_s"], "settled_s": result["settled_s"], "split_s": result["split_s"],
            "cpu_s": result["cpu_s"]} for workers, result in storms.items()},
        "limit": _limit(two),
    }


async def _workers(bench: Bench, count: int) -> None:
    """One worker process, or a second beside it on the same task queue."""
    running = SECOND in bench.stack.processes
    if count == 2 and not running:
        bench.stack.start_worker(SECOND, [])
        await bench.steward_lifecycle(bench.residents[0])  # both polling before the block
    elif count == 1 and running:
        bench.stack.stop_worker(SECOND)


def _summary(blocks: list[dict]) -> dict[str, Any]:
    """Scenario 3's block summary, the CPU of the processes that ran, and the machine's share."""
    data = block_summary(blocks, PROCESSES)
    busy = {name: share for name, share in data["cpu_busy_percent"].items()
            if any(name in block["cpu"] for block in blocks)}
    return {
        "throughput_per_s": data["throughput_per_s"],
        "throughput_median": data["throughput_median"],
        "cpu_busy_percent": busy,
        "machine_busy_percent": round(sum(busy.values()) / (os.cpu_count() or 1), 1),
        "failure_count": data["failure_count"],
    }


def _limit(two: dict[str, Any]) -> str:
    """What held two workers back: the machine's cores, or the busiest single process."""
    busiest, share = max(two["cpu_busy_percent"].items(), key=lambda item: item[1])
    if two["machine_busy_percent"] >= 85:
        return f"the cores ({two['machine_busy_percent']} % busy; {busiest} {share} % of one)"
    if share >= 85:
        return f"{busiest} ({share} % of one core)"
    return f"waits, not CPU ({two['machine_busy_percent']} % busy; {busiest} {share} % of a core)"


def rows(r: dict[str, Any]) -> list[list[str]]:
    """Scenario 7's lines of the table: Steward with one worker (Steward column) against two (baseline)."""
    one, two = r["one_worker"], r["two_workers"]
    first = {key: r["storm"][key]["first_s"] for key in r["storm"]}
    return [
        ["7 scale out", "lifecycles/s: 1 worker | 2 workers", fmt(one["throughput_median"]),
         fmt(two["throughput_median"]), fmt(r["ratio_throughput"]), "report"],
        ["", "  machine CPU busy %", fmt(one["machine_busy_percent"]), fmt(two["machine_busy_percent"]),
         "", ""],
        *[["", f"  storm lateness {label} s (n={r['storm_n']})",
           fmt(first["1_worker"][q]), fmt(first["2_workers"][q]),
           fmt(ratio(first["2_workers"][q], first["1_worker"][q])), ""]
          for q, label in (("median", "p50"), ("p99", "p99"))],
        ["", f"  limit: {r['limit']}", "", "", "", ""],
    ]
