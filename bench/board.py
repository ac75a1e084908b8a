"""`python -m bench.board`: the board and `/at-risk` read from SQL, at growing sizes, against the
workflow-query board they replaced.

On a stack of real processes (`bench.stack`: Temporal dev server, `steward api`, Steward's worker, the
sandbox) whose read model is PostgreSQL:

1. `--real` open repairs are submitted through `POST /requests` and run by the real worker until each
   has its projected row and deadline. At that size both boards are timed: the SQL one through HTTP
   (`GET /at-risk`, `GET /console/api/board`, and the board answered `304` from its ETag), and the
   workflow-query board as it was before (list the open cases from Temporal visibility, at most 500,
   then query each workflow's state, 16 at a time), run from here through the same Temporal client
   calls the old route made.
2. Rows are then written straight to SQL (a building of their own, deadlines spread over a day)
   until the read model holds each of `--rows` open cases, and the SQL board is timed again at every
   size, first page and a page deep in the list.

Figures only; nothing fails on time. Results go to bench/results/<time>-board.json and
latest-board.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg

from bench.harness import Bench, gather_limited
from bench.procs import machine
from bench.stack import Stack, new_stack
from bench.stats import summary, table

RESULTS = Path(__file__).resolve().parent / "results"
POSTGRES_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
DATABASE = "steward_bench_board"
OLD_BOARD_CASES = 500
OLD_CONCURRENCY = 16
BUILDING = "BBENCH"


@dataclass
class PostgresStack(Stack):
    postgres_url: str = ""

    @property
    def database_url(self) -> str:
        return self.postgres_url


def fresh_database() -> str:
    with psycopg.connect(POSTGRES_ADMIN, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{DATABASE}"')
        connection.execute(f'CREATE DATABASE "{DATABASE}"')
    return POSTGRES_ADMIN.rsplit("/", 1)[0] + f"/{DATABASE}"


async def timings(call, count: int) -> dict:
    """Milliseconds per call, `count` calls one after another (after three not counted)."""
    for _ in range(3):
        await call()
    spent = []
    for _ in range(count):
        began = time.perf_counter()
        await call()
        spent.append((time.perf_counter() - began) * 1000)
    return summary(spent)


async def get_ok(bench: Bench, path: str, params: dict | None = None) -> Any:
    response = await bench.api.get(path, params=params, headers=bench.auth("supervisor"))
    if response.status_code != 200:
        raise RuntimeError(f"{path} answered {response.status_code}: {response.text[:300]}")
    return response


async def unchanged(bench: Bench, count: int) -> dict:
    """The board asked again with its ETag: only 304s are timed (a transition projected meanwhile
    answers 200 with a new ETag, which the next ask sends)."""
    etag = (await get_ok(bench, "/console/api/board", {"limit": 100})).headers["ETag"]
    spent: list[float] = []
    while len(spent) < count:
        began = time.perf_counter()
        response = await bench.api.get("/console/api/board", params={"limit": 100},
                                       headers=bench.auth("supervisor") | {"If-None-Match": etag})
        if response.status_code == 304:
            spent.append((time.perf_counter() - began) * 1000)
        else:
            etag = response.headers["ETag"]
    return summary(spent)


async def sql_board(bench: Bench, count: int, deep_token: str | None = None) -> dict:
    figures = {
        "at_risk_first_page_ms": await timings(lambda: get_ok(bench, "/at-risk", {"limit": 50}), count),
        "board_first_page_100_ms": await timings(
            lambda: get_ok(bench, "/console/api/board", {"limit": 100}), count),
        "board_first_page_500_ms": await timings(
            lambda: get_ok(bench, "/console/api/board", {"limit": 500}), max(10, count // 5)),
        "board_unchanged_304_ms": await unchanged(bench, count),
    }
    if deep_token:
        figures["at_risk_deep_page_ms"] = await timings(
            lambda: get_ok(bench, "/at-risk", {"limit": 50, "page_token": deep_token}), count)
    return figures


async def old_board(bench: Bench, count: int) -> dict:
    """The board as it was: visibility for up to 500 open cases, then each workflow's state query."""
    from api.cases import visibility_query
    from workflows.case_contracts import CaseState

    query = visibility_query("ExecutionStatus = 'Running'")

    async def once() -> None:
        ids = [e.id async for e in bench.client.list_workflows(query, limit=OLD_BOARD_CASES, page_size=500)]
        gate = asyncio.Semaphore(OLD_CONCURRENCY)

        async def state(case_id: str) -> None:
            async with gate:
                await bench.client.get_workflow_handle(case_id).query(
                    "state", result_type=CaseState, rpc_timeout=timedelta(seconds=3))

        await asyncio.gather(*map(state, ids))

    return {"old_board_ms": await timings(once, count)}


