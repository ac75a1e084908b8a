"""Cases as the API reaches them through Temporal: start, find, query, update, signal, list.

Every Temporal call of the API goes through here so that one place turns Temporal's answers into
HTTP ones (404, 409, 503, 504).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import TypeVar

from pydantic import BaseModel
from temporalio.client import (
    Client,
    WorkflowExecution,
    WorkflowExecutionDescription,
    WorkflowExecutionStatus,
    WorkflowQueryFailedError,
    WorkflowQueryRejectedError,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.common import (
    SearchAttributeKey,
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDReusePolicy,
)
from temporalio.exceptions import ApplicationError, WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from api.errors import ApiError
from api.models import CaseListItem
from workflows import search
from workflows.case_contracts import CaseInput, CaseState
from workflows.contracts import Actor, Kind, Role

LIVE_QUERY_TIMEOUT = timedelta(seconds=3)
CONCURRENT_QUERIES = 16

RPC_TIMEOUT = timedelta(seconds=10)
BUSY_RETRY_S = 3
Answer = TypeVar("Answer", bound=BaseModel)
REQUEST_DIGEST = "request_sha256"
REQUEST_KINDS = (Kind.repair, Kind.complaint, Kind.question)
# Every kind run as a case (its state is `CaseState`): the requests, and the inspections plans start.
CASE_KINDS = (*REQUEST_KINDS, Kind.inspection)
_WORKFLOWS = {Kind.repair: ("RepairWorkflow", "RP"), Kind.complaint: ("ComplaintWorkflow", "CP"),
              Kind.question: ("QuestionWorkflow", "QS")}
REQUEST_ID = re.compile(r"(RP|CP|QS)-[A-Z2-7]{10}")
UNAVAILABLE = "case unavailable"  # how a `try_…` call says the case could not answer


@contextmanager
def temporal_answers(case_id: str | None = None) -> Iterator[None]:
    """Turn Temporal's refusals and outages into HTTP answers; anything else stays a bug."""
    try:
        yield
    except RPCError as error:
        if error.status == RPCStatusCode.NOT_FOUND:
            raise ApiError(404, f"no case {case_id}" if case_id else error.message) from error
        if error.status == RPCStatusCode.INVALID_ARGUMENT:
            raise ApiError(422, error.message) from error
        if error.status in (RPCStatusCode.DEADLINE_EXCEEDED, RPCStatusCode.CANCELLED):
            raise ApiError(504, "Temporal did not answer in time; try again") from error
        raise ApiError(503, f"Temporal is unavailable: {error.message}") from error
    except (WorkflowUpdateRPCTimeoutOrCancelledError, TimeoutError) as error:
        raise ApiError(504, "no worker answered in time; the case is unchanged unless it says so") from error
    except (WorkflowQueryFailedError, WorkflowQueryRejectedError) as error:
        raise ApiError(503, f"the case could not be read: {error}") from error


def workflow_for(kind: Kind) -> tuple[str, str]:
    """(workflow type, case id prefix) for a kind the API can start; 422 for the others."""
    if kind is Kind.inspection:
        raise ApiError(422, "inspections start from a device's maintenance plan (PUT /equipment/{id}/plan)")
    if kind not in REQUEST_KINDS:
        raise ApiError(422, f"a {kind.value} is not a request: use /{kind.value}s")
    if kind not in _WORKFLOWS:
        raise ApiError(422, f"{kind.value} cases are not yet available")
    return _WORKFLOWS[kind]


def case_id_for(kind: Kind, caller: Actor, idempotency_key: str) -> str:
    """The same caller with the same key always names the same case.

    Ten base-32 characters (50 bits) keep the code short enough for a resident to type into an SMS
    reply; a collision can only ever answer 409 (a different body under the same id), never merge cases.
    """
    _, prefix = workflow_for(kind)
    return code_for(prefix, caller, idempotency_key)


def is_request_id(case_id: str) -> bool:
    """An id `case_id_for` makes: its prefix alone says it is a repair, a complaint or a question."""
    return REQUEST_ID.fullmatch(case_id) is not None


