"""The HTTP boundary's own shapes. Request bodies are the workflow contracts minus what the server
decides (who acts, when it was received, the policy snapshot), derived from them so a field is
defined once.
"""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Generic, Literal, TypeVar

from fastapi import Header
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    WithJsonSchema,
    create_model,
    field_validator,
)
from pydantic.fields import FieldInfo
from pydantic_core import PydanticCustomError

from steward import phones
from workflows.actions import (
    Acknowledge,
    Action,
    AddPhotos,
    AgreePlan,
    AnswerCallback,
    ChangeSeverity,
    Extend,
    Pause,
    ProgressNote,
    Reassign,
    RecordCallback,
    Resolve,
    Resume,
    Withdraw,
)
from workflows.case_contracts import CaseInput
from workflows.contracts import Contract, ReachedBy, ShortText
from workflows.hearing_contracts import CostItem

Item = TypeVar("Item", bound=BaseModel)
TotalAtLeast = Annotated[bool | None, Field(
    description="`total` is a lower bound: more rows match than the first page counts "
                "(`STEWARD_COUNT_UP_TO`). Null on later pages.")]
"""Beside a first page's `total`: a count that stops at its bound costs the same at any size."""
DIRECTORY_ID = r"^[A-Za-z0-9_-]{1,32}$"
"""Ids of buildings, households, people and units: safe in a visibility query and a URL."""
DirectoryId = Annotated[str, StringConstraints(pattern=DIRECTORY_ID)]
Category = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
"""A case's category: as wide as the read model's column (a longer one could never be projected)."""

_ASTRAL_NONCHARACTERS = "".join(chr(plane + low) for plane in range(0x10000, 0x110000, 0x10000)
                                for low in (0xFFFE, 0xFFFF))
HIDDEN_CHARACTERS = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f"  # controls, but tab, newline and carriage return
    "\u202a-\u202e\u2066-\u2069"  # bidirectional embeddings, overrides and isolates
    "\ufdd0-\ufdef\ufffe\uffff" + _ASTRAL_NONCHARACTERS + "]"  # noncharacters
)
"""What no text sent to Steward may hold: characters that are invisible yet change what a person reads
(a terminal escape, text shown backwards) or that no reader can show. Lone surrogates never get this
far: pydantic refuses them as invalid unicode."""


def _refuse_hidden(value: object) -> None:
    if isinstance(value, str):
        found = HIDDEN_CHARACTERS.search(value)
        if found:
            raise PydanticCustomError(
                "hidden_character",
                "character {position} is U+{code}, an invisible control or a noncharacter; send plain text",
                {"position": found.start() + 1, "code": f"{ord(found.group()):04X}"},
            )
    elif isinstance(value, BaseModel):
        for item in value.__dict__.values():
            _refuse_hidden(item)
    elif isinstance(value, list | tuple | set | frozenset):
        for item in value:
            _refuse_hidden(item)
    elif isinstance(value, dict):
        for key, item in value.items():
            _refuse_hidden(key)
            _refuse_hidden(item)


# Validation context for what is read back from storage: it is shown as stored, never refused.
STORED = {"stored": True}


def _phone_number(value: str, info: ValidationInfo) -> str:
    """A number as a person writes it, kept in E.164 (`steward/phones.py`); one read back is as stored."""
    if info.context == STORED:
        return value
    try:
        return phones.normalise(value, phones.community_region())
    except phones.InvalidPhone as error:
        raise PydanticCustomError("phone_number", str(error)) from None


Phone = Annotated[str, AfterValidator(_phone_number), WithJsonSchema({
    "type": "string", "pattern": phones.WRITTEN.pattern, "examples": ["+8613800000101"],
    "description": "E.164, or as dialled in `STEWARD_PHONE_REGION`; kept in E.164."})]
"""A resident's or staff member's phone: 422, naming the field, unless `phonenumbers` finds it valid."""


class RequestBody(Contract):
    """A request body: a contract whose text, nested or not, holds no `HIDDEN_CHARACTERS`. Checked at
    the HTTP boundary only, so a workflow never fails to decode an input it accepted before, and a
    row read back with `context=STORED` (an import, an older version) is listed as it is."""

    @field_validator("*", mode="after")
    @classmethod
    def _plain_text(cls, value: Any, info: ValidationInfo) -> Any:
        if info.context != STORED:
            _refuse_hidden(value)
        return value


