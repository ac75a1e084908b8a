"""issue 21: equipment records, plans, device alarms — left empty: it landed empty; 0013 makes the tables

Revision ID: 0009
Revises: 0008
"""

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