def code_for(prefix: str, caller: Actor, idempotency_key: str) -> str:
    digest = hashlib.sha256(f"{caller.role.value}/{caller.id}\n{idempotency_key}".encode()).digest()
    return f"{prefix}-{base64.b32encode(digest).decode().rstrip('=')[:10]}"


def request_digest(body: BaseModel) -> str:
    return hashlib.sha256(body.model_dump_json().encode()).hexdigest()


def _initial_search_attributes(case: CaseInput) -> TypedSearchAttributes:
    policy = case.policy.for_severity(case.severity)
    subject = [SearchAttributePair(search.SUBJECT, case.subject_staff_id)] if case.subject_staff_id else []
    return TypedSearchAttributes([
        *subject,
        SearchAttributePair(search.KIND, case.kind.value),
        SearchAttributePair(search.SEVERITY, case.severity.value),
        SearchAttributePair(search.STATUS, "submitted"),
        SearchAttributePair(search.BUILDING, case.building_id),
        SearchAttributePair(search.TIER, int(policy.first_tier)),
        SearchAttributePair(search.RESIDENT, case.resident_id),
        SearchAttributePair(search.BREACHED, False),
    ])


def _summary(case: CaseInput) -> str:
    """What the Temporal UI shows for the case: codes only, no personal data."""
    return f"{case.kind.value} · {case.severity.value} · {case.category} · building {case.building_id}"


async def start_case(client: Client, task_queue: str, case_id: str, case: CaseInput, digest: str) -> bool:
    """Start the case unless this id already exists; True when it was started now."""
    workflow, _ = workflow_for(case.kind)
    return await start_once(client, workflow, case, case_id, task_queue, digest,
                            _initial_search_attributes(case), _summary(case))


async def start_once(client: Client, workflow: str, arg: BaseModel, workflow_id: str, task_queue: str,
                     digest: str, search_attributes: TypedSearchAttributes, summary: str,
                     memo: dict[str, object] | None = None, what: str = "request") -> bool:
    """Start the workflow unless this id already exists; True when it was started now.

    A closed workflow keeps its id too (REJECT_DUPLICATE), so an Idempotency-Key never makes a second
    one; the same key with a different body (`digest`) is refused with 409 (naming `what` it started).
    """
    with temporal_answers(workflow_id):
        try:
            await client.start_workflow(
                workflow, arg, id=workflow_id, task_queue=task_queue,
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
                memo={REQUEST_DIGEST: digest, **(memo or {})},
                search_attributes=search_attributes,
                static_summary=summary,
                rpc_timeout=RPC_TIMEOUT,
            )
            return True
        except WorkflowAlreadyStartedError:
            description = await client.get_workflow_handle(workflow_id).describe(rpc_timeout=RPC_TIMEOUT)
    if await description.memo_value(REQUEST_DIGEST, default=None) != digest:
        raise ApiError(409, f"this Idempotency-Key was already used for a different {what}",
                       "idempotency_conflict")
    return False


async def find_case(client: Client, case_id: str, caller: Actor) -> WorkflowExecutionDescription:
    """The case if it exists and the caller may see it; another resident's case, or a complaint about
    the caller, is 404 like none."""
    with temporal_answers(case_id):
        description = await client.get_workflow_handle(case_id).describe(rpc_timeout=RPC_TIMEOUT)
    attributes = description.typed_search_attributes
    visible = attributes.get(search.KIND) in CASE_KINDS and (
        caller.role is not Role.resident or attributes.get(search.RESIDENT) == caller.id
    ) and attributes.get(search.SUBJECT) != caller.id
    if not visible:
        raise ApiError(404, f"no case {case_id}")
    return description


async def workflow_exists(client: Client, workflow_id: str) -> bool:
    """Whether Temporal still has the workflow (running, or closed within its retention)."""
    try:
        with temporal_answers(workflow_id):
            await client.get_workflow_handle(workflow_id).describe(rpc_timeout=RPC_TIMEOUT)
    except ApiError as error:
        if error.status == 404:
            return False
        raise
    return True