def request_body(contract: type[Contract], name: str, drop: frozenset[str] = frozenset(),
                 doc: str | None = None, **replace: tuple[Any, FieldInfo]) -> type[RequestBody]:
    """The contract as a `RequestBody` named `name`, without the fields in `drop`; `replace` gives
    fields a stricter type at the boundary."""
    fields: dict[str, Any] = {
        field: (info.annotation, info) for field, info in contract.model_fields.items() if field not in drop
    }
    fields.update(replace)
    return create_model(name, __base__=RequestBody, __doc__=doc or contract.__doc__, **fields)


def action_body(action: type[Action], **replace: tuple[Any, FieldInfo]) -> type[RequestBody]:
    """`Pause` → `PauseBody`: the action without `actor` (always from the token) and `actor_tier` (from
    the directory)."""
    return request_body(action, f"{action.__name__}Body", frozenset({"actor", "actor_tier"}), **replace)


SubmitRequest = request_body(
    CaseInput, "SubmitRequest", frozenset({"submitted_by", "submitted_at", "policy", "held_by"}),
    doc="A repair or complaint as a resident or staff member reports it.",
    category=(Category, ...),
    resident_id=(ShortText | None, Field(
        default=None, description="Who the case is for. A resident may leave it out (it is then the "
        "resident holding the token) and may not name anyone else; staff must give it.",
    )),
    building_id=(ShortText | None, Field(
        default=None, description="Left out: the building of the resident's household. A resident files "
        "only in their own building.",
    )),
    unit=(ShortText | None, Field(
        default=None, description="Left out (with building_id): the resident's own unit; null: a common "
        "area of the building. A resident files only for their own unit or a common area.",
    )),
)

AcknowledgeBody = action_body(Acknowledge)
ProgressBody = action_body(ProgressNote)
PauseBody = action_body(Pause)
ResumeBody = action_body(Resume)
ReassignBody = action_body(Reassign)
SeverityBody = action_body(ChangeSeverity)
ExtendBody = action_body(Extend)
PlanBody = action_body(AgreePlan)
ResolveBody = action_body(Resolve)
WithdrawBody = action_body(Withdraw)
CallbackBody = action_body(RecordCallback, reached_by=(ReachedBy, Field(
    description="How the resident was reached: a phone call or a visit.")))
AddPhotosBody = action_body(AddPhotos)
AnswerBody = action_body(AnswerCallback)


def _examples(*examples: dict) -> ConfigDict:
    return ConfigDict(json_schema_extra={"examples": list(examples)})


def idempotency_header(description: str) -> Any:
    """The `Idempotency-Key` header: printable ASCII without spaces, up to 200 characters."""
    return Header(alias="Idempotency-Key", min_length=1, max_length=200, pattern=r"^[\x21-\x7e]+$",
                  description=description)


def started_answer(name: str, id_field: str, example: str, id_text: str, again: str) -> type[BaseModel]:
    """The answer to a request that starts a workflow under an Idempotency-Key: its id (`id_field`), whether
    this request started it (`again` says when not), and where to read it; `example` is such a url."""
    return create_model(
        name, __config__=_examples({id_field: example.rsplit("/", 1)[1], "created": True, "url": example}),
        **{id_field: (str, Field(description=id_text))}, created=(bool, Field(description=again)),
        url=(str, ...),
    )


Submission = started_answer("Submission", "case_id", "/requests/RP-3MZQ7N2WK4",
                            "The workflow id; the same Idempotency-Key always gives the same one.",
                            "False when this key had already started the case.")


class Accepted(BaseModel):
    model_config = _examples({"case_id": "RP-3MZQ7N2WK4", "accepted": True})

    case_id: str
    accepted: bool = True


class CaseListItem(BaseModel):
    """A case as Temporal visibility sees it (search attributes; no personal data)."""

    model_config = _examples({
        "case_id": "RP-3MZQ7N2WK4", "kind": "repair", "status": "acknowledged",
        "severity": "urgent", "building_id": "B1", "resident_id": "R001", "tier": 1, "breached": False,
        "owner_id": "S001", "response_due": None, "resolution_due": "2026-11-26T22:00:00Z",
        "submitted_at": "2026-11-26T10:00:00Z", "closed_at": None, "running": True,
    })

    case_id: str
    kind: str | None
    status: str | None
    severity: str | None
    building_id: str | None
    resident_id: str | None
    tier: int | None
    breached: bool
    owner_id: str | None
    response_due: datetime | None
    resolution_due: datetime | None
    submitted_at: datetime
    closed_at: datetime | None
    running: bool