def write_rows(url: str, start: int, stop: int) -> None:
    """Open cases straight into SQL, as the projection would leave them after dispatch."""
    now = datetime.now(UTC)
    rows = []
    for n in range(start, stop):
        deadline = now + timedelta(seconds=(n * 7919) % 86_400)
        rows.append((f"RP-BENCH{n:07d}", "repair", "normal", "plumbing", BUILDING, "101", "R001",
                     "dispatched", 0, None, "S001", now - timedelta(seconds=n), now, None, None, None, None,
                     deadline, now + timedelta(days=1), False, False, False, 0, 0, None, False, 1,
                     "Bench tap", False, deadline, "response_missed"))
    columns = ", ".join((
        "case_id", "kind", "severity", "category", "building_id", "unit", "resident_id", "status", "tier",
        "owner_id", "handler_id", "submitted_at", "dispatched_at", "acknowledged_at", "resolved_at",
        "callback_at", "closed_at", "response_due", "resolution_due", "warned", "response_breached",
        "resolution_breached", "paused_seconds", "reopen_count", "satisfaction", "withdrawn", "last_seq",
        "title", "paused", "next_deadline", "next_deadline_kind"))
    with psycopg.connect(url) as connection, connection.cursor() as cursor:
        with cursor.copy(f"COPY cases ({columns}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        cursor.execute("ANALYZE cases")


def open_rows(url: str) -> int:
    with psycopg.connect(url) as connection:
        return connection.execute("SELECT count(*) FROM cases WHERE status <> 'closed'").fetchone()[0]


def deep_token(url: str, depth: int) -> str | None:
    """The page token `/at-risk` gives after `depth` cases (the same token walking there would give)."""
    from api import cursor
    from steward.store.deadlines import Position

    with psycopg.connect(url) as connection:
        found = connection.execute(
            "SELECT next_deadline, case_id FROM cases WHERE status <> 'closed' AND next_deadline IS NOT NULL "
            "ORDER BY next_deadline, case_id OFFSET %s LIMIT 1", (depth,)).fetchone()
    if found is None:
        return None
    scope = cursor.scope_of("at-risk", {"building_id": None})
    return cursor.encode(scope, Position(phase="racing", at=found[0], id=found[1]))


async def submit_real(bench: Bench, count: int, url: str) -> float:
    began = time.perf_counter()
    await gather_limited([bench.submit() for _ in range(count)], 8)
    while open_rows(url) < count or _undispatched(url):
        if time.perf_counter() - began > 60 + count:
            raise RuntimeError("the real cases were not all projected in time")
        await asyncio.sleep(1)
    return time.perf_counter() - began


def _undispatched(url: str) -> int:
    with psycopg.connect(url) as connection:
        return connection.execute("SELECT count(*) FROM cases WHERE status = 'submitted'").fetchone()[0]


async def run(args: argparse.Namespace) -> dict:
    url = fresh_database()
    base = new_stack()
    stack = PostgresStack(base.data_dir, postgres_url=url)
    result: dict[str, Any] = {"started_at": datetime.now(UTC).isoformat(), "machine": machine(),
                              "sizes": {"real": args.real, "rows": args.rows, "requests": args.requests}}
    try:
        await asyncio.to_thread(stack.start)
        bench = await Bench.open(stack)
        from steward.store.database import make_engine, session_factory
        from steward.tokens import create_token
        from workflows.contracts import Role

        engine = make_engine(url)
        bench.tokens["supervisor"] = create_token(session_factory(engine), Role.supervisor, "S201")
        engine.dispose()
        try:
            settled = await submit_real(bench, args.real, url)
            result["real"] = {
                "cases": args.real, "settle_s": round(settled, 1),
                "sql": await sql_board(bench, args.requests, deep_token(url, args.real // 2)),
                "before": await old_board(bench, args.old_requests),
            }
            result["rows"] = {}
            for size in args.rows:
                have = open_rows(url)
                if size > have:
                    await asyncio.to_thread(write_rows, url, have, size)
                result["rows"][str(size)] = await sql_board(bench, args.requests, deep_token(url, size // 2))
        finally:
            await bench.terminate_running()
            await bench.close()
    finally:
        await asyncio.to_thread(stack.stop)
    result["finished_at"] = datetime.now(UTC).isoformat()
    return result


def printed(result: dict) -> str:
    rows = [["open cases", "measure", "p50 ms", "p99 ms"]]
    real = result["real"]
    for name, figure in [*real["sql"].items(), *real["before"].items()]:
        rows.append([f"{real['cases']} real", name, str(figure["median"]), str(figure["p99"])])
    for size, figures in result["rows"].items():
        for name, figure in figures.items():
            rows.append([f"{int(size):,} rows", name, str(figure["median"]), str(figure["p99"])])
    return table(rows)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.board", description=__doc__.split("\n\n")[0])
    parser.add_argument("--real", type=int, default=500, help="open cases made by real workflows")
    parser.add_argument("--rows", default="10000,100000", help="read-model sizes reached by writing rows")
    parser.add_argument("--requests", type=int, default=100, help="timed requests per measure")
    parser.add_argument("--old-requests", type=int, default=10, help="timed runs of the old board")
    args = parser.parse_args()
    args.rows = [int(size) for size in args.rows.split(",") if size]
    result = asyncio.run(run(args))
    RESULTS.mkdir(exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    for name in (f"{stamp}-board.json", "latest-board.json"):
        (RESULTS / name).write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(printed(result))


if __name__ == "__main__":
    main()