async def find_open_case(client: Client, case_id: str, caller: Actor) -> WorkflowExecutionDescription:
    description = await find_case(client, case_id, caller)
    if description.status != WorkflowExecutionStatus.RUNNING:
        raise ApiError(409, f"case {case_id} is closed", "closed")
    return description


async def state_of_kind(
    client: Client, workflow_id: str, kind: Kind, state_type: type[Answer], query: str = "state"
) -> tuple[Answer, bool]:
    """A hearing's, drill's or inspection's live state (its `query`) and whether it still runs; 404 for a
    workflow of another kind."""
    handle = client.get_workflow_handle(workflow_id)
    with temporal_answers(workflow_id):
        description = await handle.describe(rpc_timeout=RPC_TIMEOUT)
        if description.typed_search_attributes.get(search.KIND) != kind.value:
            raise ApiError(404, f"no {kind.value} {workflow_id}")
        state = await handle.query(query, result_type=state_type, rpc_timeout=RPC_TIMEOUT)
    return state, description.status == WorkflowExecutionStatus.RUNNING


async def case_state(client: Client, case_id: str, rpc_timeout: timedelta = RPC_TIMEOUT) -> CaseState:
    with temporal_answers(case_id):
        return await client.get_workflow_handle(case_id).query(
            "state", result_type=CaseState, rpc_timeout=rpc_timeout
        )


async def update_case(client: Client, case_id: str, update: str, action: BaseModel,
                      result_type: type[Answer] = CaseState) -> Answer:
    """Send a validated update; the workflow's refusal becomes 409 with its reason. An action's
    `action_id` is the update's id, so Temporal answers a repeat with the first one's outcome."""
    try:
        with temporal_answers(case_id):
            return await client.get_workflow_handle(case_id).execute_update(
                update, action, id=getattr(action, "action_id", None), result_type=result_type,
                rpc_timeout=RPC_TIMEOUT,
            )
    except ApiError as error:
        if error.status == 404:  # no running workflow: closed, unless there never was one (404)
            with temporal_answers(case_id):
                await client.get_workflow_handle(case_id).describe(rpc_timeout=RPC_TIMEOUT)
            raise ApiError(409, f"case {case_id} is closed", "closed") from error
        raise
    except WorkflowUpdateFailedError as error:
        reason = refusal_reason(error)
        kind = error.cause.type if isinstance(error.cause, ApplicationError) else None
        if kind == "Busy":  # a hearing continuing as new: nothing changed, try again shortly
            raise ApiError(503, reason, "unavailable", {"Retry-After": str(BUSY_RETRY_S)}) from error
        raise ApiError(409, reason, "closed" if kind == "CaseClosed" else "refused") from error


def refusal_reason(error: WorkflowUpdateFailedError) -> str:
    """The workflow's reason for refusing an update, as its validator or handler put it."""
    return getattr(error.cause, "message", None) or str(error.cause or error)


async def signal_case(client: Client, case_id: str, signal: str, payload: BaseModel,
                      rpc_timeout: timedelta = RPC_TIMEOUT) -> None:
    with temporal_answers(case_id):
        await client.get_workflow_handle(case_id).signal(signal, payload, rpc_timeout=rpc_timeout)


# --- for callers that must answer whatever the case does (Twilio's webhooks) -----------------------


async def try_update_case(client: Client, case_id: str, update: str, action: BaseModel,
                          within: timedelta) -> str | None:
    """None when the workflow accepted the update within `within`, else its reason for refusing, or
    `UNAVAILABLE: why` when it could not answer (gone, no worker): an outcome to record, not an error."""
    seconds = within.total_seconds()
    try:
        await asyncio.wait_for(client.get_workflow_handle(case_id).execute_update(update, action), seconds)
    except WorkflowUpdateFailedError as error:
        return refusal_reason(error)
    except RPCError as error:
        return f"{UNAVAILABLE}: {error.message}"
    except (TimeoutError, WorkflowUpdateRPCTimeoutOrCancelledError):
        return f"{UNAVAILABLE}: no answer within {seconds:.0f} s"
    return None


