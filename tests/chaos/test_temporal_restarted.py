"""Chaos: the Temporal dev server is stopped and started again (same db file, same port) while
resolution timers are running. Every deadline still fires — late by at most the downtime — the
escalation reaches the team lead's phone, and nothing recorded before the stop is lost or repeated.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
from datetime import UTC, datetime

import pytest

from tests.chaos.harness import System, driving, eventually

POLICY = """
[severity.normal]
response = "1h"
resolution = "{resolution}s"
"""
SLACK_S = 20  # timer firing, the workflow task and the projection after the server is back


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


async def _temporal_restarted(tmp_path, cases: int, downtime_s: float, resolution_s: int) -> None:
    """Deadlines due while the server is down must exist: `resolution_s` should outlast submitting and
    acknowledging the cases (the server is stopped 3 s before the first deadline; one that passed
    before is checked too)."""
    system = System(tmp_path, sla_policy=POLICY.format(resolution=resolution_s))
    async with driving(system, cases) as driver:
        case_ids = await asyncio.gather(*(driver.acknowledged(i, 120) for i in range(cases)))
        before = {case_id: await driver.state(case_id) for case_id in case_ids}

        # Stop just before the first deadline, however long submitting and acknowledging took.
        first_due = min(_at(s["resolution_due"]) for s in before.values())
        await asyncio.sleep(max((first_due - datetime.now(UTC)).total_seconds() - 3, 1))
        stopped, stopped_at = time.monotonic(), datetime.now(UTC)
        await asyncio.to_thread(system.kill, "temporal", signal.SIGTERM)
        await asyncio.sleep(downtime_s)
        await asyncio.to_thread(system.start_temporal)
        downtime = time.monotonic() - stopped
        back_at = datetime.now(UTC)
        during = sum(stopped_at <= _at(s["resolution_due"]) <= back_at for s in before.values())
        assert during > 0, "no deadline fell while the server was down"

        for case_id in case_ids:
            state = await driver.until(case_id, lambda s: s["resolution_breached"], "breached", 120)
            [escalated] = [e for e in state["timeline"] if e["event"] == "escalated"
                           and e["detail"]["reason"] == "resolution_breached"]
            due = _at(state["resolution_due"])
            late = (_at(escalated["at"]) - due).total_seconds()
            assert -1 <= late <= downtime + SLACK_S, (case_id, late, downtime)
            kept = [e["event"] for e in before[case_id]["timeline"]]
            assert [e["event"] for e in state["timeline"]][: len(kept)] == kept, case_id

        async def escalations() -> list[dict]:
            return [m for m in await driver.messages(driver.lead_phone)
                    if m["direction"] == "outbound-api" and "[Escalation" in m["body"]]

        def every_case(ms: list[dict]) -> bool:
            return {c for c in case_ids if any(c in m["body"] for m in ms)} == set(case_ids)

        sent = await eventually(escalations, every_case, "an escalation SMS per case", 60)
        once = ("submitted", "dispatched", "acknowledged", "breached")
        repeated = system.repeated_events(case_ids, once)
        duplicates = await driver.duplicate_messages()
        print(f"\nchaos temporal-restarted: cases in flight {cases}, faults injected {system.faults} "
              f"(dev server stopped {downtime:.1f}s), deadlines fired {len(case_ids)} "
              f"({during} due while it was down), "
              f"escalations sent {len(sent)}, duplicates found {len(duplicates) + len(repeated)}")
        assert repeated == {} and duplicates == []


async def test_chaos_temporal_restarted_fast_slice(tmp_path):
    await _temporal_restarted(tmp_path, int(os.environ.get("CHAOS_TIMER_CASES", "5")), 12, 10)


@pytest.mark.slow
@pytest.mark.timeout(1800)
async def test_chaos_temporal_restarted_50_cases(tmp_path):
    await _temporal_restarted(tmp_path, int(os.environ.get("CHAOS_TIMER_CASES_SLOW", "50")), 30, 90)
