"""Property-based requests from the OpenAPI document: whatever comes in, never a 5xx, every answer
matches the schema the document gives for its status, and every 4xx is in the one error shape.

The API runs the way it does in production: under uvicorn on a port, its lifespan connecting its
own Temporal client and engine; the real worker runs the cases it starts. Schemathesis (sync) runs in
a thread and speaks HTTP to it. A fixed seed and a small budget make the smoke run in `make test`;
`make fuzz` runs the long one. Both run every example to the end and then print one line,
`fuzz: requests made N, 5xx found 0, schema violations 0`, and fail unless both counts are 0.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import FailureGroup, content_type_conformance, response_schema_conformance

from api.app import create_app
from steward.seed import seed_demo
from steward.store.database import make_engine, session_factory, upgrade
from steward.tokens import create_token
from tests.api.conftest import REPAIR, quiet_hours_away_from
from tests.conftest import Database, ThreadedServer, free_port, make_settings
from workflows.contracts import Role

CALLERS = [(Role.resident, "R001"), (Role.staff, "S001"), (Role.supervisor, "S201"), (Role.admin, "admin")]
SMOKE_EXAMPLES = 150
LONG_EXAMPLES = 3000


@pytest.fixture
async def served(dev_env, empty_database_url, worker_for, sandbox, api_port) -> AsyncIterator[dict]:
    """A database of its own (fuzzing writes to the directory), the worker, and the API on a port."""
    engine = make_engine(empty_database_url("sqlite"))
    upgrade(engine)
    database = Database("sqlite", str(engine.url), engine, session_factory(engine))
    seed_demo(database.sessions)
    settings = make_settings(
        database, sandbox, api_port, temporal_address=dev_env.client.service_client.config.target_host,
        quiet_hours=quiet_hours_away_from(await dev_env.get_current_time(), "Asia/Shanghai"),
    )
    tokens = [create_token(database.sessions, role, subject) for role, subject in CALLERS]
    async with worker_for(dev_env, settings, database):
        server = await asyncio.to_thread(ThreadedServer(create_app(settings), free_port()).start)
        try:
            async with httpx.AsyncClient(base_url=server.base_url) as http:
                openapi = (await http.get("/openapi.json")).json()
                submitted = await http.post("/requests", json=REPAIR, headers={
                    "Authorization": f"Bearer {tokens[0]}", "Idempotency-Key": "fuzz-seed-case"})
                assert submitted.status_code == 201, submitted.text
            yield {"base_url": server.base_url, "openapi": openapi, "tokens": tokens,
                   "case_id": submitted.json()["case_id"]}
        finally:
            await asyncio.to_thread(server.stop)
    engine.dispose()


@dataclass
class Tally:
    """What a fuzz run found; the examples keep going after a finding so the counts are whole."""

    requests: int = 0
    server_errors: list[str] = field(default_factory=list)
    schema_violations: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        return (f"fuzz: requests made {self.requests}, 5xx found {len(self.server_errors)}, "
                f"schema violations {len(self.schema_violations)}")


def fuzz(served: dict, examples: int) -> Tally:
    """Positive and negative requests to every operation, on a real case and on made-up ones."""
    schema = schemathesis.openapi.from_dict(served["openapi"])
    cases = st.one_of(
        schema.as_strategy(),
        schema.as_strategy(generation_mode=GenerationMode.NEGATIVE),
        schema.as_strategy(path_parameters={"case_id": served["case_id"]}),
    )
    tally = Tally()

    @seed(20261126)
    @settings(max_examples=examples, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(case=cases, token=st.sampled_from(served["tokens"] + ["stw_not-a-token"]))
    def answered_within_the_schema(case: schemathesis.Case, token: str) -> None:
        response = case.call(base_url=served["base_url"], headers={"Authorization": f"Bearer {token}"},
                             timeout=30)
        tally.requests += 1
        where = f"{case.method} {case.formatted_path} -> {response.status_code}: {response.text[:300]}"
        if response.status_code >= 500:
            tally.server_errors.append(where)
        try:
            case.validate_response(response, checks=[response_schema_conformance, content_type_conformance])
            if response.status_code >= 400:
                error = response.json()
                assert set(error) == {"error"} and {"code", "message"} <= set(error["error"]), "not an error"
        except (FailureGroup, AssertionError, ValueError) as violation:
            tally.schema_violations.append(f"{where}\n  {str(violation)[:500]}")

    answered_within_the_schema()
    return tally


def check(tally: Tally) -> None:
    print(f"\n{tally}")
    assert not tally.server_errors, "\n".join(tally.server_errors[:10])
    assert not tally.schema_violations, "\n".join(tally.schema_violations[:10])
    assert tally.requests > 0


async def test_openapi_smoke_never_answers_5xx_nor_breaks_its_schema(served: dict) -> None:
    check(await asyncio.to_thread(fuzz, served, SMOKE_EXAMPLES))


@pytest.mark.slow
@pytest.mark.timeout(1800)
async def test_openapi_fuzz_never_answers_5xx_nor_breaks_its_schema(served: dict) -> None:
    check(await asyncio.to_thread(fuzz, served, LONG_EXAMPLES))
