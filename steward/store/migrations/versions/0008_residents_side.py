"""issue 20: the residents' side: questions, resident pages, public board — no schema change.

Questions are cases like the others (`cases.kind` = "question"); a resident's photos use `photos`, their
answers and photos are workflow events projected into `case_events`; the public board reads `cases` and
`case_events` through the report functions. The revision stays so the chain of revisions is the same on
every branch.

Revision ID: 0008
Revises: 0007
"""

from steward.store.no_schema_change import downgrade, upgrade  # noqa: F401

revision, down_revision = "0008", "0007"
branch_labels = depends_on = None
