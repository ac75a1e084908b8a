"""Requests counted and timed by route template (never by raw path, which would grow without bound),
and, when tracing is on, one server span per request that the workflow it starts continues."""

from __future__ import annotations

import time
from collections.abc import Callable

from opentelemetry import propagate
from opentelemetry.trace import SpanKind, Status, StatusCode, Tracer
from prometheus_client import Counter, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

REQUESTS = Counter("steward_http_requests", "HTTP requests answered, by method, route template and status.",
                   ["method", "route", "status"])
LATENCY = Histogram("steward_http_request_duration_seconds", "Time to answer an HTTP request, by method "
                    "and route template.", ["method", "route"],
                    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))
UNMATCHED = "unmatched"
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def route_of(scope: Scope) -> str:
    """The template the router matched (`/requests/{case_id}`), or `unmatched` for a 404 or a refusal
    made before routing."""
    route = scope.get("route")
    return getattr(route, "path", None) or UNMATCHED


class HttpMetrics:
    def __init__(self, app: ASGIApp, tracer: Tracer | None = None) -> None:
        self.app = app
        self.tracer = tracer

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500

        async def watching(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        started = time.perf_counter()
        try:
            if self.tracer is None:
                await self.app(scope, receive, watching)
            else:
                await self._traced(scope, receive, watching, lambda: status)
        finally:
            route, method = route_of(scope), scope["method"] if scope["method"] in METHODS else "other"
            REQUESTS.labels(method, route, str(status)).inc()
            LATENCY.labels(method, route).observe(time.perf_counter() - started)

    async def _traced(self, scope: Scope, receive: Receive, send: Send, status_of: Callable[[], int]) -> None:
        """A span named once the route is known; a caller's `traceparent` header makes it a child.
        `status_of` reads the status the outer `send` watched (500 until a response starts)."""
        carrier = {key.decode("latin-1"): value.decode("latin-1") for key, value in scope["headers"]}
        with self.tracer.start_as_current_span(f"{scope['method']} {scope['path']}", kind=SpanKind.SERVER,
                                               context=propagate.extract(carrier)) as span:
            try:
                await self.app(scope, receive, send)
            finally:
                status = status_of()
                span.update_name(f"{scope['method']} {route_of(scope)}")
                span.set_attribute("http.request.method", scope["method"])
                span.set_attribute("http.route", route_of(scope))
                span.set_attribute("http.response.status_code", status)
                if status >= 500:
                    span.set_status(Status(StatusCode.ERROR))
