"""OpenTelemetry tracing API → workflow → activity, off unless `STEWARD_TRACING` says console or otlp.

The API opens a server span per request; Temporal's `TracingInterceptor` on the client carries that
span's context in the workflow start's headers, and the same interceptor on the worker (a worker takes
its client's interceptors) opens the workflow and activity spans under it: one trace per request.
"""

from __future__ import annotations

from collections.abc import Sequence

from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    ConsoleSpanExporter,
    SimpleSpanProcessor,
    SpanExporter,
)
from opentelemetry.trace import Tracer
from temporalio.client import Interceptor
from temporalio.contrib.opentelemetry import TracingInterceptor

from steward.settings import Settings

_tracers: dict[str, Tracer] = {}


def exporter(settings: Settings) -> SpanExporter:
    if settings.tracing == "console":
        return ConsoleSpanExporter()
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    return OTLPSpanExporter(endpoint=settings.otlp_endpoint)


def make_tracer(service: str, span_exporter: SpanExporter, batch: bool = True) -> Tracer:
    """A tracer of its own provider: `service` names the process (steward-api, steward-worker)."""
    provider = TracerProvider(resource=Resource.create({"service.name": service}))
    processor = BatchSpanProcessor(span_exporter) if batch else SimpleSpanProcessor(span_exporter)
    provider.add_span_processor(processor)
    return provider.get_tracer("steward")


def tracer_for(settings: Settings, service: str) -> Tracer | None:
    """The process's tracer for `service`, made once; None while tracing is off."""
    if settings.tracing == "off":
        return None
    if service not in _tracers:
        _tracers[service] = make_tracer(service, exporter(settings))
    return _tracers[service]


def interceptors(tracer: Tracer | None) -> Sequence[Interceptor]:
    """What the Temporal client (and so its worker) needs to carry and open spans."""
    return [TracingInterceptor(tracer)] if tracer is not None else []
