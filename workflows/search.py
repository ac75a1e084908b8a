"""Typed search attribute keys: how supervisors filter cases in visibility and the Temporal UI.

No personal data goes here: ids, codes and enums only.
"""

from collections.abc import Iterable

from temporalio import workflow
from temporalio.common import SearchAttributeKey, SearchAttributeUpdate

KIND = SearchAttributeKey.for_keyword("Kind")
SEVERITY = SearchAttributeKey.for_keyword("Severity")
STATUS = SearchAttributeKey.for_keyword("Status")
BUILDING = SearchAttributeKey.for_keyword("Building")
TIER = SearchAttributeKey.for_int("Tier")
BREACHED = SearchAttributeKey.for_bool("Breached")
OWNER = SearchAttributeKey.for_keyword("Owner")
RESIDENT = SearchAttributeKey.for_keyword("Resident")
RESPONSE_DUE = SearchAttributeKey.for_datetime("ResponseDue")
RESOLUTION_DUE = SearchAttributeKey.for_datetime("ResolutionDue")
# The staff member a complaint is about, set when it starts: lists leave the complaint out for them.
SUBJECT = SearchAttributeKey.for_keyword("Subject")

ALL = (KIND, SEVERITY, STATUS, BUILDING, TIER, BREACHED, OWNER, RESIDENT, RESPONSE_DUE, RESOLUTION_DUE,
       SUBJECT)

# Temporal's own: when a Schedule's action was due (a drill or an inspection takes its time from it).
SCHEDULED_START = SearchAttributeKey.for_datetime("TemporalScheduledStartTime")


def upsert_changed(known: dict[str, object], values: Iterable[tuple[SearchAttributeKey, object]]) -> None:
    """Upsert the attributes whose value changed since the workflow last upserted them (`known`, kept by
    the workflow), in one command; a value of None unsets its attribute."""
    updates: list[SearchAttributeUpdate] = []
    for key, value in values:
        if known.get(key.name, ...) != value:
            known[key.name] = value
            updates.append(key.value_set(value) if value is not None else key.value_unset())
    if updates:
        workflow.upsert_search_attributes(updates)