class Page(BaseModel, Generic[Item]):
    items: list[Item]
    next_page_token: str | None = Field(description="Give as `page_token` for the next page; null at end.")


class CountedPage(Page[Item], Generic[Item]):
    """A page of a keyset list whose first page also counts every matching row, up to a bound."""

    total: int | None = Field(description="Every page together; counted on the first page only.")
    total_at_least: TotalAtLeast


class AtRiskCase(BaseModel):
    model_config = _examples({
        "case_id": "RP-3MZQ7N2WK4", "kind": "repair", "severity": "urgent",
        "status": "dispatched", "building_id": "B1", "tier": 1, "handler_id": "S001", "owner_id": None,
        "next_deadline": "2026-11-26T10:15:00Z", "next_deadline_kind": "response", "seconds_left": -120,
        "breached": True,
    })

    case_id: str
    kind: str
    severity: str
    status: str
    building_id: str
    tier: int
    handler_id: str | None
    owner_id: str | None
    next_deadline: datetime
    next_deadline_kind: str | None
    seconds_left: int = Field(description="Negative when the deadline has already passed.")
    breached: bool


Problem = Literal["temporal_unreachable", "no_worker", "read_model_behind", "deadlines_not_acted_on"]


class Picture(BaseModel):
    """Whether a list read from the SQL read model can be believed right now (`api/picture.py`)."""

    trustworthy: bool = Field(description="False when the list below may be missing or misstating cases.")
    problems: list[Problem] = Field(description="Why not: temporal_unreachable, no_worker (nobody polls the "
                                    "task queue: deadlines are not acted on), read_model_behind (running "
                                    "cases without a row), deadlines_not_acted_on.")
    worker_seen_at: datetime | None = Field(description="The last time a worker polled the task queue.")
    newest_without_row: int = Field(description="Of the 50 newest running cases started over 10 s ago, "
                                    "those the read model does not have.")
    overdue_not_acted_on: int = Field(description="Open cases whose next deadline passed over a minute ago.")


class AtRiskList(BaseModel):
    as_of: datetime
    items: list[AtRiskCase]
    total: int | None = Field(description="Open cases with a running deadline, on every page together; "
                              "counted on the first page only (null on later pages, which cost one "
                              "index range scan whatever the size).")
    total_at_least: TotalAtLeast
    next_page_token: str | None = Field(description="Give as `page_token` for the next page; null at end.")
    picture: Picture


class Delivery(BaseModel):
    status: str
    error_code: int | None = None
    updated_at: datetime | None = None


class HistoryEntry(BaseModel):
    at: datetime = Field(description="When Temporal recorded it (server time).")
    device_at: datetime | None = Field(default=None, description="When it happened on the device, if given.")
    event: str = Field(description="Machine-readable kind, e.g. acknowledged, escalated, message, timer.")
    actor: str | None = Field(default=None, description="Who did it: a person id; null for the system.")
    text: str = Field(description="The sentence for people, in the requested language.")
    detail: dict[str, str | int | bool | None] = {}
    delivery: Delivery | None = Field(default=None, description="For a message or call: Twilio's status.")


class CaseHistory(BaseModel):
    model_config = _examples({
        "case_id": "RP-3MZQ7N2WK4", "locale": "en",
        "temporal_url": "http://127.0.0.1:8233/namespaces/default/workflows/RP-3MZQ7N2WK4",
        "entries": [{"at": "2026-11-26T10:03:00Z", "device_at": "2026-11-26T10:02:40+08:00",
                     "event": "acknowledged", "actor": "S001", "text": "S001 acknowledged the case",
                     "detail": {}, "delivery": None}],
    })

    case_id: str
    locale: str
    temporal_url: str
    entries: list[HistoryEntry]
    source: Literal["temporal", "read_model"] = Field(
        default="temporal", description="temporal: the workflow's event history; read_model: Temporal no "
        "longer has the workflow (past its retention), so the entries are the read model's record.")
    notice: str | None = Field(default=None, description="Why the entries come from the read model.")


class HearingFacts(BaseModel):
    """What anyone may read of a hearing: what is proposed, what it costs, when and where."""

    title: str
    reason: str
    costs: list[CostItem]
    total: Decimal
    hearing_at: datetime
    place: str
    status: str
