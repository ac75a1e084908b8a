"""Typed search attribute keys: how supervisors filter cases in visibility and the Temporal UI.

No personal data goes here: ids, codes and enums only.
"""

from temporalio.common import SearchAttributeKey

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
