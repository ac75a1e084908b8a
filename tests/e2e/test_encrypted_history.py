"""Residents' phone numbers and names never reach Temporal in clear: a case started through the API with
payload keys set leaves no trace of them in the raw history a client without the codec reads, and the
codec (the one the worker and the API use) reads them back."""

from __future__ import annotations

import asyncio
import json
import os
import uuid
from pathlib import Path

import httpx
from google.protobuf.message import Message
from temporalio.api.common.v1 import Payload
from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import History
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from api.app import create_app
from steward.codec import ENCODING, EncryptionCodec, parse_keys
from steward.temporal import connect
from steward.tokens import create_token
from tests.api.conftest import REPAIR, quiet_hours_away_from
from tests.conftest import Database, ThreadedServer, make_settings
from tests.workflows.replay_codec import REPLAY_KEYS
from workers.worker import steward_worker
from workflows.contracts import Role

# Resident R001 of the seeded directory (steward/seed.py), whose phone the contacts activity looks up and
# the SMS goes to, and the handler dispatched to (tests' seeded staff).
PHONE, NAME = b"+8613800000101", b"Resident R001"
STAFF_PHONE, STAFF_NAME = b"+8613900000001", b"Wang Wei"
PERSONAL = (PHONE, NAME, STAFF_PHONE, STAFF_NAME)
# In the history, sealed: the resident's phone is not there at all (their notices read it inside the send).
SEALED = (NAME, STAFF_PHONE, STAFF_NAME)
PATIENCE_S = 30.0
RECORDED = Path(__file__).parent.parent / "histories" / "repair_encrypted.json"


def payloads(message: Message, skip: tuple[str, ...] = ()) -> list[Payload]:
    """Every payload anywhere in a history (inputs, results, failures, memos, headers), but in `skip`."""
    if getattr(message, "marker_name", None) == "core_patch":
        return []  # a `workflow.patched` id the SDK records in clear (no personal data)
    found: list[Payload] = []
    for descriptor, value in message.ListFields():
        if descriptor.message_type is None or descriptor.name in skip:
            continue
        if isinstance(value, Message):
            items = [value]
        else:  # a repeated field, or a map (of payloads, or of messages holding some)
            items = list(value.values()) if hasattr(value, "values") else list(value)
        for item in items:
            if isinstance(item, Payload):
                found.append(item)
            elif isinstance(item, Message):
                found += payloads(item, skip)
    return found


async def test_raw_history_shows_no_phone_or_name_and_the_codec_reads_them(
    dev_env: WorkflowEnvironment, sqlite_database: Database, sandbox: ThreadedServer, api_port: int
) -> None:
    keys = REPLAY_KEYS  # so the history it keeps replays (tests/workflows/replay_codec.py)
    settings = make_settings(
        sqlite_database, sandbox, api_port, payload_keys=keys,
        temporal_address=dev_env.client.service_client.config.target_host,
        quiet_hours=quiet_hours_away_from(await dev_env.get_current_time(), "Asia/Shanghai"),
    )
    client = await connect(settings)  # the converter with the codec, as `steward api` and `worker` use
    app = create_app(settings, client=client, engine=sqlite_database.engine)
    token = create_token(sqlite_database.sessions, Role.resident, "R001")
    async with (
        steward_worker(client, settings, sqlite_database.sessions, settings.task_queue),
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://steward.test") as http,
    ):
        body = {k: v for k, v in REPAIR.items() if k not in ("building_id", "unit")}
        body["description"] = f"{NAME.decode()} here: it drips all night."
        response = await http.post("/requests", json=body, headers={
            "Authorization": f"Bearer {token}", "Idempotency-Key": uuid.uuid4().hex})
        assert response.status_code == 201, response.text
        case_id = response.json()["case_id"]
        try:
            clear = Client(dev_env.client.service_client, namespace=dev_env.client.namespace)  # no codec
            codec = EncryptionCodec(parse_keys(keys))
            deadline = asyncio.get_running_loop().time() + PATIENCE_S
            while True:  # until the handler has been told (their contact looked up, an SMS sent)
                history = History(events=(await clear.get_workflow_handle(case_id).fetch_history()).events)
                opened = b"".join(p.SerializeToString() for p in await codec.decode(payloads(history)))
                if all(secret in opened for secret in SEALED):
                    break
                assert asyncio.get_running_loop().time() < deadline, "the handler was never told"
                await asyncio.sleep(0.2)
            refused = await http.post(f"/requests/{case_id}/resume", json={}, headers={
                "Authorization": f"Bearer {token}", "Idempotency-Key": uuid.uuid4().hex})
            assert refused.status_code == 409, refused.text  # the workflow's reason, sealed and read back
            assert "the case is not paused" in refused.json()["error"]["message"]
            supervisor = create_token(sqlite_database.sessions, Role.supervisor, "S201")
            timeline = await http.get(f"/requests/{case_id}/history",
                                      headers={"Authorization": f"Bearer {supervisor}"})
            assert timeline.status_code == 200, timeline.text  # the API reads the sealed history
            assert timeline.json()["source"] == "temporal" and timeline.json()["entries"], timeline.text
            raw = history.SerializeToString()
            assert [secret for secret in PERSONAL if secret in raw] == []
            assert PHONE not in opened
            sealed = payloads(history, skip=("search_attributes",))  # those stay in clear, for lists
            assert [p for p in sealed if p.metadata["encoding"] != ENCODING] == []
            assert {p.metadata["encryption-key-id"] for p in sealed} == {b"k1"}
            assert any(e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED for e in history.events)
        finally:
            await client.get_workflow_handle(case_id).terminate("test finished")
        await keep_history(client, case_id)


async def keep_history(client: Client, case_id: str) -> None:
    """The one encrypted history the replay tests replay (once; `STEWARD_RECORD_HISTORIES=1` rewrites)."""
    if RECORDED.exists() and not os.environ.get("STEWARD_RECORD_HISTORIES"):
        return
    history = json.loads((await client.get_workflow_handle(case_id).fetch_history()).to_json())
    RECORDED.write_text(json.dumps({"workflow_id": case_id, **history}), encoding="utf-8")
