"""Chaos: two API processes and two workers share one Temporal (dev server) and one PostgreSQL.

Cases are submitted alternately through API A and API B (some a second time through the other one
with the same Idempotency-Key: the same case, never a second one), staff act and everyone reads
through either, and the resident answers the callback SMS through the sandbox, whose webhooks reach
the APIs through a round-robin front (`harness.Balancer`). Mid-run one worker and one API are
SIGKILLed and not restarted: the clients go on through the surviving API, the surviving worker takes
the work. At the end every case is closed in the read model and completed in Temporal, Temporal holds
exactly one workflow per case, the read model one row per case and each transition once, and no
phone received the same message twice (the bodies name the case, so this is per case and kind).

Before the chaos, what must not live in one process is checked across the two: a sign-in code asked
for through A is traded for a token through B (and is then used up for A too); a resident's submission
limit counted through A refuses the next submission through B (429) and the other way round; an
Idempotency-Key used through A names the same case through B, and that retry is not counted.

The fast slice (10 cases, `CHAOS_REPLICA_CASES`) runs in `make test`; `make chaos` runs 200
(`CHAOS_REPLICA_CASES_SLOW`). `CHAOS_SEED` chooses which replicas die and when.
"""

from __future__ import annotations

import asyncio
import os
import random
import re

import httpx
import pytest
from temporalio.client import WorkflowExecutionStatus

from tests.api.conftest import REPAIR
from tests.chaos.harness import Driver, System, driving, eventually

LIMIT = 2
POLICY = f'[limits]\nsubmissions = {{ count = {LIMIT}, per = "1h" }}\n'
CODE = re.compile(r"\b(\d{6})\b")


async def _signed_in_across(driver: Driver) -> tuple[str, str]:
    """A code asked for through API A signs the resident in through API B; it is then used up on A."""
    api_a, api_b = driver.apis
    resident_id, phone, _, _ = driver.residents[0]
    asked = await api_a.post("/auth/code", json={"phone": phone})
    assert asked.status_code == 202, asked.text

    async def code() -> list[str]:
        return [m["body"] for m in await driver.messages(phone) if CODE.search(m["body"])]

    texts = await eventually(code, bool, "sign-in code SMS", 60)
    digits = CODE.search(texts[-1]).group(1)
    signed = await api_b.post("/auth/token", json={"phone": phone, "code": digits})
    assert signed.status_code == 200, signed.text
    assert (signed.json()["role"], signed.json()["subject"]) == ("resident", resident_id)
    again = await api_a.post("/auth/token", json={"phone": phone, "code": digits})
    assert again.status_code == 400 and again.json()["error"]["code"] == "invalid_code", again.text
    return signed.json()["token"], resident_id


async def _limits_and_keys_across(driver: Driver, token: str) -> None:
    """The submission limit is one count for both APIs, and a key names one case on both."""
    unit = driver.residents[0][3]
    body = REPAIR | {"building_id": driver.building, "unit": unit}
    auth = {"Authorization": f"Bearer {token}"}

    async def submit(via: int, key: str) -> httpx.Response:
        return await driver.apis[via].post("/requests", json=body | {"title": f"Leak {key}"},
                                           headers=auth | {"Idempotency-Key": key})

    first = await submit(0, "limit-0")
    assert first.status_code == 201, first.text
    same = await submit(1, "limit-0")  # the same key through the other API: the same case, not counted
    assert same.status_code == 200 and same.json()["case_id"] == first.json()["case_id"], same.text
    for n in range(1, LIMIT):
        accepted = await submit(n % 2, f"limit-{n}")
        assert accepted.status_code == 201, accepted.text
    for via in (LIMIT % 2, (LIMIT + 1) % 2):  # the next through either API is over the shared count
        refused = await submit(via, f"limit-over-{via}")
        assert refused.status_code == 429, refused.text
        assert int(refused.headers["Retry-After"]) > 0


async def _replicas(tmp_path, database_url: str, cases: int, resubmit_every: int, within: float) -> None:
    system = System(tmp_path, sla_policy=POLICY, database_url=database_url, apis=2, workers=2)
    rng = random.Random(os.environ.get("CHAOS_SEED", "steward"))
    async with driving(system, cases, resubmit_every) as driver:
        across = Driver(system, driver.apis[0], driver.phones, driver.apis)
        await across.setup(1)
        token, _ = await _signed_in_across(across)
        await _limits_and_keys_across(across, token)

        killed: list[str] = []

        async def chaos() -> None:
            for names in (system.worker_names, system.api_names):
                await asyncio.sleep(rng.uniform(0.5, 2.5))
                killed.append(rng.choice(names))
                await asyncio.to_thread(system.kill, killed[-1])

        closed = await driver.all_closed_under(cases, within, chaos)

        expected = {case_id: WorkflowExecutionStatus.COMPLETED for case_id in closed}
        workflows = await eventually(lambda: system.temporal_workflows(driver.building),
                                     lambda found: found == expected, "every case completed in Temporal",
                                     60)
        rows = system.read_model_cases(driver.building)
        statuses = system.read_model_statuses(closed)
        repeated = system.repeated_events(closed)
        duplicates = await driver.duplicate_messages()
        print(f"\nchaos replicas: 2 APIs, 2 workers, cases {cases} ({driver.resubmitted} submitted twice "
              f"through both APIs), killed {killed}, closed in Temporal "
              f"{sum(s is WorkflowExecutionStatus.COMPLETED for s in workflows.values())}, "
              f"duplicates found {len(duplicates) + len(repeated)}")
        assert len(set(closed)) == cases
        assert driver.resubmitted >= cases // resubmit_every
        assert system.faults == 2 and len(killed) == 2
        assert rows == dict.fromkeys(closed, 1), f"read-model rows per case: {rows}"
        assert set(statuses.values()) == {"closed"}, statuses
        assert repeated == {}, f"transitions recorded twice: {repeated}"
        assert duplicates == [], f"messages sent twice: {duplicates}"


async def test_chaos_replicas_fast_slice(tmp_path, empty_database_url):
    await _replicas(tmp_path, empty_database_url("postgresql"),
                    int(os.environ.get("CHAOS_REPLICA_CASES", "10")), 3, 180.0)


@pytest.mark.slow
@pytest.mark.timeout(2400)
async def test_chaos_replicas_200_cases(tmp_path, empty_database_url):
    await _replicas(tmp_path, empty_database_url("postgresql"),
                    int(os.environ.get("CHAOS_REPLICA_CASES_SLOW", "200")), 10, 600.0)
