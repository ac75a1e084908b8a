"""Steward's own Prometheus metrics, and the `/metrics` answer both the API and the worker give.

Counters live in the process that does the work: the worker's activities count escalations, breaches
and callbacks as they project each transition, and sends and failures as they call Twilio. Open cases
are not counted but read from the SQL read model at scrape time (one grouped query), so every replica
reports the same figure and a restart loses nothing.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterator

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, Counter, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from steward.store.models import Case
from workflows.contracts import Status

CONTENT_TYPE = CONTENT_TYPE_LATEST

ESCALATIONS = Counter("steward_escalations", "Escalations up the ladder, by workflow kind and reason.",
                      ["kind", "reason"])
BREACHES = Counter("steward_breaches", "Resolution deadlines breached, by case kind and severity.",
                   ["kind", "severity"])
CALLBACKS = Counter("steward_callbacks", "Callbacks recorded, by outcome and by who recorded them.",
                    ["outcome", "by"])
SENDS = Counter("steward_sends", "Notices Twilio accepted (or app notices written), by channel.", ["channel"])
SEND_FAILURES = Counter("steward_send_failures", "Notices Twilio refused or could not be reached for, by "
                        "channel and failure type.", ["channel", "reason"])


def transition(kind: str, event: str, detail: dict, severity: str | None = None) -> None:
    """Count one projected transition (called once per newly written `case_events` row)."""
    if event == "escalated":
        ESCALATIONS.labels(kind, str(detail.get("reason", "unknown"))).inc()
    elif event == "breached":
        BREACHES.labels(kind, severity or "none").inc()
    elif event == "callback_recorded":
        CALLBACKS.labels(str(detail.get("result")), str(detail.get("by_role", "system"))).inc()


def sent(channel: str) -> None:
    SENDS.labels(channel).inc()


def send_failed(channel: str, reason: str) -> None:
    SEND_FAILURES.labels(channel, reason).inc()


class OpenCases(Collector):
    """`steward_open_cases{kind,severity,tier}`: cases not yet closed, read from the `cases` table."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions

    def collect(self) -> Iterator[GaugeMetricFamily]:
        gauge = GaugeMetricFamily("steward_open_cases", "Cases not yet closed, by kind, severity and tier "
                                  "(from the SQL read model).", labels=["kind", "severity", "tier"])
        query = (select(Case.kind, Case.severity, Case.tier, func.count())
                 .where(Case.status != Status.closed.value)
                 .group_by(Case.kind, Case.severity, Case.tier))
        with self.sessions() as session:
            for kind, severity, tier, count in session.execute(query):
                gauge.add_metric([kind, severity, str(tier)], count)
        yield gauge


def open_cases_registry(sessions: sessionmaker[Session]) -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(OpenCases(sessions))
    return registry


def exposition(*registries: CollectorRegistry) -> bytes:
    """The process-wide registry (Steward's counters, HTTP metrics, Python runtime) and any others."""
    return b"".join(generate_latest(registry) for registry in (REGISTRY, *registries))


def refusal(token: str | None, authorization: str | None) -> tuple[int, str] | None:
    """None when `authorization` bears the metrics token; else (404, ...) when no token is set (a scrape
    endpoint nobody configured is not advertised) or (401, ...) when the token is missing or wrong."""
    if not token:
        return 404, "Not Found"
    scheme, _, given = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), token.encode()):
        return 401, "the metrics token is required: Authorization: Bearer <token>"
    return None
