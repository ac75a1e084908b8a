"""Chaos: the worker process is SIGKILLed at random moments while cases are in flight, and restarted.

Every case must still close through its callback, each transition must appear once in the read model
and no phone may receive the same message twice. Sends are idempotent because each attempt has its
own key (`notifications.key`), checked before Twilio is called; projections are idempotent because
`case_events` is unique per (case_id, seq).

The fast slice (`CHAOS_CASES`, default 10 cases, `CHAOS_KILLS` 2 kills) runs in `make test`; the
long run (200 cases, 6 kills) is `make chaos`.
"""

from __future__ import annotations

import asyncio
import os
import random

import pytest

from tests.chaos.harness import System, driving

PATIENCE_S = 180.0


async def _worker_killed(tmp_path, cases: int, kills: int, within: float) -> None:
    system = System(tmp_path)
    rng = random.Random(os.environ.get("CHAOS_SEED", "steward"))
    async with driving(system, cases) as driver:
        async def chaos() -> None:
            for _ in range(kills):
                await asyncio.sleep(rng.uniform(1.0, 5.0))
                await asyncio.to_thread(system.kill, "worker")
                await asyncio.sleep(rng.uniform(0.2, 2.0))
                await asyncio.to_thread(system.start_worker)

        closed = await driver.all_closed_under(cases, within, chaos)
        repeated = system.repeated_events(closed)
        duplicates = await driver.duplicate_messages()
        print(f"\nchaos worker-killed: cases in flight {cases}, faults injected {system.faults} "
              f"(worker SIGKILL), cases closed {len(closed)}, "
              f"duplicates found {len(duplicates) + len(repeated)}")
        assert len(closed) == cases
        assert system.faults == kills
        assert repeated == {}, f"transitions recorded twice: {repeated}"
        assert duplicates == [], f"messages sent twice: {duplicates}"


async def test_chaos_worker_killed_fast_slice(tmp_path):
    await _worker_killed(tmp_path, int(os.environ.get("CHAOS_CASES", "10")),
                         int(os.environ.get("CHAOS_KILLS", "2")), PATIENCE_S)


@pytest.mark.slow
@pytest.mark.timeout(2400)
async def test_chaos_worker_killed_200_cases(tmp_path):
    await _worker_killed(tmp_path, int(os.environ.get("CHAOS_CASES_SLOW", "200")),
                         int(os.environ.get("CHAOS_KILLS_SLOW", "6")), 600.0)
