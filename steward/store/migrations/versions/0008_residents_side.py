"""issue 20: the residents' side: questions, resident pages, public board — no schema change.

Questions are cases like the others (`cases.kind` = "question"); a resident's photos use `photos`, their
answers and photos are workflow events projected into `case_events`; the public board reads `cases` and
`case_events` through the report functions. The revision stays so the chain of revisions is the same on
every branch.

Revision ID: 0008
Revises: 0007
"""

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
