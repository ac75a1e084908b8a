"""The rules every workflow's validators share: how a refusal is raised, who counts as staff, what a
detail may hold. A rejected update changes nothing and writes nothing to history."""

from __future__ import annotations

from temporalio.exceptions import ApplicationError

from workflows.contracts import Detail, Role, Status

STAFF = frozenset({Role.staff, Role.supervisor, Role.admin})
SUPERVISORS = frozenset({Role.supervisor, Role.admin})
OPEN = frozenset({Status.submitted, Status.dispatched, Status.acknowledged, Status.in_progress})
CALLING_BACK = frozenset({Status.callback, Status.manual_callback})

REJECTED = "Rejected"
CASE_CLOSED = "CaseClosed"


def require(condition: bool, reason: str, kind: str = REJECTED) -> None:
    """Refuse an update from its validator: `reason` is shown to the person; `kind` is the failure type
    (`CaseClosed` for any action on a closed case, so the API can answer "closed")."""
    if not condition:
        raise ApplicationError(reason, type=kind, non_retryable=True)


def require_not_closed(closed: bool, what: str = "case") -> None:
    """The one refusal of any action on something closed, typed so the API answers "closed"."""
    require(not closed, f"the {what} is closed", CASE_CLOSED)


def with_photos(detail: Detail, photos: list[str]) -> Detail:
    """A note's detail names its photos (ids only) when it has any; older entries stay as they were."""
    return {**detail, "photos": list(photos)} if photos else detail
