"""What every scenario uses: the running stack, HTTP and Temporal clients, people with tokens, and the
two drivers — Steward through its HTTP API and the sandbox, the baseline through its bare endpoints.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import httpx
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.contrib.pydantic import pydantic_data_converter

from bench.engine import Phase, Shape
from bench.procs import CpuMeter
from bench.stack import Stack

# How Temporal records a local activity in the history (a marker, not an activity task).
LOCAL_ACTIVITY = "core_local_activity"

REPAIR = {
    "kind": "repair",
    "severity": "normal",
    "category": "plumbing",
    "title": "Kitchen tap leaking",
    "description": "It drips all night.",
    "building_id": "B1",
    "unit": "101",
}
POLL_S = 0.05


@dataclass
class Resident:
    resident_id: str
    phone: str
    token: str


@dataclass
class Bench:
    stack: Stack
    client: Client
    api: httpx.AsyncClient
    sandbox: httpx.AsyncClient
    baseline: httpx.AsyncClient
    tokens: dict[str, str] = field(default_factory=dict)
    residents: list[Resident] = field(default_factory=list)

    @classmethod
    async def open(cls, stack: Stack) -> Bench:
        client = await Client.connect(stack.temporal, data_converter=pydantic_data_converter)
        limits = httpx.Limits(max_connections=200, max_keepalive_connections=200)

        def http(url: str) -> httpx.AsyncClient:
            return httpx.AsyncClient(base_url=url, timeout=60, limits=limits)

        bench = cls(stack, client, http(stack.api_url), http(stack.sandbox_url), http(stack.baseline_url))
        await asyncio.to_thread(bench._make_tokens)
        return bench

    async def close(self) -> None:
        for http in (self.api, self.sandbox, self.baseline):
            await http.aclose()

    def _make_tokens(self) -> None:
        from steward.store.database import make_engine, session_factory
        from steward.tokens import create_token
        from workflows.contracts import Role

        engine = make_engine(self.stack.database_url)
        sessions = session_factory(engine)
        for name, role, subject in [
            ("admin", Role.admin, "admin"),
            ("staff", Role.staff, "S001"),
            ("resident", Role.resident, "R001"),
        ]:
            self.tokens[name] = create_token(sessions, role, subject)
        self._sessions = sessions

    def auth(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"}

    def cpu(self) -> CpuMeter:
        import os

        return CpuMeter(self.stack.pids() | {"bench_driver": os.getpid()})

    async def add_residents(self, count: int) -> list[Resident]:
        """Residents who prefer SMS, added through the admin API, each with a phone of their own."""
        from steward.tokens import create_token
        from workflows.contracts import Role

        start = len(self.residents)
        for index in range(start, start + count):
            resident_id = f"RB{index:04d}"
            phone = f"+8613700{index:06d}"
            response = await self.api.post(
                "/residents",
                headers=self.auth("admin"),
                json={
                    "id": resident_id,
                    "household_id": "H-B1-101",
                    "name": f"Bench resident {index}",
                    "phone": phone,
                    "locale": "en",
                    "preferred_channel": "sms",
                },
            )
            response.raise_for_status()
            token = await asyncio.to_thread(create_token, self._sessions, Role.resident, resident_id)
            self.residents.append(Resident(resident_id, phone, token))
        return self.residents[start:]

    # --- Steward, through HTTP ------------------------------------------------------------------

    async def submit(self, resident: Resident | None = None, **fields: Any) -> tuple[str, float]:
        """POST /requests; (case id, seconds)."""
        token = resident.token if resident else self.tokens["resident"]
        began = time.perf_counter()
        response = await self.api.post(
            "/requests",
            json=REPAIR | fields,
            headers={
                "Authorization": f"Bearer {token}",
                "Idempotency-Key": uuid.uuid4().hex,
            },
        )
        elapsed = time.perf_counter() - began
        if response.status_code != 201:
            raise RuntimeError(f"submit answered {response.status_code}: {response.text}")
        return response.json()["case_id"], elapsed

    async def steward_state(self, case_id: str) -> dict:
        response = await self.api.get(f"/requests/{case_id}", headers=self.auth("staff"))
        response.raise_for_status()
        return response.json()

    async def steward_until(self, case_id: str, statuses: set[str], within: float = 120) -> dict:
        deadline = time.monotonic() + within
        while True:
            state = await self.steward_state(case_id)
            if state["status"] in statuses:
                return state
            if time.monotonic() > deadline:
                raise TimeoutError(f"{case_id} stayed {state['status']}")
            await asyncio.sleep(POLL_S)

    async def steward_act(self, case_id: str, action: str, body: dict | None = None) -> float:
        began = time.perf_counter()
        response = await self.api.post(f"/requests/{case_id}/{action}", json=body, headers=self.auth("staff"))
        elapsed = time.perf_counter() - began
        if response.status_code != 200:
            raise RuntimeError(f"{action} answered {response.status_code}: {response.text}")
        return elapsed

    async def callback_sms(self, case_id: str, phone: str, within: float = 120) -> dict:
        """Wait until the sandbox has recorded the callback request for this case."""
        deadline = time.monotonic() + within
        while True:
            messages = (await self.sandbox.get("/sandbox/messages", params={"to": phone})).json()
            for message in messages:
                if case_id in message["body"] and "Reply 1" in message["body"]:
                    return message
            if time.monotonic() > deadline:
                raise TimeoutError(f"no callback SMS for {case_id}")
            await asyncio.sleep(POLL_S)

    async def reply(self, phone: str, body: str, within: float = 30) -> None:
        """The resident answers by SMS; again while the read model has not caught up with the callback."""
        deadline = time.monotonic() + within
        while True:
            answer = (await self.sandbox.post("/sandbox/reply", json={"from": phone, "body": body})).json()
            if answer["webhook_status"] == 200 and answer["reply"] is None:
                return
            if time.monotonic() > deadline:
                raise TimeoutError(f"reply {body!r} not taken: {answer}")
            await asyncio.sleep(POLL_S)

    async def steward_lifecycle(self, resident: Resident) -> tuple[str, dict[str, float]]:
        """submit → dispatched → acknowledge → resolve → callback SMS → reply "1 CODE" → closed."""
        began = time.perf_counter()
        case_id, submit = await self.submit(resident)
        await self.steward_until(case_id, {"dispatched"})
        ack = await self.steward_act(case_id, "acknowledge")
        resolve = await self.steward_act(case_id, "resolve", {"note": "Washer replaced."})
        await self.callback_sms(case_id, resident.phone)
        await self.reply(resident.phone, f"1 {case_id}")
        await self.client.get_workflow_handle(case_id).result()
        return case_id, {
            "submit": submit,
            "acknowledge": ack,
            "resolve": resolve,
            "total": time.perf_counter() - began,
        }

    # --- the baseline, through its bare endpoints ---------------------------------------------------

    async def baseline_post(self, path: str, json: Any = None) -> tuple[dict, float]:
        began = time.perf_counter()
        response = await self.baseline.post(path, json=json)
        elapsed = time.perf_counter() - began
        response.raise_for_status()
        return response.json(), elapsed

    async def baseline_until(self, workflow_id: str, status: str, within: float = 120) -> None:
        deadline = time.monotonic() + within
        while (await self.baseline.get(f"/lifecycles/{workflow_id}")).json()["status"] != status:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{workflow_id} did not reach {status}")
            await asyncio.sleep(POLL_S)

    async def baseline_lifecycle(self, shape: Shape, resident: Resident) -> tuple[str, dict[str, float]]:
        """The same steps on the minimal workflow: start, ack update, resolve update, wait for the
        callback SMS in the sandbox, reply signal."""
        began = time.perf_counter()
        started, submit = await self.baseline_post(
            f"/lifecycles?phone={resident.phone.replace('+', '%2B')}", _shape_json(shape)
        )
        workflow_id = started["id"]
        await self.baseline_until(workflow_id, "dispatched")
        _, ack = await self.baseline_post(f"/lifecycles/{workflow_id}/acknowledge")
        _, resolve = await self.baseline_post(f"/lifecycles/{workflow_id}/resolve")
        await self.callback_sms(workflow_id, resident.phone)
        await self.baseline_post(f"/lifecycles/{workflow_id}/reply")
        await self.client.get_workflow_handle(workflow_id).result()
        return workflow_id, {
            "submit": submit,
            "acknowledge": ack,
            "resolve": resolve,
            "total": time.perf_counter() - began,
        }

    # --- housekeeping -----------------------------------------------------------------------------

    async def terminate_running(self) -> int:
        """End every workflow still running, so one scenario's timers never fire in another's."""
        ids = [w.id async for w in self.client.list_workflows("ExecutionStatus = 'Running'")]
        await gather_limited([self._terminate(i) for i in ids], 16)
        return len(ids)

    async def _terminate(self, workflow_id: str) -> None:
        handle = self.client.get_workflow_handle(workflow_id)
        try:
            if (await handle.describe()).status == WorkflowExecutionStatus.RUNNING:
                await handle.terminate("benchmark scenario finished")
        except Exception:  # noqa: BLE001 - it ended by itself meanwhile
            pass

    async def reset_sandbox(self) -> None:
        (await self.sandbox.post("/sandbox/reset")).raise_for_status()


def _shape_json(shape: Shape) -> dict:
    return {"phases": [asdict(p) for p in shape.phases]}


async def gather_limited(work: list[Awaitable[Any]], limit: int) -> list[Any]:
    semaphore = asyncio.Semaphore(limit)

    async def one(item: Awaitable[Any]) -> Any:
        async with semaphore:
            return await item

    return await asyncio.gather(*[one(item) for item in work])


# --- reading Temporal's own record of a workflow ---------------------------------------------------


async def history_profile(client: Client, workflow_id: str) -> dict[str, Any]:
    """Counts and timings from the event history: how many workflow tasks, activities, timers,
    updates and signals, and how long tasks waited for a worker and ran on it."""
    history = await client.get_workflow_handle(workflow_id).fetch_history()
    kinds: Counter[str] = Counter()
    scheduled: dict[int, float] = {}
    started: dict[int, float] = {}
    wft_queue = wft_run = act_queue = act_run = 0.0
    first = last = None
    for event in history.events:
        kind = event.WhichOneof("attributes").removesuffix("_event_attributes")
        kinds[kind] += 1
        if kind == "marker_recorded" and event.marker_recorded_event_attributes.marker_name == LOCAL_ACTIVITY:
            kinds["local_activity"] += 1
        at = event.event_time.ToDatetime().timestamp()
        first = at if first is None else first
        last = at
        if kind in ("workflow_task_scheduled", "activity_task_scheduled"):
            scheduled[event.event_id] = at
        elif kind == "workflow_task_started":
            attributes = event.workflow_task_started_event_attributes
            started[event.event_id] = at
            wft_queue += at - scheduled[attributes.scheduled_event_id]
        elif kind == "workflow_task_completed":
            wft_run += at - started[event.workflow_task_completed_event_attributes.started_event_id]
        elif kind == "activity_task_started":
            attributes = event.activity_task_started_event_attributes
            started[event.event_id] = at
            act_queue += at - scheduled[attributes.scheduled_event_id]
        elif kind == "activity_task_completed":
            act_run += at - started[event.activity_task_completed_event_attributes.started_event_id]
    return {
        "workflow_tasks": kinds["workflow_task_completed"],
        "activities": kinds["activity_task_scheduled"],
        "local_activities": kinds["local_activity"],
        "timers": kinds["timer_started"],
        "updates": kinds["workflow_execution_update_accepted"],
        "signals": kinds["workflow_execution_signaled"],
        "events": len(history.events),
        "wft_wait_s": wft_queue,
        "wft_run_s": wft_run,
        "activity_wait_s": act_queue,
        "activity_run_s": act_run,
        "span_s": (last - first) if first is not None else 0.0,
    }


async def lifecycle_shape(client: Client, workflow_id: str) -> Shape:
    """The engine work of a Steward lifecycle, phase by phase (split at ack, resolve and the reply)."""
    history = await client.get_workflow_handle(workflow_id).fetch_history()
    phases = [Phase(), Phase(), Phase(), Phase()]
    index = 0
    for event in history.events:
        kind = event.WhichOneof("attributes")
        if kind in (
            "workflow_execution_update_accepted_event_attributes",
            "workflow_execution_signaled_event_attributes",
        ):
            index = min(index + 1, 3)
        elif kind == "activity_task_scheduled_event_attributes":
            phases[index].activities += 1
        elif (
            kind == "marker_recorded_event_attributes"
            and event.marker_recorded_event_attributes.marker_name == LOCAL_ACTIVITY
        ):
            phases[index].local_activities += 1
        elif kind == "timer_started_event_attributes":
            phases[index].timers += 1
    return Shape(phases=phases)


async def timed(work: Callable[[], Awaitable[Any]]) -> tuple[Any, float]:
    began = time.perf_counter()
    result = await work()
    return result, time.perf_counter() - began
