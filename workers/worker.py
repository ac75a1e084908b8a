"""The worker process: every workflow and every activity of Steward on one task queue."""

from __future__ import annotations

from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager

from sqlalchemy.orm import Session, sessionmaker
from temporalio.client import Client
from temporalio.worker import Worker

from activities.broadcast import Broadcaster
from activities.directory import Directory
from activities.incidents import IncidentProjection
from activities.notify import Notifier
from activities.objections import ObjectionStore
from activities.projection import Projection
from steward.settings import Settings, parse_duration
from workflows.complaint import ComplaintWorkflow
from workflows.device_alarm import DeviceAlarmWorkflow
from workflows.drill import DrillWorkflow
from workflows.drill_survey import DrillSurveyWorkflow
from workflows.hearing import HearingWorkflow
from workflows.hearing_callback import HearingCallbackWorkflow
from workflows.incident import IncidentWorkflow
from workflows.inspection import InspectionWorkflow
from workflows.notice_batches import NoticeBatchWorkflow
from workflows.question import QuestionWorkflow
from workflows.repair import RepairWorkflow

WORKFLOWS = [
    RepairWorkflow,
    ComplaintWorkflow,
    HearingWorkflow,
    NoticeBatchWorkflow,
    HearingCallbackWorkflow,
    DrillWorkflow,
    DrillSurveyWorkflow,
    QuestionWorkflow,
    DeviceAlarmWorkflow,
    InspectionWorkflow,
    IncidentWorkflow,
]


@asynccontextmanager
async def steward_worker(
    client: Client, settings: Settings, sessions: sessionmaker[Session], task_queue: str | None = None
) -> AsyncIterator[Worker]:
    """One place lists what the worker runs; the tests run the same worker on their own queue.

    The Twilio client lives as long as the worker and is closed with it.
    """
    directory = Directory(sessions)
    projection = Projection(sessions)
    notifier = Notifier(settings, sessions)
    broadcaster = Broadcaster(notifier, sessions)
    objections = ObjectionStore(sessions)
    incidents = IncidentProjection(sessions)
    worker = Worker(
        client,
        task_queue=task_queue or settings.task_queue,
        workflows=WORKFLOWS,
        activities=[
            directory.dispatch,
            directory.on_duty_for_tier,
            directory.resident_contact,
            directory.staff_contact,
            directory.resident_pages,
            directory.residents_in,
            directory.open_reports,
            projection.project,
            projection.project_case_events,
            projection.project_hearing,
            projection.project_drill,
            notifier.send,
            notifier.send_to_resident,
            notifier.app_notice_read,
            broadcaster.send_many,
            broadcaster.send_to_staff,
            objections.keep,
            incidents.project_incident,
        ],
        activity_executor=ThreadPoolExecutor(max_workers=32),
        max_cached_workflows=settings.worker_cache_size,
        graceful_shutdown_timeout=parse_duration(settings.worker_shutdown_grace),
    )
    try:
        async with worker:
            yield worker
    finally:
        await notifier.close()
