"""The worker process: every workflow and every activity of Steward on one task queue."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

from activities.directory import Directory
from activities.notify import Notifier
from activities.projection import Projection
from sqlalchemy.orm import Session, sessionmaker
from temporalio.client import Client
from temporalio.worker import Worker
from workflows.repair import RepairWorkflow

from steward.settings import Settings
from steward.store.database import make_engine, session_factory
from steward.temporal import connect

WORKFLOWS = [RepairWorkflow]


def build_worker(
    client: Client, settings: Settings, sessions: sessionmaker[Session], task_queue: str | None = None
) -> Worker:
    """One place lists what the worker runs; the tests build the same worker on their own queue."""
    directory = Directory(sessions)
    projection = Projection(sessions)
    notifier = Notifier(settings, sessions)
    return Worker(
        client,
        task_queue=task_queue or settings.task_queue,
        workflows=WORKFLOWS,
        activities=[
            directory.dispatch,
            directory.on_duty_for_tier,
            directory.resident_contact,
            directory.staff_contact,
            projection.project,
            notifier.send,
        ],
        activity_executor=ThreadPoolExecutor(max_workers=32),
    )


async def run_worker(settings: Settings) -> None:
    client = await connect(settings.temporal_target, settings.temporal_namespace)
    sessions = session_factory(make_engine(settings.database))
    worker = build_worker(client, settings, sessions)
    await worker.run()


def main() -> None:
    asyncio.run(run_worker(Settings()))
