"""OpenTelemetry: a request that starts a case is one trace, API span → workflow span → activity spans."""

from __future__ import annotations

import asyncio
import uuid

import httpx
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from temporalio.client import Client

from api.app import create_app
from steward import tracing
from steward.settings import Settings
from steward.tokens import create_token
from tests.api.conftest import REPAIR
from tests.conftest import make_settings
from workers.worker import steward_worker
from workflows.contracts import Role

PATIENCE_S = 30.0


def test_tracing_is_off_unless_a_setting_turns_it_on() -> None:
    off = Settings(_env_file=None)
    assert off.tracing == "off"
    assert tracing.tracer_for(off, "steward-test") is None
    assert tracing.interceptors(None) == []


async def test_one_trace_from_the_api_request_through_the_workflow_to_its_activities(
    dev_env, sqlite_database, sandbox, api_port
) -> None:
    spans = InMemorySpanExporter()
    tracer = tracing.make_tracer("steward-test", spans, batch=False)
    client = Client(**(dev_env.client.config() | {"interceptors": tracing.interceptors(tracer)}))
    settings = make_settings(sqlite_database, sandbox, api_port)
    app = create_app(settings, client=client, engine=sqlite_database.engine, tracer=tracer)
    token = create_token(sqlite_database.sessions, Role.resident, "R001")
    body = {k: v for k, v in REPAIR.items() if k not in ("building_id", "unit")}
    async with (
        steward_worker(client, settings, sqlite_database.sessions, settings.task_queue),
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://steward.test") as http,
    ):
        response = await http.post("/requests", json=body, headers={
            "Authorization": f"Bearer {token}", "Idempotency-Key": uuid.uuid4().hex})
        assert response.status_code == 201, response.text
        case_id = response.json()["case_id"]
        try:
            deadline = asyncio.get_running_loop().time() + PATIENCE_S
            while not any(s.name.startswith("RunActivity:") for s in spans.get_finished_spans()):
                assert asyncio.get_running_loop().time() < deadline, spans.get_finished_spans()
                await asyncio.sleep(0.1)
        finally:
            await client.get_workflow_handle(case_id).terminate("test finished")

    finished = spans.get_finished_spans()
    request = next(s for s in finished if s.kind == SpanKind.SERVER and s.name == "POST /requests")
    assert request.attributes["http.route"] == "/requests"
    assert request.attributes["http.response.status_code"] == 201
    trace = [s for s in finished if s.context.trace_id == request.context.trace_id]
    names = {s.name for s in trace}
    assert "StartWorkflow:RepairWorkflow" in names
    assert "RunWorkflow:RepairWorkflow" in names
    assert any(name.startswith("RunActivity:") for name in names), names
    start = next(s for s in trace if s.name == "StartWorkflow:RepairWorkflow")
    assert start.parent.span_id == request.context.span_id
    # An activity span descends, through the workflow's scheduling of it, from the request's span.
    by_id = {s.context.span_id: s for s in trace}
    activity = next(s for s in trace if s.name.startswith("RunActivity:"))
    ancestors = []
    while activity.parent is not None and activity.parent.span_id in by_id:
        activity = by_id[activity.parent.span_id]
        ancestors.append(activity.name)
    assert ancestors[0].startswith("StartActivity:"), ancestors
    assert ancestors[1:] == ["StartWorkflow:RepairWorkflow", "POST /requests"], ancestors


def test_otlp_and_console_make_a_tracer_with_the_matching_exporter() -> None:
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.trace.export import ConsoleSpanExporter

    otlp = Settings(_env_file=None, tracing="otlp", otlp_endpoint="http://collector:4318/v1/traces")
    made = tracing.exporter(otlp)
    assert isinstance(made, OTLPSpanExporter) and made._endpoint == "http://collector:4318/v1/traces"
    assert isinstance(tracing.exporter(Settings(_env_file=None, tracing="console")), ConsoleSpanExporter)
    tracer = tracing.tracer_for(otlp, f"steward-test-{uuid.uuid4().hex[:6]}")
    assert tracer is not None and len(tracing.interceptors(tracer)) == 1
