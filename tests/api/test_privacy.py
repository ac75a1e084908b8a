"""No personal data where operators and tools look: a case run through the real path, then its search
attributes, memo, summaries, current details, failure messages, start input and the logs of the API
and the worker are searched for the names and phone numbers of the people it involved.

Ids (R…, S…, case codes) are fine and expected; a name or a phone number is not. The resident's phone
is one Twilio refuses (`+15005550001`, invalid for SMS and calls), so the run also goes through the
failures whose messages are most tempted to quote the number, and ends with a manual callback.
"""

from __future__ import annotations

import base64
import logging
import traceback
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from google.protobuf.json_format import MessageToDict
from temporalio.api.sdk.v1 import WorkflowMetadata

from tests.api.conftest import Api
from workflows.contracts import Role

UNREACHABLE_PHONE = "+15005550001"
HANDLER = ("S001", "Wang Wei", "+8613900000001")  # the seeded plumber who gets the dispatch SMS
STEWARD_LOGGERS_ONLY = ("sandbox",)  # the sandbox stands in for Twilio: its logs are Twilio's, not ours


def failures(event: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every failure an event carries (an activity's, a child's, a workflow task's), causes included."""
    for attributes in (value for key, value in event.items() if key.endswith("Attributes")):
        failure = attributes.get("failure")
        while failure:
            yield failure
            failure = failure.get("cause")


def decoded(payloads: dict[str, Any] | None) -> str:
    return " ".join(base64.b64decode(p.get("data", "")).decode("utf-8", "replace")
                    for p in (payloads or {}).get("payloads", []))


def shown_by_temporal(description, history, metadata: dict) -> dict[str, str]:
    """What the Temporal UI shows beside the event payloads, by where it is shown."""
    shown = {
        "workflow id": description.id,
        "search attributes": repr({key.name: value for key, value in description.typed_search_attributes}),
        "memo": repr(description.raw_description.workflow_execution_info.memo),
        "static summary and details": f"{description.static_summary} {description.static_details}",
        "current details": metadata.get("currentDetails", ""),
    }
    events = [MessageToDict(event) for event in history.events]
    start = events[0]["workflowExecutionStartedEventAttributes"]
    shown["start input"] = decoded(start.get("input"))
    shown["event summaries"] = " ".join(decoded({"payloads": [e["userMetadata"][k]]})
                                        for e in events for k in ("summary", "details")
                                        if k in e.get("userMetadata", {}))
    shown["failures"] = " ".join(
        f"{f.get('message')} {f.get('stackTrace')} {info.get('type')} {decoded(info.get('details'))}"
        for e in events for f in failures(e) for info in [f.get("applicationFailureInfo", {})])
    return shown


def logged(records: list[logging.LogRecord]) -> str:
    lines = []
    for record in records:
        if record.name.startswith(STEWARD_LOGGERS_ONLY):
            continue
        lines.append(f"{record.name}: {record.getMessage()}")
        if record.exc_info:
            lines.append("".join(traceback.format_exception(*record.exc_info)))
    return "\n".join(lines)


@pytest.fixture
def every_log(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.INFO)
    return caplog


async def test_no_name_or_phone_in_search_attributes_summaries_failures_or_logs(
    api: Api, every_log: pytest.LogCaptureFixture,
) -> None:
    resident_id = f"RP{uuid.uuid4().hex[:6].upper()}"
    name = f"Ottoline Pemberton-{uuid.uuid4().hex[:4]}"
    added = await api.call("admin", "POST", "/residents", {
        "id": resident_id, "household_id": "H-B1-105", "name": name, "phone": UNREACHABLE_PHONE,
        "locale": "en", "preferred_channel": "sms"})
    assert added.status_code == 201, added.text
    api.person("ottoline", Role.resident, resident_id)

    case_id = await api.submit("ottoline", unit="105")
    await api.until(case_id, lambda s: s["status"] == "dispatched" and s["handler_id"] == HANDLER[0])
    for action, body in (("acknowledge", {}), ("resolve", {"note": "Washer replaced."})):
        response = await api.call("staff", "POST", f"/requests/{case_id}/{action}", body)
        assert response.status_code == 200, response.text
    await api.until(case_id, lambda s: s["status"] == "manual_callback")
    recorded = await api.call("colleague", "POST", f"/requests/{case_id}/callback",
                              {"result": "satisfied", "note": "Visited; the tap is fine.",
                               "reached_by": "visit"})
    assert recorded.status_code == 200, recorded.text
    await api.completed(case_id)

    handle = api.env.client.get_workflow_handle(case_id)
    description = await handle.describe()
    history = await handle.fetch_history()
    metadata = MessageToDict(await handle.query("__temporal_workflow_metadata", result_type=WorkflowMetadata))
    shown = shown_by_temporal(description, history, metadata)
    shown["logs of the API and the worker"] = logged(every_log.records)

    assert resident_id in shown["search attributes"] and resident_id in shown["start input"]
    assert "InvalidNumber" in shown["failures"], "the run never met the failures it is about"
    personal = {name, UNREACHABLE_PHONE, UNREACHABLE_PHONE.lstrip("+"), HANDLER[1], HANDLER[2],
                HANDLER[2].lstrip("+")}
    leaks = [f"{what}: {data!r} in …{text[max(0, text.find(data) - 80):text.find(data) + 80]}…"
             for what, text in shown.items() for data in personal if data in text]
    assert not leaks, "\n".join(leaks)