async def try_signal_case(client: Client, case_id: str, signal: str, payload: BaseModel,
                          within: timedelta) -> str | None:
    """None when Temporal took the signal within `within`, else `UNAVAILABLE: why`."""
    try:
        await signal_case(client, case_id, signal, payload, within)
    except ApiError as error:
        return f"{UNAVAILABLE}: {error.message}"
    return None


# --- visibility --------------------------------------------------------------------------------


def _quoted(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def equals(key: SearchAttributeKey, value: str | int | bool) -> str:
    """One visibility condition. Names are back-quoted: the query language reads a bare `Status`
    as a legacy alias of ExecutionStatus."""
    if isinstance(value, bool):
        literal = str(value).lower()
    elif isinstance(value, int):
        literal = str(int(value))
    else:
        literal = _quoted(str(value))
    return f"`{key.name}` = {literal}"


def unset_or_not(key: SearchAttributeKey, value: str) -> str:
    """Cases where `key` is unset or holds anything but `value`."""
    return f"(`{key.name}` IS NULL OR `{key.name}` != {_quoted(value)})"


def visibility_query(*conditions: str) -> str:
    """Cases the API serves (repairs and complaints) that meet every condition."""
    kinds = ", ".join(_quoted(kind.value) for kind in CASE_KINDS)
    return " AND ".join((f"`{search.KIND.name}` IN ({kinds})", *conditions))


_CHECK_BYTES = 8


def _page_check(query: str, token: bytes) -> bytes:
    return hashlib.sha256(query.encode() + b"\0" + token).digest()[:_CHECK_BYTES]


def encode_page_token(query: str, token: bytes | None) -> str | None:
    """Temporal's cursor, tied to the query it continues, so a stray or edited token is refused here."""
    return base64.urlsafe_b64encode(_page_check(query, token) + token).decode() if token else None


def decode_page_token(query: str, token: str | None) -> bytes | None:
    if not token:
        return None
    try:
        data = base64.b64decode(token.encode("ascii"), altchars=b"-_", validate=True)
    except (binascii.Error, ValueError, UnicodeEncodeError):
        data = b""
    check, cursor = data[:_CHECK_BYTES], data[_CHECK_BYTES:]
    if not cursor or check != _page_check(query, cursor):
        raise ApiError(422, "page_token is not one this API gave out for these filters")
    return cursor


def _list_item(execution: WorkflowExecution) -> CaseListItem:
    attributes = execution.typed_search_attributes
    return CaseListItem(
        case_id=execution.id,
        kind=attributes.get(search.KIND),
        status=attributes.get(search.STATUS),
        severity=attributes.get(search.SEVERITY),
        building_id=attributes.get(search.BUILDING),
        resident_id=attributes.get(search.RESIDENT),
        tier=attributes.get(search.TIER),
        breached=bool(attributes.get(search.BREACHED)),
        owner_id=attributes.get(search.OWNER),
        response_due=attributes.get(search.RESPONSE_DUE),
        resolution_due=attributes.get(search.RESOLUTION_DUE),
        submitted_at=execution.start_time,
        closed_at=execution.close_time,
        running=execution.status == WorkflowExecutionStatus.RUNNING,
    )


async def list_cases(client: Client, query: str, page_size: int,
                     page_token: str | None) -> tuple[list[CaseListItem], str | None]:
    """One page of cases matching the visibility `query`, and the token of the next page."""
    cursor = decode_page_token(query, page_token)
    with temporal_answers():
        pages = client.list_workflows(query, page_size=page_size, next_page_token=cursor,
                                      rpc_timeout=RPC_TIMEOUT)
        await pages.fetch_next_page()
    items = [_list_item(execution) for execution in pages.current_page or []]
    return items, encode_page_token(query, pages.next_page_token)


async def live_states(client: Client, case_ids: list[str]) -> list[CaseState]:
    """Each case's live state (the staff app's my work); a case that cannot answer now (closing, no
    worker) is left out."""
    gate = asyncio.Semaphore(CONCURRENT_QUERIES)

    async def read(case_id: str) -> CaseState | None:
        async with gate:
            try:
                return await case_state(client, case_id, LIVE_QUERY_TIMEOUT)
            except ApiError:
                return None

    return [state for state in await asyncio.gather(*map(read, case_ids)) if state is not None]
